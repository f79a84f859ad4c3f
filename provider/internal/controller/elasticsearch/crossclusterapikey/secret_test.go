package crossclusterapikey

import (
	"context"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"

	"github.com/crossplane/crossplane-runtime/v2/pkg/resource"

	"github.com/eslink/eslink/apis"
	esv1alpha1 "github.com/eslink/eslink/apis/elasticsearch/v1alpha1"
	"github.com/eslink/eslink/provider/internal/clients/elasticsearch"
	providerkube "github.com/eslink/eslink/provider/internal/clients/kube"
)

// TestPublish: the key reaches a connection Secret cr controls in one patch,
// without a read; a missing Secret is created; a Secret another resource
// controls is never written.
func TestPublish(t *testing.T) {
	cr := ownedKey("ns1", "orders", "cfg")
	cr.SetUID("uid-orders")
	k := &elasticsearch.CreatedKey{ID: "id-1", Name: "orders", APIKey: "secret-1", Encoded: "aWQtMTpzZWNyZXQtMQ=="}
	nn := types.NamespacedName{Namespace: "ns1", Name: "orders-key"}
	own := resource.LocalConnectionSecretFor(cr, esv1alpha1.CrossClusterAPIKeyGroupVersionKind)
	other := own.DeepCopy()
	other.OwnerReferences[0].UID = "uid-other"
	other.Data = map[string][]byte{"theirs": []byte("x")}

	cases := map[string]struct {
		existing  *corev1.Secret
		wantCalls map[string]int
		wantErr   bool
		wantData  map[string][]byte
		wantLabel bool
		// wantOwner is the UID of the Secret's controller afterwards.
		wantOwner types.UID
	}{
		"EmptySecretOfCr": {
			existing: own, wantCalls: map[string]int{"patch": 1},
			wantData: connectionDetails(k), wantLabel: true, wantOwner: cr.UID,
		},
		"Missing": {
			wantCalls: map[string]int{"patch": 1, "create": 1},
			wantData:  connectionDetails(k), wantLabel: true, wantOwner: cr.UID,
		},
		"ControlledByAnother": {
			existing: other, wantCalls: map[string]int{"patch": 1, "create": 1, "get": 1}, wantErr: true,
			wantData: other.Data, wantOwner: "uid-other",
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			s := runtime.NewScheme()
			if err := clientgoscheme.AddToScheme(s); err != nil {
				t.Fatal(err)
			}
			if err := apis.AddToScheme(s); err != nil {
				t.Fatal(err)
			}
			calls := map[string]int{}
			b := fake.NewClientBuilder().WithScheme(s).WithInterceptorFuncs(interceptor.Funcs{
				Get: func(ctx context.Context, c client.WithWatch, key client.ObjectKey, obj client.Object, opts ...client.GetOption) error {
					calls["get"]++
					return c.Get(ctx, key, obj, opts...)
				},
				Create: func(ctx context.Context, c client.WithWatch, obj client.Object, opts ...client.CreateOption) error {
					calls["create"]++
					return c.Create(ctx, obj, opts...)
				},
				Update: func(ctx context.Context, c client.WithWatch, obj client.Object, opts ...client.UpdateOption) error {
					calls["update"]++
					return c.Update(ctx, obj, opts...)
				},
				Patch: func(ctx context.Context, c client.WithWatch, obj client.Object, patch client.Patch, opts ...client.PatchOption) error {
					calls["patch"]++
					return c.Patch(ctx, obj, patch, opts...)
				},
			})
			if tc.existing != nil {
				b = b.WithObjects(tc.existing.DeepCopy())
			}
			kube := b.Build()
			e := &external{kube: kube}

			err := e.publish(context.Background(), cr, k)
			if (err != nil) != tc.wantErr {
				t.Fatalf("publish: err = %v, want an error: %t", err, tc.wantErr)
			}
			if diff := cmp.Diff(tc.wantCalls, calls); diff != "" {
				t.Errorf("publish: API calls -want +got:\n%s", diff)
			}
			got := &corev1.Secret{}
			if err := kube.Get(context.Background(), nn, got); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.wantData, got.Data); diff != "" {
				t.Errorf("publish: data -want +got:\n%s", diff)
			}
			if l := got.Labels[providerkube.LabelManagedBy] == providerkube.ManagedBy; l != tc.wantLabel {
				t.Errorf("publish: labelled %s: %t, want %t", providerkube.LabelManagedBy, l, tc.wantLabel)
			}
			if c := metav1.GetControllerOf(got); c == nil || c.UID != tc.wantOwner {
				t.Errorf("publish: controller %v, want %s", c, tc.wantOwner)
			}
		})
	}
}
