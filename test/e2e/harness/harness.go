// Package harness brings up everything eslink runs against, on loopback:
// a real kube-apiserver and etcd with ECK's, Crossplane's and eslink's CRDs;
// two fake Elasticsearch clusters behind ECK Elasticsearch objects whose
// status is written as ECK writes it; the provider and the function as the
// binaries an operator would build; a simulated ECK (package ecksim); and a
// composer that plays Crossplane core with Crossplane's own render engine
// (package composer). The end-to-end tests and `make demo` both use it.
package harness

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"
	kerrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/yaml"

	"github.com/eslink/eslink/apis"
	"github.com/eslink/eslink/test/controlplane"
	"github.com/eslink/eslink/test/e2e/composer"
	"github.com/eslink/eslink/test/e2e/ecksim"
	"github.com/eslink/eslink/test/e2e/xrcrd"
	"github.com/eslink/eslink/test/fakeelasticsearch/esfake"
	"github.com/eslink/eslink/test/render"
)

// Names of the objects the harness creates.
const (
	LocalNamespace  = "ns1"
	LocalName       = "cluster1"
	RemoteNamespace = "ns2"
	RemoteName      = "cluster2"
	// TeamNamespace is granted on both clusters; OtherNamespace is not.
	TeamNamespace  = "team-a"
	OtherNamespace = "team-b"
	// ElasticPassword is the fakes' elastic user password.
	ElasticPassword = "changeme"
	// Version of both clusters.
	Version = "9.3.2"
)

// Options configure Start.
type Options struct {
	// Legacy installs the legacy XRD (claims) instead of the namespaced one.
	Legacy bool
	// Progress receives one line as each part becomes ready.
	Progress func(format string, args ...any)
	// Log receives the simulated ECK's and the composer's actions.
	Log func(format string, args ...any)
	// Interval of the composer and ECK simulator loops.
	Interval time.Duration
	// ECKRestartDelay is how long a simulated rolling restart takes
	// (default DefaultECKRestartDelay).
	ECKRestartDelay time.Duration
}

// Harness is a running set of components.
type Harness struct {
	Env      *controlplane.Env
	Kube     client.Client
	Local    *esfake.Server
	Remote   *esfake.Server
	Composer *composer.Composer
	ECK      *ecksim.Simulator
	Network  *esfake.Network
	Root     string
	LogDir   string

	cancel   context.CancelFunc
	provider *Provider
	function *process
	loops    chan struct{}
}

func (o *Options) progress(format string, args ...any) {
	if o.Progress != nil {
		o.Progress(format, args...)
	}
}

// Start brings everything up. Stop tears it down.
func Start(ctx context.Context, o Options) (h *Harness, err error) {
	if o.Interval == 0 {
		o.Interval = time.Second
	}
	// envtest logs through controller-runtime; the harness reports progress
	// itself.
	ctrllog.SetLogger(logr.Discard())
	root, err := controlplane.RepoRoot()
	if err != nil {
		return nil, err
	}
	logDir, err := os.MkdirTemp("", "eslink-e2e-")
	if err != nil {
		return nil, fmt.Errorf("cannot create log dir: %w", err)
	}
	h = &Harness{Root: root, LogDir: logDir, loops: make(chan struct{})}
	defer func() {
		if err != nil {
			h.Stop()
		}
	}()

	binDir := filepath.Join(root, "bin", "e2e")
	providerBin, err := BuildProvider(ctx, root)
	if err != nil {
		return nil, err
	}
	functionBin := filepath.Join(binDir, "function")
	if err := build(ctx, root, "./function", functionBin); err != nil {
		return nil, err
	}
	o.progress("built the provider and the function into %s", binDir)

	mode := "namespaced"
	if o.Legacy {
		mode = "legacy"
	}
	cfgDir := filepath.Join(root, "package", "configuration", mode)
	xrdPath := filepath.Join(cfgDir, "definition.yaml")
	crds, err := xrcrd.FromFile(xrdPath)
	if err != nil {
		return nil, err
	}
	crdDir := filepath.Join(logDir, "xrcrds")
	if err := os.MkdirAll(crdDir, 0o750); err != nil {
		return nil, fmt.Errorf("cannot create %s: %w", crdDir, err)
	}
	for _, c := range crds {
		b, err := yaml.Marshal(c)
		if err != nil {
			return nil, fmt.Errorf("cannot render CRD %s: %w", c.Name, err)
		}
		if err := os.WriteFile(filepath.Join(crdDir, c.Name+".yaml"), b, 0o600); err != nil {
			return nil, fmt.Errorf("cannot write CRD %s: %w", c.Name, err)
		}
	}
	h.Env, err = controlplane.Start(ctx, controlplane.WithCRDPaths(crdDir), controlplane.WithScheme(apis.AddToScheme))
	if err != nil {
		return nil, err
	}
	h.Kube = h.Env.Client
	o.progress("API server ready at %s with ECK's, Crossplane's and eslink's CRDs (%d in all), XRD %s", h.Env.Config.Host, len(h.Env.CRDs), mode)

	if h.Local, err = esfake.Start(esfake.Options{Version: Version, License: "enterprise", TLS: true, ClusterName: LocalName}); err != nil {
		return nil, fmt.Errorf("cannot start fake Elasticsearch %s: %w", LocalName, err)
	}
	if h.Remote, err = esfake.Start(esfake.Options{Version: Version, License: "enterprise", TLS: true, ClusterName: RemoteName}); err != nil {
		return nil, fmt.Errorf("cannot start fake Elasticsearch %s: %w", RemoteName, err)
	}
	o.progress("fake Elasticsearch %s/%s at %s, %s/%s at %s (version %s)", LocalNamespace, LocalName, h.Local.URL, RemoteNamespace, RemoteName, h.Remote.URL, Version)

	if err := h.seed(ctx); err != nil {
		return nil, err
	}
	if err := h.wireECK(ctx, o); err != nil {
		return nil, err
	}
	o.progress("ECK Elasticsearch objects %s/%s and %s/%s created with status as ECK writes it; provider config eck points at %s", LocalNamespace, LocalName, RemoteNamespace, RemoteName, h.Remote.URL)

	pctx, cancel := context.WithCancel(context.Background())
	h.cancel = cancel
	h.provider, err = RunProvider(pctx, providerBin, logDir, h.Env.Config, 2*time.Second)
	if err != nil {
		return nil, err
	}
	o.progress("provider running (log %s)", h.provider.LogPath())

	fnPort, err := freePort()
	if err != nil {
		return nil, err
	}
	fnAddr := "127.0.0.1:" + strconv.Itoa(fnPort)
	h.function, err = start(pctx, logDir, "function", functionBin, "--insecure", "--address", fnAddr)
	if err != nil {
		return nil, err
	}
	wctx, wcancel := context.WithTimeout(ctx, time.Minute)
	defer wcancel()
	if err := waitForPort(wctx, h.function, fnAddr); err != nil {
		return nil, err
	}
	o.progress("function serving on %s (log %s)", fnAddr, h.function.log)

	comp, err := readYAML(filepath.Join(cfgDir, "composition.yaml"))
	if err != nil {
		return nil, err
	}
	xrd, err := readYAML(xrdPath)
	if err != nil {
		return nil, err
	}
	h.Composer = &composer.Composer{
		Kube: h.Kube, Composition: comp, XRD: xrd, Legacy: o.Legacy, Log: o.Log,
		Function: render.Function{Name: "function-eslink", Address: fnAddr},
	}
	go func() {
		defer close(h.loops)
		done := make(chan struct{})
		go func() { h.ECK.Run(pctx); close(done) }()
		h.Composer.Run(pctx, o.Interval)
		<-done
	}()
	o.progress("Crossplane's render engine composing links every %s; ECK simulator running", o.Interval)
	return h, nil
}

// Stop tears everything down.
func (h *Harness) Stop() {
	if h.cancel != nil {
		h.cancel()
		<-h.loops
	}
	h.provider.Stop()
	h.function.stop()
	if h.Local != nil {
		h.Local.Close()
	}
	if h.Remote != nil {
		h.Remote.Close()
	}
	if h.Env != nil {
		_ = h.Env.Stop()
	}
	if h.LogDir != "" {
		_ = os.RemoveAll(h.LogDir)
	}
}

// ProviderLog returns the provider's output so far.
func (h *Harness) ProviderLog() string { return h.provider.Log() }

func (h *Harness) simCluster(s *esfake.Server) *ecksim.Cluster {
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(s.CACertPEM)
	return &ecksim.Cluster{
		URL: s.URL, Username: "elastic", Password: ElasticPassword,
		HTTP: &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}}},
		Node: s,
	}
}

// seed creates the namespaces, the ECK objects with their status and
// Secrets, and the provider config.
func (h *Harness) seed(ctx context.Context) error {
	// The ECK objects are the repository's examples, so the demo and the
	// tests run against what a reader of examples/ sees.
	for _, f := range []string{"cluster1.yaml", "cluster2.yaml"} {
		docs, err := readYAMLDocs(filepath.Join(h.Root, "examples", "clusters", f))
		if err != nil {
			return err
		}
		for _, d := range docs {
			if err := h.Kube.Create(ctx, &unstructured.Unstructured{Object: d}); err != nil && !kerrors.IsAlreadyExists(err) {
				return fmt.Errorf("cannot create %v from examples/clusters/%s: %w", d["kind"], f, err)
			}
		}
	}
	for _, ns := range []string{TeamNamespace, OtherNamespace} {
		if err := h.Kube.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}); err != nil && !kerrors.IsAlreadyExists(err) {
			return fmt.Errorf("cannot create namespace %s: %w", ns, err)
		}
	}
	for _, c := range []struct {
		ns, name string
		fake     *esfake.Server
	}{{LocalNamespace, LocalName, h.Local}, {RemoteNamespace, RemoteName, h.Remote}} {
		es, err := h.Elasticsearch(ctx, c.ns, c.name)
		if err != nil {
			return fmt.Errorf("examples/clusters has no Elasticsearch %s/%s: %w", c.ns, c.name, err)
		}
		// ECK writes this status once the cluster runs.
		es.Object["status"] = map[string]any{"availableNodes": int64(3), "health": "green", "phase": "Ready", "version": Version}
		if err := h.Kube.Status().Update(ctx, es); err != nil {
			return fmt.Errorf("cannot write status of Elasticsearch %s/%s: %w", c.ns, c.name, err)
		}
		for _, s := range []*corev1.Secret{
			{ObjectMeta: metav1.ObjectMeta{Namespace: c.ns, Name: c.name + "-es-elastic-user"}, Data: map[string][]byte{"elastic": []byte(ElasticPassword)}},
			{ObjectMeta: metav1.ObjectMeta{Namespace: c.ns, Name: c.name + "-es-http-certs-public"}, Data: map[string][]byte{"ca.crt": c.fake.CACertPEM, "tls.crt": c.fake.CACertPEM}},
		} {
			if err := h.Kube.Create(ctx, s); err != nil {
				return fmt.Errorf("cannot create Secret %s/%s: %w", s.Namespace, s.Name, err)
			}
		}
	}
	// One ECK-mode config for every cluster, as a platform team would set
	// up; outside a cluster the URL must be overridden, and in this harness
	// only the remote's API is ever needed.
	pc := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "m.eslink.io/v1alpha1", "kind": "ClusterProviderConfig",
		"metadata": map[string]any{"name": "eck"},
		"spec":     map[string]any{"allowedNamespaces": []any{"*"}, "eck": map[string]any{"urlOverride": h.Remote.URL}},
	}}
	if err := h.Kube.Create(ctx, pc); err != nil {
		return fmt.Errorf("cannot create ClusterProviderConfig eck: %w", err)
	}
	return nil
}

func readYAMLDocs(path string) ([]map[string]any, error) {
	b, err := os.ReadFile(path) // A path inside the repository.
	if err != nil {
		return nil, fmt.Errorf("cannot read %s: %w", path, err)
	}
	var out []map[string]any
	for _, doc := range strings.Split(string(b), "\n---") {
		m := map[string]any{}
		if err := yaml.Unmarshal([]byte(doc), &m); err != nil {
			return nil, fmt.Errorf("cannot parse %s: %w", path, err)
		}
		if len(m) > 0 {
			out = append(out, m)
		}
	}
	return out, nil
}

func readYAML(path string) (map[string]any, error) {
	b, err := os.ReadFile(path) // A path inside the repository.
	if err != nil {
		return nil, fmt.Errorf("cannot read %s: %w", path, err)
	}
	out := map[string]any{}
	if err := yaml.Unmarshal(b, &out); err != nil {
		return nil, fmt.Errorf("cannot parse %s: %w", path, err)
	}
	return out, nil
}
