package tenant

import (
	"bytes"
	"slices"
	"strings"
	"testing"

	"github.com/crossplane/crossplane-runtime/v2/pkg/meta"
	xpv2 "github.com/crossplane/crossplane/apis/v2/core/v2"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/utils/ptr"

	esv1alpha1 "github.com/eslink/eslink/apis/elasticsearch/v1alpha1"
	"github.com/eslink/eslink/internal/linkrules"
	"github.com/eslink/eslink/test/fakeelasticsearch/esfake"
)

// The key attacks of leak 1, and the key half of leak 5. A key resource
// acts only on a key that carries its uid: a key found by name, id or
// external-name without it is never updated or invalidated, and the
// resource says so. These cases need the key ownership rules of the
// CrossClusterAPIKey controller (its own branch); they are written against
// that behaviour.

// victimKey is a key the victim's team owns through its own resource.
func victimKey(t *testing.T, c *cluster, keyName string) (*esv1alpha1.CrossClusterAPIKey, esfake.KeySnapshot) {
	t.Helper()
	k := key(victimNS, unique("victim-key"), keyName, c.Config, ptr.To(c.ref()), keySearch("logs-*"))
	if err := admin.Create(t.Context(), k); err != nil {
		t.Fatal(err)
	}
	waitReady(t, k)
	got, _ := fresh(t, k)
	id := meta.GetExternalName(got)
	for _, s := range c.Fake.Keys() {
		if s.ID == id {
			return k, s
		}
	}
	t.Fatalf("the victim's key %s is not on %s", id, c)
	return nil, esfake.KeySnapshot{}
}

// unchanged fails unless the key is on fake exactly as before: valid, with
// the same access and metadata, and no request wrote it.
func unchanged(t *testing.T, fake *esfake.Server, before esfake.KeySnapshot, writesBefore int) {
	t.Helper()
	for _, s := range fake.Keys() {
		if s.ID != before.ID {
			continue
		}
		if s.Invalidated {
			t.Errorf("the victim's key %s was invalidated", s.ID)
		}
		if !bytes.Equal(s.Access, before.Access) || !bytes.Equal(s.Metadata, before.Metadata) {
			t.Errorf("the victim's key %s was rewritten: access %s -> %s, metadata %s -> %s", s.ID, before.Access, s.Access, before.Metadata, s.Metadata)
		}
	}
	if w := writes(fake); len(w) > writesBefore {
		t.Errorf("the attack wrote to the victim's cluster: %v", w[writesBefore:])
	}
}

// refusesForeignKey waits for the condition that says the resource does
// not own the key it found.
func refusesForeignKey(t *testing.T, k *esv1alpha1.CrossClusterAPIKey) {
	t.Helper()
	waitFor(t, "a condition saying the key is not the resource's own", func() (bool, string) {
		got, ok := fresh(t, k)
		if !ok {
			return false, "not found"
		}
		ready, synced := got.GetCondition(xpv2.TypeReady), got.GetCondition(xpv2.TypeSynced)
		if ready.Status != corev1.ConditionFalse || synced.Status != corev1.ConditionFalse {
			return false, conditions(got)
		}
		for _, m := range []string{ready.Message, synced.Message} {
			if strings.Contains(m, "does not carry") || strings.Contains(m, "does not own") {
				return true, ""
			}
		}
		return false, conditions(got)
	})
}

func TestKeyObserveAndDeleteAnotherTeamsKeyByName(t *testing.T) {
	t.Parallel()
	shared := newCluster(t, adminNamespace(t, "keys-by-name"), "shared", map[string]string{linkrules.AnnotationAllowedNamespaces: tenantNS + "," + victimNS}, true)
	victim, before := victimKey(t, shared, "victim-logs")
	defer func() { _ = admin.Delete(t.Context(), victim) }()
	writesBefore := len(writes(shared.Fake))

	steal := key(tenantNS, unique("steal-by-name"), before.Name, shared.Config, ptr.To(shared.ref()), keySearch("logs-*"))
	steal.Spec.ManagementPolicies = xpv2.ManagementPolicies{xpv2.ManagementActionObserve, xpv2.ManagementActionDelete}
	steal.Spec.WriteConnectionSecretToReference = nil
	if err := tenant.Create(t.Context(), steal); err != nil {
		t.Fatal(err)
	}
	refusesForeignKey(t, steal)
	unchanged(t, shared.Fake, before, writesBefore)

	if err := tenant.Delete(t.Context(), steal); err != nil {
		t.Fatal(err)
	}
	settleDeletion(t, steal)
	unchanged(t, shared.Fake, before, writesBefore)
}

func TestKeyExternalNameOfAnotherTeamsKey(t *testing.T) {
	t.Parallel()
	shared := newCluster(t, adminNamespace(t, "keys-by-id"), "shared", map[string]string{linkrules.AnnotationAllowedNamespaces: tenantNS + "," + victimNS}, true)
	victim, before := victimKey(t, shared, "victim-archive")
	defer func() { _ = admin.Delete(t.Context(), victim) }()
	writesBefore := len(writes(shared.Fake))

	// An owned key whose external name is the victim's key id, asking for
	// other access, so an update would show.
	hijack := key(tenantNS, unique("hijack"), "tenant-archive", shared.Config, ptr.To(shared.ref()), keySearch("logs-tenant-*"))
	meta.SetExternalName(hijack, before.ID)
	if err := tenant.Create(t.Context(), hijack); err != nil {
		t.Fatal(err)
	}
	refusesForeignKey(t, hijack)
	unchanged(t, shared.Fake, before, writesBefore)

	if err := tenant.Delete(t.Context(), hijack); err != nil {
		t.Fatal(err)
	}
	settleDeletion(t, hijack)
	unchanged(t, shared.Fake, before, writesBefore)
}

// TestKeyCleanupOfARefusedResource checks that cleanup, which skips the
// cluster's grants, is no way around them: a resource refused on a cluster
// that does not grant the tenant, given a finalizer by hand so that its
// deletion reaches the cluster, and pointed at the victim's key, never
// invalidates it.
func TestKeyCleanupOfARefusedResource(t *testing.T) {
	t.Parallel()
	locked := newCluster(t, adminNamespace(t, "keys-locked"), "locked", map[string]string{linkrules.AnnotationAllowedNamespaces: victimNS}, true)
	victim, before := victimKey(t, locked, "victim-private")
	defer func() { _ = admin.Delete(t.Context(), victim) }()
	writesBefore := len(writes(locked.Fake))

	k := key(tenantNS, unique("cleanup-bypass"), before.Name, locked.Config, ptr.To(locked.ref()), keySearch("logs-*"))
	meta.SetExternalName(k, before.ID)
	meta.AddFinalizer(k, "finalizer.managedresource.crossplane.io")
	if err := tenant.Create(t.Context(), k); err != nil {
		t.Fatal(err)
	}
	waitDenied(t, k, "namespace tenant is not allowed to link "+locked.String())
	if err := tenant.Delete(t.Context(), k); err != nil {
		t.Fatal(err)
	}
	settleDeletion(t, k)
	unchanged(t, locked.Fake, before, writesBefore)
}

// settleDeletion waits until a deleted key resource is gone, or the
// provider has answered its deletion with a condition or an event.
func settleDeletion(t *testing.T, k *esv1alpha1.CrossClusterAPIKey) {
	t.Helper()
	start := len(events(t, k.GetNamespace(), k.GetName()))
	waitFor(t, "the deletion to be handled", func() (bool, string) {
		got, ok := fresh(t, k)
		if !ok {
			return true, ""
		}
		if got.GetCondition(xpv2.TypeReady).Reason == xpv2.ReasonDeleting || len(events(t, k.GetNamespace(), k.GetName())) > start {
			return true, ""
		}
		return false, conditions(got)
	})
}

// TestKeyCleanupAfterRevokedGrant is the key half of leak 5: an owned key
// is invalidated when its resource is deleted after the grant was revoked.
func TestKeyCleanupAfterRevokedGrant(t *testing.T) {
	t.Parallel()
	remote := newCluster(t, adminNamespace(t, "keys-revoked"), "remote", map[string]string{linkrules.AnnotationAllowedNamespaces: tenantNS}, true)
	k := key(tenantNS, unique("revoked-key"), "tenant-revoked", remote.Config, ptr.To(remote.ref()), keySearch("logs-*"))
	if err := tenant.Create(t.Context(), k); err != nil {
		t.Fatal(err)
	}
	waitReady(t, k)
	got, _ := fresh(t, k)
	id := meta.GetExternalName(got)

	setGrants(t, remote, nil)
	deleteAndWait(t, tenant, k)
	i := slices.IndexFunc(remote.Fake.Keys(), func(s esfake.KeySnapshot) bool { return s.ID == id })
	if i < 0 || !remote.Fake.Keys()[i].Invalidated {
		t.Errorf("key %s of the deleted resource is still valid after its grant was revoked: %+v", id, remote.Fake.Keys())
	}
}

// TestKeyCleanupAfterTargetGone is the key half of leak 5 when the remote
// Elasticsearch object is gone: the deletion finishes with a Warning event.
func TestKeyCleanupAfterTargetGone(t *testing.T) {
	t.Parallel()
	remote := newCluster(t, adminNamespace(t, "keys-gone"), "remote", map[string]string{linkrules.AnnotationAllowedNamespaces: tenantNS}, true)
	k := key(tenantNS, unique("gone-key"), "tenant-gone", remote.Config, ptr.To(remote.ref()), keySearch("logs-*"))
	if err := tenant.Create(t.Context(), k); err != nil {
		t.Fatal(err)
	}
	waitReady(t, k)
	if err := admin.Delete(t.Context(), getES(t, remote)); err != nil {
		t.Fatal(err)
	}
	deleteAndWait(t, tenant, k)
	ev := strings.Join(events(t, tenantNS, k.GetName()), "\n")
	if !strings.Contains(ev, "Warning") || !strings.Contains(ev, remote.String()) {
		t.Errorf("events of %s:\n%s\nwant a Warning that Elasticsearch %s is gone", k.GetName(), ev, remote)
	}
}
