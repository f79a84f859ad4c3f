// Package remoteclustertrust reconciles RemoteClusterTrust managed
// resources: each owns one CA of an ECK cluster's eslink CA bundle, and
// with the first one mounts the bundle into every nodeSet and lists it in
// the certificate_authorities setting of its purpose.
package remoteclustertrust

import (
	"bytes"
	"context"
	"errors"
	"fmt"

	"github.com/crossplane/crossplane-runtime/v2/pkg/controller"
	"github.com/crossplane/crossplane-runtime/v2/pkg/event"
	"github.com/crossplane/crossplane-runtime/v2/pkg/meta"
	"github.com/crossplane/crossplane-runtime/v2/pkg/reconciler/managed"
	xpv2 "github.com/crossplane/crossplane/apis/v2/core/v2"
	corev1 "k8s.io/api/core/v1"
	kerrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/util/retry"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/eslink/eslink/apis/eck/v1alpha1"
	"github.com/eslink/eslink/internal/eckschema"
	"github.com/eslink/eslink/internal/grants"
	"github.com/eslink/eslink/provider/internal/clients/eck"
	"github.com/eslink/eslink/provider/internal/clients/kube"
	"github.com/eslink/eslink/provider/internal/controller/conditions"
	"github.com/eslink/eslink/provider/internal/controller/setup"
)

const (
	fieldTarget = "spec.forProvider.elasticsearchRef"
	fieldSource = "spec.forProvider.certificateAuthority.elasticsearchRef"
	fieldSecret = "spec.forProvider.certificateAuthority.secretRef"
	// LabelManagedBy marks the bundle Secret as eslink's.
	LabelManagedBy = kube.LabelManagedBy
)

// Setup adds a controller that reconciles RemoteClusterTrust.
func Setup(mgr ctrl.Manager, o controller.Options) error {
	return setup.Setup(mgr, o, v1alpha1.RemoteClusterTrustGroupVersionKind, &v1alpha1.RemoteClusterTrust{},
		func(kube client.Client, live client.Reader, record event.Recorder) managed.TypedExternalConnector[*v1alpha1.RemoteClusterTrust] {
			return &connector{kube: kube, live: live, record: record}
		}, nil)
}

type connector struct {
	kube   client.Client
	live   client.Reader
	record event.Recorder
}

// Connect needs no credentials: the bundle and the mount are written with
// the provider's own Kubernetes identity, which is why every change is
// authorized first.
func (c *connector) Connect(_ context.Context, _ *v1alpha1.RemoteClusterTrust) (managed.TypedExternalClient[*v1alpha1.RemoteClusterTrust], error) {
	return &external{kube: c.kube, eck: eck.NewClient(c.kube, c.live), record: c.record}, nil
}

type external struct {
	kube   client.Client
	eck    *eck.Client
	record event.Recorder
}

func ref(mg *v1alpha1.RemoteClusterTrust) string {
	return fmt.Sprintf("RemoteClusterTrust %s/%s", mg.GetNamespace(), mg.GetName())
}

func isNotFound(err error) bool {
	var nf *eck.NotFoundError
	return errors.As(err, &nf)
}

func purpose(mg *v1alpha1.RemoteClusterTrust) v1alpha1.TrustPurpose {
	if mg.Spec.ForProvider.Purpose == "" {
		return v1alpha1.TrustRemoteClusterClient
	}
	return mg.Spec.ForProvider.Purpose
}

// roles are the parts the trusting cluster and the CA's cluster play: a
// local cluster trusts a remote's server; a remote trusts a local cluster's
// signatures.
func roles(mg *v1alpha1.RemoteClusterTrust) (target, source grants.Role) {
	if purpose(mg) == v1alpha1.TrustCrossClusterSigning {
		return grants.RoleRemote, grants.RoleLocal
	}
	return grants.RoleLocal, grants.RoleRemote
}

func (e *external) Observe(ctx context.Context, mg *v1alpha1.RemoteClusterTrust) (managed.ExternalObservation, error) {
	p := mg.Spec.ForProvider
	entryKey := eck.BundleEntryKey(string(mg.GetUID()))
	target, err := e.eck.Get(ctx, eck.Ref(p.ElasticsearchRef, mg.GetNamespace()), fieldTarget)
	mount := eck.BundleMount(p.ElasticsearchRef.Name, purpose(mg))

	if meta.WasDeleted(mg) {
		// Removing our own CA needs no grant. The bundle is owned by the
		// trusting cluster's object and goes with it.
		var nf *eck.NotFoundError
		if errors.As(err, &nf) {
			e.record.Event(mg, conditions.TargetGoneEvent(nf, "CA in the eslink CA bundle"))
			return managed.ExternalObservation{ResourceExists: false}, nil
		}
		if err != nil {
			return managed.ExternalObservation{}, err
		}
		bundle, err := e.bundle(ctx, target, mount)
		if err != nil {
			return managed.ExternalObservation{}, err
		}
		if bundle == nil {
			return managed.ExternalObservation{ResourceExists: false}, nil
		}
		// A bundle left without any CA means this resource's Delete removed
		// the last one and then failed to unmount it or delete the bundle:
		// letting go now would leave them behind for good. Unmounting
		// restarts the cluster, so it takes a grant, unlike removing an
		// entry of one's own: a resource that never had an entry there must
		// not be able to restart another team's cluster.
		targetRole, _ := roles(mg)
		unfinished := p.RemoveWiringOnDelete && len(eck.BundleEntries(bundle.Data)) == 0 &&
			grants.AuthorizeNamespace(mg.GetNamespace(), eck.Target(target, fieldTarget), targetRole) == nil
		return managed.ExternalObservation{ResourceExists: bundle.Data[entryKey] != nil || unfinished}, nil
	}
	if err != nil {
		return managed.ExternalObservation{}, conditions.Blocked(mg, err, xpv2.ReasonReconcileError)
	}
	ca, own, err := e.certificates(ctx, mg, target)
	if err != nil {
		return managed.ExternalObservation{}, conditions.Blocked(mg, err, xpv2.ReasonReconcileError)
	}
	bundle, err := e.bundle(ctx, target, mount)
	if err != nil {
		return managed.ExternalObservation{}, conditions.Blocked(mg, err, xpv2.ReasonReconcileError)
	}
	mounted, err := mount.Wired(target)
	if err != nil {
		return managed.ExternalObservation{}, conditions.Blocked(mg, err, xpv2.ReasonReconcileError)
	}

	at := &mg.Status.AtProvider
	at.BundleSecretName = mount.SecretName
	at.InBundle = bundle != nil && bytes.Equal(bundle.Data[entryKey], ca)
	at.Mounted = mounted
	switch reconciled, _ := eckschema.Reconciled(target); {
	case !mounted:
		at.RolledOut = false
	case reconciled:
		// Sticky: a later restart for another reason does not unmount it.
		at.RolledOut = true
	}
	consistent := bundle != nil && bytes.Equal(bundle.Data[eck.BundleFile], eck.BundleData(own, eck.BundleEntries(bundle.Data))[eck.BundleFile])

	// Once created, a CA or mount that went missing (a person scrubbed the
	// bundle) is drift to repair through Update: a Create would replace
	// the condition that names what went missing with Creating.
	exists := (bundle != nil && bundle.Data[entryKey] != nil && mounted) || !meta.GetExternalCreateSucceeded(mg).IsZero()
	upToDate := at.InBundle && consistent && mounted
	switch {
	case at.InBundle && mounted && at.RolledOut:
		mg.SetConditions(xpv2.Available())
	case at.InBundle && mounted:
		mg.SetConditions(conditions.Ready(false, conditions.ReasonRollingOut, fmt.Sprintf(
			"waiting for ECK to mount CA bundle %s into the nodes of %s/%s (a rolling restart, once per cluster)", mount.SecretName, target.GetNamespace(), target.GetName())))
	case !at.InBundle:
		mg.SetConditions(conditions.Ready(false, conditions.ReasonCANotInBundle, fmt.Sprintf(
			"CA bundle %s/%s does not hold the CA of %s: eslink adds it", target.GetNamespace(), mount.SecretName, caSource(mg))))
	default:
		mg.SetConditions(conditions.Ready(false, conditions.ReasonBundleNotMounted, fmt.Sprintf(
			"the nodes of %s/%s do not mount CA bundle %s (%s): eslink mounts it, a rolling restart", target.GetNamespace(), target.GetName(), mount.SecretName, mount.Setting)))
	}
	return managed.ExternalObservation{ResourceExists: exists, ResourceUpToDate: upToDate}, nil
}

// caSource says where the trusted CA comes from, for messages.
func caSource(mg *v1alpha1.RemoteClusterTrust) string {
	src := mg.Spec.ForProvider.CertificateAuthority
	switch {
	case src.ElasticsearchRef != nil:
		return "Elasticsearch " + eck.Ref(*src.ElasticsearchRef, mg.GetNamespace()).String()
	case src.SecretRef != nil:
		return "Secret " + mg.GetNamespace() + "/" + src.SecretRef.Name
	}
	return "the certificate authority"
}

// certificates authorizes the namespace on both clusters, then returns the
// CA to trust and the trusting cluster's own CA. The CA's source is read
// only after the grants were checked.
func (e *external) certificates(ctx context.Context, mg *v1alpha1.RemoteClusterTrust, target *unstructured.Unstructured) (ca, own []byte, err error) {
	p := mg.Spec.ForProvider
	targetRole, sourceRole := roles(mg)
	if err := grants.AuthorizeNamespace(mg.GetNamespace(), eck.Target(target, fieldTarget), targetRole); err != nil {
		return nil, nil, err
	}
	switch src := p.CertificateAuthority; {
	case src.ElasticsearchRef != nil && src.SecretRef == nil:
		es, err := e.eck.Get(ctx, eck.Ref(*src.ElasticsearchRef, mg.GetNamespace()), fieldSource)
		if err != nil {
			return nil, nil, err
		}
		if err := grants.AuthorizeNamespace(mg.GetNamespace(), eck.Target(es, fieldSource), sourceRole); err != nil {
			return nil, nil, err
		}
		if err := grants.AuthorizeTrustSource(mg.GetNamespace(), eck.Target(target, fieldTarget), es.GetNamespace(), es.GetName(), fieldSource); err != nil {
			return nil, nil, err
		}
		if ca, mg.Status.AtProvider.Fingerprints, err = e.clusterCA(ctx, mg, es, fieldSource); err != nil {
			return nil, nil, err
		}
	case src.SecretRef != nil && src.ElasticsearchRef == nil:
		// A CA of the team's own is trusted for every connection of the
		// cluster's purpose, not only this link's: it needs its own grant.
		if err := grants.AuthorizeExternalCA(mg.GetNamespace(), eck.Target(target, fieldTarget), fieldSecret); err != nil {
			return nil, nil, err
		}
		key := src.SecretRef.Key
		if key == "" {
			key = "ca.crt"
		}
		nn := types.NamespacedName{Namespace: mg.GetNamespace(), Name: src.SecretRef.Name}
		s := &corev1.Secret{}
		if err := e.kube.Get(ctx, nn, s); err != nil {
			if kerrors.IsNotFound(err) {
				return nil, nil, &eck.InvalidSpecError{Msg: fmt.Sprintf("Secret %s (%s) not found: create it with the remote cluster server's CA under key %s", nn, fieldSecret, key)}
			}
			return nil, nil, fmt.Errorf("cannot read Secret %s (%s): %w", nn, fieldSecret, err)
		}
		if ca, mg.Status.AtProvider.Fingerprints, err = eck.ParseCAs(s.Data[key], fmt.Sprintf("key %s of Secret %s (%s)", key, nn, fieldSecret)); err != nil {
			return nil, nil, err
		}
	default:
		return nil, nil, &eck.InvalidSpecError{Msg: "set exactly one of spec.forProvider.certificateAuthority.elasticsearchRef or secretRef"}
	}
	own, _, err = e.clusterCA(ctx, mg, target, fieldTarget)
	return ca, own, err
}

// clusterCA reads and checks the transport CA ECK publishes for es, named
// by field. That Secret lives in the cluster's namespace: unless that is
// the resource's own, the team cannot read it, so whatever is wrong with it
// (missing, not PEM, not a CA) gets one answer that says nothing of its
// content, nor whether it exists. The platform team can read it.
func (e *external) clusterCA(ctx context.Context, mg *v1alpha1.RemoteClusterTrust, es *unstructured.Unstructured, field string) ([]byte, []string, error) {
	nn := types.NamespacedName{Namespace: es.GetNamespace(), Name: eckschema.TransportCAPublicSecret(es.GetName())}
	readable := es.GetNamespace() == mg.GetNamespace()
	s := &corev1.Secret{}
	if err := e.kube.Get(ctx, nn, s); err != nil {
		switch {
		case !kerrors.IsNotFound(err):
			return nil, nil, fmt.Errorf("cannot read Secret %s (%s): %w", nn, field, err)
		case readable:
			return nil, nil, fmt.Errorf("the transport CA of Elasticsearch %s/%s is not published yet: ECK creates Secret %s with the cluster", es.GetNamespace(), es.GetName(), nn)
		}
		return nil, nil, unusableCA(es, nn, field)
	}
	ca, fingerprints, err := eck.ParseCAs(s.Data[eckschema.TransportCAKey], fmt.Sprintf("key %s of ECK's Secret %s", eckschema.TransportCAKey, nn))
	if err != nil && !readable {
		return nil, nil, unusableCA(es, nn, field)
	}
	return ca, fingerprints, err
}

// unusableCA is the one answer for a transport CA Secret the resource's
// team cannot read.
func unusableCA(es *unstructured.Unstructured, nn types.NamespacedName, field string) error {
	return fmt.Errorf("%s: the transport CA of Elasticsearch %s/%s cannot be used: ECK publishes it, once the cluster is created, as PEM CA certificates under key %s of Secret %s, which this resource's namespace may not read, so nothing more is said here; if this persists, ask the platform team to check that Secret",
		field, es.GetNamespace(), es.GetName(), eckschema.TransportCAKey, nn)
}

// bundle returns the target's CA bundle Secret, nil when missing. A Secret
// of that name that is not eslink's is a conflict.
func (e *external) bundle(ctx context.Context, target *unstructured.Unstructured, mount eck.Mount) (*corev1.Secret, error) {
	s := &corev1.Secret{}
	if err := e.kube.Get(ctx, types.NamespacedName{Namespace: target.GetNamespace(), Name: mount.SecretName}, s); err != nil {
		if kerrors.IsNotFound(err) {
			return nil, nil
		}
		return nil, fmt.Errorf("cannot read CA bundle Secret %s/%s: %w", target.GetNamespace(), mount.SecretName, err)
	}
	if s.Labels[LabelManagedBy] != kube.ManagedBy {
		return nil, &eck.ConflictError{What: "Secret", Key: mount.SecretName, Object: target.GetNamespace()}
	}
	return s, nil
}

func (e *external) Create(ctx context.Context, mg *v1alpha1.RemoteClusterTrust) (managed.ExternalCreation, error) {
	return managed.ExternalCreation{}, e.trust(ctx, mg)
}

func (e *external) Update(ctx context.Context, mg *v1alpha1.RemoteClusterTrust) (managed.ExternalUpdate, error) {
	return managed.ExternalUpdate{}, e.trust(ctx, mg)
}

// trust puts the CA into the bundle first, then mounts the bundle, so that
// a node never starts with a bundle that lacks it.
func (e *external) trust(ctx context.Context, mg *v1alpha1.RemoteClusterTrust) error {
	p := mg.Spec.ForProvider
	name := eck.Ref(p.ElasticsearchRef, mg.GetNamespace())
	mount := eck.BundleMount(p.ElasticsearchRef.Name, purpose(mg))
	target, err := e.eck.Get(ctx, name, fieldTarget)
	if err != nil {
		return conditions.Blocked(mg, err, xpv2.ReasonReconcileError)
	}
	ca, own, err := e.certificates(ctx, mg, target)
	if err != nil {
		return conditions.Blocked(mg, err, xpv2.ReasonReconcileError)
	}
	entry := eck.BundleEntryKey(string(mg.GetUID()))
	_, err = e.updateBundle(ctx, target, mount, own, func(entries map[string][]byte) { entries[entry] = ca })
	if err != nil {
		return conditions.Blocked(mg, fmt.Errorf("cannot add the CA of %s to bundle %s/%s: %w", ref(mg), name.Namespace, mount.SecretName, err), xpv2.ReasonReconcileError)
	}
	targetRole, _ := roles(mg)
	_, err = e.eck.Mutate(ctx, name, fieldTarget, func(es *unstructured.Unstructured) (bool, error) {
		if err := grants.AuthorizeNamespace(mg.GetNamespace(), eck.Target(es, fieldTarget), targetRole); err != nil {
			return false, err
		}
		return mount.Wire(es)
	})
	if err != nil {
		return conditions.Blocked(mg, fmt.Errorf("cannot mount CA bundle %s into Elasticsearch %s for %s: %w", mount.SecretName, name, ref(mg), err), xpv2.ReasonReconcileError)
	}
	return nil
}

// updateBundle applies change to the bundle's entries and rewrites it, on
// a fresh read after a conflict with another resource's change. It returns
// the bundle as the API server wrote it: a read after the write may come
// from a cache that does not hold the write yet.
func (e *external) updateBundle(ctx context.Context, target *unstructured.Unstructured, mount eck.Mount, own []byte, change func(map[string][]byte)) (*corev1.Secret, error) {
	var out *corev1.Secret
	err := retry.RetryOnConflict(eck.ConflictBackoff, func() error {
		s, err := e.bundle(ctx, target, mount)
		if err != nil {
			return err
		}
		if s == nil {
			entries := map[string][]byte{}
			change(entries)
			s = &corev1.Secret{ObjectMeta: metav1.ObjectMeta{
				Namespace: target.GetNamespace(), Name: mount.SecretName,
				Labels: map[string]string{LabelManagedBy: kube.ManagedBy},
				// Deleted with the cluster, like ECK's own Secrets.
				OwnerReferences: []metav1.OwnerReference{{
					APIVersion: eckschema.ElasticsearchGVK.GroupVersion().String(), Kind: eckschema.ElasticsearchGVK.Kind,
					Name: target.GetName(), UID: target.GetUID(), BlockOwnerDeletion: ptr.To(false),
				}},
			}, Type: corev1.SecretTypeOpaque, Data: eck.BundleData(own, entries)}
			err := e.kube.Create(ctx, s)
			if kerrors.IsAlreadyExists(err) {
				// Another resource created it meanwhile: retry as a conflict.
				return kerrors.NewConflict(corev1.Resource("secrets"), s.Name, err)
			}
			out = s
			return err
		}
		entries := eck.BundleEntries(s.Data)
		change(entries)
		s.Data = eck.BundleData(own, entries)
		out = s
		return e.kube.Update(ctx, s)
	})
	return out, err
}

// Delete removes this resource's CA from the bundle. With
// removeWiringOnDelete and no CA left, it also unmounts the bundle (a
// rolling restart) and deletes it, unless another resource added a CA
// meanwhile.
func (e *external) Delete(ctx context.Context, mg *v1alpha1.RemoteClusterTrust) (managed.ExternalDelete, error) {
	p := mg.Spec.ForProvider
	name := eck.Ref(p.ElasticsearchRef, mg.GetNamespace())
	mount := eck.BundleMount(p.ElasticsearchRef.Name, purpose(mg))
	target, err := e.eck.Get(ctx, name, fieldTarget)
	if isNotFound(err) {
		return managed.ExternalDelete{}, nil
	}
	if err != nil {
		return managed.ExternalDelete{}, err
	}
	bundle, err := e.bundle(ctx, target, mount)
	if err != nil || bundle == nil {
		return managed.ExternalDelete{}, err
	}
	// The cluster's own CA is kept as the bundle holds it: this needs no
	// read of ECK's Secrets, which may be gone.
	own := bundle.Data[eck.BundleOwnCA]
	entry := eck.BundleEntryKey(string(mg.GetUID()))
	bundle, err = e.updateBundle(ctx, target, mount, own, func(entries map[string][]byte) { delete(entries, entry) })
	if err != nil {
		return managed.ExternalDelete{}, fmt.Errorf("cannot remove the CA of %s from bundle %s/%s: %w", ref(mg), name.Namespace, mount.SecretName, err)
	}
	if !p.RemoveWiringOnDelete || len(eck.BundleEntries(bundle.Data)) > 0 {
		return managed.ExternalDelete{}, nil
	}
	if _, err := e.eck.Mutate(ctx, name, fieldTarget, mount.Unwire); err != nil && !isNotFound(err) {
		return managed.ExternalDelete{}, fmt.Errorf("cannot unmount CA bundle %s from Elasticsearch %s for %s: %w", mount.SecretName, name, ref(mg), err)
	}
	// A resource that added its CA since fails this precondition, keeps the
	// bundle and mounts it again.
	err = e.kube.Delete(ctx, bundle, client.Preconditions{UID: &bundle.UID, ResourceVersion: &bundle.ResourceVersion})
	if err != nil && !kerrors.IsNotFound(err) && !kerrors.IsConflict(err) {
		return managed.ExternalDelete{}, fmt.Errorf("cannot delete CA bundle %s/%s for %s: %w", name.Namespace, mount.SecretName, ref(mg), err)
	}
	return managed.ExternalDelete{}, nil
}

func (e *external) Disconnect(context.Context) error { return nil }
