// Package config reconciles ProviderConfigs and ClusterProviderConfigs: it
// counts the managed resources that use each one and blocks its deletion
// while any still does.
package config

import (
	"context"
	"time"

	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"github.com/crossplane/crossplane-runtime/v2/pkg/controller"
	xperrors "github.com/crossplane/crossplane-runtime/v2/pkg/errors"
	xpevent "github.com/crossplane/crossplane-runtime/v2/pkg/event"
	"github.com/crossplane/crossplane-runtime/v2/pkg/ratelimiter"
	"github.com/crossplane/crossplane-runtime/v2/pkg/reconciler/providerconfig"
	"github.com/crossplane/crossplane-runtime/v2/pkg/resource"

	v1alpha1 "github.com/eslink/eslink/apis/v1alpha1"
)

// Setup adds the controllers of both provider config kinds.
func Setup(mgr ctrl.Manager, o controller.Options) error {
	if err := setup(mgr, o, v1alpha1.ProviderConfigKind, resource.ProviderConfigKinds{
		Config:    v1alpha1.ProviderConfigGroupVersionKind,
		Usage:     v1alpha1.ProviderConfigUsageGroupVersionKind,
		UsageList: v1alpha1.ProviderConfigUsageListGroupVersionKind,
	}, &v1alpha1.ProviderConfig{}, &v1alpha1.ProviderConfigUsage{}); err != nil {
		return err
	}
	return setup(mgr, o, v1alpha1.ClusterProviderConfigKind, resource.ProviderConfigKinds{
		Config:    v1alpha1.ClusterProviderConfigGroupVersionKind,
		Usage:     v1alpha1.ClusterProviderConfigUsageGroupVersionKind,
		UsageList: v1alpha1.ClusterProviderConfigUsageListGroupVersionKind,
	}, &v1alpha1.ClusterProviderConfig{}, &v1alpha1.ClusterProviderConfigUsage{})
}

func setup(mgr ctrl.Manager, o controller.Options, kind string, of resource.ProviderConfigKinds, pc, usage client.Object) error {
	name := providerconfig.ControllerName(kind)
	r := providerconfig.NewReconciler(mgr, of,
		providerconfig.WithLogger(o.Logger.WithValues("controller", name)),
		providerconfig.WithRecorder(xpevent.NewAPIRecorder(mgr.GetEventRecorderFor(name))), // crossplane-runtime's recorder needs the legacy API.
	)
	return ctrl.NewControllerManagedBy(mgr).
		Named(name).
		WithOptions(o.ForControllerRuntime()).
		For(pc).
		Watches(usage, usages(kind)).
		Complete(ratelimiter.NewReconciler(name, xperrors.WithSilentRequeueOnConflict(r), o.GlobalRateLimiter))
}

// UsageDelay is how long a config's count waits after a usage came or went.
// A thousand resources created at once each make a usage; counting them once
// per delay, instead of once each, spares the one config object a thousand
// writes. A config being deleted waits as long for its last usage to go.
const UsageDelay = 5 * time.Second

// usages enqueues the config of kind a usage names, UsageDelay later: the
// work queue keeps one request per config, so every usage event in the
// meantime joins it.
func usages(kind string) handler.EventHandler {
	e := &resource.EnqueueRequestForProviderConfig{Kind: kind}
	return handler.Funcs{
		CreateFunc: func(ctx context.Context, ev event.CreateEvent, q resource.RateLimitingInterface) {
			e.Create(ctx, ev, delayed{q})
		},
		UpdateFunc: func(ctx context.Context, ev event.UpdateEvent, q resource.RateLimitingInterface) {
			e.Update(ctx, ev, delayed{q})
		},
		DeleteFunc: func(ctx context.Context, ev event.DeleteEvent, q resource.RateLimitingInterface) {
			e.Delete(ctx, ev, delayed{q})
		},
		GenericFunc: func(ctx context.Context, ev event.GenericEvent, q resource.RateLimitingInterface) {
			e.Generic(ctx, ev, delayed{q})
		},
	}
}

// delayed adds to its queue UsageDelay later.
type delayed struct {
	resource.RateLimitingInterface
}

func (d delayed) Add(r reconcile.Request) {
	d.AddAfter(r, UsageDelay)
}
