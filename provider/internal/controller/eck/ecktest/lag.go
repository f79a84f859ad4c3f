package ecktest

import (
	"context"
	"fmt"
	"reflect"
	"sync"
	"testing"

	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// laggingCache is the manager's cache, except that it serves the objects a
// test holds as they were when held, as an informer does whose watch has
// not yet delivered the latest events. Watch events still flow: only what
// the controllers read lags.
type laggingCache struct {
	cache.Cache
	mu   sync.Mutex
	held map[string]client.Object
}

func heldKey(obj client.Object, key client.ObjectKey) string {
	return fmt.Sprintf("%T %s", obj, key)
}

func (c *laggingCache) Get(ctx context.Context, key client.ObjectKey, obj client.Object, opts ...client.GetOption) error {
	c.mu.Lock()
	old, ok := c.held[heldKey(obj, key)]
	c.mu.Unlock()
	if !ok {
		return c.Cache.Get(ctx, key, obj, opts...)
	}
	reflect.ValueOf(obj).Elem().Set(reflect.ValueOf(old.DeepCopyObject()).Elem())
	return nil
}

// Lag makes the controllers read obj's object as it is now (obj as read
// from the API server) until release is called (or the test ends),
// whatever the API server and the watch events say meanwhile. It first
// waits for the cache to reach obj's resourceVersion. obj must be a typed
// object.
func (h *Harness) Lag(t *testing.T, obj client.Object) (release func()) {
	t.Helper()
	key := client.ObjectKeyFromObject(obj)
	now, ok := obj.DeepCopyObject().(client.Object)
	if !ok {
		t.Fatalf("cannot copy %T", obj)
	}
	WaitFor(t, fmt.Sprintf("the controllers' cache holding %T %s at resourceVersion %s", obj, key, obj.GetResourceVersion()), func() (bool, string) {
		err := h.cache.Cache.Get(context.Background(), key, now)
		return err == nil && now.GetResourceVersion() == obj.GetResourceVersion(), fmt.Sprintf("resourceVersion %s, error %v", now.GetResourceVersion(), err)
	})
	id := heldKey(obj, key)
	h.cache.mu.Lock()
	h.cache.held[id] = now
	h.cache.mu.Unlock()
	release = func() {
		h.cache.mu.Lock()
		defer h.cache.mu.Unlock()
		delete(h.cache.held, id)
	}
	t.Cleanup(release)
	return release
}
