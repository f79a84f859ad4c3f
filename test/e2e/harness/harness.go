// Package harness brings up everything eslink runs against, on loopback, the
// way a platform team runs it: a real kube-apiserver and etcd with ECK's CRD,
// Kubernetes' garbage collector, Crossplane core v2.4 (built from its module
// by `make crossplane`), and an OCI registry holding the packages `make xpkg`
// built. It installs eslink's Provider, Function and Configuration from that
// registry through Crossplane, plays Crossplane's External package runtime
// (it runs the function, served with a certificate from Crossplane's CA, and
// the provider), seeds two fake Elasticsearch clusters behind ECK
// Elasticsearch objects whose status is written as ECK writes it, and runs
// a simulated ECK (package ecksim). Application teams act through Team, with
// only the RBAC docs/install.md gives them. The end-to-end tests and `make demo`
// both use it.
package harness

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"
	kerrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/yaml"

	"github.com/eslink/eslink/apis"
	linkv1alpha1 "github.com/eslink/eslink/apis/link/v1alpha1"
	"github.com/eslink/eslink/internal/linkrules"
	"github.com/eslink/eslink/test/controlplane"
	"github.com/eslink/eslink/test/e2e/ecksim"
	"github.com/eslink/eslink/test/fakeelasticsearch/esfake"
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
	// Legacy installs the legacy configuration (XRD with RemoteClusterLink
	// claims) instead of the namespaced one.
	Legacy bool
	// Progress receives one line as each part becomes ready.
	Progress func(format string, args ...any)
	// Log receives the simulated ECK's actions.
	Log func(format string, args ...any)
	// Interval of the ECK simulator's loop.
	Interval time.Duration
	// ECKRestartDelay is how long a simulated rolling restart takes
	// (default DefaultECKRestartDelay).
	ECKRestartDelay time.Duration
	// FailureLog, when set, receives the tails of the components' logs if
	// Start fails (Start removes the log directory).
	FailureLog func(logs string)
	// MinKeyLifetime, an Elasticsearch duration such as 1m, lets keys the
	// provider owns live that briefly: the provider runs with
	// --min-key-lifetime, and the platform team adds the Composition
	// ShortKeysComposition, whose function input sets minimumKeyLifetime.
	// Links that select it (spec.crossplane.compositionRef) may expire
	// and rotate their keys within minutes. Unset: the defaults (1d).
	MinKeyLifetime string
}

// Harness is a running set of components.
type Harness struct {
	Env    *controlplane.Env
	Kube   client.Client // an administrator: the platform team
	Local  *esfake.Server
	Remote *esfake.Server
	ECK    *ecksim.Simulator
	// Network maps the clusters' Service addresses to the fakes. The
	// provider reaches their HTTP Services through proxy.
	Network *esfake.Network
	Root    string
	LogDir  string
	// CrossplaneVersion is what the running core reports.
	CrossplaneVersion string

	cancel         context.CancelFunc
	gc             *process
	crossplaneInit *process
	crossplane     *process
	provider       *process
	function       *process
	registry       *ociRegistry
	proxy          *serviceProxy
	extra          []*esfake.Server // AddCluster's and StartExternal's
	loops          chan struct{}

	teamsMu sync.Mutex
	teams   map[string]client.Client
}

func (o *Options) progress(format string, args ...any) {
	if o.Progress != nil {
		o.Progress(format, args...)
	}
}

// Start brings everything up. Stop tears it down.
func Start(ctx context.Context, o Options) (*Harness, error) {
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
	h := &Harness{Root: root, LogDir: logDir, loops: make(chan struct{})}
	if err := h.start(ctx, o); err != nil {
		if o.FailureLog != nil {
			o.FailureLog(h.logTails())
		}
		h.Stop()
		return nil, err
	}
	return h, nil
}

func (h *Harness) start(ctx context.Context, o Options) error {
	root, logDir := h.Root, h.LogDir
	// Processes outlive ctx, which only bounds Start.
	pctx, cancel := context.WithCancel(context.Background())
	h.cancel = cancel

	for _, s := range []string{"build-crossplane.sh", "build-xpkg.sh"} {
		if err := runScript(ctx, root, s); err != nil {
			return err
		}
	}
	o.progress("built Crossplane core (bin/crossplane) and eslink's packages (bin/xpkg: provider, function, configurations)")

	// eslink's CRDs are not installed here: they come from its packages,
	// through Crossplane. core init installs Crossplane's own again, as it
	// does in a cluster.
	var err error
	h.Env, err = controlplane.Start(ctx, controlplane.WithoutProjectCRDs(), controlplane.WithScheme(apis.AddToScheme))
	if err != nil {
		return err
	}
	h.Kube = h.Env.Client
	kc, err := kubeconfig(h.Env.Config)
	if err != nil {
		return err
	}
	kcPath := filepath.Join(logDir, "kubeconfig")
	if err := os.WriteFile(kcPath, kc, 0o600); err != nil {
		return fmt.Errorf("cannot write kubeconfig: %w", err)
	}
	o.progress("API server ready at %s with ECK's and Crossplane's CRDs", h.Env.Config.Host)

	if h.registry, err = startRegistry(logDir); err != nil {
		return err
	}
	// The network exists before the provider starts: the provider reaches
	// the clusters' Services through it, the way a pod does.
	h.Network = esfake.NewNetwork()
	if h.proxy, err = startServiceProxy(h.Network); err != nil {
		return err
	}
	if h.CrossplaneVersion, err = h.startCrossplane(ctx, pctx, kcPath, h.registry.CAFile); err != nil {
		return err
	}
	o.progress("Crossplane core %s running", h.CrossplaneVersion)
	o.progress("core init, then core start: webhooks off, package runtime External for providers and functions (log %s)", h.crossplane.log)

	var providerArgs []string
	if o.MinKeyLifetime != "" {
		d, err := linkrules.ParseDuration("Options.MinKeyLifetime", o.MinKeyLifetime)
		if err != nil {
			return err
		}
		providerArgs = append(providerArgs, "--min-key-lifetime", d.String())
	}
	if err := h.install(ctx, pctx, o.Legacy, kcPath, o.progress, providerArgs...); err != nil {
		return err
	}
	if o.MinKeyLifetime != "" {
		if err := h.createShortKeysComposition(ctx, o.Legacy, o.MinKeyLifetime); err != nil {
			return err
		}
		o.progress("Composition %s renders links with function input minimumKeyLifetime %s; the provider runs with --min-key-lifetime %s",
			ShortKeysComposition, o.MinKeyLifetime, o.MinKeyLifetime)
	}
	// The garbage collector starts after the install: it learns of kinds
	// installed later only when it next re-reads discovery, every 30s, and
	// nothing needs it before a link is deleted.
	if err := h.startGarbageCollector(pctx, kcPath); err != nil {
		return err
	}
	gcStart := time.Now()
	gcDone := make(chan error, 1)
	go func() {
		gcDone <- h.awaitGarbageCollector(ctx, append([]schema.GroupVersionKind{linkv1alpha1.XRemoteClusterLinkGroupVersionKind}, ComposedKinds...))
	}()

	if h.Local, err = startFake(LocalNamespace, LocalName, Version); err != nil {
		return err
	}
	if h.Remote, err = startFake(RemoteNamespace, RemoteName, Version); err != nil {
		return err
	}
	o.progress("fake Elasticsearch %s/%s at %s, %s/%s at %s (version %s)", LocalNamespace, LocalName, h.Local.URL, RemoteNamespace, RemoteName, h.Remote.URL, Version)

	if err := h.seed(ctx); err != nil {
		return err
	}
	if err := h.createProviderConfig(ctx); err != nil {
		return err
	}
	if err := h.grantTeams(ctx, TeamNamespace, OtherNamespace, LocalNamespace); err != nil {
		return err
	}
	o.progress("ECK Elasticsearch objects %s/%s and %s/%s created with status as ECK writes it; ECK-mode provider config eck reaches each at https://<name>-es-http.<namespace>.svc:9200 (the provider's HTTPS_PROXY %s resolves Services to the fakes); application teams of %s, %s and %s bound to %s",
		LocalNamespace, LocalName, RemoteNamespace, RemoteName, h.proxy.URL(), TeamNamespace, OtherNamespace, LocalNamespace, teamRBAC)

	if err := h.wireECK(ctx, o); err != nil {
		return err
	}
	go func() {
		defer close(h.loops)
		h.ECK.Run(pctx)
	}()
	o.progress("ECK simulator running (every %s)", o.Interval)
	if err := <-gcDone; err != nil {
		return err
	}
	o.progress("Kubernetes' garbage collector running (kube-controller-manager); it collected a canary owned by eslink's kinds after %s", time.Since(gcStart).Round(100*time.Millisecond))
	if err := h.awaitProviderControllers(ctx); err != nil {
		return err
	}
	o.progress("provider-eslink runs its managed resource controllers (%s after the install)", time.Since(gcStart).Round(100*time.Millisecond))
	return nil
}

// Stop tears everything down.
func (h *Harness) Stop() {
	if h.cancel != nil {
		h.cancel()
		if h.ECK != nil {
			<-h.loops
		}
	}
	// The provider first, while the API server still answers, then
	// Crossplane and the garbage collector.
	h.provider.stop()
	h.function.stop()
	h.crossplane.stop()
	h.gc.stop()
	h.registry.Close()
	h.proxy.Close()
	if h.Local != nil {
		h.Local.Close()
	}
	if h.Remote != nil {
		h.Remote.Close()
	}
	for _, s := range h.extra {
		s.Close()
	}
	if h.Env != nil {
		_ = h.Env.Stop()
	}
	if h.LogDir != "" {
		_ = os.RemoveAll(h.LogDir)
	}
}

// logTails returns the end of every component's log.
func (h *Harness) logTails() string {
	var b strings.Builder
	for _, p := range []*process{h.gc, h.crossplaneInit, h.crossplane, h.function, h.provider} {
		if p == nil {
			continue
		}
		out := p.output()
		if len(out) > 6000 {
			out = "..." + out[len(out)-6000:]
		}
		fmt.Fprintf(&b, "---- %s ----\n%s\n", filepath.Base(p.log), out)
	}
	return b.String()
}

// ProviderLog returns the provider's output so far.
func (h *Harness) ProviderLog() string { return h.provider.output() }

// CrossplaneLog returns Crossplane core's output so far.
func (h *Harness) CrossplaneLog() string { return h.crossplane.output() }

// FunctionLog returns the function's output so far.
func (h *Harness) FunctionLog() string { return h.function.output() }

// startFake starts the fake Elasticsearch that plays ECK cluster ns/name,
// with the HTTP certificate ECK would issue it.
func startFake(ns, name, version string) (*esfake.Server, error) {
	s, err := esfake.Start(esfake.Options{Version: version, License: "enterprise", TLS: true, ClusterName: name, DNSNames: eckHTTPNames(name, ns)})
	if err != nil {
		return nil, fmt.Errorf("cannot start fake Elasticsearch %s/%s: %w", ns, name, err)
	}
	return s, nil
}

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
		if err := h.deployed(ctx, c.ns, c.name, Version, c.fake); err != nil {
			return err
		}
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

// GCLog returns the garbage collector's output so far.
func (h *Harness) GCLog() string { return h.gc.output() }
