package harness

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"time"
)

// build compiles one of eslink's commands into bin/e2e, the way an operator
// would build the image, so the end-to-end run exercises the real binaries.
func build(ctx context.Context, root, pkg, out string) error {
	cmd := exec.CommandContext(ctx, "go", "build", "-o", out, pkg)
	cmd.Dir = root
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("cannot build %s: %w: %s", pkg, err, b)
	}
	return nil
}

// process is a running binary whose output goes to a log file.
type process struct {
	cmd  *exec.Cmd
	done chan error
	log  string
}

func start(ctx context.Context, logDir, name, bin string, args ...string) (*process, error) {
	return startEnv(ctx, logDir, name, bin, nil, args...)
}

// startEnv is start with variables added to the test's environment.
func startEnv(ctx context.Context, logDir, name, bin string, env []string, args ...string) (*process, error) {
	logPath := filepath.Join(logDir, name+".log")
	f, err := os.Create(logPath) // A file in the harness's own temp dir.
	if err != nil {
		return nil, fmt.Errorf("cannot create log for %s: %w", name, err)
	}
	cmd := exec.CommandContext(ctx, bin, args...)
	if len(env) > 0 {
		cmd.Env = append(os.Environ(), env...)
	}
	cmd.Stdout, cmd.Stderr = f, f
	cmd.WaitDelay = 10 * time.Second
	if err := cmd.Start(); err != nil {
		_ = f.Close()
		return nil, fmt.Errorf("cannot start %s: %w", name, err)
	}
	p := &process{cmd: cmd, done: make(chan error, 1), log: logPath}
	go func() {
		p.done <- cmd.Wait()
		_ = f.Close()
	}()
	return p, nil
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
		select {
		case err := <-p.done:
			if err == nil {
				// A clean exit is still a failure to listen.
				return fmt.Errorf("process exited before listening on %s: exit status 0 (log %s)", addr, p.log)
			}
			return fmt.Errorf("process exited before listening on %s: %w (log %s)", addr, err, p.log)
		case <-ctx.Done():
			return fmt.Errorf("nothing listening on %s: %w", addr, ctx.Err())
		case <-time.After(100 * time.Millisecond):
		}
	}
}
