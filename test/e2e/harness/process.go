package harness

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// runScript runs one of the cached build scripts under hack/ (the ones the
// Makefile runs), so a lone `go test ./test/e2e/...` uses what `make xpkg`
// and `make crossplane` build, rebuilt only when their inputs changed.
func runScript(ctx context.Context, root, script string) error {
	cmd := exec.CommandContext(ctx, filepath.Join(root, "hack", script))
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "BIN_DIR="+filepath.Join(root, "bin"))
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("hack/%s failed: %w:\n%s", script, err, b)
	}
	return nil
}

// process is a running binary whose output goes to a log file.
type process struct {
	cmd  *exec.Cmd
	done chan struct{} // closed when the process has exited
	err  error         // its exit error, set before done is closed
	log  string
}

// start runs bin with args; env entries are added to the harness's own
// environment.
func start(ctx context.Context, logDir, name, bin string, env []string, args ...string) (*process, error) {
	return startEnv(ctx, logDir, name, bin, append(os.Environ(), env...), args...)
}

// startEnv runs bin with args and exactly the environment environ, for
// programs that read settings from any variable they find.
func startEnv(ctx context.Context, logDir, name, bin string, environ []string, args ...string) (*process, error) {
	logPath := filepath.Join(logDir, name+".log")
	f, err := os.Create(logPath) // A file in the harness's own temp dir.
	if err != nil {
		return nil, fmt.Errorf("cannot create log for %s: %w", name, err)
	}
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Stdout, cmd.Stderr = f, f
	cmd.Env = environ
	cmd.WaitDelay = 10 * time.Second
	if err := cmd.Start(); err != nil {
		_ = f.Close()
		return nil, fmt.Errorf("cannot start %s: %w", name, err)
	}
	p := &process{cmd: cmd, done: make(chan struct{}), log: logPath}
	go func() {
		p.err = cmd.Wait()
		_ = f.Close()
		close(p.done)
	}()
	return p, nil
}

// wait waits for the process to exit, e.g. a one-shot command.
func (p *process) wait(ctx context.Context) error {
	select {
	case <-p.done:
		if p.err != nil {
			return fmt.Errorf("%w (log %s)", p.err, p.log)
		}
		return nil
	case <-ctx.Done():
		return fmt.Errorf("still running (log %s): %w", p.log, ctx.Err())
	}
}

// exitError is nil while the process runs, else why it stopped.
func (p *process) exitError() error {
	select {
	case <-p.done:
		if p.err == nil {
			return fmt.Errorf("exited with status 0 (log %s)", p.log)
		}
		return fmt.Errorf("%w (log %s)", p.err, p.log)
	default:
		return nil
	}
}

func (p *process) stop() {
	if p == nil || p.cmd.Process == nil {
		return
	}
	_ = p.cmd.Process.Signal(os.Interrupt)
	select {
	case <-p.done:
	case <-time.After(15 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.done
	}
}

// freePort asks the kernel for a free loopback port.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("cannot find a free port: %w", err)
	}
	defer l.Close() //nolint:errcheck // Only the port number is needed.
	return l.Addr().(*net.TCPAddr).Port, nil
}

// waitForPort waits until addr accepts connections or the process exits.
func waitForPort(ctx context.Context, p *process, addr string) error {
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			_ = c.Close()
			return nil
		}
		if err := p.exitError(); err != nil {
			return fmt.Errorf("process exited before listening on %s: %w", addr, err)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("nothing listening on %s: %w", addr, ctx.Err())
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// output returns what the process logged so far.
func (p *process) output() string {
	if p == nil {
		return ""
	}
	b, _ := os.ReadFile(p.log)
	return string(b)
}

// processTails returns the last n bytes of each started process's log,
// under its log file's name.
func processTails(n int, ps ...*process) string {
	var b strings.Builder
	for _, p := range ps {
		if p == nil {
			continue
		}
		out := p.output()
		if len(out) > n {
			out = "..." + out[len(out)-n:]
		}
		fmt.Fprintf(&b, "---- %s ----\n%s\n", filepath.Base(p.log), out)
	}
	return b.String()
}
