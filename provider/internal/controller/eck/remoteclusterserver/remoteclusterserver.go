// Package remoteclusterserver reconciles RemoteClusterServer managed
// resources: each claims an ECK Elasticsearch object's remote cluster server,
// enabling it, and releases its claim when deleted.
package remoteclusterserver

import (
	"context"
	"errors"
	"fmt"

	"github.com/crossplane/crossplane-runtime/v2/pkg/controller"
	"github.com/crossplane/crossplane-runtime/v2/pkg/event"
	"github.com/crossplane/crossplane-runtime/v2/pkg/meta"
	"github.com/crossplane/crossplane-runtime/v2/pkg/reconciler/managed"
	xpv2 "github.com/crossplane/crossplane/apis/v2/core/v2"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/eslink/eslink/apis/eck/v1alpha1"
	"github.com/eslink/eslink/internal/eckschema"
	"github.com/eslink/eslink/internal/grants"
	"github.com/eslink/eslink/provider/internal/clients/eck"
	"github.com/eslink/eslink/provider/internal/controller/conditions"
	"github.com/eslink/eslink/provider/internal/controller/setup"
)

const fieldTarget = "spec.forProvider.elasticsearchRef"

// Setup adds a controller that reconciles RemoteClusterServer managed
// resources.
func Setup(mgr ctrl.Manager, o controller.Options) error {
	return setup.Setup(mgr, o, v1alpha1.RemoteClusterServerGroupVersionKind, &v1alpha1.RemoteClusterServer{},
		func(kube client.Client, live client.Reader, record event.Recorder) managed.TypedExternalConnector[*v1alpha1.RemoteClusterServer] {
			return &connector{kube: kube, live: live, record: record}
		}, dependencies)
}

// dependencies are the target cluster and this resource's claim on it.
func dependencies(mg *v1alpha1.RemoteClusterServer) []setup.Dependency {
	target := eck.Ref(mg.Spec.ForProvider.ElasticsearchRef, mg.GetNamespace())
	return []setup.Dependency{{Name: target}, {Name: target, Part: eck.ServerClaimPart(string(mg.GetUID()))}}
}

type connector struct {
	kube   client.Client
	live   client.Reader
	record event.Recorder
}

// Connect needs no credentials: the provider changes ECK objects with its
// own Kubernetes identity, which is why every change is authorized first.
func (c *connector) Connect(_ context.Context, _ *v1alpha1.RemoteClusterServer) (managed.TypedExternalClient[*v1alpha1.RemoteClusterServer], error) {
	return &external{es: eck.NewClient(c.kube, c.live), record: c.record}, nil
}

type external struct {
	es     *eck.Client
	record event.Recorder
}

func (e *external) Observe(ctx context.Context, mg *v1alpha1.RemoteClusterServer) (managed.ExternalObservation, error) {
	uid := string(mg.GetUID())
	es, err := e.es.Get(ctx, eck.Ref(mg.Spec.ForProvider.ElasticsearchRef, mg.GetNamespace()), fieldTarget)

	if meta.WasDeleted(mg) {
		// Releasing our own claim needs no grant: only this resource has
		// its uid, and a claim left behind would keep the server on.
		var nf *eck.NotFoundError
		if errors.As(err, &nf) {
			e.record.Event(mg, conditions.TargetGoneEvent(nf, "remote cluster server claim"))
			return managed.ExternalObservation{ResourceExists: false}, nil
		}
		if err != nil {
			return managed.ExternalObservation{}, err
		}
		claims, err := eck.ServerClaims(es)
		if err != nil {
			return managed.ExternalObservation{}, err
		}
		_, claimed := claims[uid]
		return managed.ExternalObservation{ResourceExists: claimed}, nil
	}
	if err != nil {
		return managed.ExternalObservation{}, conditions.Blocked(mg, err, "")
	}
	if err := check(mg, es); err != nil {
		return managed.ExternalObservation{}, conditions.Blocked(mg, err, "")
	}
	claims, err := eck.ServerClaims(es)
	if err != nil {
		return managed.ExternalObservation{}, conditions.Blocked(mg, err, "")
	}

	enabled := eckschema.RemoteClusterServerEnabled(es)
	_, claimed := claims[uid]
	mg.Status.AtProvider.Enabled = enabled
	mg.Status.AtProvider.Claims = len(claims)
	if v, err := eckschema.RunningVersion(es); err == nil {
		mg.Status.AtProvider.Version = v.String()
	}
	if !claimed || !enabled {
		if err := eck.Fits(es, change(mg)); err != nil {
			return managed.ExternalObservation{}, claimRefused(mg, err)
		}
	}
	switch {
	case claimed && enabled:
		mg.SetConditions(xpv2.Available())
	case claimed:
		mg.SetConditions(xpv2.Unavailable().WithMessage(fmt.Sprintf(
			"the remote cluster server of %s/%s is disabled (spec.remoteClusterServer.enabled is not true): eslink enables it again, which restarts that cluster", es.GetNamespace(), es.GetName())))
	default:
		mg.SetConditions(xpv2.Unavailable())
	}
	// A claim has no parameters to drift: present and enabled is all. Once
	// created, a server someone disabled, or a claim someone removed, is
	// repaired through Update: a Create would replace the condition that
	// says what went wrong with Creating.
	exists := claimed || !meta.GetExternalCreateSucceeded(mg).IsZero()
	return managed.ExternalObservation{ResourceExists: exists, ResourceUpToDate: claimed && enabled}, nil
}

func (e *external) Create(ctx context.Context, mg *v1alpha1.RemoteClusterServer) (managed.ExternalCreation, error) {
	return managed.ExternalCreation{}, e.claim(ctx, mg)
}

func (e *external) Update(ctx context.Context, mg *v1alpha1.RemoteClusterServer) (managed.ExternalUpdate, error) {
	return managed.ExternalUpdate{}, e.claim(ctx, mg)
}

func (e *external) Delete(ctx context.Context, mg *v1alpha1.RemoteClusterServer) (managed.ExternalDelete, error) {
	name := eck.Ref(mg.Spec.ForProvider.ElasticsearchRef, mg.GetNamespace())
	_, err := e.es.Mutate(ctx, name, fieldTarget, func(es *unstructured.Unstructured) (bool, error) {
		return eck.ReleaseServer(es, string(mg.GetUID()), mg.Spec.ForProvider.DisableOnDelete)
	})
	var nf *eck.NotFoundError
	if errors.As(err, &nf) {
		return managed.ExternalDelete{}, nil
	}
	if err != nil {
		return managed.ExternalDelete{}, fmt.Errorf("cannot release remote cluster server claim of %s/%s on Elasticsearch %s: %w", mg.GetNamespace(), mg.GetName(), name, err)
	}
	return managed.ExternalDelete{}, nil
}

func (e *external) Disconnect(_ context.Context) error { return nil }

func (e *external) claim(ctx context.Context, mg *v1alpha1.RemoteClusterServer) error {
	name := eck.Ref(mg.Spec.ForProvider.ElasticsearchRef, mg.GetNamespace())
	if _, err := e.es.Mutate(ctx, name, fieldTarget, change(mg)); err != nil {
		return claimRefused(mg, err)
	}
	return nil
}

// change records the claim and enables the server.
func change(mg *v1alpha1.RemoteClusterServer) eck.MutateFn {
	return func(es *unstructured.Unstructured) (bool, error) {
		if err := check(mg, es); err != nil {
			return false, err
		}
		return eck.ClaimServer(es, string(mg.GetUID()), mg.GetNamespace()+"/"+mg.GetName())
	}
}

func claimRefused(mg *v1alpha1.RemoteClusterServer, err error) error {
	return conditions.Blocked(mg, fmt.Errorf("cannot claim remote cluster server of Elasticsearch %s for %s/%s: %w",
		eck.Ref(mg.Spec.ForProvider.ElasticsearchRef, mg.GetNamespace()), mg.GetNamespace(), mg.GetName(), err), "")
}

// check refuses a claim the namespace is not granted, or one ECK's webhook
// would reject for the cluster's version.
func check(mg *v1alpha1.RemoteClusterServer, es *unstructured.Unstructured) error {
	if err := grants.AuthorizeNamespace(mg.GetNamespace(), eck.Target(es, fieldTarget), grants.RoleRemote); err != nil {
		return err
	}
	_, err := eck.RequireAPIKeyVersion(es, "spec.remoteClusterServer")
	return err
}
