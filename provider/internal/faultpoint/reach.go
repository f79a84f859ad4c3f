//go:build eslink_faultpoints

package faultpoint

import (
	"fmt"
	"os"
)

// point is read once: a running provider never changes its fault point.
var point = os.Getenv(EnvVar)

// Reach exits the process at once, without running deferred calls or
// flushing anything, when step is the configured fault point.
func Reach(step string) {
	if point == "" || point != step {
		return
	}
	fmt.Fprintf(os.Stderr, "fault point %s reached: exiting with status %d\n", step, ExitCode)
	os.Exit(ExitCode)
}
