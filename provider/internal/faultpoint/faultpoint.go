// Package faultpoint lets a test make the real provider process die at a
// named step between two side effects, as a crash or an OOM kill would, so
// that it can restart the provider and check what recovery makes of the
// state left behind. It is inert unless ESLINK_FAULT_POINT is set.
package faultpoint

import (
	"fmt"
	"os"
)

// EnvVar names the step at which the process exits.
const EnvVar = "ESLINK_FAULT_POINT"

// ExitCode is the process's exit status at a fault point, so that a test
// can tell it from any other exit.
const ExitCode = 86

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
