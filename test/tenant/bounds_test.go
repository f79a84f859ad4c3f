package tenant

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/crossplane/crossplane-runtime/v2/pkg/meta"
	xpv2 "github.com/crossplane/crossplane/apis/v2/core/v2"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	kerrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	eckv1alpha1 "github.com/eslink/eslink/apis/eck/v1alpha1"
	esv1alpha1 "github.com/eslink/eslink/apis/elasticsearch/v1alpha1"
	v1alpha1 "github.com/eslink/eslink/apis/v1alpha1"
	"github.com/eslink/eslink/internal/linkrules"
	"github.com/eslink/eslink/test/controlplane"
	"github.com/eslink/eslink/test/fakeelasticsearch/esfake"
)

// The attacks of issue 18 (items 3 to 5) by a team that may write every
// eslink kind, its status and Secrets in its namespace.

// TestTrustSourceOfOwnCluster: the tenant's own ECK cluster is a CA it
// controls (it reads the Secrets of its namespace). Adding that CA to a
// shared remote's signing trust would let it issue certificates matching
// any key's certificate_identity; it needs the external CA grant.
func TestTrustSourceOfOwnCluster(t *testing.T) {
	t.Parallel()
	ns := adminNamespace(t, "trust-source")
	remote := newCluster(t, ns, "remote", map[string]string{linkrules.AnnotationAllowedNamespaces: tenantNS}, false)
	own := newCluster(t, tenantNS, unique("own"), map[string]string{linkrules.AnnotationAllowedNamespaces: tenantNS}, false)
	before := versions(t, remote, own)

	tr := &eckv1alpha1.RemoteClusterTrust{ObjectMeta: metav1.ObjectMeta{Namespace: tenantNS, Name: unique("own-ca")}}
	tr.Spec.ForProvider = eckv1alpha1.RemoteClusterTrustParameters{
		ElasticsearchRef:     remote.ref(),
		Purpose:              eckv1alpha1.TrustCrossClusterSigning,
		CertificateAuthority: eckv1alpha1.CertificateAuthoritySource{ElasticsearchRef: ptr.To(own.ref())},
	}
	if err := tenant.Create(t.Context(), tr); err != nil {
		t.Fatal(err)
	}
	waitDenied(t, tr, "spec.forProvider.certificateAuthority.elasticsearchRef", "the CA of Elasticsearch "+own.String(), linkrules.AnnotationAllowedExternalCANamespaces)
	checkNothingWritten(t, "adding the tenant's own CA", before, []*cluster{remote, own}, nil, nil)
	deleteAndWait(t, tenant, tr)
	checkNothingWritten(t, "deleting the refused trust", before, []*cluster{remote, own}, nil, nil)
}

// TestKeyBounds: a key's metadata and lists are bounded, so that one
// team's keys cannot push the shared listing of a remote's keys past what
// the provider reads, and every key on it stop being checked and rotated.
func TestKeyBounds(t *testing.T) {
	t.Parallel()
	remote := newCluster(t, adminNamespace(t, "bounds"), "remote", map[string]string{linkrules.AnnotationAllowedNamespaces: tenantNS}, true)
	before := versions(t, remote)

	// The schema bounds counts and lengths for every write.
	names := make([]string, 65)
	for i := range names {
		names[i] = fmt.Sprintf("logs-%d-*", i)
	}
	if err := tenant.Create(t.Context(), key(tenantNS, unique("many-names"), "many", remote.Config, ptr.To(remote.ref()), keySearch(names...))); !kerrors.IsInvalid(err) {
		t.Errorf("creating a key with 65 index names: %v, want Invalid", err)
	}

	// The size of the metadata's JSON values, the schema cannot bound:
	// the provider refuses it before any request.
	k := key(tenantNS, unique("huge-metadata"), "huge", remote.Config, ptr.To(remote.ref()), keySearch("logs-*"))
	k.Spec.ForProvider.Metadata = map[string]apiextensionsv1.JSON{}
	blob, _ := json.Marshal(strings.Repeat("x", 100<<10))
	for i := range 8 {
		k.Spec.ForProvider.Metadata[fmt.Sprintf("blob-%d", i)] = apiextensionsv1.JSON{Raw: blob}
	}
	if err := tenant.Create(t.Context(), k); err != nil {
		t.Fatal(err)
	}
	waitDenied(t, k, "spec.forProvider.metadata is", "more than the 4096 bytes a key may carry")
	checkNothingWritten(t, "a key with megabytes of metadata", before, []*cluster{remote}, []*esfake.Server{remote.Fake}, map[*esfake.Server]int{remote.Fake: 0})
	deleteAndWait(t, tenant, k)
	checkNothingWritten(t, "deleting it", before, []*cluster{remote}, []*esfake.Server{remote.Fake}, map[*esfake.Server]int{remote.Fake: 0})
}

// TestObserveRevealsNothing: an observing resource learns nothing about
// a key it may not see, not even whether it exists. A real key of the
// victim's, by id and by name, gets the answer of a made-up one.
func TestObserveRevealsNothing(t *testing.T) {
	t.Parallel()
	c, victim, writesBefore := victimSetup(t, "observe-leak", "victim-observed", map[string]string{linkrules.AnnotationAllowedNamespaces: tenantNS + "," + victimNS})
	observe := func(name, keyName, id string) *esv1alpha1.CrossClusterAPIKey {
		k := key(tenantNS, unique(name), keyName, c.Config, ptr.To(c.ref()), nil)
		k.Spec.ManagementPolicies = xpv2.ManagementPolicies{xpv2.ManagementActionObserve}
		k.Spec.WriteConnectionSecretToReference = nil
		if id != "" {
			meta.SetExternalName(k, id)
		}
		if err := tenant.Create(t.Context(), k); err != nil {
			t.Fatal(err)
		}
		return k
	}
	const madeUpID, madeUpName = "AAAAAAAAAAAAAAAAAAAA", "no-such-key"
	pairs := map[string]struct {
		real, made *esv1alpha1.CrossClusterAPIKey
		// as turns the made-up resource's message into the real one's.
		as *strings.Replacer
	}{
		"ByID": {real: observe("by-id", madeUpName, victim.ID), made: observe("by-made-up-id", madeUpName, madeUpID),
			as: strings.NewReplacer(madeUpID, victim.ID)},
		"ByName": {real: observe("by-name", victim.Name, ""), made: observe("by-made-up-name", madeUpName, ""),
			as: strings.NewReplacer(`"`+madeUpName+`"`, fmt.Sprintf("%q", victim.Name))},
	}
	for name, p := range pairs {
		t.Run(name, func(t *testing.T) {
			says := func(m string) bool { return strings.Contains(m, "key not found in observe mode") }
			waitRefused(t, p.made, "key not found", says)
			waitRefused(t, p.real, "key not found", says)
			real, _ := fresh(t, p.real)
			made, _ := fresh(t, p.made)
			r, m := real.GetCondition(xpv2.TypeReady), made.GetCondition(xpv2.TypeReady)
			if r.Reason != m.Reason || r.Message != p.as.Replace(m.Message) {
				t.Errorf("a real key and a made-up one get different answers:\nreal:    %s: %s\nmade up: %s: %s", r.Reason, r.Message, m.Reason, m.Message)
			}
			if !strings.Contains(r.Message, "namespace "+tenantNS+" may see") || !strings.Contains(r.Message, esv1alpha1.MetadataNamespace) {
				t.Errorf("condition %q does not say what the namespace may see", r.Message)
			}
			if ap := real.(*esv1alpha1.CrossClusterAPIKey).Status.AtProvider; ap.ID != "" || ap.Access != nil {
				t.Errorf("the victim's key is reported: %+v", ap)
			}
		})
	}
	for _, p := range pairs {
		deleteAndWait(t, tenant, p.real)
		deleteAndWait(t, tenant, p.made)
	}
	unchanged(t, c.Fake, victim, writesBefore)
}

// writeStatus sets the status.authorizedCluster of k as the tenant, which
// its Role lets it do.
func writeStatus(t *testing.T, k *esv1alpha1.CrossClusterAPIKey, authorized string) {
	t.Helper()
	got, _ := fresh(t, k)
	cr := got.(*esv1alpha1.CrossClusterAPIKey)
	if err := controlplane.UpdateStatus(t.Context(), tenant, cr, func() error {
		cr.Status.AuthorizedCluster = authorized
		return nil
	}); err != nil {
		t.Fatalf("tenant writing status.authorizedCluster: %v", err)
	}
}

// TestForgedCleanupProof: a resource refused on a cluster that never
// granted the tenant, with status.authorizedCluster forged to name it, must
// not reach that cluster when it is deleted.
func TestForgedCleanupProof(t *testing.T) {
	t.Parallel()
	private := newCluster(t, adminNamespace(t, "forged-proof"), "private", map[string]string{linkrules.AnnotationAllowedNamespaces: victimNS}, true)
	k := key(tenantNS, unique("forged"), "tenant-forged", private.Config, ptr.To(private.ref()), keySearch("logs-*"))
	meta.AddFinalizer(k, "finalizer.managedresource.crossplane.io")
	if err := tenant.Create(t.Context(), k); err != nil {
		t.Fatal(err)
	}
	waitDenied(t, k, "spec.forProvider.elasticsearchRef: namespace tenant is not allowed to link "+private.String(), linkrules.AnnotationAllowedNamespaces)
	writeStatus(t, k, private.String())
	before := versions(t, private)
	deleteAndWait(t, tenant, k)
	if r := private.Fake.Requests(); len(r) != 0 {
		t.Errorf("the deletion with a forged status.authorizedCluster sent %d requests to a cluster that never granted the tenant, the first: %v", len(r), r[0])
	}
	checkNothingWritten(t, "the forged deletion", before, []*cluster{private}, []*esfake.Server{private.Fake}, map[*esfake.Server]int{private.Fake: 0})
}

// TestClearedCleanupProof: clearing status.authorizedCluster after the
// grant was revoked must not leave the tenant's key valid: the proof is the
// record on the Elasticsearch object, which the tenant cannot write.
func TestClearedCleanupProof(t *testing.T) {
	t.Parallel()
	remote, k := tenantKey(t, "cleared-proof")
	got, _ := fresh(t, k)
	id := meta.GetExternalName(got)
	if !linkrules.KeyNamespaceRecorded(getES(t, remote).GetAnnotations(), tenantNS) {
		t.Fatalf("Elasticsearch %s does not record namespace %s in %s after the key was created", remote, tenantNS, linkrules.AnnotationKeyNamespaces)
	}
	setGrants(t, remote, nil)
	waitDenied(t, k, "spec.forProvider.elasticsearchRef", linkrules.AnnotationAllowedNamespaces)
	writeStatus(t, k, "")
	deleteAndWait(t, tenant, k)
	if !invalidated(remote.Fake, id) {
		t.Errorf("key %s is still valid after its resource, with status.authorizedCluster cleared, was deleted after the revoke: %+v", id, remote.Fake.Keys())
	}
}

// TestMovedBeforeTargetGone: switching a key's provider config to a
// cluster that is gone, then deleting it, must not let the deletion finish
// while its keys stay valid on the cluster that holds them.
func TestMovedBeforeTargetGone(t *testing.T) {
	t.Parallel()
	remote, k := tenantKey(t, "moved-gone")
	got, _ := fresh(t, k)
	id := meta.GetExternalName(got)
	goneCfg := unique("gone-cluster")
	clusterConfig(t, goneCfg, map[string]any{"allowedNamespaces": []any{"*"},
		"eck": map[string]any{"elasticsearchRef": map[string]any{"name": "never-existed", "namespace": remote.NS}, "urlOverride": remote.Fake.URL}})
	cr := got.(*esv1alpha1.CrossClusterAPIKey)
	pointAt(t, tenant, cr, v1alpha1.ClusterProviderConfigKind, goneCfg)
	if err := tenant.Delete(t.Context(), cr); err != nil {
		t.Fatal(err)
	}
	waitRefused(t, k, "the cluster changed", func(m string) bool {
		return strings.Contains(m, "spec.providerConfigRef") && strings.Contains(m, remote.String())
	})
	time.Sleep(3 * poll)
	if _, ok := fresh(t, k); !ok {
		t.Fatal("the resource is gone while its key is valid on " + remote.String())
	}
	// Back on the cluster that holds the key, the deletion invalidates it.
	got, _ = fresh(t, k)
	cr = got.(*esv1alpha1.CrossClusterAPIKey)
	pointAt(t, tenant, cr, v1alpha1.ClusterProviderConfigKind, remote.Config)
	deleteAndWait(t, tenant, k)
	if !invalidated(remote.Fake, id) {
		t.Errorf("key %s is still valid after its resource was deleted: %+v", id, remote.Fake.Keys())
	}
}

// TestExpirationToggleChurn: adding and removing expiration must not
// replace a key younger than the minimum key lifetime; only
// spec.forProvider.forceReplaceBefore does, once.
func TestExpirationToggleChurn(t *testing.T) {
	t.Parallel()
	remote := newCluster(t, adminNamespace(t, "churn"), "remote", map[string]string{linkrules.AnnotationAllowedNamespaces: tenantNS}, true)
	k := key(tenantNS, unique("churn"), "tenant-churn", remote.Config, ptr.To(remote.ref()), keySearch("logs-*"))
	k.Spec.ForProvider.Expiration = ptr.To("30d")
	if err := tenant.Create(t.Context(), k); err != nil {
		t.Fatal(err)
	}
	waitReady(t, k)
	update := func(change func(*esv1alpha1.CrossClusterAPIKey)) {
		t.Helper()
		got, _ := fresh(t, k)
		cr := got.(*esv1alpha1.CrossClusterAPIKey)
		if err := controlplane.Update(t.Context(), tenant, cr, func() error { change(cr); return nil }); err != nil {
			t.Fatal(err)
		}
	}
	for range 3 {
		update(func(cr *esv1alpha1.CrossClusterAPIKey) { cr.Spec.ForProvider.Expiration = nil })
		time.Sleep(2 * poll)
		update(func(cr *esv1alpha1.CrossClusterAPIKey) { cr.Spec.ForProvider.Expiration = ptr.To("30d") })
		time.Sleep(2 * poll)
	}
	update(func(cr *esv1alpha1.CrossClusterAPIKey) { cr.Spec.ForProvider.Expiration = nil })
	time.Sleep(3 * poll)
	if n := len(remote.Fake.Keys()); n != 1 {
		t.Errorf("toggling spec.forProvider.expiration made %d keys, want the first one only: %+v", n, remote.Fake.Keys())
	}
	if ev := strings.Join(events(t, tenantNS, k.GetName()), "\n"); !strings.Contains(ev, "spec.forProvider.forceReplaceBefore") {
		t.Errorf("events of %s:\n%s\nwant one saying the replacement waits and how to force it", k.GetName(), ev)
	}

	// A person forces the replacement: one new key, the old one invalidated.
	update(func(cr *esv1alpha1.CrossClusterAPIKey) {
		cr.Spec.ForProvider.ForceReplaceBefore = ptr.To(metav1.NewTime(time.Now().Add(time.Second)))
	})
	waitFor(t, "the forced replacement", func() (bool, string) {
		keys := remote.Fake.Keys()
		return len(keys) == 2 && keys[0].Invalidated != keys[1].Invalidated, fmt.Sprintf("%+v", keys)
	})
	time.Sleep(3 * poll)
	if n := len(remote.Fake.Keys()); n != 2 {
		t.Errorf("spec.forProvider.forceReplaceBefore replaced the key %d times, want once", n-1)
	}
	deleteAndWait(t, tenant, k)
}
