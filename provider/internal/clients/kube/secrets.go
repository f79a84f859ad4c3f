package kube

import (
	"context"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// Every Secret the provider writes (connection Secrets of the keys it owns,
// credentials Secrets, CA bundles) carries LabelManagedBy: ManagedBy. The
// provider caches the Secrets with that label, and only those: a cache of
// every Secret would hold every team's credentials in its memory.
const (
	LabelManagedBy = "eslink.io/managed-by"
	ManagedBy      = "eslink"
)

// NewOwnedSecrets returns a cache of the Secrets the provider writes, those
// labelled LabelManagedBy, and of no other: the provider reads its
// own Secrets on every poll, but must not hold every team's credentials in
// memory. The manager must run it (mgr.Add).
func NewOwnedSecrets(cfg *rest.Config, scheme *runtime.Scheme) (cache.Cache, error) {
	return cache.New(cfg, cache.Options{
		Scheme:           scheme,
		DefaultTransform: cache.TransformStripManagedFields(),
		ByObject: map[client.Object]cache.ByObject{
			&corev1.Secret{}: {Label: labels.SelectorFromSet(labels.Set{LabelManagedBy: ManagedBy})},
		},
	})
}

// CacheOptions are the cache options of the provider's client. ECK's
// Elasticsearch objects are read as unstructured; caching them keeps a poll
// from reaching the API server. Secrets are read from the cache of the
// provider's own (NewClientWithOwnedSecrets), or one by one, live: a cached
// read of any Secret would make the manager list and watch every Secret in
// the cluster and keep them all in memory, credentials of every team
// included.
func CacheOptions() *client.CacheOptions {
	return &client.CacheOptions{Unstructured: true, DisableFor: []client.Object{&corev1.Secret{}}}
}

// NewClientWithOwnedSecrets is NewClient, except that a Secret is read from
// owned (NewOwnedSecrets) when it holds it, and from the API server
// otherwise: a Secret someone else wrote, or one owned does not hold yet.
// A read from owned may lag behind a write: a writer that read it that way
// meets a conflict and retries, and a reader whose decision would destroy
// something confirms it on the API server first.
func NewClientWithOwnedSecrets(owned client.Reader) func(*rest.Config, client.Options) (client.Client, error) {
	return func(cfg *rest.Config, o client.Options) (client.Client, error) {
		c, err := client.New(cfg, o)
		if err != nil {
			return nil, err
		}
		return SkipUnchangedStatus(&ownedFirst{Client: c, owned: owned}), nil
	}
}

type ownedFirst struct {
	client.Client
	owned client.Reader
}

func (c *ownedFirst) Get(ctx context.Context, key client.ObjectKey, obj client.Object, opts ...client.GetOption) error {
	if s, ok := obj.(*corev1.Secret); ok && len(opts) == 0 {
		if err := c.owned.Get(ctx, key, s); err == nil {
			return nil
		}
	}
	return c.Client.Get(ctx, key, obj, opts...)
}
