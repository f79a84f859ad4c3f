// Package remoteclustersigning reconciles RemoteClusterSigning managed
// resources: each owns one alias's request signing settings in every
// nodeSet of a local ECK cluster, so that its nodes sign cross-cluster
// requests with their ECK transport certificates (Elasticsearch 9.3+).
package remoteclustersigning

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
	"k8s.io/apimachinery/pkg/types"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/eslink/eslink/apis/eck/v1alpha1"
	"github.com/eslink/eslink/internal/eckschema"
	"github.com/eslink/eslink/internal/grants"
	"github.com/eslink/eslink/provider/internal/clients/eck"
	"github.com/eslink/eslink/provider/internal/controller/conditions"
	"github.com/eslink/eslink/provider/internal/controller/setup"
)

const fieldLocal = "spec.forProvider.elasticsearchRef"

// Owners records which resource owns each alias's signing settings.
var Owners = eck.SigningOwners

// Settings are an alias's signing settings: each node signs with its own
// transport certificate, which only the node's configuration file can name
// (${POD_NAME}); the cluster settings API would give every node one path.
func Settings(alias string) map[string]string {
	return map[string]string{
		"cluster.remote." + alias + ".signing.certificate": eckschema.TransportCertificatePath,
		"cluster.remote." + alias + ".signing.key":         eckschema.TransportKeyPath,
	}
}

func keys(alias string) []string {
	return []string{"cluster.remote." + alias + ".signing.certificate", "cluster.remote." + alias + ".signing.key"}
}

// Setup adds a controller that reconciles RemoteClusterSigning.
func Setup(mgr ctrl.Manager, o controller.Options) error {
	return setup.Setup(mgr, o, v1alpha1.RemoteClusterSigningGroupVersionKind, &v1alpha1.RemoteClusterSigning{},
		func(kube client.Client, live client.Reader, record event.Recorder) managed.TypedExternalConnector[*v1alpha1.RemoteClusterSigning] {
			return &connector{kube: kube, live: live, record: record}
		}, nil)
}

type connector struct {
	kube   client.Client
	live   client.Reader
	record event.Recorder
}

// Connect needs no credentials: the settings are written with the
// provider's own Kubernetes identity, which is why every change is
// authorized first.
func (c *connector) Connect(_ context.Context, _ *v1alpha1.RemoteClusterSigning) (managed.TypedExternalClient[*v1alpha1.RemoteClusterSigning], error) {
	return &external{eck: eck.NewClient(c.kube, c.live), record: c.record}, nil
}

type external struct {
	eck    *eck.Client
	record event.Recorder
}

func isNotFound(err error) bool {
	var nf *eck.NotFoundError
	return errors.As(err, &nf)
}

func (e *external) Observe(ctx context.Context, mg *v1alpha1.RemoteClusterSigning) (managed.ExternalObservation, error) {
	p := mg.Spec.ForProvider
	uid := string(mg.GetUID())
	local, err := e.eck.Get(ctx, eck.Ref(p.ElasticsearchRef, mg.GetNamespace()), fieldLocal)
	if meta.WasDeleted(mg) {
		// Removing our own settings needs no grant.
		var nf *eck.NotFoundError
		if errors.As(err, &nf) {
			e.record.Event(mg, conditions.TargetGoneEvent(nf, fmt.Sprintf("signing settings of alias %s", p.Alias)))
			return managed.ExternalObservation{ResourceExists: false}, nil
		}
		if err != nil {
			return managed.ExternalObservation{}, err
		}
		owns, err := Owners.Owns(local, p.Alias, uid)
		return managed.ExternalObservation{ResourceExists: owns}, err
	}
	if err != nil {
		return managed.ExternalObservation{}, conditions.Blocked(mg, err, "")
	}
	if err := check(mg, local); err != nil {
		return managed.ExternalObservation{}, conditions.Blocked(mg, err, "")
	}
	owns, err := Owners.Owns(local, p.Alias, uid)
	if err != nil {
		return managed.ExternalObservation{}, conditions.Blocked(mg, err, "")
	}
	holds, err := eck.ConfigHolds(local, Settings(p.Alias))
	if err != nil {
		return managed.ExternalObservation{}, conditions.Blocked(mg, err, "")
	}
	if !owns || !holds {
		if err := eck.Fits(local, change(mg)); err != nil {
			return managed.ExternalObservation{}, setRefused(mg, err)
		}
	}
	at := &mg.Status.AtProvider
	at.Configured = owns && holds
	at.SubjectPattern = eckschema.DefaultCertificateIdentity(local)
	switch reconciled, _ := eckschema.Reconciled(local); {
	case !at.Configured:
		at.RolledOut = false
	case reconciled:
		at.RolledOut = true
	}
	switch {
	case at.Configured && at.RolledOut:
		mg.SetConditions(xpv2.Available())
	case at.Configured:
		mg.SetConditions(conditions.Ready(false, conditions.ReasonRollingOut,
			fmt.Sprintf("waiting for ECK to roll the signing settings of alias %s out to %s/%s (a rolling restart)", p.Alias, local.GetNamespace(), local.GetName())))
	default:
		mg.SetConditions(xpv2.Unavailable())
	}
	return managed.ExternalObservation{ResourceExists: owns, ResourceUpToDate: at.Configured}, nil
}

// check authorizes the namespace, refuses signing settings a person wrote
// or another resource owns, and needs Elasticsearch 9.3.
func check(mg *v1alpha1.RemoteClusterSigning, local *unstructured.Unstructured) error {
	p := mg.Spec.ForProvider
	if err := grants.AuthorizeNamespace(mg.GetNamespace(), eck.Target(local, fieldLocal), grants.RoleLocal); err != nil {
		return err
	}
	if err := eck.CheckAlias(local, p.Alias, mg); err != nil {
		return err
	}
	v, err := eckschema.RunningVersion(local)
	if err != nil {
		return err
	}
	if v.Less(eckschema.CertificateIdentityVersion) {
		return &eck.VersionError{Name: types.NamespacedName{Namespace: local.GetNamespace(), Name: local.GetName()}, Running: v,
			Feature: "signed cross-cluster requests (certificate identity)", Minimum: &eckschema.CertificateIdentityVersion}
	}
	owners, err := Owners.Owners(local)
	if err != nil {
		return err
	}
	name := local.GetNamespace() + "/" + local.GetName()
	switch o, ok := owners[p.Alias]; {
	case ok && o != string(mg.GetUID()):
		return &eck.ConflictError{What: "remote cluster alias", Key: p.Alias, Object: name, OtherOwner: o}
	case !ok:
		if has, err := eck.ConfigHasAny(local, keys(p.Alias)); err != nil || has {
			if err == nil {
				err = &eck.ConflictError{What: "remote cluster alias", Key: p.Alias, Object: name + " (its nodeSets' config already sets cluster.remote." + p.Alias + ".signing.*)"}
			}
			return err
		}
	}
	return nil
}

func (e *external) Create(ctx context.Context, mg *v1alpha1.RemoteClusterSigning) (managed.ExternalCreation, error) {
	return managed.ExternalCreation{}, e.put(ctx, mg)
}

func (e *external) Update(ctx context.Context, mg *v1alpha1.RemoteClusterSigning) (managed.ExternalUpdate, error) {
	return managed.ExternalUpdate{}, e.put(ctx, mg)
}

func (e *external) put(ctx context.Context, mg *v1alpha1.RemoteClusterSigning) error {
	p := mg.Spec.ForProvider
	name := eck.Ref(p.ElasticsearchRef, mg.GetNamespace())
	if _, err := e.eck.Mutate(ctx, name, fieldLocal, change(mg)); err != nil {
		return setRefused(mg, err)
	}
	return nil
}

// change claims the alias and sets its signing settings.
func change(mg *v1alpha1.RemoteClusterSigning) eck.MutateFn {
	p := mg.Spec.ForProvider
	return func(local *unstructured.Unstructured) (bool, error) {
		if err := check(mg, local); err != nil {
			return false, err
		}
		aliasClaimed, err := eck.ClaimAlias(local, p.Alias, mg)
		if err != nil {
			return false, err
		}
		claimed, err := Owners.Claim(local, p.Alias, string(mg.GetUID()))
		if err != nil {
			return false, err
		}
		set, err := eck.SetConfig(local, Settings(p.Alias))
		return aliasClaimed || claimed || set, err
	}
}

func setRefused(mg *v1alpha1.RemoteClusterSigning, err error) error {
	p := mg.Spec.ForProvider
	return conditions.Blocked(mg, fmt.Errorf("cannot set the signing settings of alias %s on Elasticsearch %s: %w", p.Alias, eck.Ref(p.ElasticsearchRef, mg.GetNamespace()), err), "")
}

func (e *external) Delete(ctx context.Context, mg *v1alpha1.RemoteClusterSigning) (managed.ExternalDelete, error) {
	p := mg.Spec.ForProvider
	name := eck.Ref(p.ElasticsearchRef, mg.GetNamespace())
	uid := string(mg.GetUID())
	_, err := e.eck.Mutate(ctx, name, fieldLocal, func(local *unstructured.Unstructured) (bool, error) {
		if owns, err := Owners.Owns(local, p.Alias, uid); err != nil || !owns {
			return false, err
		}
		removed, err := eck.RemoveConfig(local, keys(p.Alias))
		if err != nil {
			return false, err
		}
		released, err := Owners.Release(local, uid)
		if err != nil {
			return false, err
		}
		freed, err := eck.ReleaseAliases(local)
		return removed || released || freed, err
	})
	if err != nil && !isNotFound(err) {
		return managed.ExternalDelete{}, fmt.Errorf("cannot remove the signing settings of alias %s from Elasticsearch %s: %w", p.Alias, name, err)
	}
	return managed.ExternalDelete{}, nil
}

func (e *external) Disconnect(context.Context) error { return nil }
