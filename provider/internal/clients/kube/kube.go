// Package kube builds the provider's Kubernetes client.
package kube

import (
	"context"
	"reflect"
	"sync"

	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// NewClient is a controller manager's NewClient that skips updates and
// status updates that would change nothing (see SkipUnchangedStatus).
func NewClient(cfg *rest.Config, o client.Options) (client.Client, error) {
	c, err := client.New(cfg, o)
	if err != nil {
		return nil, err
	}
	return SkipUnchangedStatus(c), nil
}

// SkipUnchangedStatus returns c, except that a status update is not sent
// when c reads the object (from the manager's cache) at the same
// resourceVersion with the same status, nor an update with the same
// metadata and spec, once that cache has seen the last write c made to it.
//
// crossplane-runtime's managed reconciler updates the status at the end of
// every reconcile, so each managed resource costs the API server a write per
// poll even when nothing changed; the API server then skips the write to
// etcd, but has decoded, admitted and compared it. Thousands of resources
// make that the provider's main cost at rest. crossplane-runtime's provider
// config reconciler likewise updates the config (to add its finalizer) each
// time a usage comes or goes, a thousand times for a thousand resources.
// The reconcilers themselves are unchanged: a change, or an object read at
// another resourceVersion, is written as before.
//
// The cache lags behind the API server. A reconcile that starts right after
// this client wrote a status reads the object as it was before that write,
// and compares it with the same lagging cache: a status computed anew that
// equals the old one looks unchanged, although the API server holds the
// newer status. Sent, that update would conflict and the reconciler would
// requeue; skipped, nothing reconciles the object again before the next
// poll, because a change of status alone does not trigger a reconcile. So
// the client remembers the resourceVersion of its own last write to each
// object, and skips only once the cache shows it.
func SkipUnchangedStatus(c client.Client) client.Client {
	return &skipping{Client: c, own: &ownWrites{versions: map[types.UID]string{}}}
}

type skipping struct {
	client.Client
	own *ownWrites
}

func (c *skipping) Update(ctx context.Context, obj client.Object, opts ...client.UpdateOption) error {
	if len(opts) == 0 && unchanged(ctx, c.Client, c.own, obj, metaAndSpec) {
		return nil
	}
	err := c.Client.Update(ctx, obj, opts...)
	c.own.moved(obj, err)
	return err
}

func (c *skipping) Patch(ctx context.Context, obj client.Object, patch client.Patch, opts ...client.PatchOption) error {
	err := c.Client.Patch(ctx, obj, patch, opts...)
	c.own.moved(obj, err)
	return err
}

func (c *skipping) Delete(ctx context.Context, obj client.Object, opts ...client.DeleteOption) error {
	c.own.forget(obj)
	return c.Client.Delete(ctx, obj, opts...)
}

func (c *skipping) Status() client.SubResourceWriter {
	return &statusWriter{SubResourceWriter: c.Client.Status(), reader: c.Client, own: c.own}
}

type statusWriter struct {
	client.SubResourceWriter
	reader client.Reader
	own    *ownWrites
}

func (w *statusWriter) Update(ctx context.Context, obj client.Object, opts ...client.SubResourceUpdateOption) error {
	if len(opts) == 0 && unchanged(ctx, w.reader, w.own, obj, status) {
		return nil
	}
	err := w.SubResourceWriter.Update(ctx, obj, opts...)
	w.own.wrote(obj, err)
	return err
}

func (w *statusWriter) Patch(ctx context.Context, obj client.Object, patch client.Patch, opts ...client.SubResourcePatchOption) error {
	err := w.SubResourceWriter.Patch(ctx, obj, patch, opts...)
	w.own.wrote(obj, err)
	return err
}

// unchanged reports whether r holds obj at the same resourceVersion with
// the same part, and shows own's last write to it.
func unchanged(ctx context.Context, r client.Reader, own *ownWrites, obj client.Object, part func(client.Object) (any, bool)) bool {
	a, ok := part(obj)
	if !ok || obj.GetResourceVersion() == "" {
		return false
	}
	current, ok := obj.DeepCopyObject().(client.Object)
	if !ok {
		return false
	}
	if err := r.Get(ctx, client.ObjectKeyFromObject(obj), current); err != nil {
		return false
	}
	if current.GetResourceVersion() != obj.GetResourceVersion() || !own.seen(current) {
		return false
	}
	b, ok := part(current)
	return ok && equality.Semantic.DeepEqual(a, b)
}

// ownWrites holds, for each object this client wrote, the resourceVersion
// that holds its last write, until the reader shows it. An
// entry is dropped once seen, and when a write removed the object's last
// finalizer or deleted it, so an entry outlives the cache's lag only for
// an object someone else deleted right after this client wrote it.
type ownWrites struct {
	mu       sync.Mutex
	versions map[types.UID]string
}

// wrote records a write.
func (o *ownWrites) wrote(obj client.Object, err error) {
	if err != nil || obj.GetUID() == "" || obj.GetResourceVersion() == "" {
		return
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	o.versions[obj.GetUID()] = obj.GetResourceVersion()
}

// moved records a write of the object itself when a later update of it may
// be skipped (it has a spec) or a status write is still unseen; nothing is
// kept for an object without either, such as a Secret, which someone else
// may delete. A write that removed the last finalizer of an object being
// deleted lets the API server delete it, so its entry goes.
func (o *ownWrites) moved(obj client.Object, err error) {
	if err != nil {
		return
	}
	if obj.GetDeletionTimestamp() != nil && len(obj.GetFinalizers()) == 0 {
		o.forget(obj)
		return
	}
	o.mu.Lock()
	_, tracked := o.versions[obj.GetUID()]
	o.mu.Unlock()
	if _, skippable := metaAndSpec(obj); tracked || skippable {
		o.wrote(obj, nil)
	}
}

func (o *ownWrites) forget(obj client.Object) {
	o.mu.Lock()
	defer o.mu.Unlock()
	delete(o.versions, obj.GetUID())
}

// seen reports whether read, an object as the reader serves it, reflects
// this client's last write to it.
func (o *ownWrites) seen(read client.Object) bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	v, ok := o.versions[read.GetUID()]
	if !ok {
		return true
	}
	if v != read.GetResourceVersion() {
		return false
	}
	delete(o.versions, read.GetUID())
	return true
}

// status returns the status of a typed object (its Status field) or of an
// unstructured one.
func status(o client.Object) (any, bool) {
	if u, ok := o.(*unstructured.Unstructured); ok {
		return u.Object["status"], true
	}
	return field(o, "Status")
}

// metaAndSpec returns what an update may change: the metadata the API server
// does not set and the spec (of an unstructured object, all but status).
func metaAndSpec(o client.Object) (any, bool) {
	m := []any{o.GetLabels(), o.GetAnnotations(), o.GetFinalizers(), o.GetOwnerReferences()}
	if u, ok := o.(*unstructured.Unstructured); ok {
		rest := make(map[string]any, len(u.Object))
		for k, v := range u.Object {
			if k != "status" && k != "metadata" {
				rest[k] = v
			}
		}
		return append(m, rest), true
	}
	spec, ok := field(o, "Spec")
	return append(m, spec), ok
}

func field(o client.Object, name string) (any, bool) {
	v := reflect.ValueOf(o)
	if v.Kind() != reflect.Pointer || v.Elem().Kind() != reflect.Struct {
		return nil, false
	}
	f := v.Elem().FieldByName(name)
	if !f.IsValid() {
		return nil, false
	}
	return f.Interface(), true
}
