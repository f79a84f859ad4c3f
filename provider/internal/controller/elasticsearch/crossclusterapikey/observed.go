package crossclusterapikey

import (
	"context"
	"errors"
	"fmt"
	"strings"

	kerrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"

	"github.com/crossplane/crossplane-runtime/v2/pkg/meta"
	"github.com/crossplane/crossplane-runtime/v2/pkg/reconciler/managed"
	xpv2 "github.com/crossplane/crossplane/apis/v2/core/v2"

	esv1alpha1 "github.com/eslink/eslink/apis/elasticsearch/v1alpha1"
	"github.com/eslink/eslink/internal/eckschema"
	"github.com/eslink/eslink/internal/grants"
	"github.com/eslink/eslink/provider/internal/clients/elasticsearch"
	"github.com/eslink/eslink/provider/internal/controller/conditions"
)

// Metadata ECK writes on the keys it creates: the local cluster the key
// was made for (pkg/controller/remotecluster of ECK).
const (
	eckMetadataNamespace = "elasticsearch.k8s.elastic.co/namespace"
	eckMetadataName      = "elasticsearch.k8s.elastic.co/name"
)

// observeFound observes a key the resource did not create: by the id in
// its external name, or the only active key with its name. It never writes
// to Elasticsearch, and it reports only a key made for a local cluster the
// resource's namespace may use (see visible).
func (e *external) observeFound(ctx context.Context, cr *esv1alpha1.CrossClusterAPIKey) (managed.ExternalObservation, error) {
	if meta.WasDeleted(cr) {
		// The key is not the resource's to invalidate: nothing to wait for.
		return managed.ExternalObservation{ResourceExists: false}, nil
	}
	if err := refusedPolicies(cr); err != nil {
		cr.Status.AtProvider = esv1alpha1.CrossClusterAPIKeyObservation{}
		conditions.SetNotReady(cr, conditions.ReasonPoliciesRefused, err, mirror)
		return managed.ExternalObservation{}, &reportedError{err}
	}
	key, err := e.findVisible(ctx, cr)
	if err != nil {
		cr.Status.AtProvider = esv1alpha1.CrossClusterAPIKeyObservation{}
		var r *reportedError
		if !errors.As(err, &r) {
			conditions.SetBlocked(cr, err, conditions.ReasonProviderConfigError, mirror)
		}
		return managed.ExternalObservation{}, err
	}
	if key == nil {
		cr.Status.AtProvider = esv1alpha1.CrossClusterAPIKeyObservation{}
		return managed.ExternalObservation{ResourceExists: false}, nil
	}
	now := e.now()
	cr.Status.AtProvider = atProvider(key, now)
	if !key.Active(now) {
		state := "invalidated"
		if !key.Invalidated {
			state = "expired"
		}
		conditions.SetNotReady(cr, conditions.ReasonKeyInvalidated, fmt.Errorf(
			"cross-cluster API key %s (%q) was %s outside the provider; the resource only observes it, so whoever owns the key (ECK) must replace it", key.ID, key.Name, state), mirror)
		return managed.ExternalObservation{ResourceExists: false}, nil
	}
	// Nothing to change: this resource never writes to Elasticsearch.
	obs := managed.ExternalObservation{ResourceExists: true, ResourceUpToDate: true}
	if cr.Spec.ForProvider.Access == nil {
		available(cr)
		return obs, nil
	}
	access, err := desiredAccess(cr.Spec.ForProvider.Access)
	if err != nil {
		conditions.SetNotReady(cr, xpv2.ReasonReconcileError, err, mirror)
		return obs, nil
	}
	cr.Status.AtProvider.AccessMatches = key.Access != nil && accessEqual(access, *key.Access)
	if cr.Status.AtProvider.AccessMatches {
		available(cr)
	} else {
		conditions.SetNotReady(cr, conditions.ReasonAccessMismatch, fmt.Errorf(
			"cross-cluster API key %s (%q) does not grant spec.forProvider.access; status.atProvider.access shows what it grants, and its owner (ECK) must update it", key.ID, key.Name), mirror)
	}
	return obs, nil
}

// findVisible returns the key the resource refers to, if the resource may
// see it: by external name (the id), or else the only visible active key
// with the name. A key that is missing and one the resource may not see
// give the same answer, nil with the same condition: an observing resource
// learns nothing about another team's keys, not even whether one exists.
func (e *external) findVisible(ctx context.Context, cr *esv1alpha1.CrossClusterAPIKey) (*elasticsearch.APIKey, error) {
	name := cr.Spec.ForProvider.Name
	if id := meta.GetExternalName(cr); id != "" {
		key, err := e.keys.KeyByID(ctx, id)
		if err != nil {
			return nil, fmt.Errorf("cannot observe cross-cluster API key %s for %s: %w", id, ref(cr), err)
		}
		ok := key != nil && (key.Type == "" || key.Type == "cross_cluster")
		if ok {
			if ok, err = e.visible(ctx, cr, key); err != nil {
				return nil, err
			}
		}
		if !ok {
			conditions.SetNotReady(cr, conditions.ReasonKeyNotFound, notFound(cr, fmt.Sprintf("with id %s (crossplane.io/external-name)", id), e.es.URL(),
				fmt.Sprintf("remove the annotation to find the key by name %q", name)), mirror)
			return nil, nil
		}
		return key, nil
	}
	all, err := e.keys.ActiveKeysByName(ctx, name)
	if err != nil {
		return nil, fmt.Errorf("cannot find cross-cluster API key %q for %s: %w", name, ref(cr), err)
	}
	keys := all[:0:0]
	for i := range all {
		ok, err := e.visible(ctx, cr, &all[i])
		if err != nil {
			return nil, err
		}
		if ok {
			keys = append(keys, all[i])
		}
	}
	switch len(keys) {
	case 0:
		conditions.SetNotReady(cr, conditions.ReasonKeyNotFound, notFound(cr, fmt.Sprintf("named %q", name), e.es.URL(),
			"ECK creates it once the remote cluster entry with an apiKey exists on the local cluster, so check that entry if this persists"), mirror)
		return nil, nil
	case 1:
		return &keys[0], nil
	}
	ids := make([]string, 0, len(keys))
	for _, k := range keys {
		ids = append(ids, k.ID)
	}
	refused := fmt.Errorf(
		"%d active cross-cluster API keys are named %q on Elasticsearch at %s (ids %s); the provider does not guess: set crossplane.io/external-name to the id to observe, or invalidate the others",
		len(keys), name, e.es.URL(), strings.Join(ids, ", "))
	conditions.SetNotReady(cr, conditions.ReasonAmbiguousKey, refused, mirror)
	return nil, &reportedError{refused}
}

// notFound is the one answer for a key that does not exist and a key the
// resource may not see: it says what the resource may see, never whose a
// key is or whether one exists.
func notFound(cr *esv1alpha1.CrossClusterAPIKey, what, url, hint string) error {
	return fmt.Errorf("key not found in observe mode: no active cross-cluster API key %s that namespace %s may see on Elasticsearch at %s (an observing resource reports only keys that ECK made for a local cluster the namespace may use, metadata %s and %s, or that eslink made in namespace %s, metadata %s); %s",
		what, cr.GetNamespace(), url, eckMetadataNamespace, eckMetadataName, cr.GetNamespace(), esv1alpha1.MetadataNamespace, hint)
}

// visible decides what an observing resource may read. The remote granted
// the namespace (Connect checked that), but a remote holds keys of many
// teams: a key's id, access and expiry tell one team about another's
// links. So a resource sees only:
//   - a key ECK made for a local cluster its namespace may use as a local
//     cluster (the cluster is in the namespace or grants it, as for a link);
//   - a key eslink made for a resource in its own namespace.
//
// A key that carries neither mark has no provable owner and is not shown.
func (e *external) visible(ctx context.Context, cr *esv1alpha1.CrossClusterAPIKey, k *elasticsearch.APIKey) (bool, error) {
	ns := cr.GetNamespace()
	if k.MetadataString(esv1alpha1.MetadataUID) != "" {
		// Made by eslink: its own tags say where, whatever else they claim.
		return k.MetadataString(esv1alpha1.MetadataManagedBy) == esv1alpha1.ManagedByValue &&
			k.MetadataString(esv1alpha1.MetadataNamespace) == ns, nil
	}
	lns, lname := k.MetadataString(eckMetadataNamespace), k.MetadataString(eckMetadataName)
	if lns == "" || lname == "" {
		return false, nil
	}
	es := eckschema.NewElasticsearch()
	if err := e.kube.Get(ctx, types.NamespacedName{Namespace: lns, Name: lname}, es); err != nil {
		if kerrors.IsNotFound(err) {
			return false, nil
		}
		// The key's local cluster is another team's business: the error
		// names neither it nor the key.
		e.log.Debug("Cannot read the local cluster an observed key was made for", "key", k.ID, "error", err)
		return false, fmt.Errorf("cannot tell which keys namespace %s may see for %s: reading a local cluster failed, retrying", ns, ref(cr))
	}
	t := grants.Target{Namespace: lns, Name: lname, Annotations: es.GetAnnotations()}
	return grants.AuthorizeNamespace(ns, t, grants.RoleLocal) == nil, nil
}
