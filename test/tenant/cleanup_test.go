package tenant

import (
	"strings"
	"testing"

	"github.com/crossplane/crossplane-runtime/v2/pkg/resource"

	eckv1alpha1 "github.com/eslink/eslink/apis/eck/v1alpha1"
	"github.com/eslink/eslink/internal/eckschema"
	"github.com/eslink/eslink/internal/grants"
)

// linked creates a local and a remote cluster that grant the tenant, in a
// namespace of their own, and the tenant's entry (alias name) and server
// claim between them, ready.
func linked(t *testing.T, name string) (local, remote *cluster, e *eckv1alpha1.RemoteClusterEntry, s *eckv1alpha1.RemoteClusterServer) {
	t.Helper()
	ns := adminNamespace(t, name)
	grant := map[string]string{grants.AnnotationAllowedNamespaces: tenantNS}
	local = newCluster(t, ns, "local", grant, false)
	remote = newCluster(t, ns, "remote", grant, false)
	e = entry(tenantNS, unique(name+"-entry"), name, local, remote, search("logs-*"))
	s = server(tenantNS, unique(name+"-server"), remote, false)
	for _, mg := range []resource.Managed{e, s} {
		if err := tenant.Create(t.Context(), mg); err != nil {
			t.Fatal(err)
		}
		waitReady(t, mg)
	}
	return local, remote, e, s
}

// TestCleanupAfterRevokedGrant is leak 5 for the ECK kinds: a link's entry
// and server claim, deleted after the platform team revoked the grants
// that allowed them, are still removed.
func TestCleanupAfterRevokedGrant(t *testing.T) {
	t.Parallel()
	local, remote, e, s := linked(t, "revoked")

	setGrants(t, local, nil)
	setGrants(t, remote, nil)
	deleteAndWait(t, tenant, e)
	deleteAndWait(t, tenant, s)

	aliases, err := eckschema.RemoteClusters(getES(t, local))
	if err != nil {
		t.Fatal(err)
	}
	if len(aliases) != 0 {
		t.Errorf("the entry is still on %s after its resource was deleted: %v", local, aliases)
	}
	if a := getES(t, local).GetAnnotations()[eckschema.AnnotationRemoteClusterOwners]; a != "" {
		t.Errorf("the ownership record is still on %s: %s", local, a)
	}
	if a := getES(t, remote).GetAnnotations()[eckschema.AnnotationRemoteClusterServerClaims]; a != "" {
		t.Errorf("the server claim is still on %s: %s", remote, a)
	}
}

// TestCleanupAfterTargetGone is leak 5 when the Elasticsearch objects are
// gone: deleting the entry and the server claim finishes at once, with a
// Warning event that says why nothing was removed.
func TestCleanupAfterTargetGone(t *testing.T) {
	t.Parallel()
	local, remote, e, s := linked(t, "gone")

	for _, c := range []*cluster{local, remote} {
		if err := admin.Delete(t.Context(), getES(t, c)); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct {
		mg   resource.Managed
		what string
	}{{e, "the Elasticsearch object " + local.String() + " (spec.forProvider.elasticsearchRef) is gone, and its remote cluster alias gone with it"},
		{s, "the Elasticsearch object " + remote.String() + " (spec.forProvider.elasticsearchRef) is gone, and its remote cluster server claim with it"}} {
		deleteAndWait(t, tenant, tc.mg)
		ev := events(t, tenantNS, tc.mg.GetName())
		if !strings.Contains(strings.Join(ev, "\n"), "Warning TargetGone: "+tc.what) {
			t.Errorf("events of %s: %q, want a TargetGone warning saying %q", tc.mg.GetName(), ev, tc.what)
		}
	}
}
