// Command xprender is Crossplane's v2.4.0 composition render engine, compiled
// from the importable github.com/crossplane/crossplane/v2/cmd/crossplane/render
// package. The core crossplane binary cannot be built from the published
// module and the crossplane CLI module is not obtainable, so eslink builds
// its own engine (see docs/development.md, How the tests stand in).
//
// Two modes:
//
//	xprender internal render [--timeout 2m]
//	    Exactly what `crossplane internal render` does: reads a RenderRequest
//	    protobuf on stdin and writes a RenderResponse protobuf on stdout. Exit
//	    code 3 when a function returned a fatal result (partial output is
//	    still written).
//
//	xprender render --xr XR --composition COMP --functions FNS [flags]
//	    A Docker-free subset of `crossplane composition render`: builds the
//	    RenderRequest from YAML files, runs the engine and prints a YAML stream
//	    (the XR, the composed resources, then Result documents when asked).
//	    Callers need neither protobuf nor the crossplane/v2 module.
package main

import (
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/crossplane/crossplane-runtime/v2/pkg/logging"

	xprender "github.com/crossplane/crossplane/v2/cmd/crossplane/render"
)

// Exit codes. exitFatal matches crossplane's ExitCodePipelineFatal so callers
// can treat xprender exactly like the crossplane CLI.
const (
	exitError = 1
	exitUsage = 2
	exitFatal = xprender.ExitCodePipelineFatal
)

func main() {
	os.Exit(run(os.Args[1:]))
}

func run(args []string) int {
	switch {
	case len(args) >= 2 && args[0] == "internal" && args[1] == "render":
		return runEngine(args[2:])
	case len(args) >= 1 && args[0] == "render":
		return runCLI(args[1:])
	default:
		fmt.Fprint(os.Stderr, usage)
		return exitUsage
	}
}

const usage = `usage:
  xprender internal render [--timeout 2m]   RenderRequest proto on stdin -> RenderResponse proto on stdout
  xprender render --xr FILE --composition FILE --functions FILE [flags]
                                            YAML in -> YAML stream out (run 'xprender render -h')
`

// runEngine runs the engine exactly as `crossplane internal render` would.
func runEngine(args []string) int {
	timeout := 2 * time.Minute
	for i := 0; i < len(args); i++ {
		switch a := args[i]; {
		case a == "--timeout" && i+1 < len(args):
			d, err := time.ParseDuration(args[i+1])
			if err != nil {
				fmt.Fprintf(os.Stderr, "xprender: invalid --timeout %q: %v\n", args[i+1], err)
				return exitUsage
			}
			timeout = d
			i++
		case len(a) > len("--timeout=") && a[:len("--timeout=")] == "--timeout=":
			d, err := time.ParseDuration(a[len("--timeout="):])
			if err != nil {
				fmt.Fprintf(os.Stderr, "xprender: invalid %s: %v\n", a, err)
				return exitUsage
			}
			timeout = d
		default:
			fmt.Fprintf(os.Stderr, "xprender: unknown argument %q\n", a)
			return exitUsage
		}
	}

	cmd := &xprender.Command{Timeout: timeout}
	// AfterApply is normally called by Kong; it wires stdin/stdout.
	if err := cmd.AfterApply(); err != nil {
		fmt.Fprintf(os.Stderr, "xprender: %v\n", err)
		return exitError
	}
	if err := cmd.Run(logging.NewNopLogger()); err != nil {
		fmt.Fprintf(os.Stderr, "xprender: %v\n", err)
		// The engine reports a pipeline fatal through Kong's ExitCoder.
		var ec interface{ ExitCode() int }
		if errors.As(err, &ec) {
			return ec.ExitCode()
		}
		return exitError
	}
	return 0
}
