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

// NewClient is a controller manager's NewClient that skips status updates
// that would change nothing (see SkipUnchangedStatus).
func NewClient(cfg *rest.Config, o client.Options) (client.Client, error) {
	c, err := client.New(cfg, o)
	if err != nil {
		return nil, err
	}
	return SkipUnchangedStatus(c), nil
}

// SkipUnchangedStatus returns c, except that a status update is not sent
// when c reads the object (from the manager's cache) at the same
// resourceVersion with the same status.
//
// crossplane-runtime's managed reconciler updates the status at the end of
// every reconcile, so each managed resource costs the API server a write per
// poll even when nothing changed; the API server then skips the write to
// etcd, but has decoded, admitted and compared it. Thousands of resources
// make that the provider's main cost at rest. The reconciler itself is
// unchanged: a status that did change, or an object read at another
// resourceVersion, is written as before.
func SkipUnchangedStatus(c client.Client) client.Client {
	return &skipping{Client: c}
}

type skipping struct {
	client.Client
}

func (c *skipping) Status() client.SubResourceWriter {
	return &statusWriter{SubResourceWriter: c.Client.Status(), reader: c.Client}
}

type statusWriter struct {
	client.SubResourceWriter
	reader client.Reader
}

func (w *statusWriter) Update(ctx context.Context, obj client.Object, opts ...client.SubResourceUpdateOption) error {
	if len(opts) == 0 && w.unchanged(ctx, obj) {
		return nil
	}
	return w.SubResourceWriter.Update(ctx, obj, opts...)
}

func (w *statusWriter) unchanged(ctx context.Context, obj client.Object) bool {
	if obj.GetResourceVersion() == "" {
		return false
	}
	current, ok := obj.DeepCopyObject().(client.Object)
	if !ok {
		return false
	}
	if err := w.reader.Get(ctx, client.ObjectKeyFromObject(obj), current); err != nil {
		return false
	}
	if current.GetResourceVersion() != obj.GetResourceVersion() {
		return false
	}
	a, ok1 := status(obj)
	b, ok2 := status(current)
	return ok1 && ok2 && equality.Semantic.DeepEqual(a, b)
}

// status returns the status of a typed object (its Status field) or of an
// unstructured one.
func status(o client.Object) (any, bool) {
	if u, ok := o.(*unstructured.Unstructured); ok {
		return u.Object["status"], true
	}
	v := reflect.ValueOf(o)
	if v.Kind() != reflect.Pointer || v.Elem().Kind() != reflect.Struct {
		return nil, false
	}
	f := v.Elem().FieldByName("Status")
	if !f.IsValid() {
		return nil, false
	}
	return f.Interface(), true
}
