package crossclusterapikey

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/util/workqueue"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"github.com/crossplane/crossplane-runtime/v2/pkg/logging"

	esv1alpha1 "github.com/eslink/eslink/apis/elasticsearch/v1alpha1"
	v1alpha1 "github.com/eslink/eslink/apis/v1alpha1"
	"github.com/eslink/eslink/internal/eckschema"
	"github.com/eslink/eslink/provider/internal/clients/eck"
)

// Field indexes that map a change to the keys it concerns without a scan.
const (
	// indexTarget holds the Elasticsearch object (namespace/name) a key
	// names in spec.forProvider.elasticsearchRef, and the one an ECK-mode
	// provider config fixes.
	indexTarget = "eslink.io/elasticsearch"
	// indexConfig holds the provider config a key uses.
	indexConfig = "eslink.io/provider-config"
	// indexName holds a key's spec.forProvider.name.
	indexName = "eslink.io/key-name"
)

// watch makes b reconcile CrossClusterAPIKeys when something they wait for
// changes, instead of at the next poll or after an error's backoff:
// the Elasticsearch object a key lives on appears, goes or changes its
// grants; or ECK records a new key id for an alias in its keystore Secret,
// which is when the key an observing resource looks for exists. Only the
// keystore Secrets' metadata is watched: their data holds encoded keys.
func watch(mgr ctrl.Manager, b *builder.Builder, log logging.Logger) (*builder.Builder, error) {
	if err := index(mgr); err != nil {
		return nil, err
	}
	d := &dependents{cache: mgr.GetCache(), log: log}
	return b.
		Watches(eckschema.NewElasticsearch(), handler.Funcs{
			CreateFunc: func(ctx context.Context, e event.CreateEvent, q queue) { d.target(ctx, q, e.Object) },
			UpdateFunc: func(ctx context.Context, e event.UpdateEvent, q queue) {
				if grantsOrExistence(e.ObjectOld, e.ObjectNew) {
					d.target(ctx, q, e.ObjectNew)
				}
			},
			DeleteFunc:  func(ctx context.Context, e event.DeleteEvent, q queue) { d.target(ctx, q, e.Object) },
			GenericFunc: func(ctx context.Context, e event.GenericEvent, q queue) { d.target(ctx, q, e.Object) },
		}).
		WatchesMetadata(&corev1.Secret{}, handler.Funcs{
			CreateFunc: func(ctx context.Context, e event.CreateEvent, q queue) { d.eckKeys(ctx, q, nil, e.Object) },
			UpdateFunc: func(ctx context.Context, e event.UpdateEvent, q queue) { d.eckKeys(ctx, q, e.ObjectOld, e.ObjectNew) },
			DeleteFunc: func(ctx context.Context, e event.DeleteEvent, q queue) { d.eckKeys(ctx, q, e.Object, nil) },
		}, builder.WithPredicates(predicate.NewPredicateFuncs(func(o client.Object) bool {
			return o.GetLabels()[eckschema.LabelECKType] == eckschema.ECKTypeRemoteAPIKeys
		}))), nil
}

// grantsOrExistence reports whether an update of an Elasticsearch object
// changed what a key depends on there (its grants); the entries and claims
// other resources own there do not concern keys.
func grantsOrExistence(old, cur client.Object) bool {
	o, ok1 := old.(*unstructured.Unstructured)
	c, ok2 := cur.(*unstructured.Unstructured)
	if !ok1 || !ok2 {
		return true
	}
	shared, _ := eck.Changes(o, c)
	return shared
}

type queue = workqueue.TypedRateLimitingInterface[reconcile.Request]

func index(mgr ctrl.Manager) error {
	ctx := context.Background()
	fi := mgr.GetFieldIndexer()
	for _, i := range indexes {
		if err := fi.IndexField(ctx, i.obj, i.field, i.fn); err != nil {
			return fmt.Errorf("cannot index %T by %s: %w", i.obj, i.field, err)
		}
	}
	return nil
}

// indexes are the field indexes the watches look up.
var indexes = []struct {
	obj   client.Object
	field string
	fn    client.IndexerFunc
}{
	{&esv1alpha1.CrossClusterAPIKey{}, indexTarget, func(o client.Object) []string {
		cr, ok := o.(*esv1alpha1.CrossClusterAPIKey)
		if !ok || cr.Spec.ForProvider.ElasticsearchRef == nil {
			return nil
		}
		return []string{eck.Ref(*cr.Spec.ForProvider.ElasticsearchRef, cr.GetNamespace()).String()}
	}},
	{&esv1alpha1.CrossClusterAPIKey{}, indexConfig, func(o client.Object) []string {
		cr, ok := o.(*esv1alpha1.CrossClusterAPIKey)
		if !ok || cr.GetProviderConfigReference() == nil {
			return nil
		}
		r := cr.GetProviderConfigReference()
		return []string{configKey(r.Kind, cr.GetNamespace(), r.Name)}
	}},
	{&esv1alpha1.CrossClusterAPIKey{}, indexName, func(o client.Object) []string {
		cr, ok := o.(*esv1alpha1.CrossClusterAPIKey)
		if !ok {
			return nil
		}
		return []string{cr.Spec.ForProvider.Name}
	}},
	{&v1alpha1.ProviderConfig{}, indexTarget, func(o client.Object) []string {
		pc, ok := o.(*v1alpha1.ProviderConfig)
		if !ok || pc.Spec.ECK == nil || pc.Spec.ECK.ElasticsearchRef == nil {
			return nil
		}
		return []string{eck.Ref(*pc.Spec.ECK.ElasticsearchRef, pc.GetNamespace()).String()}
	}},
	{&v1alpha1.ClusterProviderConfig{}, indexTarget, func(o client.Object) []string {
		pc, ok := o.(*v1alpha1.ClusterProviderConfig)
		if !ok || pc.Spec.ECK == nil || pc.Spec.ECK.ElasticsearchRef == nil {
			return nil
		}
		return []string{eck.Ref(*pc.Spec.ECK.ElasticsearchRef, "").String()}
	}},
}

// configKey names a provider config; a ProviderConfig is namespaced, in
// the key's namespace.
func configKey(kind, ns, name string) string {
	if kind == v1alpha1.ClusterProviderConfigKind {
		return kind + "/" + name
	}
	return kind + "/" + ns + "/" + name
}

type dependents struct {
	cache client.Reader
	log   logging.Logger
}

// target enqueues the keys on Elasticsearch object es: those that name it
// and those whose provider config fixes it.
func (d *dependents) target(ctx context.Context, q queue, es client.Object) {
	name := types.NamespacedName{Namespace: es.GetNamespace(), Name: es.GetName()}.String()
	d.enqueue(ctx, q, indexTarget, name)
	pcs := &v1alpha1.ProviderConfigList{}
	if err := d.cache.List(ctx, pcs, client.MatchingFields{indexTarget: name}); err != nil {
		d.log.Info("Cannot find the provider configs of an Elasticsearch object", "elasticsearch", name, "error", err)
	}
	for _, pc := range pcs.Items {
		d.enqueue(ctx, q, indexConfig, configKey(v1alpha1.ProviderConfigKind, pc.Namespace, pc.Name))
	}
	cpcs := &v1alpha1.ClusterProviderConfigList{}
	if err := d.cache.List(ctx, cpcs, client.MatchingFields{indexTarget: name}); err != nil {
		d.log.Info("Cannot find the provider configs of an Elasticsearch object", "elasticsearch", name, "error", err)
	}
	for _, pc := range cpcs.Items {
		d.enqueue(ctx, q, indexConfig, configKey(v1alpha1.ClusterProviderConfigKind, "", pc.Name))
	}
}

// eckKeys enqueues the keys named as ECK names the keys of the aliases whose
// record differs between two versions of a keystore Secret (nil when it did
// not exist).
func (d *dependents) eckKeys(ctx context.Context, q queue, old, cur client.Object) {
	records := func(o client.Object) map[string]eckschema.ECKRemoteAPIKey {
		if o == nil {
			return nil
		}
		r, err := eckschema.ECKRemoteAPIKeys(o.GetAnnotations())
		if err != nil {
			// Only ECK writes the record; the poll reports what it finds.
			return nil
		}
		return r
	}
	o, c := records(old), records(cur)
	secret := cur
	if secret == nil {
		secret = old
	}
	cluster := secret.GetLabels()[eckschema.LabelECKClusterName]
	for alias, r := range c {
		if prev, ok := o[alias]; !ok || prev != r {
			d.enqueue(ctx, q, indexName, eckschema.ECKKeyName(secret.GetNamespace(), cluster, alias))
		}
	}
	for alias := range o {
		if _, ok := c[alias]; !ok {
			d.enqueue(ctx, q, indexName, eckschema.ECKKeyName(secret.GetNamespace(), cluster, alias))
		}
	}
}

func (d *dependents) enqueue(ctx context.Context, q queue, index, value string) {
	keys := &esv1alpha1.CrossClusterAPIKeyList{}
	if err := d.cache.List(ctx, keys, client.MatchingFields{index: value}); err != nil {
		// The poll still reaches every key.
		d.log.Info("Cannot find the CrossClusterAPIKeys a change concerns", "index", index, "value", value, "error", err)
		return
	}
	for _, k := range keys.Items {
		q.Add(reconcile.Request{NamespacedName: types.NamespacedName{Namespace: k.Namespace, Name: k.Name}})
	}
}
