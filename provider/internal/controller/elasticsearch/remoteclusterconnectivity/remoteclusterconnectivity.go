// Package remoteclusterconnectivity reconciles RemoteClusterConnectivity
// managed resources: each reports whether a local cluster is connected to
// one remote cluster alias, from GET /_remote/info. It never writes to
// Elasticsearch.
package remoteclusterconnectivity

import (
	"context"
	"errors"
	"fmt"

	"github.com/crossplane/crossplane-runtime/v2/pkg/controller"
	"github.com/crossplane/crossplane-runtime/v2/pkg/event"
	"github.com/crossplane/crossplane-runtime/v2/pkg/meta"
	"github.com/crossplane/crossplane-runtime/v2/pkg/reconciler/managed"
	xpv2 "github.com/crossplane/crossplane/apis/v2/core/v2"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/eslink/eslink/apis/elasticsearch/v1alpha1"
	"github.com/eslink/eslink/internal/eckschema"
	"github.com/eslink/eslink/provider/internal/clients/connection"
	"github.com/eslink/eslink/provider/internal/clients/eck"
	"github.com/eslink/eslink/provider/internal/clients/elasticsearch"
	"github.com/eslink/eslink/provider/internal/controller/conditions"
	"github.com/eslink/eslink/provider/internal/controller/setup"
	"github.com/eslink/eslink/provider/internal/metrics"
)

// Setup adds a controller that reconciles RemoteClusterConnectivity.
func Setup(mgr ctrl.Manager, o controller.Options) error {
	metrics.WatchConnectivity(mgr.GetCache())
	return setup.Setup(mgr, o, v1alpha1.RemoteClusterConnectivityGroupVersionKind, &v1alpha1.RemoteClusterConnectivity{},
		func(kube client.Client, live client.Reader, _ event.Recorder) managed.TypedExternalConnector[*v1alpha1.RemoteClusterConnectivity] {
			return &connector{eck: eck.NewClient(kube, live), resolver: connection.NewResolver(kube), usage: connection.NewUsageTracker(kube)}
		}, nil)
}

type connector struct {
	eck      *eck.Client
	resolver *connection.Resolver
	usage    *connection.UsageTracker
}

func (c *connector) Connect(ctx context.Context, mg *v1alpha1.RemoteClusterConnectivity) (managed.TypedExternalClient[*v1alpha1.RemoteClusterConnectivity], error) {
	if meta.WasDeleted(mg) {
		// Nothing to undo: the resource only reads.
		return &external{}, nil
	}
	es, err := c.resolver.ResolveLocal(ctx, mg, mg.Spec.ForProvider.ElasticsearchRef)
	if err != nil {
		return nil, conditions.Blocked(mg, fmt.Errorf("cannot connect to the local cluster's Elasticsearch API for %s: %w", ref(mg), err), conditions.ReasonProviderConfigError)
	}
	// Tracked only once the config allowed the namespace: a usage holds
	// the config, so a denied namespace must not be able to pin it.
	if err := c.usage.Track(ctx, mg); err != nil {
		return nil, conditions.Blocked(mg, fmt.Errorf("cannot track provider config usage of %s: %w", ref(mg), err), conditions.ReasonProviderConfigError)
	}
	conditions.SetTransportCondition(mg, es)
	return &external{eck: c.eck, es: es}, nil
}

type external struct {
	eck *eck.Client
	es  *elasticsearch.Client
}

func ref(mg *v1alpha1.RemoteClusterConnectivity) string {
	return fmt.Sprintf("RemoteClusterConnectivity %s/%s", mg.GetNamespace(), mg.GetName())
}

// Observe reports the alias. The resource always exists and is up to date:
// the reconciler never creates, updates or deletes anything for it.
func (e *external) Observe(ctx context.Context, mg *v1alpha1.RemoteClusterConnectivity) (managed.ExternalObservation, error) {
	if meta.WasDeleted(mg) {
		return managed.ExternalObservation{ResourceExists: false}, nil
	}
	alias := mg.Spec.ForProvider.Alias
	// A local cluster is shared: only an alias this resource's link owns
	// is read, and one that is not says the same whether another link, a
	// person or nobody configured it.
	local, err := e.eck.Get(ctx, eck.Ref(mg.Spec.ForProvider.ElasticsearchRef, mg.GetNamespace()), eck.FieldLocal)
	if err != nil {
		return managed.ExternalObservation{}, conditions.Blocked(mg, err, conditions.ReasonTargetNotFound)
	}
	owns, err := eck.OwnsAlias(local, alias, mg)
	if err != nil {
		conditions.SetNotReady(mg, xpv2.ReasonReconcileError, err)
		return managed.ExternalObservation{}, err
	}
	if !owns {
		mg.Status.AtProvider = v1alpha1.RemoteClusterConnectivityObservation{}
		mg.SetConditions(conditions.Ready(false, conditions.ReasonAliasNotOwned, fmt.Sprintf(
			"spec.forProvider.alias: alias %s is not configured on Elasticsearch %s/%s by this resource's link: a RemoteClusterConnectivity reports only an alias that a piece of its own link (same namespace and label %s) wired there; create the link, or wait for its pieces",
			alias, local.GetNamespace(), local.GetName(), eckschema.LabelComposite)))
		return managed.ExternalObservation{ResourceExists: true, ResourceUpToDate: true}, nil
	}
	info, err := e.es.RemoteInfo(ctx)
	if err != nil {
		return managed.ExternalObservation{}, conditions.Blocked(mg, fmt.Errorf("cannot read GET /_remote/info for %s: %w", ref(mg), err), conditions.ReasonElasticsearchError)
	}
	r, ok := info[alias]
	at := v1alpha1.RemoteClusterConnectivityObservation{Configured: ok}
	if ok {
		at.Connected = r.Connected
		at.Mode = r.Mode
		at.ServerName = r.ServerName
		at.CredentialsConfigured = r.ClusterCredentials != nil
		if r.Mode == "proxy" {
			at.Addresses = []string{r.ProxyAddress}
			at.Connections = r.NumProxySocketsConnected
		} else {
			at.Addresses = r.Seeds
			at.Connections = r.NumNodesConnected
		}
	}
	mg.Status.AtProvider = at
	switch {
	case !ok:
		mg.SetConditions(conditions.Ready(false, conditions.ReasonAliasNotConfigured, fmt.Sprintf("alias %s is not configured on the local cluster (GET /_remote/info does not list it)", alias)))
	case !r.Connected:
		mg.SetConditions(conditions.Ready(false, conditions.ReasonNotConnected, fmt.Sprintf("alias %s is configured but not connected (GET /_remote/info says connected: false)", alias)))
	default:
		mg.SetConditions(conditions.Ready(true, conditions.ReasonConnected, ""))
	}
	return managed.ExternalObservation{ResourceExists: true, ResourceUpToDate: true}, nil
}

func (e *external) Create(context.Context, *v1alpha1.RemoteClusterConnectivity) (managed.ExternalCreation, error) {
	return managed.ExternalCreation{}, errors.New("a RemoteClusterConnectivity creates nothing")
}

func (e *external) Update(context.Context, *v1alpha1.RemoteClusterConnectivity) (managed.ExternalUpdate, error) {
	return managed.ExternalUpdate{}, nil
}

func (e *external) Delete(context.Context, *v1alpha1.RemoteClusterConnectivity) (managed.ExternalDelete, error) {
	return managed.ExternalDelete{}, nil
}

func (e *external) Disconnect(context.Context) error { return nil }
