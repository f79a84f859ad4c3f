package crossclusterapikey

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"k8s.io/client-go/util/retry"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/crossplane/crossplane-runtime/v2/pkg/event"
	"github.com/crossplane/crossplane-runtime/v2/pkg/meta"
	"github.com/crossplane/crossplane-runtime/v2/pkg/reconciler/managed"

	esv1alpha1 "github.com/eslink/eslink/apis/elasticsearch/v1alpha1"
	"github.com/eslink/eslink/internal/eckschema"
	"github.com/eslink/eslink/internal/keylifetime"
	"github.com/eslink/eslink/provider/internal/clients/elasticsearch"
	"github.com/eslink/eslink/provider/internal/controller/conditions"
	"github.com/eslink/eslink/provider/internal/metrics"
)

// An owned key's life, and what a crash between two steps leaves behind.
// Elasticsearch holds every key the resource made, tagged with its uid;
// the connection Secret names the current one. Observe reads both each
// time, so recovery never depends on what the crashed process knew:
//
//	create: create key K ─► publish K ─► record K as external name
//	  crash after create:  K is active, no Secret holds it: its secret is
//	                       lost, so K is replaced (a new key published,
//	                       then K invalidated)
//	  crash after publish: the Secret holds K: K is adopted and recorded
//	rotate: create K2 ─► publish K2 ─► record K2 ─► invalidate K1
//	  crash after create:  the Secret still holds K1; K2 is a stray and is
//	                       invalidated, and the rotation, still due, runs
//	                       again
//	  crash after publish or record: the Secret holds K2: K2 is adopted,
//	                       K1 invalidated (or kept while it awaits handover)
//	delete: invalidate every key ─► delete the Secret ─► (reconciler)
//	        remove the finalizer once Observe finds nothing left
//
// A Secret that is missing, not the resource's, or inconsistent (id and
// encoded key of different keys) is repaired the same way as a lost one: a
// new key is published whole and only then are the others invalidated, so
// the resource is never Ready with a Secret that does not hold a valid key.

// ownedState is what Observe found for an owned key.
type ownedState struct {
	// keys are the resource's active keys: tagged with its uid, neither
	// invalidated nor expired.
	keys []elasticsearch.APIKey
	// published is what the connection Secret holds.
	published published
	// current is the key the Secret holds, nil when it holds none of keys.
	current *elasticsearch.APIKey
	// handover is the key current replaced, while handover is configured
	// and the key is still active.
	handover *elasticsearch.APIKey
	// handoverDone is true when the consumer has taken up current, so
	// that handover is invalidated now.
	handoverDone bool
	// predecessor is, when current is nil, the key last recorded as the
	// external name: a replacement keeps it valid for handover.
	predecessor *elasticsearch.APIKey
	// strays are every other active key: invalidated by Update.
	strays []elasticsearch.APIKey

	// rotate says why the current key must be replaced, "" when not.
	rotate string
	// update is true when the current key is changed in place.
	update bool
	// applyExpiration is true when the update sets a changed expiration.
	applyExpiration bool
	access          elasticsearch.Access
}

func (e *external) checkOwnedSpec(cr *esv1alpha1.CrossClusterAPIKey) error {
	p := cr.Spec.ForProvider
	if cr.GetWriteConnectionSecretToReference() == nil {
		return fmt.Errorf("spec.writeConnectionSecretToReference is required for a key %s creates: a key's secret can be read only once, when it is created", ref(cr))
	}
	if err := checkMetadataSize(p.Metadata); err != nil {
		return err
	}
	if strings.HasPrefix(p.Name, "eck-") {
		return fmt.Errorf("spec.forProvider.name %q begins with eck-, the prefix of the keys ECK manages (ECK invalidates eck- keys it does not know): choose another name", p.Name)
	}
	exp, rb := "", ""
	if p.Expiration != nil {
		exp = *p.Expiration
	}
	if p.RotateBefore != nil {
		rb = *p.RotateBefore
	}
	fields := keylifetime.Fields{Expiration: "spec.forProvider.expiration", RotateBefore: "spec.forProvider.rotateBefore"}
	return keylifetime.CheckKeyLifetime(fields, exp, rb, e.minLifetime, "the provider's --min-key-lifetime")
}

// errUnsettled stops an observation from the cached Secret that would lead
// to a write.
var errUnsettled = errors.New("the cached connection Secret does not show a settled key")

// observeOwned observes an owned key. With a cache of the provider's
// Secrets, it looks at the connection Secret there first, and trusts that
// look only when it finds the key settled: current, recorded, up to date,
// with no stray. Anything else (a key to create, adopt, replace or
// invalidate, a Secret the cache has not caught up with) is decided on the
// Secret as the API server holds it: a Secret read before the last publish
// would make the key just published look like a stray.
func (e *external) observeOwned(ctx context.Context, cr *esv1alpha1.CrossClusterAPIKey) (managed.ExternalObservation, error) {
	if e.cached != nil && !meta.WasDeleted(cr) {
		status := cr.Status.DeepCopy()
		o, err := e.observeOwnedFrom(ctx, cr, e.cached, true)
		if err == nil && o.ResourceExists && o.ResourceUpToDate {
			return o, nil
		}
		cr.Status = *status
	}
	return e.observeOwnedFrom(ctx, cr, e.secrets, false)
}

// observeOwnedFrom observes an owned key, reading its connection Secret
// from secrets; cached says they may lag, so that nothing is written.
func (e *external) observeOwnedFrom(ctx context.Context, cr *esv1alpha1.CrossClusterAPIKey, secrets client.Reader, cached bool) (managed.ExternalObservation, error) {
	now := e.now()
	deleting := meta.WasDeleted(cr)
	if !deleting {
		if err := e.checkOwnedSpec(cr); err != nil {
			conditions.SetNotReady(cr, conditions.ReasonInvalidSpec, err, mirror)
			return managed.ExternalObservation{}, &reportedError{err}
		}
	}
	uid := string(cr.GetUID())
	all, err := e.keys.KeysByOwner(ctx, uid, cr.Spec.ForProvider.Name)
	if err != nil {
		err = fmt.Errorf("cannot find the keys of %s: %w", ref(cr), err)
		conditions.SetBlocked(cr, err, conditions.ReasonProviderConfigError, mirror)
		return managed.ExternalObservation{}, err
	}
	st := &ownedState{}
	for _, k := range all {
		if k.Active(now) && k.MetadataString(metadataUID) == uid {
			st.keys = append(st.keys, k)
		}
	}
	if st.published, err = e.readPublished(ctx, cr, secrets); err != nil {
		conditions.SetBlocked(cr, err, conditions.ReasonProviderConfigError, mirror)
		return managed.ExternalObservation{}, err
	}
	// A hand-written external name may point at someone else's key: it is
	// never adopted, updated or invalidated. A key of another resource and
	// an id no key has get the same answer, so that the annotation tells a
	// team nothing about the remote's keys, not even whether one exists:
	// the name passes only as a key of the resource's own (its uid in the
	// metadata, expired or invalidated ones included) or as the id the
	// resource's own connection Secret holds (its own key, gone from the
	// remote: a new one replaces it).
	if id := meta.GetExternalName(cr); id != "" && find(st.keys, id) == nil && !deleting && id != st.published.id {
		k, err := e.keys.KeyByID(ctx, id)
		if err != nil {
			err = fmt.Errorf("cannot observe key %s (crossplane.io/external-name) of %s: %w", id, ref(cr), err)
			conditions.SetBlocked(cr, err, conditions.ReasonProviderConfigError, mirror)
			return managed.ExternalObservation{}, err
		}
		if k == nil || k.MetadataString(metadataUID) != uid {
			cr.Status.AtProvider = esv1alpha1.CrossClusterAPIKeyObservation{}
			refused := fmt.Errorf(
				"crossplane.io/external-name of %s names API key %s, which is not a key this resource created: no key of that id that carries the resource's uid in its metadata (%s) is on Elasticsearch at %s, and the resource's connection Secret does not hold it; the provider never adopts, updates or invalidates a key it does not own: remove the annotation to have the resource create its own key",
				ref(cr), id, metadataUID, e.es.URL())
			conditions.SetNotReady(cr, conditions.ReasonKeyNotOwned, refused, mirror)
			return managed.ExternalObservation{}, &reportedError{refused}
		}
	}
	if id := st.published.id; id != "" && find(st.keys, id) == nil {
		// The query API searches, and a search may lag behind a write.
		k, err := e.keys.KeyByID(ctx, id)
		if err != nil {
			err = fmt.Errorf("cannot observe key %s (connection Secret) of %s: %w", id, ref(cr), err)
			conditions.SetBlocked(cr, err, conditions.ReasonProviderConfigError, mirror)
			return managed.ExternalObservation{}, err
		}
		if k != nil && k.MetadataString(metadataUID) == uid && k.Active(now) {
			st.keys = append(st.keys, *k)
		}
	}
	e.owned = st

	if deleting {
		if len(st.keys) == 0 && !controlledBy(st.published, cr) {
			reach(StepDeleteBeforeFinalizer)
			return managed.ExternalObservation{ResourceExists: false}, nil
		}
		return managed.ExternalObservation{ResourceExists: true}, nil
	}
	if len(st.keys) == 0 {
		cr.Status.AtProvider = esv1alpha1.CrossClusterAPIKeyObservation{}
		return managed.ExternalObservation{ResourceExists: false}, nil
	}
	e.classify(cr, st)
	if st.current == nil {
		cr.Status.AtProvider = esv1alpha1.CrossClusterAPIKeyObservation{}
		conditions.SetNotReady(cr, conditions.ReasonConnectionSecretBad, fmt.Errorf(
			"%s; a key's secret cannot be read back from Elasticsearch, so a new key is published and the resource's other keys are then invalidated", st.published.why), mirror)
		return managed.ExternalObservation{ResourceExists: true, ResourceUpToDate: false, Diff: "connection Secret"}, nil
	}
	if cached && meta.GetExternalName(cr) != st.current.ID {
		return managed.ExternalObservation{}, errUnsettled
	}
	if err := e.recordID(ctx, cr, st.current.ID); err != nil {
		conditions.SetBlocked(cr, err, conditions.ReasonProviderConfigError, mirror)
		return managed.ExternalObservation{}, err
	}
	diffs, err := e.plan(cr, st, now)
	if err != nil {
		conditions.SetNotReady(cr, conditions.ReasonInvalidSpec, err, mirror)
		return managed.ExternalObservation{}, &reportedError{err}
	}
	return managed.ExternalObservation{
		ResourceExists:    true,
		ResourceUpToDate:  len(diffs) == 0,
		ConnectionDetails: st.published.secret.Data,
		Diff:              strings.Join(diffs, ", "),
	}, nil
}

// classify sorts the resource's keys into current (the one the Secret
// holds), the one awaiting handover, and strays.
func (e *external) classify(cr *esv1alpha1.CrossClusterAPIKey, st *ownedState) {
	p := st.published
	if k := find(st.keys, p.id); k != nil && k.Name == p.name {
		st.current = k
	}
	handover := cr.Spec.ForProvider.Handover
	keep := ""
	switch {
	case st.current != nil && handover != nil:
		if h := find(st.keys, st.current.MetadataString(esv1alpha1.MetadataReplaces)); h != nil && h.ID != st.current.ID {
			st.handover = h
			st.handoverDone = handover.ConsumerKeyID == st.current.ID
			keep = h.ID
		}
	case st.current == nil && handover != nil:
		// The consumer may still use the key the Secret held last.
		st.predecessor = find(st.keys, meta.GetExternalName(cr))
		if st.predecessor != nil {
			keep = st.predecessor.ID
		}
	}
	for _, k := range st.keys {
		if (st.current == nil || k.ID != st.current.ID) && k.ID != keep {
			st.strays = append(st.strays, k)
		}
	}
}

// plan compares the current key with the spec, fills in the status, and
// returns what differs.
func (e *external) plan(cr *esv1alpha1.CrossClusterAPIKey, st *ownedState, now time.Time) ([]string, error) {
	k := st.current
	cr.Status.AtProvider = atProvider(k, now)
	if st.handover != nil && !st.handoverDone {
		cr.Status.AtProvider.AwaitingHandoverKeyID = st.handover.ID
	}
	access, err := desiredAccess(cr.Spec.ForProvider.Access)
	if err != nil {
		return nil, err
	}
	st.access = access
	md, err := desiredMetadata(cr, access, k.MetadataString(esv1alpha1.MetadataReplaces))
	if err != nil {
		return nil, err
	}
	md = withForced(md, k.MetadataString(esv1alpha1.MetadataForceReplaceBefore))
	next, err := nextRotation(cr, k, e.minLifetime)
	if err != nil {
		return nil, err
	}
	if next != nil {
		cr.Status.AtProvider.NextRotation = timeOf(*next)
	}

	var diffs []string
	accessOK := k.Access != nil && accessEqual(access, *k.Access)
	certOK := stringPtrEqual(cr.Spec.ForProvider.CertificateIdentity, k.CertificateIdentity)
	cr.Status.AtProvider.AccessMatches = accessOK
	if accessOK && certOK {
		available(cr)
	} else {
		conditions.SetNotReady(cr, conditions.ReasonAccessMismatch, fmt.Errorf("key %s does not grant spec.forProvider.access (or certificateIdentity) yet: updating it", k.ID), mirror)
	}
	if len(st.strays) > 0 {
		diffs = append(diffs, fmt.Sprintf("%d stray keys", len(st.strays)))
	}
	if st.handoverDone {
		diffs = append(diffs, "handover complete")
	}

	rotate, expirationWaits := "", false
	switch {
	case next != nil && !now.Before(*next):
		rotate = fmt.Sprintf("its rotation was due at %s", next.UTC().Format(time.RFC3339))
	case forcedReplacement(cr, k, now):
		rotate = fmt.Sprintf("spec.forProvider.forceReplaceBefore is %s, and the key was made before it was set", forceReplaceBefore(cr))
	case expirationChanged(cr, k) && (desiredExpiration(cr) == "" || !elasticsearch.SupportsUpdateExpiration(e.version)):
		why := fmt.Sprintf("spec.forProvider.expiration changed to %q, which Elasticsearch %s cannot apply to an existing key", desiredExpiration(cr), e.version)
		// A change of the spec never replaces a key younger than the
		// minimum lifetime: toggling a field must not churn keys.
		if at := time.UnixMilli(k.Creation).Add(e.minLifetime); now.Before(at) {
			expirationWaits = true
			e.record.Event(cr, event.Normal(reasonReplacementWaits, fmt.Sprintf(
				"Key %s is replaced at %s, once it has served the provider's --min-key-lifetime (%s): %s; set spec.forProvider.forceReplaceBefore to the current time to replace it now",
				k.ID, at.UTC().Format(time.RFC3339), e.minLifetime, why)))
			break
		}
		rotate = why
	}
	if rotate != "" && st.handover != nil && !st.handoverDone {
		// A rotation is never due again before the last one finished.
		e.record.Event(cr, event.Warning(reasonHandoverWait, fmt.Errorf(
			"key %s should be replaced (%s), but the key it replaced, %s, still awaits handover: spec.forProvider.handover.consumerKeyID must name %s first", k.ID, rotate, st.handover.ID, k.ID)))
		rotate = ""
	}
	if rotate != "" {
		st.rotate = rotate
		return append(diffs, "rotation: "+rotate), nil
	}
	if !accessOK {
		diffs = append(diffs, "access")
	}
	if !certOK {
		diffs = append(diffs, "certificateIdentity")
	}
	if !metadataEqual(md, k.Metadata) {
		diffs = append(diffs, "metadata")
	}
	if expirationChanged(cr, k) && !expirationWaits {
		st.applyExpiration = true
		diffs = append(diffs, "expiration")
	}
	st.update = !accessOK || !certOK || st.applyExpiration || !metadataEqual(md, k.Metadata)
	return diffs, nil
}

// createOwned makes the resource's first key: nothing the resource owns is
// active (Observe checked), so there is nothing to invalidate.
func (e *external) createOwned(ctx context.Context, cr *esv1alpha1.CrossClusterAPIKey) (*elasticsearch.CreatedKey, error) {
	if err := e.checkOwnedSpec(cr); err != nil {
		return nil, err
	}
	created, err := e.newKey(ctx, cr, "")
	if err != nil {
		return nil, err
	}
	reach(StepCreateKeyCreated)
	if err := e.publish(ctx, cr, created); err != nil {
		return nil, err
	}
	reach(StepCreatePublished)
	if err := e.recordID(ctx, cr, created.ID); err != nil {
		return nil, err
	}
	reach(StepCreateRecorded)
	return created, nil
}

// newKey creates a key for cr; replaces names the key it succeeds while
// that one awaits handover.
func (e *external) newKey(ctx context.Context, cr *esv1alpha1.CrossClusterAPIKey, replaces string) (*elasticsearch.CreatedKey, error) {
	p := cr.Spec.ForProvider
	access, err := desiredAccess(p.Access)
	if err != nil {
		return nil, err
	}
	md, err := desiredMetadata(cr, access, replaces)
	if err != nil {
		return nil, err
	}
	md = withForced(md, forceReplaceBefore(cr))
	if err := e.checkCertificateIdentity(p.CertificateIdentity); err != nil {
		return nil, err
	}
	if err := e.recordNamespace(ctx, cr); err != nil {
		return nil, err
	}
	req := elasticsearch.CreateRequest{Name: p.Name, Access: access, Metadata: md, CertificateIdentity: p.CertificateIdentity, Expiration: desiredExpiration(cr)}
	created, err := e.es.CreateCrossClusterAPIKey(ctx, req)
	if err != nil {
		return nil, fmt.Errorf("cannot create cross-cluster API key for %s: %w", ref(cr), err)
	}
	return created, nil
}

func (e *external) checkCertificateIdentity(ci *string) error {
	if ci != nil && !elasticsearch.SupportsCertificateIdentity(e.version) {
		return &elasticsearch.Error{Reason: elasticsearch.ReasonVersion, Message: fmt.Sprintf(
			"spec.forProvider.certificateIdentity needs Elasticsearch %s or later, but %s runs %s: remove the field or upgrade",
			eckschema.CertificateIdentityVersion, e.es.URL(), e.version)}
	}
	return nil
}

func (e *external) updateOwned(ctx context.Context, cr *esv1alpha1.CrossClusterAPIKey) (managed.ExternalUpdate, error) {
	st := e.owned
	if st == nil {
		return managed.ExternalUpdate{}, fmt.Errorf("cannot update %s: it was not observed first", ref(cr))
	}
	if st.current == nil {
		// The Secret lost its key: publish a new one, then invalidate the
		// others (except one awaiting handover).
		var keep string
		if st.predecessor != nil {
			keep = st.predecessor.ID
		}
		upd, err := e.succeed(ctx, cr, keep, st.keys, keep)
		if err != nil {
			return upd, err
		}
		e.record.Event(cr, event.Normal(reasonReplaced, fmt.Sprintf(
			"Replaced the key of %s by %s: %s", ref(cr), meta.GetExternalName(cr), st.published.why)))
		return upd, nil
	}

	drop := append([]elasticsearch.APIKey(nil), st.strays...)
	if st.handoverDone {
		drop = append(drop, *st.handover)
	}
	if err := e.invalidate(ctx, cr, drop); err != nil {
		return managed.ExternalUpdate{}, err
	}
	for _, k := range st.strays {
		e.record.Event(cr, event.Normal(reasonInvalidatedStray, fmt.Sprintf(
			"Invalidated key %s: it carries this resource's uid, but the connection Secret holds %s (a crash between two steps left it)", k.ID, st.current.ID)))
	}
	if st.handoverDone {
		e.record.Event(cr, event.Normal(reasonHandoverDone, fmt.Sprintf(
			"Invalidated key %s: its consumer has taken up %s", st.handover.ID, st.current.ID)))
	}

	if st.rotate != "" {
		return e.rotate(ctx, cr, st, st.rotate)
	}
	if !st.update {
		return managed.ExternalUpdate{}, nil
	}
	p := cr.Spec.ForProvider
	md, err := desiredMetadata(cr, st.access, st.current.MetadataString(esv1alpha1.MetadataReplaces))
	if err != nil {
		return managed.ExternalUpdate{}, err
	}
	md = withForced(md, st.current.MetadataString(esv1alpha1.MetadataForceReplaceBefore))
	if err := e.checkCertificateIdentity(p.CertificateIdentity); err != nil {
		conditions.SetBlocked(cr, err, conditions.ReasonProviderConfigError, mirror)
		return managed.ExternalUpdate{}, err
	}
	req := elasticsearch.UpdateRequest{
		Access:   st.access,
		Metadata: md,
		// Before 9.3 the field is unknown; it can only be unset there.
		SetCertificateIdentity: elasticsearch.SupportsCertificateIdentity(e.version),
		CertificateIdentity:    p.CertificateIdentity,
	}
	if st.applyExpiration {
		req.Expiration = desiredExpiration(cr)
	}
	id := st.current.ID
	_, err = e.es.UpdateCrossClusterAPIKey(ctx, id, req)
	if elasticsearch.IsNotFound(err) {
		// Only the Elasticsearch user that created a key may update it: the
		// provider config now uses another user. Replace the key.
		return e.rotate(ctx, cr, st, fmt.Sprintf("Elasticsearch reports no key %s owned by the provider config's user (the key was created with other credentials)", id))
	}
	if err != nil {
		err = fmt.Errorf("cannot update cross-cluster API key %s for %s: %w", id, ref(cr), err)
		conditions.SetBlocked(cr, err, conditions.ReasonProviderConfigError, mirror)
		return managed.ExternalUpdate{}, err
	}
	if st.applyExpiration {
		e.record.Event(cr, event.Normal(reasonExpirationApplied, fmt.Sprintf(
			"Key %s now expires %s from now (spec.forProvider.expiration)", id, req.Expiration)))
	}
	return managed.ExternalUpdate{}, nil
}

// rotate replaces the current key without downtime: the successor is
// created, published and recorded before the old key is invalidated, or,
// with a handover, kept until the consumer has taken up the successor.
func (e *external) rotate(ctx context.Context, cr *esv1alpha1.CrossClusterAPIKey, st *ownedState, why string) (_ managed.ExternalUpdate, err error) {
	defer metrics.StartRotation(cr.GetUID()).End(&err)
	old := st.current
	keep, replaces := "", ""
	if cr.Spec.ForProvider.Handover != nil {
		keep, replaces = old.ID, old.ID
	}
	upd, err := e.succeed(ctx, cr, replaces, []elasticsearch.APIKey{*old}, keep)
	if err != nil {
		err = fmt.Errorf("cannot rotate cross-cluster API key %s: %w", old.ID, err)
		conditions.SetBlocked(cr, err, conditions.ReasonProviderConfigError, mirror)
		return upd, err
	}
	e.record.Event(cr, event.Normal(reasonRotated, fmt.Sprintf("Replaced cross-cluster API key %s by %s: %s", old.ID, meta.GetExternalName(cr), why)))
	return upd, nil
}

// succeed creates a new key, publishes and records it, and then
// invalidates olds except keep. These are the rotation fault points.
func (e *external) succeed(ctx context.Context, cr *esv1alpha1.CrossClusterAPIKey, replaces string, olds []elasticsearch.APIKey, keep string) (managed.ExternalUpdate, error) {
	created, err := e.newKey(ctx, cr, replaces)
	if err != nil {
		conditions.SetBlocked(cr, err, conditions.ReasonProviderConfigError, mirror)
		return managed.ExternalUpdate{}, err
	}
	reach(StepRotateKeyCreated)
	if err := e.publish(ctx, cr, created); err != nil {
		return managed.ExternalUpdate{}, err
	}
	reach(StepRotatePublished)
	details := connectionDetails(created)
	if err := e.recordID(ctx, cr, created.ID); err != nil {
		return managed.ExternalUpdate{ConnectionDetails: details}, err
	}
	reach(StepRotateRecorded)
	var drop []elasticsearch.APIKey
	for _, k := range olds {
		if k.ID != keep && k.ID != created.ID {
			drop = append(drop, k)
		}
	}
	if err := e.invalidate(ctx, cr, drop); err != nil {
		return managed.ExternalUpdate{ConnectionDetails: details}, err
	}
	if len(drop) > 0 {
		reach(StepRotateOldInvalidated)
	}
	return managed.ExternalUpdate{ConnectionDetails: details}, nil
}

// invalidate invalidates keys the resource owns, in one request.
func (e *external) invalidate(ctx context.Context, cr *esv1alpha1.CrossClusterAPIKey, keys []elasticsearch.APIKey) error {
	ids := make([]string, 0, len(keys))
	for _, k := range keys {
		if k.MetadataString(metadataUID) != string(cr.GetUID()) {
			// Never reached: every key here came from the uid lookup.
			return fmt.Errorf("refusing to invalidate key %s for %s: it does not carry the resource's uid", k.ID, ref(cr))
		}
		ids = append(ids, k.ID)
	}
	if err := e.es.InvalidateAPIKeys(ctx, ids...); err != nil {
		err = fmt.Errorf("cannot invalidate keys of %s: %w", ref(cr), err)
		conditions.SetBlocked(cr, err, conditions.ReasonProviderConfigError, mirror)
		return err
	}
	return nil
}

// deleteOwned invalidates every key the resource owns, then its Secret.
func (e *external) deleteOwned(ctx context.Context, cr *esv1alpha1.CrossClusterAPIKey) error {
	st := e.owned
	if st == nil {
		return fmt.Errorf("cannot delete %s: it was not observed first", ref(cr))
	}
	if err := e.invalidate(ctx, cr, st.keys); err != nil {
		return err
	}
	reach(StepDeleteInvalidated)
	if err := e.deleteConnectionSecret(ctx, cr, st.published.secret); err != nil {
		conditions.SetBlocked(cr, err, conditions.ReasonProviderConfigError, mirror)
		return err
	}
	reach(StepDeleteSecretDeleted)
	return nil
}

// recordID records id as the external name. The status computed so far
// survives the patch, which returns the stored one.
func (e *external) recordID(ctx context.Context, cr *esv1alpha1.CrossClusterAPIKey, id string) error {
	if meta.GetExternalName(cr) == id {
		return nil
	}
	status := cr.Status.DeepCopy()
	orig := cr.DeepCopy()
	meta.SetExternalName(cr, id)
	if err := e.kube.Patch(ctx, cr, client.MergeFrom(orig)); err != nil {
		return fmt.Errorf("cannot record key id %s as the external name of %s: %w", id, ref(cr), err)
	}
	cr.Status = *status
	return nil
}

func find(keys []elasticsearch.APIKey, id string) *elasticsearch.APIKey {
	if id == "" {
		return nil
	}
	for i := range keys {
		if keys[i].ID == id {
			return &keys[i]
		}
	}
	return nil
}

func controlledBy(p published, cr *esv1alpha1.CrossClusterAPIKey) bool {
	if p.secret == nil {
		return false
	}
	for _, o := range p.secret.OwnerReferences {
		if o.Controller != nil && *o.Controller && o.UID == cr.GetUID() {
			return true
		}
	}
	return false
}

// recordNamespace records the resource's namespace on the Elasticsearch
// object that holds its keys, before the namespace's first key there: the
// proof that lets its deletion invalidate them after the grant was
// revoked (see eckschema.AnnotationKeyNamespaces). A namespace already
// recorded costs one read.
func (e *external) recordNamespace(ctx context.Context, cr *esv1alpha1.CrossClusterAPIKey) error {
	if e.cluster == "" {
		return nil
	}
	name := splitCluster(e.cluster)
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		es := eckschema.NewElasticsearch()
		if err := e.kube.Get(ctx, name, es); err != nil {
			return err
		}
		a := es.GetAnnotations()
		if eckschema.KeyNamespaceRecorded(a, cr.GetNamespace()) {
			return nil
		}
		orig := es.DeepCopy()
		if a == nil {
			a = map[string]string{}
		}
		a[eckschema.AnnotationKeyNamespaces] = eckschema.WithKeyNamespace(a[eckschema.AnnotationKeyNamespaces], cr.GetNamespace())
		es.SetAnnotations(a)
		return e.kube.Patch(ctx, es, client.MergeFromWithOptions(orig, client.MergeFromWithOptimisticLock{}))
	})
	if err != nil {
		return fmt.Errorf("cannot record namespace %s in annotation %s of Elasticsearch %s before creating a key for %s: %w",
			cr.GetNamespace(), eckschema.AnnotationKeyNamespaces, e.cluster, ref(cr), err)
	}
	return nil
}
