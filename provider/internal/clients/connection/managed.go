package connection

import (
	"context"

	kerrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/crossplane/crossplane-runtime/v2/pkg/meta"
	"github.com/crossplane/crossplane-runtime/v2/pkg/resource"

	commonv1alpha1 "github.com/eslink/eslink/apis/common/v1alpha1"
	v1alpha1 "github.com/eslink/eslink/apis/v1alpha1"
	"github.com/eslink/eslink/internal/grants"
	"github.com/eslink/eslink/provider/internal/clients/elasticsearch"
)

// UsageTracker records that a managed resource uses its provider config, of
// either kind, so that a config in use cannot be deleted.
type UsageTracker struct {
	namespaced, cluster *resource.ProviderConfigUsageTracker
}

// NewUsageTracker returns a tracker writing through c.
func NewUsageTracker(c client.Client) *UsageTracker {
	return &UsageTracker{
		namespaced: resource.NewProviderConfigUsageTracker(c, &v1alpha1.ProviderConfigUsage{}),
		cluster:    resource.NewProviderConfigUsageTracker(c, &v1alpha1.ClusterProviderConfigUsage{}),
	}
}

// Track records mg's use of its provider config. The usage is read from the
// manager's cache, so it costs one request, its creation; a cache that has
// not yet seen the usage created by the reconcile before makes that
// creation fail as already done, which it is, and the next reconcile reads
// it back (and corrects a config reference that changed meanwhile).
func (u *UsageTracker) Track(ctx context.Context, mg resource.ModernManaged) error {
	t := u.namespaced
	if ref := mg.GetProviderConfigReference(); ref != nil && ref.Kind == v1alpha1.ClusterProviderConfigKind {
		t = u.cluster
	}
	if err := t.Track(ctx, mg); err != nil && !kerrors.IsAlreadyExists(err) {
		return err
	}
	return nil
}

// ResolveLocal returns a client for the local cluster ref of a managed
// resource, through its provider config: its namespace must be granted on
// the cluster as a local cluster, except while it is being deleted. The
// local kinds send a request during cleanup only for what the Elasticsearch
// object's ownership annotations, which only the provider writes, prove
// the resource made there: that is their proof of the earlier grant. The
// config must reach that same cluster (see local.go), in cleanup too.
func (r *Resolver) ResolveLocal(ctx context.Context, mg resource.ModernManaged, ref commonv1alpha1.ElasticsearchReference) (*elasticsearch.Client, error) {
	ns := ref.Namespace
	if ns == "" {
		ns = mg.GetNamespace()
	}
	want := types.NamespacedName{Namespace: ns, Name: ref.Name}
	c, err := r.Resolve(ctx, Request{
		Namespace:        mg.GetNamespace(),
		ProviderConfig:   mg.GetProviderConfigReference(),
		ElasticsearchRef: &ref,
		Role:             grants.RoleLocal,
		Cleanup:          meta.WasDeleted(mg),
		AllowedOn:        want.String(),
	})
	if err != nil {
		return nil, err
	}
	if c.Cluster() == "" {
		// A URL endpoint: ECK-mode configs were held to want in fromECK.
		if err := r.checkReachesByUUID(ctx, c, mg.GetProviderConfigReference(), want); err != nil {
			return nil, err
		}
	}
	return c, nil
}
