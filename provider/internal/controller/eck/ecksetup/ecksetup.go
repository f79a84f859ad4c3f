// Package ecksetup registers a controller for a managed kind that owns one
// entry of an ECK Elasticsearch object, or one alias's part of a local
// cluster (its settings, its connectivity). These kinds reconcile the same
// way: keyed by their owner's uid, observed consistently; only their
// external client differs.
package ecksetup

import (
	"github.com/crossplane/crossplane-runtime/v2/pkg/controller"
	"github.com/crossplane/crossplane-runtime/v2/pkg/event"
	"github.com/crossplane/crossplane-runtime/v2/pkg/feature"
	"github.com/crossplane/crossplane-runtime/v2/pkg/ratelimiter"
	"github.com/crossplane/crossplane-runtime/v2/pkg/reconciler/managed"
	"github.com/crossplane/crossplane-runtime/v2/pkg/resource"
	"k8s.io/apimachinery/pkg/runtime/schema"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// A NewConnector returns the connector of a kind, given the manager's
// client and the recorder of the kind's events.
type NewConnector[T resource.Managed] func(kube client.Client, record event.Recorder) managed.TypedExternalConnector[T]

// Setup adds a controller for kind gvk, whose objects are of type T, with
// the connector newConnector returns.
func Setup[T resource.Managed](mgr ctrl.Manager, o controller.Options, gvk schema.GroupVersionKind, obj T, newConnector NewConnector[T]) error {
	name := managed.ControllerName(gvk.GroupKind().String())
	// crossplane-runtime's recorder takes the legacy events API.
	record := event.NewAPIRecorder(mgr.GetEventRecorderFor(name), o.EventFilterFunctions...)

	opts := []managed.ReconcilerOption{
		managed.WithTypedExternalConnector[T](newConnector(mgr.GetClient(), record)),
		managed.WithLogger(o.Logger.WithValues("controller", name)),
		managed.WithPollInterval(o.PollInterval),
		managed.WithRecorder(record),
		// An entry or claim is keyed by its owner's uid, never by an id the
		// external system returns, so an interrupted create is safe to redo.
		managed.WithDeterministicExternalName(true),
		// Observe reads the API server itself, which is consistent: a
		// missing entry right after a write is really missing. The default
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
	return ctrl.NewControllerManagedBy(mgr).
		Named(name).
		WithOptions(o.ForControllerRuntime()).
		WithEventFilter(resource.DesiredStateChanged()).
		For(obj).
		Complete(ratelimiter.NewReconciler(name, r, o.GlobalRateLimiter))
}
