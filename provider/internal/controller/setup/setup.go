// Package setup registers a controller for a managed kind that owns one
// entry of an ECK Elasticsearch object, or one alias's part of a local
// cluster (its settings, its connectivity). These kinds reconcile the same
// way: keyed by their owner's uid, observed consistently; only their
// external client differs.
package setup

import (
	"github.com/crossplane/crossplane-runtime/v2/pkg/controller"
	"github.com/crossplane/crossplane-runtime/v2/pkg/event"
	"github.com/crossplane/crossplane-runtime/v2/pkg/feature"
	"github.com/crossplane/crossplane-runtime/v2/pkg/ratelimiter"
	"github.com/crossplane/crossplane-runtime/v2/pkg/reconciler/managed"
	"github.com/crossplane/crossplane-runtime/v2/pkg/resource"
	"k8s.io/apimachinery/pkg/runtime/schema"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/eslink/eslink/internal/eckschema"
)

// A NewConnector returns the connector of a kind, given the manager's
// client (reads served from its cache), a reader of the API server itself
// (for read-modify-writes, which a lagging cache would only make conflict)
// and the recorder of the kind's events.
type NewConnector[T resource.Managed] func(kube client.Client, live client.Reader, record event.Recorder) managed.TypedExternalConnector[T]

// Setup adds a controller for kind gvk, whose objects are of type T, with
// the connector newConnector returns. With deps, the controller watches the
// ECK Elasticsearch objects its resources read, so a change reaches them at
// once instead of at the next poll or after an error's backoff; without,
// the poll alone brings changes.
func Setup[T resource.Managed](mgr ctrl.Manager, o controller.Options, gvk schema.GroupVersionKind, obj T, newConnector NewConnector[T], deps Dependencies[T]) error {
	name := managed.ControllerName(gvk.GroupKind().String())
	log := o.Logger.WithValues("controller", name)
	// crossplane-runtime's recorder takes the legacy events API.
	record := event.NewAPIRecorder(mgr.GetEventRecorderFor(name), o.EventFilterFunctions...)

	opts := []managed.ReconcilerOption{
		managed.WithTypedExternalConnector[T](newConnector(mgr.GetClient(), mgr.GetAPIReader(), record)),
		managed.WithLogger(log),
		managed.WithPollInterval(o.PollInterval),
		managed.WithRecorder(record),
		// An entry or claim is keyed by its owner's uid, never by an id the
		// external system returns, so an interrupted create is safe to redo.
		managed.WithDeterministicExternalName(true),
		// A Create repeated on a cached read that lags behind the first
		// is harmless: every write is idempotent, keyed by the owner's uid,
		// and made on the object as the API server holds it. The default
		// grace period would hold every deletion within 30s of creation.
		managed.WithCreationGracePeriod(0),
	}
	if o.Features != nil && o.Features.Enabled(feature.EnableBetaManagementPolicies) {
		opts = append(opts, managed.WithManagementPolicies())
	}
	if o.MetricOptions != nil && o.MetricOptions.MRMetrics != nil {
		opts = append(opts, managed.WithMetricRecorder(o.MetricOptions.MRMetrics))
	}

	r := managed.NewReconciler(mgr, resource.ManagedKind(gvk), opts...)
	b := ctrl.NewControllerManagedBy(mgr).
		Named(name).
		WithOptions(o.ForControllerRuntime()).
		For(obj, builder.WithPredicates(resource.DesiredStateChanged()))
	if deps != nil {
		onElasticsearch, err := watchDependencies(mgr, gvk, obj, deps, log)
		if err != nil {
			return err
		}
		b = b.Watches(eckschema.NewElasticsearch(), onElasticsearch)
	}
	return b.Complete(ratelimiter.NewReconciler(name, r, o.GlobalRateLimiter))
}
