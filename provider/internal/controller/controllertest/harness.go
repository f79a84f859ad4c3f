// Package controllertest runs controllers in-process against a shared test control
// plane with ECK's real CRD and the provider's CRDs, counting every write the
// API server applies, for the integration tests of the kinds that own parts
// of ECK objects (eck.m.eslink.io) or of a local cluster's settings.
package controllertest

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/crossplane/crossplane-runtime/v2/pkg/controller"
	"github.com/crossplane/crossplane-runtime/v2/pkg/feature"
	"github.com/crossplane/crossplane-runtime/v2/pkg/logging"
	"github.com/crossplane/crossplane-runtime/v2/pkg/ratelimiter"
	xpv2 "github.com/crossplane/crossplane/apis/v2/core/v2"
	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"
	kerrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/wait"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/config"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	"github.com/eslink/eslink/apis"
	"github.com/eslink/eslink/internal/eckschema"
	"github.com/eslink/eslink/provider/internal/clients/kube"
	"github.com/eslink/eslink/test/controlplane"
)

// PollInterval is the controllers' poll interval in tests: short, so that
// steady state can be observed over several polls within seconds.
const PollInterval = 500 * time.Millisecond

// SettleTimeout bounds every wait for the controllers to converge.
const SettleTimeout = 60 * time.Second

// The control plane is started by the first test that needs it and shared
// by the rest, so that the unit tests run without one.
var (
	envOnce sync.Once
	env     *controlplane.Env
	envErr  error
)

// ControlPlane returns the shared control plane, starting it on first use.
func ControlPlane(t *testing.T) *controlplane.Env {
	t.Helper()
	envOnce.Do(func() {
		// The provider's CRDs: the ECK kinds, and the kinds that reach a
		// local cluster's REST API with the provider configs.
		root, err := controlplane.RepoRoot()
		if err != nil {
			envErr = err
			return
		}
		env, envErr = controlplane.Start(context.Background(), controlplane.WithoutProjectCRDs(),
			controlplane.WithCRDPaths(filepath.Join(root, "package", "provider", "crds")))
	})
	if envErr != nil {
		t.Fatal(envErr)
	}
	return env
}

// Main runs a test binary's tests and stops the shared control plane.
func Main(m *testing.M) {
	// The managers log through controller-runtime's root logger; tests
	// read conditions and events instead.
	ctrl.SetLogger(logr.Discard())
	code := m.Run()
	if env != nil {
		if err := env.Stop(); err != nil {
			fmt.Fprintln(os.Stderr, err)
		}
	}
	os.Exit(code)
}

// WriteLog counts the writes the controllers' client makes that the API
// server actually applied (the resourceVersion changed); a no-op update the
// API server skips is not a write. It also counts reads of Elasticsearch
// objects, to prove the controllers kept polling.
type WriteLog struct {
	mu        sync.Mutex
	writes    []string
	statuses  map[types.NamespacedName][]StatusUpdate
	Conflicts atomic.Int64
	ESReads   atomic.Int64
}

// A StatusUpdate is a status update the controllers sent: applied, or
// skipped as unchanged, refused with a conflict, or a no-op.
type StatusUpdate struct {
	// Ready is the status of the Ready condition the update carried.
	Ready   corev1.ConditionStatus
	Applied bool
}

// StatusUpdates returns, in order, the status updates the controllers sent
// for the object ns/name.
func (l *WriteLog) StatusUpdates(ns, name string) []StatusUpdate {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]StatusUpdate(nil), l.statuses[types.NamespacedName{Namespace: ns, Name: name}]...)
}

func (l *WriteLog) recordStatus(obj client.Object, ready corev1.ConditionStatus, before string, err error) {
	l.record("status update", obj, before, err)
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.statuses == nil {
		l.statuses = map[types.NamespacedName][]StatusUpdate{}
	}
	key := client.ObjectKeyFromObject(obj)
	l.statuses[key] = append(l.statuses[key], StatusUpdate{Ready: ready, Applied: err == nil && obj.GetResourceVersion() != before})
}

func (l *WriteLog) record(verb string, obj client.Object, before string, err error) {
	if kerrors.IsConflict(err) {
		l.Conflicts.Add(1)
	}
	if err != nil || obj.GetResourceVersion() == before {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.writes = append(l.writes, fmt.Sprintf("%s %T %s/%s", verb, obj, obj.GetNamespace(), obj.GetName()))
}

// Snapshot returns the applied writes so far.
func (l *WriteLog) Snapshot() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.writes...)
}

// Counting returns c, recording its writes in log: a manager's NewClient
// wraps its client with it.
func Counting(c client.Client, log *WriteLog) client.Client {
	return &countingClient{Client: c, log: log}
}

type countingClient struct {
	client.Client
	log *WriteLog
}

func (c *countingClient) Get(ctx context.Context, key client.ObjectKey, obj client.Object, opts ...client.GetOption) error {
	if u, ok := obj.(*unstructured.Unstructured); ok && u.GroupVersionKind() == eckschema.ElasticsearchGVK {
		c.log.ESReads.Add(1)
	}
	return c.Client.Get(ctx, key, obj, opts...)
}

func (c *countingClient) Create(ctx context.Context, obj client.Object, opts ...client.CreateOption) error {
	err := c.Client.Create(ctx, obj, opts...)
	c.log.record("create", obj, "", err)
	return err
}

func (c *countingClient) Update(ctx context.Context, obj client.Object, opts ...client.UpdateOption) error {
	before := obj.GetResourceVersion()
	err := c.Client.Update(ctx, obj, opts...)
	c.log.record("update", obj, before, err)
	return err
}

func (c *countingClient) Patch(ctx context.Context, obj client.Object, patch client.Patch, opts ...client.PatchOption) error {
	before := obj.GetResourceVersion()
	err := c.Client.Patch(ctx, obj, patch, opts...)
	c.log.record("patch", obj, before, err)
	return err
}

func (c *countingClient) Delete(ctx context.Context, obj client.Object, opts ...client.DeleteOption) error {
	err := c.Client.Delete(ctx, obj, opts...)
	c.log.record("delete", obj, "", err)
	return err
}

func (c *countingClient) Status() client.SubResourceWriter {
	return &countingStatus{SubResourceWriter: c.Client.Status(), log: c.log}
}

type countingStatus struct {
	client.SubResourceWriter
	log *WriteLog
}

func (s *countingStatus) Update(ctx context.Context, obj client.Object, opts ...client.SubResourceUpdateOption) error {
	before := obj.GetResourceVersion()
	ready := corev1.ConditionUnknown
	if c, ok := obj.(interface {
		GetCondition(xpv2.ConditionType) xpv2.Condition
	}); ok {
		ready = c.GetCondition(xpv2.TypeReady).Status
	}
	err := s.SubResourceWriter.Update(ctx, obj, opts...)
	s.log.recordStatus(obj, ready, before, err)
	return err
}

func (s *countingStatus) Patch(ctx context.Context, obj client.Object, patch client.Patch, opts ...client.SubResourcePatchOption) error {
	before := obj.GetResourceVersion()
	err := s.SubResourceWriter.Patch(ctx, obj, patch, opts...)
	s.log.record("status patch", obj, before, err)
	return err
}

// Harness runs the controller under test in-process against the shared
// control plane.
type Harness struct {
	Kube  client.Client
	Log   *WriteLog
	cache *laggingCache
}

func newScheme(t *testing.T) *runtime.Scheme {
	t.Helper()
	s := runtime.NewScheme()
	if err := clientgoscheme.AddToScheme(s); err != nil {
		t.Fatal(err)
	}
	if err := apis.AddToScheme(s); err != nil {
		t.Fatal(err)
	}
	return s
}

// Start runs a manager with the given controller setups until the test
// ends. workers is the number of concurrent reconciles, so that concurrent
// writers really race.
func Start(t *testing.T, workers int, setups ...func(ctrl.Manager, controller.Options) error) *Harness {
	t.Helper()
	return StartPolling(t, workers, PollInterval, setups...)
}

// StartPolling is Start with the controllers polling every poll; a poll
// longer than the test shows what the watches alone achieve.
func StartPolling(t *testing.T, workers int, poll time.Duration, setups ...func(ctrl.Manager, controller.Options) error) *Harness {
	t.Helper()
	env := ControlPlane(t)
	s := newScheme(t)
	testClient, err := client.New(env.Config, client.Options{Scheme: s})
	if err != nil {
		t.Fatal(err)
	}
	h := &Harness{Kube: testClient, Log: &WriteLog{}}
	skip := true
	mgr, err := ctrl.NewManager(env.Config, ctrl.Options{
		Scheme:     s,
		Metrics:    metricsserver.Options{BindAddress: "0"},
		Controller: config.Controller{SkipNameValidation: &skip},
		// The provider's client, so that the controllers read and write
		// as they do in production.
		Client: client.Options{Cache: kube.CacheOptions()},
		NewCache: func(cfg *rest.Config, o cache.Options) (cache.Cache, error) {
			c, err := cache.New(cfg, o)
			if err != nil {
				return nil, err
			}
			h.cache = &laggingCache{Cache: c, held: map[string]client.Object{}}
			return h.cache, nil
		},
		NewClient: func(cfg *rest.Config, o client.Options) (client.Client, error) {
			c, err := kube.NewClient(cfg, o)
			if err != nil {
				return nil, err
			}
			return &countingClient{Client: c, log: h.Log}, nil
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	o := controller.Options{
		Logger:                  logging.NewNopLogger(),
		GlobalRateLimiter:       ratelimiter.NewGlobal(1000),
		PollInterval:            poll,
		MaxConcurrentReconciles: workers,
		Features:                &feature.Flags{},
	}
	for _, setup := range setups {
		if err := setup(mgr, o); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- mgr.Start(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("manager: %v", err)
		}
	})
	return h
}

var nsSeq atomic.Int64

// Namespace creates a namespace unique to this test run.
func (h *Harness) Namespace(t *testing.T, prefix string) string {
	t.Helper()
	name := fmt.Sprintf("%s-%d-%d", prefix, time.Now().UnixNano()%1_000_000, nsSeq.Add(1))
	if err := h.Kube.Create(context.Background(), &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}); err != nil {
		t.Fatal(err)
	}
	return name
}

// Elasticsearch creates a minimal ECK Elasticsearch object that ECK's CRD
// accepts, with the given annotations and extra spec fields.
func (h *Harness) Elasticsearch(t *testing.T, ns, name, version string, annotations map[string]string, spec map[string]any) *unstructured.Unstructured {
	t.Helper()
	es := eckschema.NewElasticsearch()
	es.SetNamespace(ns)
	es.SetName(name)
	es.SetAnnotations(annotations)
	s := map[string]any{
		"version":  version,
		"nodeSets": []any{map[string]any{"name": "default", "count": int64(1)}},
	}
	for k, v := range spec {
		s[k] = v
	}
	es.Object["spec"] = s
	if err := h.Kube.Create(context.Background(), es); err != nil {
		t.Fatalf("cannot create Elasticsearch %s/%s: %v", ns, name, err)
	}
	return es
}

// GetES reads the ECK object ns/name.
func (h *Harness) GetES(t *testing.T, ns, name string) *unstructured.Unstructured {
	t.Helper()
	es := eckschema.NewElasticsearch()
	if err := h.Kube.Get(context.Background(), types.NamespacedName{Namespace: ns, Name: name}, es); err != nil {
		t.Fatal(err)
	}
	return es
}

// WaitFor polls cond until it holds, failing the test with the last
// explanation cond gave when SettleTimeout passes.
func WaitFor(t *testing.T, what string, cond func() (bool, string)) {
	t.Helper()
	var last string
	err := wait.PollUntilContextTimeout(context.Background(), 100*time.Millisecond, SettleTimeout, true, func(context.Context) (bool, error) {
		ok, why := cond()
		last = why
		return ok, nil
	})
	if err != nil {
		t.Fatalf("waiting for %s: %v; last state: %s", what, err, last)
	}
}

// Condition returns the condition of type ct of a managed resource as the
// API server holds it.
func Condition(cs []xpv2.Condition, ct xpv2.ConditionType) xpv2.Condition {
	for _, c := range cs {
		if c.Type == ct {
			return c
		}
	}
	return xpv2.Condition{Type: ct, Status: corev1.ConditionUnknown}
}

// WarningEvents returns the messages of Warning events about an object.
func (h *Harness) WarningEvents(t *testing.T, ns, name string) []string {
	t.Helper()
	var list corev1.EventList
	if err := h.Kube.List(context.Background(), &list, client.InNamespace(ns)); err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range list.Items {
		if e.InvolvedObject.Name == name && e.Type == corev1.EventTypeWarning {
			out = append(out, e.Reason+": "+e.Message)
		}
	}
	return out
}

// EventCounts returns the count of every event in ns, keyed by object name,
// reason and message.
func (h *Harness) EventCounts(t *testing.T, ns string) map[string]int32 {
	t.Helper()
	var list corev1.EventList
	if err := h.Kube.List(context.Background(), &list, client.InNamespace(ns)); err != nil {
		t.Fatal(err)
	}
	out := map[string]int32{}
	for _, e := range list.Items {
		out[e.InvolvedObject.Name+"/"+e.Reason+"/"+e.Message] += max(e.Count, 1)
	}
	return out
}

// ContainsAny reports whether any of list contains sub.
func ContainsAny(list []string, sub string) bool {
	for _, s := range list {
		if strings.Contains(s, sub) {
			return true
		}
	}
	return false
}
