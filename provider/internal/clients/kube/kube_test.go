package kube

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	kerrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	xpv2 "github.com/crossplane/crossplane/apis/v2/core/v2"

	"github.com/eslink/eslink/apis"
	eckv1alpha1 "github.com/eslink/eslink/apis/eck/v1alpha1"
	"github.com/eslink/eslink/test/controlplane"
)

type countingTransport struct {
	http.RoundTripper
	statusWrites *atomic.Int64
}

func (t *countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Method == http.MethodPut && strings.HasSuffix(r.URL.Path, "/status") {
		t.statusWrites.Add(1)
	}
	return t.RoundTripper.RoundTrip(r)
}

// countingConfig returns env's config with its status writes counted in
// writes.
func countingConfig(env *controlplane.Env, writes *atomic.Int64) *rest.Config {
	cfg := rest.CopyConfig(env.Config)
	cfg.WrapTransport = func(rt http.RoundTripper) http.RoundTripper {
		return &countingTransport{RoundTripper: rt, statusWrites: writes}
	}
	return cfg
}

// availableServer creates a RemoteClusterServer through c and writes its
// status Available.
func availableServer(ctx context.Context, t *testing.T, c client.Client, name string) *eckv1alpha1.RemoteClusterServer {
	t.Helper()
	mg := &eckv1alpha1.RemoteClusterServer{}
	mg.SetNamespace("default")
	mg.SetName(name)
	mg.Spec.ForProvider.ElasticsearchRef.Name = "c2"
	if err := c.Create(ctx, mg); err != nil {
		t.Fatal(err)
	}
	mg.SetConditions(xpv2.Available())
	if err := c.Status().Update(ctx, mg); err != nil {
		t.Fatal(err)
	}
	return mg
}

func TestSkipUnchangedStatus(t *testing.T) {
	env := controlplane.New(t, controlplane.WithScheme(apis.AddToScheme))
	ctx := t.Context()
	var writes atomic.Int64
	c, err := NewClient(countingConfig(env, &writes), client.Options{Scheme: env.Scheme})
	if err != nil {
		t.Fatal(err)
	}

	mg := availableServer(ctx, t, c, "skip-unchanged")
	if got := writes.Load(); got != 1 {
		t.Fatalf("a changed status: %d status writes, want 1", got)
	}

	// The reconciler sets the same condition again on every poll.
	mg.SetConditions(xpv2.Available())
	if err := c.Status().Update(ctx, mg); err != nil {
		t.Fatal(err)
	}
	if got := writes.Load(); got != 1 {
		t.Errorf("an unchanged status: %d status writes, want still 1", got)
	}

	// Read at an older resourceVersion: written, and the API server
	// answers with a conflict as it would without the wrapper.
	stale := mg.DeepCopy()
	mg.Status.AtProvider.Claims = 1
	if err := c.Status().Update(ctx, mg); err != nil {
		t.Fatal(err)
	}
	if err := c.Status().Update(ctx, stale); err == nil {
		t.Error("an update from a stale read: no conflict")
	}
	if got := writes.Load(); got != 3 {
		t.Errorf("a changed status and a stale one: %d status writes in all, want 3", got)
	}
}

// updateCounter counts the updates of objects (not of their status).
type updateCounter struct {
	http.RoundTripper
	updates *atomic.Int64
}

func (t updateCounter) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Method == http.MethodPut && !strings.HasSuffix(r.URL.Path, "/status") {
		t.updates.Add(1)
	}
	return t.RoundTripper.RoundTrip(r)
}

// TestSkipUnchangedUpdate: an update with the same metadata and spec as the
// object read is not sent; one that changes them is.
func TestSkipUnchangedUpdate(t *testing.T) {
	env := controlplane.New(t, controlplane.WithScheme(apis.AddToScheme))
	ctx := t.Context()
	var statusWrites, updates atomic.Int64
	cfg := countingConfig(env, &statusWrites)
	cfg.Wrap(func(rt http.RoundTripper) http.RoundTripper {
		return updateCounter{RoundTripper: rt, updates: &updates}
	})
	c, err := NewClient(cfg, client.Options{Scheme: env.Scheme})
	if err != nil {
		t.Fatal(err)
	}
	mg := availableServer(ctx, t, c, "skip-unchanged-update")

	// crossplane-runtime's provider config reconciler adds its finalizer
	// again each time a usage comes or goes.
	if err := c.Update(ctx, mg); err != nil {
		t.Fatal(err)
	}
	if got := updates.Load(); got != 0 {
		t.Errorf("an unchanged update: %d updates, want 0", got)
	}
	mg.SetLabels(map[string]string{"example.com/changed": "true"})
	if err := c.Update(ctx, mg); err != nil {
		t.Fatal(err)
	}
	if got := updates.Load(); got != 1 {
		t.Errorf("a changed label: %d updates, want 1", got)
	}
	if err := c.Update(ctx, mg); err != nil {
		t.Fatal(err)
	}
	if got := updates.Load(); got != 1 {
		t.Errorf("the same update again: %d updates, want still 1", got)
	}
}

// laggingReader serves the objects it holds as they were when held, as the
// manager's cache does until its watch delivers the latest events.
type laggingReader struct {
	client.Reader
	mu   sync.Mutex
	held map[client.ObjectKey]*eckv1alpha1.RemoteClusterServer
}

func (r *laggingReader) Get(ctx context.Context, key client.ObjectKey, obj client.Object, opts ...client.GetOption) error {
	r.mu.Lock()
	old, ok := r.held[key]
	r.mu.Unlock()
	if mg, isServer := obj.(*eckv1alpha1.RemoteClusterServer); ok && isServer {
		old.DeepCopyInto(mg)
		return nil
	}
	return r.Reader.Get(ctx, key, obj, opts...)
}

func (r *laggingReader) hold(mg *eckv1alpha1.RemoteClusterServer) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.held = map[client.ObjectKey]*eckv1alpha1.RemoteClusterServer{client.ObjectKeyFromObject(mg): mg.DeepCopy()}
}

func (r *laggingReader) release() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.held = nil
}

// TestSkipWaitsForOwnWrite: a reconcile that starts right after the client
// wrote a status reads the object from a cache that has not seen that
// write yet. Its status, computed anew, equals the lagging copy but not
// what the API server holds: it must be sent (and conflict, which requeues
// the reconcile), not skipped, or the API server keeps the older status
// until the next poll.
func TestSkipWaitsForOwnWrite(t *testing.T) {
	env := controlplane.New(t, controlplane.WithScheme(apis.AddToScheme))
	ctx := t.Context()
	live, err := client.New(env.Config, client.Options{Scheme: env.Scheme})
	if err != nil {
		t.Fatal(err)
	}
	cache := &laggingReader{Reader: live}
	var writes atomic.Int64
	c, err := NewClient(countingConfig(env, &writes), client.Options{Scheme: env.Scheme, Cache: &client.CacheOptions{Reader: cache}})
	if err != nil {
		t.Fatal(err)
	}

	mg := availableServer(ctx, t, c, "lagging-cache")
	cache.hold(mg)

	// A reconcile finds the server disabled and says so.
	mg.SetConditions(xpv2.Unavailable())
	if err := c.Status().Update(ctx, mg); err != nil {
		t.Fatal(err)
	}
	// The next one, after the repair, reads the copy from before that.
	next := &eckv1alpha1.RemoteClusterServer{}
	if err := c.Get(ctx, client.ObjectKeyFromObject(mg), next); err != nil {
		t.Fatal(err)
	}
	next.SetConditions(xpv2.Available())
	if err := c.Status().Update(ctx, next); !kerrors.IsConflict(err) {
		t.Errorf("a status update from a copy the cache read before the client's last write: error %v, want a conflict", err)
	}
	if got := writes.Load(); got != 3 {
		t.Errorf("%d status writes, want 3: the update from the lagging copy was skipped", got)
	}

	// Once the cache shows the client's write, unchanged is skipped again.
	cache.release()
	fresh := &eckv1alpha1.RemoteClusterServer{}
	if err := c.Get(ctx, client.ObjectKeyFromObject(mg), fresh); err != nil {
		t.Fatal(err)
	}
	fresh.SetConditions(xpv2.Unavailable())
	if err := c.Status().Update(ctx, fresh); err != nil {
		t.Fatal(err)
	}
	if got := writes.Load(); got != 3 {
		t.Errorf("%d status writes, want still 3: an unchanged status read from a current cache was sent", got)
	}
}
