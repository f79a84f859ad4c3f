package tenant

import (
	"bytes"
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/crossplane/crossplane-runtime/v2/pkg/meta"
	xpv2 "github.com/crossplane/crossplane/apis/v2/core/v2"
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
func refusesForeignKey(t *testing.T, _ *cluster, k *esv1alpha1.CrossClusterAPIKey) {
	t.Helper()
	waitRefused(t, k, "the key is not the resource's own", func(m string) bool {
		return strings.Contains(m, "does not carry") || strings.Contains(m, "does not own")
	})
}

// victimSetup starts a cluster with these grants in a namespace of its own
// and the victim's key on it, and returns them with the number of writes
// its fake saw so far.
func victimSetup(t *testing.T, prefix, keyName string, grants map[string]string) (*cluster, esfake.KeySnapshot, int) {
	t.Helper()
	c := newCluster(t, adminNamespace(t, prefix), "shared", grants, true)
	victim, before := victimKey(t, c, keyName)
	t.Cleanup(func() { _ = admin.Delete(context.Background(), victim) })
	return c, before, len(writes(c.Fake))
}

// TestKeyAttacks are the attacks of leak 1, each against a key the
// victim's team owns: the tenant's resource must refuse to act on it, and
// deleting the resource must leave the key as it was.
func TestKeyAttacks(t *testing.T) {
	t.Parallel()
	bothTeams := map[string]string{linkrules.AnnotationAllowedNamespaces: tenantNS + "," + victimNS}
	cases := map[string]struct {
		grants map[string]string
		// attack is the resource the tenant writes against the victim's
		// key on c.
		attack func(c *cluster, victim esfake.KeySnapshot) *esv1alpha1.CrossClusterAPIKey
		// refused waits for the provider's refusal.
		refused func(t *testing.T, c *cluster, k *esv1alpha1.CrossClusterAPIKey)
	}{
		// Observe another team's key by name, with a policy that lets the
		// resource invalidate it on delete.
		"ObserveAndDeleteByName": {
			grants: bothTeams,
			attack: func(c *cluster, victim esfake.KeySnapshot) *esv1alpha1.CrossClusterAPIKey {
				k := key(tenantNS, unique("steal-by-name"), victim.Name, c.Config, ptr.To(c.ref()), keySearch("logs-*"))
				k.Spec.ManagementPolicies = xpv2.ManagementPolicies{xpv2.ManagementActionObserve, xpv2.ManagementActionDelete}
				k.Spec.WriteConnectionSecretToReference = nil
				return k
			},
			refused: refusesForeignKey,
		},
		// Point an owned key's external name at another team's key, asking
		// for other access, so an update would show.
		"ExternalNameOfAnotherTeamsKey": {
			grants: bothTeams,
			attack: func(c *cluster, victim esfake.KeySnapshot) *esv1alpha1.CrossClusterAPIKey {
				k := key(tenantNS, unique("hijack"), "tenant-archive", c.Config, ptr.To(c.ref()), keySearch("logs-tenant-*"))
				meta.SetExternalName(k, victim.ID)
				return k
			},
			refused: refusesForeignKey,
		},
		// Cleanup skips the cluster's grants, and is no way around them: a
		// resource refused on a cluster that does not grant the tenant,
		// given a finalizer by hand so that its deletion reaches the
		// cluster, and pointed at the victim's key.
		"CleanupOfARefusedResource": {
			grants: map[string]string{linkrules.AnnotationAllowedNamespaces: victimNS},
			attack: func(c *cluster, victim esfake.KeySnapshot) *esv1alpha1.CrossClusterAPIKey {
				k := key(tenantNS, unique("cleanup-bypass"), victim.Name, c.Config, ptr.To(c.ref()), keySearch("logs-*"))
				meta.SetExternalName(k, victim.ID)
				meta.AddFinalizer(k, "finalizer.managedresource.crossplane.io")
				return k
			},
			refused: func(t *testing.T, c *cluster, k *esv1alpha1.CrossClusterAPIKey) {
				t.Helper()
				waitDenied(t, k, "namespace tenant is not allowed to link "+c.String())
			},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			c, victim, writesBefore := victimSetup(t, "keys", "victim-"+strings.ToLower(name), tc.grants)
			k := tc.attack(c, victim)
			if err := tenant.Create(t.Context(), k); err != nil {
				t.Fatal(err)
			}
			tc.refused(t, c, k)
			unchanged(t, c.Fake, victim, writesBefore)

			if err := tenant.Delete(t.Context(), k); err != nil {
				t.Fatal(err)
			}
			settleDeletion(t, k)
			unchanged(t, c.Fake, victim, writesBefore)
		})
	}
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

// tenantKey starts a remote that grants the tenant, in a namespace of its
// own, and the tenant's own key on it, ready.
func tenantKey(t *testing.T, prefix string) (*cluster, *esv1alpha1.CrossClusterAPIKey) {
	t.Helper()
	remote := newCluster(t, adminNamespace(t, prefix), "remote", map[string]string{linkrules.AnnotationAllowedNamespaces: tenantNS}, true)
	k := key(tenantNS, unique(prefix), "tenant-"+prefix, remote.Config, ptr.To(remote.ref()), keySearch("logs-*"))
	if err := tenant.Create(t.Context(), k); err != nil {
		t.Fatal(err)
	}
	waitReady(t, k)
	return remote, k
}

// TestKeyCleanupAfterRevokedGrant is the key half of leak 5: an owned key
// is invalidated when its resource is deleted after the grant was revoked.
func TestKeyCleanupAfterRevokedGrant(t *testing.T) {
	t.Parallel()
	remote, k := tenantKey(t, "keys-revoked")
	got, _ := fresh(t, k)
	id := meta.GetExternalName(got)
	if a := got.(*esv1alpha1.CrossClusterAPIKey).Status.AuthorizedCluster; a != remote.String() {
		t.Fatalf("status.authorizedCluster = %q, want %s: without it the deletion may not clean up after the revoke", a, remote)
	}

	setGrants(t, remote, nil)
	deleteAndWait(t, tenant, k)
	if !invalidated(remote.Fake, id) {
		t.Errorf("key %s of the deleted resource is still valid after its grant was revoked: %+v", id, remote.Fake.Keys())
	}
}

// invalidated reports whether fake holds key id, invalidated.
func invalidated(fake *esfake.Server, id string) bool {
	keys := fake.Keys()
	i := slices.IndexFunc(keys, func(s esfake.KeySnapshot) bool { return s.ID == id })
	return i >= 0 && keys[i].Invalidated
}

// TestKeyCleanupAfterTargetGone is the key half of leak 5 when the remote
// Elasticsearch object is gone: the deletion finishes with a Warning event.
func TestKeyCleanupAfterTargetGone(t *testing.T) {
	t.Parallel()
	remote, k := tenantKey(t, "keys-gone")
	if err := admin.Delete(t.Context(), getES(t, remote)); err != nil {
		t.Fatal(err)
	}
	deleteAndWait(t, tenant, k)
	ev := strings.Join(events(t, tenantNS, k.GetName()), "\n")
	if !strings.Contains(ev, "Warning") || !strings.Contains(ev, remote.String()) {
		t.Errorf("events of %s:\n%s\nwant a Warning that Elasticsearch %s is gone", k.GetName(), ev, remote)
	}
}
