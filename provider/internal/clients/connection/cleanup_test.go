package connection

import (
	"context"
	"testing"

	"k8s.io/apimachinery/pkg/types"

	xpv2 "github.com/crossplane/crossplane/apis/v2/core/v2"

	commonv1alpha1 "github.com/eslink/eslink/apis/common/v1alpha1"
	v1alpha1 "github.com/eslink/eslink/apis/v1alpha1"
	"github.com/eslink/eslink/internal/eckschema"
	"github.com/eslink/eslink/internal/grants"
)

// TestCleanup: a deleting resource is not held by the revoked grant of the
// cluster it proves allowed it before, is held by any other cluster's, and
// a gone target says so.
func TestCleanup(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, map[string]string{grants.AnnotationAllowedNamespaces: "someone-else"})
	r := NewResolver(e.kube)
	req := Request{
		Namespace:        "team-a",
		ProviderConfig:   &xpv2.ProviderConfigReference{Kind: v1alpha1.ClusterProviderConfigKind, Name: "eck"},
		ElasticsearchRef: &commonv1alpha1.ElasticsearchReference{Namespace: "ns2", Name: "cluster2"},
	}
	if _, err := r.Resolve(ctx, req); !IsDenied(err) {
		t.Fatalf("Resolve() without the grant = %v, want a denial", err)
	}
	req.Cleanup = true
	if _, err := r.Resolve(ctx, req); !IsDenied(err) {
		t.Errorf("Resolve() for cleanup of a resource with no proof of an earlier grant = %v, want a denial", err)
	}
	req.AllowedOn = "ns2/other"
	if _, err := r.Resolve(ctx, req); !IsDenied(err) {
		t.Errorf("Resolve() for cleanup of a resource allowed on another cluster = %v, want a denial", err)
	}
	req.AllowedOn = "ns2/cluster2"
	c, err := r.Resolve(ctx, req)
	if err != nil {
		t.Fatalf("Resolve() for cleanup after the grant was revoked = %v, want a client", err)
	}
	if c.Cluster() != "ns2/cluster2" {
		t.Errorf("Cluster() = %q, want ns2/cluster2", c.Cluster())
	}
	req.ElasticsearchRef.Name = "gone"
	if _, err := r.Resolve(ctx, req); !IsTargetGone(err) {
		t.Errorf("Resolve() of a missing cluster = %v, want IsTargetGone", err)
	}
	req.ElasticsearchRef.Name = "cluster2"
	if err := e.kube.Delete(ctx, secret("ns2", "cluster2-es-elastic-user", nil)); err != nil {
		t.Fatal(err)
	}
	r = NewResolver(e.kube)
	if _, err := r.Resolve(ctx, req); err == nil || IsTargetGone(err) {
		t.Errorf("Resolve() without ECK's elastic user Secret of a cluster that is not being deleted = %v, want an error to retry, not IsTargetGone", err)
	}
	// The cluster's deletion removes ECK's Secrets before the object.
	es := eckschema.NewElasticsearch()
	if err := e.kube.Get(ctx, types.NamespacedName{Namespace: "ns2", Name: "cluster2"}, es); err != nil {
		t.Fatal(err)
	}
	es.SetFinalizers([]string{"example.com/held"})
	if err := e.kube.Update(ctx, es); err != nil {
		t.Fatal(err)
	}
	if err := e.kube.Delete(ctx, es); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Resolve(ctx, req); !IsTargetGone(err) {
		t.Errorf("Resolve() without ECK's elastic user Secret of a cluster being deleted = %v, want IsTargetGone", err)
	}
}
