// Package remoteclusterentry reconciles RemoteClusterEntry managed
// resources: each owns exactly one entry of an ECK Elasticsearch object's
// spec.remoteClusters and never touches the others.
package remoteclusterentry

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

// Fields of a RemoteClusterEntry that name Elasticsearch objects, used in
// messages so the user knows which reference to fix.
const (
	fieldLocal  = "spec.forProvider.elasticsearchRef"
	fieldRemote = "spec.forProvider.remoteElasticsearchRef"
	fieldAPIKey = "spec.forProvider.apiKey"
	fieldAlias  = "spec.forProvider.alias"
)

// Setup adds a controller that reconciles RemoteClusterEntry managed
// resources.
func Setup(mgr ctrl.Manager, o controller.Options) error {
	return setup.Setup(mgr, o, v1alpha1.RemoteClusterEntryGroupVersionKind, &v1alpha1.RemoteClusterEntry{},
		func(kube client.Client, live client.Reader, record event.Recorder) managed.TypedExternalConnector[*v1alpha1.RemoteClusterEntry] {
			return &connector{kube: kube, live: live, record: record}
		}, dependencies)
}

// dependencies are the local cluster, the entry it owns there, and the
// remote cluster, whose grants it checks.
func dependencies(mg *v1alpha1.RemoteClusterEntry) []setup.Dependency {
	p := mg.Spec.ForProvider
	local := eck.Ref(p.ElasticsearchRef, mg.GetNamespace())
	return []setup.Dependency{
		{Name: local},
		{Name: local, Part: eck.RemoteClusterPart(p.Alias)},
		{Name: eck.RemoteRef(p, mg.GetNamespace())},
	}
}

type connector struct {
	kube   client.Client
	live   client.Reader
	record event.Recorder
}

// Connect needs no credentials: the provider changes ECK objects with its
// own Kubernetes identity, which is why every change is authorized first.
func (c *connector) Connect(_ context.Context, _ *v1alpha1.RemoteClusterEntry) (managed.TypedExternalClient[*v1alpha1.RemoteClusterEntry], error) {
	return &external{es: eck.NewClient(c.kube, c.live), record: c.record}, nil
}

type external struct {
	es     *eck.Client
	record event.Recorder
}

func (e *external) Observe(ctx context.Context, mg *v1alpha1.RemoteClusterEntry) (managed.ExternalObservation, error) {
	p := mg.Spec.ForProvider
	uid := string(mg.GetUID())
	local, err := e.es.Get(ctx, eck.Ref(p.ElasticsearchRef, mg.GetNamespace()), fieldLocal)

	if meta.WasDeleted(mg) {
		// Removing our own entry needs no grant: the uid is the API
		// server's, so only this resource can own the entry, and leaving
		// it behind after a grant was revoked would leak the link.
		var nf *eck.NotFoundError
		if errors.As(err, &nf) {
			e.record.Event(mg, conditions.TargetGoneEvent(nf, fmt.Sprintf("remote cluster alias %s", p.Alias)))
			return managed.ExternalObservation{ResourceExists: false}, nil
		}
		if err != nil {
			return managed.ExternalObservation{}, err
		}
		owns, err := eck.RemoteClusters.Owns(local, uid)
		if err != nil {
			return managed.ExternalObservation{}, err
		}
		return managed.ExternalObservation{ResourceExists: owns}, nil
	}
	if err != nil {
		return managed.ExternalObservation{}, conditions.Blocked(mg, err, "")
	}

	desired, err := e.desired(ctx, mg, local)
	if err != nil {
		return managed.ExternalObservation{}, conditions.Blocked(mg, err, "")
	}
	entry, own, err := eck.RemoteClusters.Lookup(local, p.Alias, uid)
	if err != nil {
		return managed.ExternalObservation{}, conditions.Blocked(mg, err, "")
	}
	if own == eck.Foreign {
		return managed.ExternalObservation{}, conditions.Blocked(mg, fmt.Errorf("%s: %w", fieldAlias, eck.RemoteClusters.Conflict(local, p.Alias, uid)), "")
	}
	upToDate, err := eck.RemoteClusters.Holds(local, p.Alias, uid, desired)
	if err != nil {
		return managed.ExternalObservation{}, conditions.Blocked(mg, err, "")
	}

	exists := own == eck.Owned && entry != nil
	if exists {
		// An entry written before aliases had one owner claims it on the
		// next update.
		claimed, err := eck.OwnsAlias(local, p.Alias, mg)
		if err != nil {
			return managed.ExternalObservation{}, conditions.Blocked(mg, err, "")
		}
		upToDate = upToDate && claimed
	}
	if !exists || !upToDate {
		if err := eck.Fits(local, e.change(ctx, mg)); err != nil {
			return managed.ExternalObservation{}, writeRefused(mg, err)
		}
	}
	mg.Status.AtProvider.Present = exists
	if v, err := eckschema.RunningVersion(local); err == nil {
		mg.Status.AtProvider.Version = v.String()
	}
	if exists {
		mg.SetConditions(xpv2.Available())
	} else {
		mg.SetConditions(xpv2.Unavailable())
	}
	return managed.ExternalObservation{ResourceExists: exists, ResourceUpToDate: upToDate}, nil
}

func (e *external) Create(ctx context.Context, mg *v1alpha1.RemoteClusterEntry) (managed.ExternalCreation, error) {
	return managed.ExternalCreation{}, e.put(ctx, mg)
}

func (e *external) Update(ctx context.Context, mg *v1alpha1.RemoteClusterEntry) (managed.ExternalUpdate, error) {
	return managed.ExternalUpdate{}, e.put(ctx, mg)
}

func (e *external) Delete(ctx context.Context, mg *v1alpha1.RemoteClusterEntry) (managed.ExternalDelete, error) {
	p := mg.Spec.ForProvider
	_, err := e.es.Mutate(ctx, eck.Ref(p.ElasticsearchRef, mg.GetNamespace()), fieldLocal, func(local *unstructured.Unstructured) (bool, error) {
		removed, err := eck.RemoteClusters.Remove(local, string(mg.GetUID()))
		if err != nil {
			return false, err
		}
		released, err := eck.ReleaseAliases(local)
		return removed || released, err
	})
	var nf *eck.NotFoundError
	if errors.As(err, &nf) {
		return managed.ExternalDelete{}, nil
	}
	if err != nil {
		return managed.ExternalDelete{}, fmt.Errorf("cannot remove remote cluster alias %s of %s/%s: %w", p.Alias, mg.GetNamespace(), mg.GetName(), err)
	}
	return managed.ExternalDelete{}, nil
}

func (e *external) Disconnect(_ context.Context) error { return nil }

// put writes the desired entry. The checks run again on every fresh read,
// so a grant revoked or an alias taken since Observe still stops the write.
func (e *external) put(ctx context.Context, mg *v1alpha1.RemoteClusterEntry) error {
	p := mg.Spec.ForProvider
	_, err := e.es.Mutate(ctx, eck.Ref(p.ElasticsearchRef, mg.GetNamespace()), fieldLocal, e.change(ctx, mg))
	if err != nil {
		return writeRefused(mg, err)
	}
	return nil
}

func writeRefused(mg *v1alpha1.RemoteClusterEntry, err error) error {
	p := mg.Spec.ForProvider
	return conditions.Blocked(mg, fmt.Errorf("cannot write remote cluster alias %s of %s/%s: %w", p.Alias, mg.GetNamespace(), mg.GetName(), err), "")
}

// change writes the desired entry and claims its alias.
func (e *external) change(ctx context.Context, mg *v1alpha1.RemoteClusterEntry) eck.MutateFn {
	p := mg.Spec.ForProvider
	return func(local *unstructured.Unstructured) (bool, error) {
		desired, err := e.desired(ctx, mg, local)
		if err != nil {
			return false, err
		}
		claimed, err := eck.ClaimAlias(local, p.Alias, mg)
		if err != nil {
			return false, err
		}
		put, err := eck.RemoteClusters.Put(local, p.Alias, string(mg.GetUID()), desired)
		if err != nil {
			return false, err
		}
		// Put dropped the entry of a previous alias: its claim goes too.
		released, err := eck.ReleaseAliases(local)
		return claimed || put || released, err
	}
}

// desired authorizes the change against both clusters, checks the version
// and renders the entry. Nothing is written when it fails.
func (e *external) desired(ctx context.Context, mg *v1alpha1.RemoteClusterEntry, local *unstructured.Unstructured) (map[string]any, error) {
	p := mg.Spec.ForProvider
	ns := mg.GetNamespace()
	if err := grants.AuthorizeNamespace(ns, eck.Target(local, fieldLocal), grants.RoleLocal); err != nil {
		return nil, err
	}
	if err := eck.CheckAlias(local, p.Alias, mg); err != nil {
		return nil, fmt.Errorf("%s: %w", fieldAlias, err)
	}
	remote, err := e.es.Get(ctx, eck.RemoteRef(p, ns), fieldRemote)
	if err != nil {
		return nil, err
	}
	// An entry without apiKey uses the certificate model, which the remote
	// must grant explicitly: it gives the local cluster's roles their full
	// rights there, past any index restriction.
	if p.APIKey == nil {
		err = grants.AuthorizeCertificate(ns, eck.Target(remote, fieldRemote), fieldAPIKey)
	} else {
		err = grants.AuthorizeAccess(ns, eck.Target(remote, fieldRemote), grants.AccessEntries(fieldAPIKey+".access", &p.APIKey.Access))
	}
	if err != nil {
		return nil, err
	}
	if p.APIKey != nil {
		if _, err := eck.RequireAPIKeyVersion(local, "remoteClusters[].apiKey"); err != nil {
			return nil, err
		}
	}
	// An alias a flow 3 link set up through the REST API would get ECK's
	// seeds on top of its proxy settings.
	if owner, err := eck.SettingsOwners.Owners(local); err != nil {
		return nil, err
	} else if o, ok := owner[p.Alias]; ok {
		return nil, &eck.ConflictError{What: eck.RemoteClusters.What, Key: p.Alias, Object: local.GetNamespace() + "/" + local.GetName(), OtherOwner: o}
	}
	return eck.RenderRemoteCluster(p, ns)
}
