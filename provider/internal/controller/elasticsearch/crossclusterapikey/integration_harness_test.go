package crossclusterapikey

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/config"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	"github.com/crossplane/crossplane-runtime/v2/pkg/controller"
	"github.com/crossplane/crossplane-runtime/v2/pkg/feature"
	"github.com/crossplane/crossplane-runtime/v2/pkg/logging"
	"github.com/crossplane/crossplane-runtime/v2/pkg/ratelimiter"

	"github.com/eslink/eslink/apis"
	"github.com/eslink/eslink/internal/eckschema"
	providerkube "github.com/eslink/eslink/provider/internal/clients/kube"
	providerconfig "github.com/eslink/eslink/provider/internal/controller/config"
	"github.com/eslink/eslink/provider/internal/controller/controllertest"
	"github.com/eslink/eslink/test/controlplane"
)

// testPoll is the poll interval of the manager under test: short, so that
// steady state spans several polls within seconds.
const testPoll = time.Second

var (
	envOnce sync.Once
	env     *controlplane.Env
	envErr  error
)

func controlPlane(t *testing.T) *controlplane.Env {
	t.Helper()
	envOnce.Do(func() {
		env, envErr = controlplane.Start(context.Background(), controlplane.WithScheme(apis.AddToScheme))
	})
	if envErr != nil {
		t.Fatal(envErr)
	}
	return env
}

func TestMain(m *testing.M) {
	code := m.Run()
	if env != nil {
		if err := env.Stop(); err != nil {
			fmt.Fprintln(os.Stderr, err)
		}
	}
	os.Exit(code)
}

// syncBuffer collects the manager's logs for the secret-leak check.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// cluster is the provider manager running in-process on the control plane.
type cluster struct {
	kube     client.Client
	writes   *controllertest.WriteLog
	logs     *syncBuffer
	requests *requestLog
}

// requestLog counts the manager's API requests by verb and resource, e.g.
// "GET secrets", "LIST secrets", "WATCH secrets", "PUT crossclusterapikeys".
type requestLog struct {
	mu     sync.Mutex
	counts map[string]int
}

func (l *requestLog) wrap(rt http.RoundTripper) http.RoundTripper {
	return countedRequests{next: rt, log: l}
}

// Snapshot returns the counts so far.
func (l *requestLog) Snapshot() map[string]int {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := make(map[string]int, len(l.counts))
	for k, n := range l.counts {
		out[k] = n
	}
	return out
}

type countedRequests struct {
	next http.RoundTripper
	log  *requestLog
}

func (c countedRequests) RoundTrip(r *http.Request) (*http.Response, error) {
	c.log.mu.Lock()
	c.log.counts[requestKind(r)]++
	c.log.mu.Unlock()
	return c.next.RoundTrip(r)
}

// requestKind names a request by verb and resource (and subresource):
// /api/v1/namespaces/ns/secrets/name is a GET of secrets, a GET of the
// collection a LIST, or a WATCH with ?watch.
func requestKind(r *http.Request) string {
	parts := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
	// api/v1/... or apis/group/version/...
	switch {
	case len(parts) > 2 && parts[0] == "api":
		parts = parts[2:]
	case len(parts) > 3 && parts[0] == "apis":
		parts = parts[3:]
	default:
		return r.Method + " " + r.URL.Path
	}
	if len(parts) > 2 && parts[0] == "namespaces" {
		parts = parts[2:]
	}
	verb := r.Method
	switch {
	case verb == http.MethodGet && r.URL.Query().Get("watch") == "true":
		verb = "WATCH"
	case verb == http.MethodGet && len(parts) == 1:
		verb = "LIST"
	}
	res := parts[0]
	if len(parts) > 2 {
		res += "/" + parts[2]
	}
	return verb + " " + res
}

// startProvider runs the provider config and CrossClusterAPIKey
// controllers, logging at debug level, until the test ends. ko sets the
// key rules; by default the minimum key lifetime is one minute.
func startProvider(t *testing.T, ko ...Options) *cluster {
	t.Helper()
	return startProviderPolling(t, testPoll, ko...)
}

// startProviderPolling is startProvider with another poll interval.
func startProviderPolling(t *testing.T, poll time.Duration, ko ...Options) *cluster {
	t.Helper()
	e := controlPlane(t)
	kube, err := client.New(e.Config, client.Options{Scheme: e.Scheme})
	if err != nil {
		t.Fatal(err)
	}
	c := &cluster{kube: kube, writes: &controllertest.WriteLog{}, logs: &syncBuffer{}, requests: &requestLog{counts: map[string]int{}}}
	// The provider's client, as cmd/provider builds it: Secrets are read
	// from the cache of the provider's own, or live.
	cfg := rest.CopyConfig(e.Config)
	cfg.Wrap(c.requests.wrap)
	owned, err := providerkube.NewOwnedSecrets(cfg, e.Scheme)
	if err != nil {
		t.Fatal(err)
	}
	skip := true
	mgr, err := ctrl.NewManager(cfg, ctrl.Options{
		Scheme:     e.Scheme,
		Metrics:    metricsserver.Options{BindAddress: "0"},
		Controller: config.Controller{SkipNameValidation: &skip},
		Client:     client.Options{Cache: providerkube.CacheOptions()},
		NewClient: func(cfg *rest.Config, o client.Options) (client.Client, error) {
			cl, err := providerkube.NewClientWithOwnedSecrets(owned)(cfg, o)
			if err != nil {
				return nil, err
			}
			return controllertest.Counting(cl, c.writes), nil
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := mgr.Add(owned); err != nil {
		t.Fatal(err)
	}
	zl := zap.New(zap.WriteTo(c.logs), zap.UseDevMode(true))
	o := controller.Options{
		Logger:                  logging.NewLogrLogger(zl),
		GlobalRateLimiter:       ratelimiter.NewGlobal(100),
		PollInterval:            poll,
		MaxConcurrentReconciles: 2,
		Features:                &feature.Flags{},
	}
	o.Features.Enable(feature.EnableBetaManagementPolicies)
	if err := providerconfig.Setup(mgr, o); err != nil {
		t.Fatal(err)
	}
	keys := Options{MinKeyLifetime: time.Minute}
	if len(ko) > 0 {
		keys = ko[0]
	}
	keys.OwnedSecrets = owned
	if err := Setup(mgr, o, keys); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- mgr.Start(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("manager: %v", err)
		}
		if t.Failed() {
			t.Logf("provider logs:\n%s", tail(c.logs.String(), 6000))
		}
	})
	return c
}

var nsSeq atomic.Int64

func (c *cluster) namespace(t *testing.T, prefix string) string {
	t.Helper()
	name := fmt.Sprintf("%s-%d-%d", prefix, time.Now().UnixNano()%1_000_000, nsSeq.Add(1))
	if err := c.kube.Create(context.Background(), &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}); err != nil {
		t.Fatal(err)
	}
	return name
}

func (c *cluster) create(t *testing.T, objs ...client.Object) {
	t.Helper()
	for _, o := range objs {
		if err := c.kube.Create(context.Background(), o); err != nil {
			t.Fatalf("cannot create %T %s/%s: %v", o, o.GetNamespace(), o.GetName(), err)
		}
	}
}

// eckCluster creates an ECK Elasticsearch object that ECK's CRD accepts.
func (c *cluster) eckCluster(t *testing.T, ns, name string, annotations map[string]string) {
	t.Helper()
	es := eckschema.NewElasticsearch()
	es.SetNamespace(ns)
	es.SetName(name)
	es.SetAnnotations(annotations)
	es.Object["spec"] = map[string]any{
		"version":  "9.3.2",
		"nodeSets": []any{map[string]any{"name": "default", "count": int64(1)}},
	}
	c.create(t, es)
}

// events returns the messages of events about objects in ns.
func (c *cluster) events(t *testing.T, ns string) []string {
	t.Helper()
	list := &corev1.EventList{}
	if err := c.kube.List(context.Background(), list, client.InNamespace(ns)); err != nil {
		t.Fatal(err)
	}
	out := make([]string, 0, len(list.Items))
	for _, e := range list.Items {
		out = append(out, e.Reason+": "+e.Message)
	}
	return out
}

func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[len(s)-n:]
}
