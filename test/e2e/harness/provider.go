package harness

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"k8s.io/client-go/rest"
)

// Provider is eslink's provider binary running against a control plane, as
// an operator runs it out of cluster with --kubeconfig.
type Provider struct {
	p *process
}

// BuildProvider compiles the provider into bin/e2e of the repository at
// root and returns the binary's path.
func BuildProvider(ctx context.Context, root string) (string, error) {
	bin := filepath.Join(root, "bin", "e2e", "provider")
	return bin, build(ctx, root, "./provider/cmd/provider", bin)
}

// RunProvider runs the provider binary bin against the API server of cfg,
// polling every poll, with debug logging into logDir/provider.log, and
// with more flags from args. It stops when ctx is cancelled or Stop is
// called.
func RunProvider(ctx context.Context, bin, logDir string, cfg *rest.Config, poll time.Duration, args ...string) (*Provider, error) {
	kc, err := kubeconfig(cfg)
	if err != nil {
		return nil, err
	}
	kcPath := filepath.Join(logDir, "kubeconfig")
	if err := os.WriteFile(kcPath, kc, 0o600); err != nil {
		return nil, err
	}
	metricsPort, err := freePort()
	if err != nil {
		return nil, err
	}
	p, err := start(ctx, logDir, "provider", bin, nil, append([]string{
		"--kubeconfig", kcPath, "--poll", poll.String(), "--debug",
		"--metrics-bind-address", "127.0.0.1:" + strconv.Itoa(metricsPort), "--health-probe-bind-address", "0",
	}, args...)...)
	if err != nil {
		return nil, err
	}
	return &Provider{p: p}, nil
}

// Stop interrupts the provider and waits for it to exit.
func (p *Provider) Stop() {
	if p != nil {
		p.p.stop()
	}
}

// LogPath is the file the provider logs to.
func (p *Provider) LogPath() string { return p.p.log }

// Log returns the provider's output so far.
func (p *Provider) Log() string {
	b, _ := os.ReadFile(p.p.log)
	return string(b)
}
