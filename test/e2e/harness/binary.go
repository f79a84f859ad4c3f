package harness

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
	"strings"
	"sync"
	"time"

	"k8s.io/client-go/rest"

	"github.com/eslink/eslink/test/controlplane"
)

// BuildBinary compiles a package of the repository (such as
// ./provider/cmd/provider) into out, as the end-to-end suite does, with
// the build tags given (the crash tests' fault points).
func BuildBinary(ctx context.Context, pkg, out string, tags ...string) error {
	root, err := controlplane.RepoRoot()
	if err != nil {
		return err
	}
	return build(ctx, root, pkg, out, tags...)
}

// Kubeconfig returns a kubeconfig file's content for cfg, for a binary's
// --kubeconfig flag.
func Kubeconfig(cfg *rest.Config) ([]byte, error) { return kubeconfig(cfg) }

// Process is a binary a test runs, for tests that stop, kill or restart it
// (fault tests). Its output goes to a log file.
type Process struct {
	p    *process
	once sync.Once
}

// StartProcess runs bin with args and env added to the test's environment;
// its output goes to logDir/name.log.
func StartProcess(ctx context.Context, logDir, name, bin string, env []string, args ...string) (*Process, error) {
	p, err := start(ctx, logDir, name, bin, env, args...)
	if err != nil {
		return nil, err
	}
	return &Process{p: p}, nil
}

// Wait waits up to timeout for the process to exit by itself. It returns
// the exit status, and false when the process still runs.
func (p *Process) Wait(timeout time.Duration) (int, bool) {
	select {
	case <-p.p.done:
		err := p.p.err
		var exit *exec.ExitError
		if errors.As(err, &exit) {
			return exit.ExitCode(), true
		}
		if err != nil {
			return -1, true
		}
		return 0, true
	case <-time.After(timeout):
		return 0, false
	}
}

// Stop interrupts the process and waits for it, killing it if it does not
// exit within 15 seconds. Stopping an exited process is a no-op.
func (p *Process) Stop() { p.once.Do(p.p.stop) }

// Log returns the process's output so far.
func (p *Process) Log() string { return p.p.output() }

func build(ctx context.Context, root, pkg, out string, tags ...string) error {
	args := []string{"build", "-o", out}
	if len(tags) > 0 {
		args = append(args, "-tags", strings.Join(tags, ","))
	}
	cmd := exec.CommandContext(ctx, "go", append(args, pkg)...)
	cmd.Dir = root
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("cannot build %s: %w: %s", pkg, err, b)
	}
	return nil
}
