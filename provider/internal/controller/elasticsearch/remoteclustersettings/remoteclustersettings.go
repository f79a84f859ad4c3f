// Package remoteclustersettings reconciles RemoteClusterSettings managed
// resources: each owns the proxy-mode connection settings of one alias on a
// local cluster, set as persistent cluster settings through its REST API.
package remoteclustersettings

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"strconv"

	"github.com/crossplane/crossplane-runtime/v2/pkg/controller"
	"github.com/crossplane/crossplane-runtime/v2/pkg/event"
	"github.com/crossplane/crossplane-runtime/v2/pkg/meta"
	"github.com/crossplane/crossplane-runtime/v2/pkg/reconciler/managed"
	xpv2 "github.com/crossplane/crossplane/apis/v2/core/v2"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/eslink/eslink/apis/elasticsearch/v1alpha1"
	"github.com/eslink/eslink/provider/internal/clients/connection"
	"github.com/eslink/eslink/provider/internal/clients/eck"
	"github.com/eslink/eslink/provider/internal/clients/elasticsearch"
	"github.com/eslink/eslink/provider/internal/controller/conditions"
	"github.com/eslink/eslink/provider/internal/controller/setup"
)

const (
	fieldLocal = eck.FieldLocal
)

// Owners records, on the local cluster's object, which resource owns each
// alias's settings: the cluster settings themselves carry no owner.
var Owners = eck.SettingsOwners

// The settings of an alias this resource owns. Others a person adds under
// the alias are left alone, and removed with the alias on delete.
const (
	keyMode            = "mode"
	keyProxyAddress    = "proxy_address"
	keyServerName      = "server_name"
	keySkipUnavailable = "skip_unavailable"
)

var ownedKeys = []string{keyMode, keyProxyAddress, keyServerName, keySkipUnavailable}

// Setup adds a controller that reconciles RemoteClusterSettings.
func Setup(mgr ctrl.Manager, o controller.Options) error {
	return setup.Setup(mgr, o, v1alpha1.RemoteClusterSettingsGroupVersionKind, &v1alpha1.RemoteClusterSettings{},
		func(kube client.Client, live client.Reader, record event.Recorder) managed.TypedExternalConnector[*v1alpha1.RemoteClusterSettings] {
			return &connector{kube: kube, live: live, record: record, resolver: connection.NewResolver(kube), usage: connection.NewUsageTracker(kube)}
		}, nil)
}

type connector struct {
	kube     client.Client
	live     client.Reader
	record   event.Recorder
	resolver *connection.Resolver
	usage    *connection.UsageTracker
}

func (c *connector) Connect(ctx context.Context, mg *v1alpha1.RemoteClusterSettings) (managed.TypedExternalClient[*v1alpha1.RemoteClusterSettings], error) {
	ecks := eck.NewClient(c.kube, c.live)
	es, err := c.resolver.ResolveLocal(ctx, mg, mg.Spec.ForProvider.ElasticsearchRef)
	if err != nil && meta.WasDeleted(mg) && connection.IsTargetGone(err) {
		// The settings lived in the local cluster, which is gone: nothing
		// is left to remove, and waiting would hold the deletion forever.
		c.record.Event(mg, event.Warning(conditions.ReasonTargetGone, fmt.Errorf(
			"%s lets go of the settings of alias %s: the local cluster that held them is gone (%w)", ref(mg), mg.Spec.ForProvider.Alias, err)))
		return &external{eck: ecks}, nil
	}
	if err != nil {
		return nil, conditions.Blocked(mg, fmt.Errorf("cannot connect to the local cluster's Elasticsearch API for %s: %w", ref(mg), err), conditions.ReasonElasticsearchError)
	}
	// Tracked only once the config allowed the namespace: a usage holds
	// the config, so a denied namespace must not be able to pin it.
	if err := c.usage.Track(ctx, mg); err != nil {
		return nil, conditions.Blocked(mg, fmt.Errorf("cannot track provider config usage of %s: %w", ref(mg), err), conditions.ReasonElasticsearchError)
	}
	conditions.SetTransportCondition(mg, es)
	return &external{eck: ecks, es: es}, nil
}

type external struct {
	eck *eck.Client
	es  *elasticsearch.Client // nil once the local cluster is gone
}

func ref(mg *v1alpha1.RemoteClusterSettings) string {
	return fmt.Sprintf("RemoteClusterSettings %s/%s", mg.GetNamespace(), mg.GetName())
}

func isNotFound(err error) bool {
	var nf *eck.NotFoundError
	return errors.As(err, &nf)
}

func (e *external) Observe(ctx context.Context, mg *v1alpha1.RemoteClusterSettings) (managed.ExternalObservation, error) {
	p := mg.Spec.ForProvider
	uid := string(mg.GetUID())
	local, err := e.eck.Get(ctx, eck.Ref(p.ElasticsearchRef, mg.GetNamespace()), fieldLocal)
	if meta.WasDeleted(mg) {
		// Only settings this resource owns are removed, so no grant is
		// needed: leaving them behind after a revoked grant would leak.
		if isNotFound(err) || e.es == nil {
			// Gone with the cluster, or going: Connect said so. The
			// record stays on an object being deleted.
			return managed.ExternalObservation{ResourceExists: false}, nil
		}
		if err != nil {
			return managed.ExternalObservation{}, err
		}
		owns, err := Owners.Owns(local, p.Alias, uid)
		return managed.ExternalObservation{ResourceExists: owns}, err
	}
	if err != nil {
		return managed.ExternalObservation{}, conditions.Blocked(mg, err, conditions.ReasonElasticsearchError)
	}
	if err := e.check(ctx, mg, local); err != nil {
		return managed.ExternalObservation{}, conditions.Blocked(mg, err, conditions.ReasonElasticsearchError)
	}
	persistent, transient, err := e.es.RemoteClusterSettings(ctx, p.Alias)
	if err != nil {
		return managed.ExternalObservation{}, conditions.Blocked(mg, fmt.Errorf("cannot read the settings of alias %s for %s: %w", p.Alias, ref(mg), err), conditions.ReasonElasticsearchError)
	}
	owns, err := Owners.Owns(local, p.Alias, uid)
	if err != nil {
		return managed.ExternalObservation{}, conditions.Blocked(mg, err, conditions.ReasonElasticsearchError)
	}
	name := local.GetNamespace() + "/" + local.GetName()
	switch {
	case !owns && len(persistent)+len(transient) > 0:
		return managed.ExternalObservation{}, conditions.Blocked(mg, &eck.ConflictError{What: "remote cluster alias", Key: p.Alias, Object: name}, conditions.ReasonElasticsearchError)
	case len(transient) > 0:
		return managed.ExternalObservation{}, conditions.Blocked(mg, &eck.ConflictError{What: "remote cluster alias", Key: p.Alias, Object: name + " (transient settings cluster.remote." + p.Alias + ".* override eslink's persistent ones)"}, conditions.ReasonElasticsearchError)
	}

	observed := map[string]string{}
	for _, k := range ownedKeys {
		if v, ok := persistent[k]; ok {
			observed[k] = v
		}
	}
	mg.Status.AtProvider.Settings = observed
	exists := owns && len(persistent) > 0
	upToDate := maps.Equal(observed, desired(mg))
	if exists {
		// Settings set before aliases had one owner claim it on the next
		// update.
		claimed, err := eck.OwnsAlias(local, p.Alias, mg)
		if err != nil {
			return managed.ExternalObservation{}, conditions.Blocked(mg, err, conditions.ReasonElasticsearchError)
		}
		upToDate = upToDate && claimed
	}
	if !exists || !upToDate {
		if err := eck.Fits(local, e.claim(ctx, mg)); err != nil {
			return managed.ExternalObservation{}, claimRefused(mg, err)
		}
	}
	if exists && upToDate {
		mg.SetConditions(xpv2.Available())
	} else {
		mg.SetConditions(xpv2.Unavailable())
	}
	return managed.ExternalObservation{ResourceExists: exists, ResourceUpToDate: upToDate}, nil
}

// check authorizes the namespace on both clusters and refuses an alias ECK
// configures. Nothing is read from or written to Elasticsearch before.
func (e *external) check(ctx context.Context, mg *v1alpha1.RemoteClusterSettings, local *unstructured.Unstructured) error {
	p := mg.Spec.ForProvider
	if err := e.eck.AuthorizeAlias(ctx, mg, local, p.RemoteElasticsearchRef, p.Alias); err != nil {
		return err
	}
	owners, err := Owners.Owners(local)
	if err != nil {
		return err
	}
	if o, ok := owners[p.Alias]; ok && o != string(mg.GetUID()) {
		return &eck.ConflictError{What: "remote cluster alias", Key: p.Alias, Object: local.GetNamespace() + "/" + local.GetName(), OtherOwner: o}
	}
	return nil
}

// desired are the settings under the alias, as Elasticsearch reports them.
func desired(mg *v1alpha1.RemoteClusterSettings) map[string]string {
	p := mg.Spec.ForProvider
	d := map[string]string{keyMode: "proxy", keyProxyAddress: p.ProxyAddress, keyServerName: p.ServerName}
	if p.SkipUnavailable != nil {
		d[keySkipUnavailable] = strconv.FormatBool(*p.SkipUnavailable)
	}
	return d
}

func (e *external) Create(ctx context.Context, mg *v1alpha1.RemoteClusterSettings) (managed.ExternalCreation, error) {
	return managed.ExternalCreation{}, e.put(ctx, mg)
}

func (e *external) Update(ctx context.Context, mg *v1alpha1.RemoteClusterSettings) (managed.ExternalUpdate, error) {
	return managed.ExternalUpdate{}, e.put(ctx, mg)
}

// put records the ownership first, so that settings written just before a
// crash are still known to be this resource's, then writes all of them in
// one request, as Elasticsearch validates mode and proxy settings together.
func (e *external) put(ctx context.Context, mg *v1alpha1.RemoteClusterSettings) error {
	p := mg.Spec.ForProvider
	if _, err := e.eck.Mutate(ctx, eck.Ref(p.ElasticsearchRef, mg.GetNamespace()), fieldLocal, e.claim(ctx, mg)); err != nil {
		return claimRefused(mg, err)
	}
	d := desired(mg)
	body := map[string]*string{}
	for _, k := range ownedKeys {
		var v *string
		if s, ok := d[k]; ok {
			v = &s
		}
		body[elasticsearch.RemoteSettingsPrefix(p.Alias)+k] = v
	}
	if err := e.es.PutPersistentSettings(ctx, body); err != nil {
		return conditions.Blocked(mg, fmt.Errorf("cannot set the settings of alias %s for %s: %w", p.Alias, ref(mg), err), conditions.ReasonElasticsearchError)
	}
	return nil
}

// claim records the resource as the owner of its alias and its settings.
func (e *external) claim(ctx context.Context, mg *v1alpha1.RemoteClusterSettings) eck.MutateFn {
	p := mg.Spec.ForProvider
	return func(local *unstructured.Unstructured) (bool, error) {
		if err := e.check(ctx, mg, local); err != nil {
			return false, err
		}
		claimed, err := eck.ClaimAlias(local, p.Alias, mg)
		if err != nil {
			return false, err
		}
		owned, err := Owners.Claim(local, p.Alias, string(mg.GetUID()))
		return claimed || owned, err
	}
}

func claimRefused(mg *v1alpha1.RemoteClusterSettings, err error) error {
	return conditions.Blocked(mg, fmt.Errorf("cannot claim alias %s for %s: %w", mg.Spec.ForProvider.Alias, ref(mg), err), conditions.ReasonElasticsearchError)
}

// Delete removes every persistent setting of the alias, then the ownership
// record. A person's extra setting under the alias goes too: without the
// proxy mode it would be invalid, and Elasticsearch would refuse the removal.
func (e *external) Delete(ctx context.Context, mg *v1alpha1.RemoteClusterSettings) (managed.ExternalDelete, error) {
	p := mg.Spec.ForProvider
	if e.es == nil {
		// The local cluster's Elasticsearch is gone with its settings, or
		// going. Ownership is released only after the settings were
		// removed: a record that outlives them keeps the alias taken,
		// never free for settings that may still be there.
		return managed.ExternalDelete{}, nil
	}
	if err := e.es.PutPersistentSettings(ctx, map[string]*string{elasticsearch.RemoteSettingsPrefix(p.Alias) + "*": nil}); err != nil {
		return managed.ExternalDelete{}, fmt.Errorf("cannot remove the settings of alias %s for %s: %w", p.Alias, ref(mg), err)
	}
	_, err := e.eck.Mutate(ctx, eck.Ref(p.ElasticsearchRef, mg.GetNamespace()), fieldLocal, func(local *unstructured.Unstructured) (bool, error) {
		released, err := Owners.Release(local, string(mg.GetUID()))
		if err != nil {
			return false, err
		}
		freed, err := eck.ReleaseAliases(local)
		return released || freed, err
	})
	if err != nil && !isNotFound(err) {
		return managed.ExternalDelete{}, fmt.Errorf("cannot release alias %s for %s: %w", p.Alias, ref(mg), err)
	}
	return managed.ExternalDelete{}, nil
}

func (e *external) Disconnect(context.Context) error { return nil }
