package harness

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	kerrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/eslink/eslink/test/controlplane"
)

// Crossplane's namespace and the Secrets `core init` fills, named as
// Crossplane's Helm chart names them.
const (
	CrossplaneNamespace = "crossplane-system"
	crossplaneSA        = "crossplane"
	// rootCASecret holds the CA that signs Crossplane's client certificate
	// and, with the Deployment runtime, every function's server certificate.
	rootCASecret = "crossplane-root-ca"
	// clientSecret holds the client certificate Crossplane presents to
	// functions (mTLS), with the CA in ca.crt.
	clientSecret = "crossplane-tls-client"
	// ProviderPoll is the provider's --poll: how often it observes what no
	// watch reports (GET /_remote/info among them), so the longest a link's
	// status may lag a part it does not watch.
	ProviderPoll = 2 * time.Second
	// pollInterval is long on purpose: links must become Ready, and react to
	// changed Elasticsearch objects, through Crossplane's watches of composed
	// and required resources, never by waiting for a poll.
	pollInterval = 10 * time.Minute
)

// The XR circuit breaker settings docs/install.md recommends.
// Crossplane's defaults (a bucket of 100 tokens, an update costing two,
// refilled at one a second, open for five minutes) admit 50 updates at once
// per composite resource; a flow 3 link composes nine resources, whose
// creation alone writes them about 60 times, and every change of the
// Elasticsearch objects a link reads counts too. An open breaker drops the
// watch events that carry a link's progress and breakage to its status.
const (
	CircuitBreakerBurst      = "400"
	CircuitBreakerRefillRate = "2"
)

// startGarbageCollector runs kube-controller-manager with only its garbage
// collector: Crossplane deletes nothing a deleted composite resource
// composed, nor what a deleted claim or package owns; Kubernetes' garbage
// collector does, following owner references.
func (h *Harness) startGarbageCollector(ctx context.Context, kubeconfig string) error {
	bin := filepath.Join(h.Root, "bin", "kcm", controlplane.KubernetesVersion, "kube-controller-manager")
	if _, err := os.Stat(bin); err != nil {
		return fmt.Errorf("kube-controller-manager not built (run `make controlplane`): %w", err)
	}
	var err error
	h.gc, err = start(ctx, h.LogDir, "kube-controller-manager", bin, nil,
		"--kubeconfig", kubeconfig, "--controllers", "garbagecollector",
		"--leader-elect=false", "--secure-port", "0")
	return err
}

// startCrossplane runs `crossplane core init` then `crossplane core start`
// as Crossplane's Helm chart does in its init container and pod, except that
// webhooks are off (no admission path from the API server to loopback) and
// the package runtime is External for providers and functions: Crossplane
// creates no Deployment, and the harness runs each package's binary itself.
// It returns Crossplane's reported version.
func (h *Harness) startCrossplane(ctx, pctx context.Context, kubeconfig, registryCA string) (string, error) {
	bin := filepath.Join(h.Root, "bin", "crossplane")
	out, err := exec.CommandContext(ctx, bin, "--version").Output()
	if err != nil {
		return "", fmt.Errorf("cannot run %s --version: %w", bin, err)
	}
	version := strings.TrimSpace(string(out))

	for _, o := range []client.Object{
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: CrossplaneNamespace}},
		&corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Namespace: CrossplaneNamespace, Name: crossplaneSA}},
	} {
		if err := h.Kube.Create(ctx, o); err != nil && !kerrors.IsAlreadyExists(err) {
			return "", fmt.Errorf("cannot create %s %s: %w", o.GetObjectKind().GroupVersionKind().Kind, o.GetName(), err)
		}
	}
	crds, err := controlplane.CrossplaneCRDDir()
	if err != nil {
		return "", err
	}
	env := []string{
		"KUBECONFIG=" + kubeconfig,
		"POD_NAMESPACE=" + CrossplaneNamespace,
		"POD_SERVICE_ACCOUNT=" + crossplaneSA,
		"TLS_CA_SECRET_NAME=" + rootCASecret,
		"TLS_CLIENT_SECRET_NAME=" + clientSecret,
	}
	// Kong spells the flag --cr-ds-path; the Helm chart's variable is clearer.
	h.crossplaneInit, err = start(ctx, h.LogDir, "crossplane-init", bin, append(env, "CRDS_PATH="+crds),
		"core", "init", "--enable-webhooks=false")
	if err != nil {
		return "", err
	}
	ictx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	if err := h.crossplaneInit.wait(ictx); err != nil {
		return "", fmt.Errorf("crossplane core init failed: %w", err)
	}

	// In a pod the client certificate is a mounted Secret; here it is
	// written where --tls-client-certs-dir points.
	certs := filepath.Join(h.LogDir, "crossplane-tls-client")
	sec := &corev1.Secret{}
	if err := h.Kube.Get(ctx, client.ObjectKey{Namespace: CrossplaneNamespace, Name: clientSecret}, sec); err != nil {
		return "", fmt.Errorf("core init wrote no Secret %s: %w", clientSecret, err)
	}
	if err := writeFiles(certs, sec.Data, corev1.TLSCertKey, corev1.TLSPrivateKeyKey, "ca.crt"); err != nil {
		return "", err
	}

	ports := make([]int, 2)
	for i := range ports {
		if ports[i], err = freePort(); err != nil {
			return "", err
		}
	}
	cache := filepath.Join(h.LogDir, "xpkg-cache")
	if err := os.MkdirAll(cache, 0o750); err != nil {
		return "", fmt.Errorf("cannot create package cache: %w", err)
	}
	h.crossplane, err = start(pctx, h.LogDir, "crossplane", bin, env,
		"--debug", "core", "start",
		"--enable-webhooks=false",
		"--package-runtime", "Provider=External;Function=External",
		"--ca-bundle-path", registryCA,
		"--xpkg-cache-dir", cache,
		"--xfn-cache-dir", filepath.Join(h.LogDir, "xfn-cache"),
		"--tls-client-certs-dir", certs,
		"--poll-interval", pollInterval.String(),
		// As docs/install.md asks: a flow 3 link's creation
		// alone exceeds the default XR circuit breaker.
		"--circuit-breaker-burst", CircuitBreakerBurst,
		"--circuit-breaker-refill-rate", CircuitBreakerRefillRate,
		"--metrics-port", strconv.Itoa(ports[0]),
		"--health-probe-port", strconv.Itoa(ports[1]))
	if err != nil {
		return "", err
	}
	rctx, rcancel := context.WithTimeout(ctx, 2*time.Minute)
	defer rcancel()
	if err := waitHealthy(rctx, h.crossplane, fmt.Sprintf("http://127.0.0.1:%d/readyz", ports[1])); err != nil {
		return "", fmt.Errorf("crossplane core did not become ready: %w", err)
	}
	return version, nil
}

// writeFiles writes the given keys of a Secret's data as files of dir.
func writeFiles(dir string, data map[string][]byte, keys ...string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("cannot create %s: %w", dir, err)
	}
	for _, k := range keys {
		if len(data[k]) == 0 {
			return fmt.Errorf("secret has no %s", k)
		}
		if err := os.WriteFile(filepath.Join(dir, k), data[k], 0o600); err != nil {
			return fmt.Errorf("cannot write %s: %w", k, err)
		}
	}
	return nil
}

// waitHealthy polls a health endpoint until it answers 200 or the process
// exits.
func waitHealthy(ctx context.Context, p *process, url string) error {
	c := &http.Client{Timeout: 2 * time.Second}
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return err
		}
		if resp, err := c.Do(req); err == nil {
			_ = resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		if err := p.exitError(); err != nil {
			return err
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s not healthy (log %s): %w", url, p.log, ctx.Err())
		case <-time.After(200 * time.Millisecond):
		}
	}
}
