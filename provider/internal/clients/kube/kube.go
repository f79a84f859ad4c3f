// Package kube builds the provider's Kubernetes client.
package kube

import (
	"context"
	"reflect"

	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
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
// metadata and spec.
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
func SkipUnchangedStatus(c client.Client) client.Client {
	return &skipping{Client: c}
}

type skipping struct {
	client.Client
}

func (c *skipping) Update(ctx context.Context, obj client.Object, opts ...client.UpdateOption) error {
	if len(opts) == 0 && unchanged(ctx, c.Client, obj, metaAndSpec) {
		return nil
	}
	return c.Client.Update(ctx, obj, opts...)
}

func (c *skipping) Status() client.SubResourceWriter {
	return &statusWriter{SubResourceWriter: c.Client.Status(), reader: c.Client}
}

type statusWriter struct {
	client.SubResourceWriter
	reader client.Reader
}

func (w *statusWriter) Update(ctx context.Context, obj client.Object, opts ...client.SubResourceUpdateOption) error {
	if len(opts) == 0 && unchanged(ctx, w.reader, obj, status) {
		return nil
	}
	return w.SubResourceWriter.Update(ctx, obj, opts...)
}

// unchanged reports whether r holds obj at the same resourceVersion with
// the same part.
func unchanged(ctx context.Context, r client.Reader, obj client.Object, part func(client.Object) (any, bool)) bool {
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
	if current.GetResourceVersion() != obj.GetResourceVersion() {
		return false
	}
	b, ok := part(current)
	return ok && equality.Semantic.DeepEqual(a, b)
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
