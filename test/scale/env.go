package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/eslink/eslink/apis"
	"github.com/eslink/eslink/internal/eckschema"
	"github.com/eslink/eslink/internal/grants"
	"github.com/eslink/eslink/test/controlplane"
	"github.com/eslink/eslink/test/e2e/ecksim"
	"github.com/eslink/eslink/test/e2e/harness"
	"github.com/eslink/eslink/test/fakeelasticsearch/esfake"
)

// Names and users of the environment.
const (
	// clusterNamespace holds every ECK Elasticsearch object.
	clusterNamespace = "elastic"
	// version every fake runs.
	version = "9.3.2"
	// providerUser is the user the provider reaches the fakes as (ECK's
	// elastic user); eckUser is the simulated ECK's own user, as ECK uses
	// elastic-internal. Telling them apart in the fakes' request logs
	// counts the provider's requests only.
	providerUser = "elastic"
	eckUser      = "elastic-internal"
	password     = "scale-password"
	// indexPattern is what every link requests and every remote grants.
	indexPattern = "logs-*"
)

func remoteName(r int) string { return fmt.Sprintf("remote-%d", r) }
func localName(r int) string  { return fmt.Sprintf("local-%d", r) }
func teamNamespace(i int) string {
	return fmt.Sprintf("team-%02d", i)
}

// env is one run's running pieces.
type env struct {
	cp       *controlplane.Env
	kube     client.Client
	remotes  []*esfake.Server
	locals   []*esfake.Server
	eck      *ecksim.Simulator
	provider *harness.Process
	logDir   string
	keepLogs bool
	cancel   context.CancelFunc
	eckDone  chan struct{}
	// own counts the requests of the benchmark and the simulated ECK.
	own *ownRequests
}

// buildProvider builds the provider binary once for all runs.
func buildProvider(ctx context.Context) (string, error) {
	root, err := controlplane.RepoRoot()
	if err != nil {
		return "", err
	}
	bin := filepath.Join(root, "bin", "scale", "provider")
	if err := harness.BuildBinary(ctx, "./provider/cmd/provider", bin); err != nil {
		return "", err
	}
	return bin, nil
}

// start brings up the API server, the fakes, the ECK objects and provider
// configs, the provider and the simulated ECK.
func start(ctx context.Context, c *config, providerBin string) (e *env, err error) {
	// envtest logs through controller-runtime; this program reports itself.
	ctrllog.SetLogger(logr.Discard())
	e = &env{keepLogs: c.keepLogs}
	defer func() {
		if err != nil {
			e.stop()
		}
	}()
	if e.logDir, err = os.MkdirTemp("", "eslink-scale-"); err != nil {
		return nil, fmt.Errorf("cannot create log dir: %w", err)
	}
	if e.cp, err = controlplane.Start(ctx, controlplane.WithScheme(apis.AddToScheme)); err != nil {
		return nil, err
	}
	// The benchmark creates thousands of objects; client-go's default of 5
	// requests per second would measure the benchmark, not the provider.
	cfg := rest.CopyConfig(e.cp.Config)
	cfg.QPS, cfg.Burst = 1000, 2000
	e.own = &ownRequests{}
	cfg.Wrap(e.own.wrap)
	if e.kube, err = client.New(cfg, client.Options{Scheme: e.cp.Scheme}); err != nil {
		return nil, fmt.Errorf("cannot create client: %w", err)
	}
	users := []esfake.User{{Name: providerUser, Password: password}, {Name: eckUser, Password: password}}
	for r := 0; r < c.remotes; r++ {
		for _, list := range []*[]*esfake.Server{&e.remotes, &e.locals} {
			s, err := esfake.Start(esfake.Options{Version: version, License: "enterprise", TLS: true, Users: users})
			if err != nil {
				return nil, fmt.Errorf("cannot start fake Elasticsearch: %w", err)
			}
			*list = append(*list, s)
		}
	}
	if err := e.seed(ctx, c); err != nil {
		return nil, err
	}
	c.progress("API server at %s, %d remote and %d local fake clusters", e.cp.Config.Host, len(e.remotes), len(e.locals))

	kc, err := harness.Kubeconfig(e.cp.Config)
	if err != nil {
		return nil, err
	}
	kcPath := filepath.Join(e.logDir, "kubeconfig")
	if err := os.WriteFile(kcPath, kc, 0o600); err != nil {
		return nil, fmt.Errorf("cannot write kubeconfig: %w", err)
	}
	pctx, cancel := context.WithCancel(context.Background())
	e.cancel = cancel
	if e.provider, err = harness.StartProcess(pctx, e.logDir, "provider", providerBin, nil,
		"--kubeconfig", kcPath, "--poll", c.poll.String(), "--max-reconcile-rate", strconv.Itoa(c.maxReconcileRate),
		"--metrics-bind-address", "0", "--health-probe-bind-address", "0"); err != nil {
		return nil, err
	}
	c.progress("provider running, pid %d", e.provider.Pid())

	e.eck = &ecksim.Simulator{Kube: e.kube, Interval: c.eckInterval, Clusters: map[string]*ecksim.Cluster{}}
	if c.verbose {
		e.eck.Log = func(format string, args ...any) {
			if strings.Contains(format, "failed") || strings.Contains(format, "cannot") {
				c.progress(format, args...)
			}
		}
	}
	for r := 0; r < c.remotes; r++ {
		for name, s := range map[string]*esfake.Server{remoteName(r): e.remotes[r], localName(r): e.locals[r]} {
			cl := harness.ECKCluster(s)
			cl.Username, cl.Password = eckUser, password
			e.eck.Clusters[clusterNamespace+"/"+name] = cl
		}
	}
	e.eckDone = make(chan struct{})
	go func() { defer close(e.eckDone); e.eck.Run(pctx) }()
	return e, nil
}

// stopECK stops the simulated ECK's loop; Reconcile may still be called.
func (e *env) stopECK() {
	if e.cancel != nil {
		e.cancel()
		<-e.eckDone
	}
}

func (e *env) stop() {
	e.stopECK()
	if e.provider != nil {
		e.provider.Stop()
	}
	for _, s := range append(append([]*esfake.Server(nil), e.remotes...), e.locals...) {
		s.Close()
	}
	if e.cp != nil {
		_ = e.cp.Stop()
	}
	switch {
	case e.logDir == "":
	case e.keepLogs:
		fmt.Fprintf(os.Stderr, "scale: the provider's log is in %s\n", e.logDir)
	default:
		_ = os.RemoveAll(e.logDir)
	}
}

// seed creates the namespaces, the ECK objects with the status and Secrets
// ECK writes, and one ClusterProviderConfig per cluster.
func (e *env) seed(ctx context.Context, c *config) error {
	teams := make([]string, c.namespaces)
	for i := range teams {
		teams[i] = teamNamespace(i)
	}
	for _, ns := range append([]string{clusterNamespace}, teams...) {
		if err := e.kube.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}); err != nil {
			return fmt.Errorf("cannot create namespace %s: %w", ns, err)
		}
	}
	filler := bytes.Repeat([]byte("x"), 8<<10)
	for i := range c.otherSecrets {
		s := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: teams[i%len(teams)], Name: fmt.Sprintf("other-%05d", i)}, Data: map[string][]byte{"release": filler}}
		if err := e.kube.Create(ctx, s); err != nil {
			return fmt.Errorf("cannot create Secret %s/%s: %w", s.Namespace, s.Name, err)
		}
	}
	for r := 0; r < c.remotes; r++ {
		for name, s := range map[string]*esfake.Server{remoteName(r): e.remotes[r], localName(r): e.locals[r]} {
			es := eckschema.NewElasticsearch()
			es.SetNamespace(clusterNamespace)
			es.SetName(name)
			es.SetAnnotations(map[string]string{
				grants.AnnotationAllowedNamespaces:    strings.Join(teams, ","),
				grants.AnnotationAllowedIndexPatterns: indexPattern,
			})
			es.Object["spec"] = map[string]any{"version": version, "nodeSets": []any{map[string]any{"name": "default", "count": int64(3)}}}
			if err := e.kube.Create(ctx, es); err != nil {
				return fmt.Errorf("cannot create Elasticsearch %s: %w", name, err)
			}
			es.Object["status"] = map[string]any{"availableNodes": int64(3), "health": "green", "phase": "Ready", "version": version}
			if err := e.kube.Status().Update(ctx, es); err != nil {
				return fmt.Errorf("cannot write status of Elasticsearch %s: %w", name, err)
			}
			for _, sec := range []*corev1.Secret{
				{ObjectMeta: metav1.ObjectMeta{Namespace: clusterNamespace, Name: name + "-es-elastic-user"}, Data: map[string][]byte{providerUser: []byte(password)}},
				{ObjectMeta: metav1.ObjectMeta{Namespace: clusterNamespace, Name: name + "-es-http-certs-public"}, Data: map[string][]byte{"ca.crt": s.CACertPEM, "tls.crt": s.CACertPEM}},
			} {
				if err := e.kube.Create(ctx, sec); err != nil {
					return fmt.Errorf("cannot create Secret %s: %w", sec.Name, err)
				}
			}
			// Each fake listens on its own port, so each cluster has its
			// own config with a fixed target and URL: for a remote, as links
			// naming spec.remote.providerConfigRef would use; for a local
			// cluster, as the function's localProviderConfigRef would name
			// (a local piece's config must reach the cluster it names).
			pc := &unstructured.Unstructured{Object: map[string]any{
				"apiVersion": "m.eslink.io/v1alpha1", "kind": "ClusterProviderConfig",
				"metadata": map[string]any{"name": name},
				"spec": map[string]any{
					"allowedNamespaces": []any{"*"},
					"eck": map[string]any{
						"elasticsearchRef": map[string]any{"namespace": clusterNamespace, "name": name},
						"urlOverride":      s.URL,
					},
				},
			}}
			if err := e.kube.Create(ctx, pc); err != nil {
				return fmt.Errorf("cannot create ClusterProviderConfig %s: %w", pc.GetName(), err)
			}
		}
	}
	return nil
}

// waitFor polls cond every interval until it holds or timeout passes.
func waitFor(ctx context.Context, timeout, interval time.Duration, cond func(context.Context) (bool, error)) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	for {
		ok, err := cond(ctx)
		if err == nil && ok {
			return nil
		}
		select {
		case <-ctx.Done():
			if err != nil {
				return fmt.Errorf("%w (last error: %w)", ctx.Err(), err)
			}
			return ctx.Err()
		case <-time.After(interval):
		}
	}
}
