// Package setup registers the controller of every managed kind of the
// provider. The kinds reconcile the same way: keyed by their owner's uid or
// by a tag of their own, never by an id the external system returns, and
// observed consistently; only their external client, what they watch
// besides themselves and a few reconciler options differ.
package setup

import (
	"github.com/crossplane/crossplane-runtime/v2/pkg/controller"
	xperrors "github.com/crossplane/crossplane-runtime/v2/pkg/errors"
	"github.com/crossplane/crossplane-runtime/v2/pkg/event"
	"github.com/crossplane/crossplane-runtime/v2/pkg/feature"
	"github.com/crossplane/crossplane-runtime/v2/pkg/logging"
	"github.com/crossplane/crossplane-runtime/v2/pkg/ratelimiter"
	"github.com/crossplane/crossplane-runtime/v2/pkg/reconciler/managed"
	"github.com/crossplane/crossplane-runtime/v2/pkg/resource"
	"k8s.io/apimachinery/pkg/runtime/schema"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"github.com/eslink/eslink/internal/eckschema"
)

// A NewConnector returns the connector of a kind, given the manager's
// client (reads served from its cache), a reader of the API server itself
// (for read-modify-writes, which a lagging cache would only make conflict)
// and the recorder of the kind's events.
type NewConnector[T resource.Managed] func(kube client.Client, live client.Reader, record event.Recorder) managed.TypedExternalConnector[T]

// An Option changes how Setup builds one kind's controller.
type Option func(*options)

type options struct {
	reconciler      []managed.ReconcilerOption
	watch           func(*builder.Builder, logging.Logger) (*builder.Builder, error)
	silentConflicts bool
}

// WithReconcilerOptions adds options to the kind's managed reconciler,
// after (and so over) the ones every kind shares.
func WithReconcilerOptions(o ...managed.ReconcilerOption) Option {
	return func(opts *options) { opts.reconciler = append(opts.reconciler, o...) }
}

// WithWatches lets the kind watch what its resources wait for, beyond
// itself and the Elasticsearch objects of its Dependencies.
func WithWatches(watch func(*builder.Builder, logging.Logger) (*builder.Builder, error)) Option {
	return func(opts *options) { opts.watch = watch }
}

// WithSilentRequeueOnConflict requeues a reconcile that lost an update
// conflict without reporting it as an error: for a kind whose writes race
// with its own watches' events, the retry is the normal course.
func WithSilentRequeueOnConflict() Option {
	return func(opts *options) { opts.silentConflicts = true }
}

// Setup adds a controller for kind gvk, whose objects are of type T, with
// the connector newConnector returns. With deps, the controller watches the
// ECK Elasticsearch objects its resources read, so a change reaches them at
// once instead of at the next poll or after an error's backoff; without,
// the poll alone brings changes.
func Setup[T resource.Managed](mgr ctrl.Manager, o controller.Options, gvk schema.GroupVersionKind, obj T, newConnector NewConnector[T], deps Dependencies[T], with ...Option) error {
	var so options
	for _, w := range with {
		w(&so)
	}
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
	opts = append(opts, so.reconciler...)

	var r reconcile.Reconciler = managed.NewReconciler(mgr, resource.ManagedKind(gvk), opts...)
	if so.silentConflicts {
		r = xperrors.WithSilentRequeueOnConflict(r)
	}
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
	if so.watch != nil {
		var err error
		if b, err = so.watch(b, log); err != nil {
			return err
		}
	}
	return b.Complete(ratelimiter.NewReconciler(name, r, o.GlobalRateLimiter))
}
