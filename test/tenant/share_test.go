package tenant

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/crossplane/crossplane-runtime/v2/pkg/resource"
	xpv2 "github.com/crossplane/crossplane/apis/v2/core/v2"
	corev1 "k8s.io/api/core/v1"

	"github.com/eslink/eslink/internal/eckschema"
	"github.com/eslink/eslink/internal/grants"
)

// TestNamespaceShareOfRecords is issue 18 item 5: a namespace creating
// aliases by the dozen on a shared local cluster, with the longest names
// the schema allows, grows eslink's owner records on the cluster's
// Elasticsearch object (an object's annotations hold 256 KiB in all) only
// up to its share. Beyond it each piece is refused with a condition naming
// the bound and the fix, nothing of it is recorded, and another
// namespace's link is still recorded.
func TestNamespaceShareOfRecords(t *testing.T) {
	t.Parallel()
	ns := adminNamespace(t, "share")
	grant := map[string]string{grants.AnnotationAllowedNamespaces: tenantNS + "," + victimNS}
	local := newCluster(t, ns, "local", grant, false)
	remote := newCluster(t, ns, "remote", grant, false)

	// Each alias costs its owner record (alias and "tenant/<link>") and
	// its entry's record (alias and uid), about 244 bytes: the 16 KiB
	// share holds 67 of them.
	const hoard = 72
	link := strings.Repeat("l", 63)
	var entries []resource.Managed
	for i := range hoard {
		e := entry(tenantNS, unique("hoard"), fmt.Sprintf("%s-%03d", strings.Repeat("a", 59), i), local, remote, search("logs-*"))
		inLink(e, link)
		if err := tenant.Create(t.Context(), e); err != nil {
			t.Fatal(err)
		}
		entries = append(entries, e)
	}
	t.Cleanup(func() {
		// Gone with the cluster, the entries let go at once.
		ctx := context.Background()
		es := eckschema.NewElasticsearch()
		es.SetNamespace(local.NS)
		es.SetName(local.Name)
		_ = admin.Delete(ctx, es)
		for _, e := range entries {
			_ = tenant.Delete(ctx, e)
		}
	})

	bound := []string{"namespace " + tenantNS + " would keep", "Elasticsearch " + local.String(),
		"more than the 128 entries or 16384 bytes one namespace may keep on a shared cluster", eckschema.AnnotationAliasOwners,
		"delete links (remote cluster aliases) or remote cluster server claims of namespace " + tenantNS + " on this cluster"}
	var denied []resource.Managed
	ready := map[string]bool{}
	for _, e := range entries {
		waitFor(t, fmt.Sprintf("entry %s to be recorded or refused", e.GetName()), func() (bool, string) {
			got, ok := fresh(t, e)
			if !ok {
				return false, "not found"
			}
			c := got.GetCondition(xpv2.TypeReady)
			switch {
			case c.Status == corev1.ConditionTrue:
				ready[e.GetName()] = true
				return true, ""
			case c.Reason == "NamespaceShareExceeded" && containsAll(c.Message, bound):
				denied = append(denied, e)
				return true, ""
			}
			return false, conditions(got)
		})
	}
	if len(denied) == 0 {
		t.Fatalf("all %d entries of namespace %s were recorded on %s: its share is unbounded", hoard, tenantNS, local)
	}
	owners, err := eckschema.AliasOwners(getES(t, local))
	if err != nil {
		t.Fatal(err)
	}
	held := 0
	for _, o := range owners {
		if strings.HasPrefix(o, tenantNS+"/") {
			held++
		}
	}
	if held != len(ready) || held > 67 {
		t.Errorf("namespace %s owns %d aliases on %s, with %d entries Ready: want them equal, and at most 67", tenantNS, held, local, len(ready))
	}
	aliases, err := eckschema.RemoteClusters(getES(t, local))
	if err != nil {
		t.Fatal(err)
	}
	if len(aliases) != len(ready) {
		t.Errorf("%s holds %d remote cluster entries, with %d entries Ready: a refused entry was written", local, len(aliases), len(ready))
	}

	// Another namespace's link is still recorded.
	victim := entry(victimNS, unique("victim-entry"), "victims-alias", local, remote, search("logs-*"))
	inLink(victim, victimLink)
	if err := admin.Create(t.Context(), victim); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = admin.Delete(context.Background(), victim) })
	waitReady(t, victim)
	owners, err = eckschema.AliasOwners(getES(t, local))
	if err != nil {
		t.Fatal(err)
	}
	if o := owners["victims-alias"]; o != victimNS+"/"+victimLink {
		t.Errorf("alias victims-alias on %s is owned by %q, want %s/%s", local, o, victimNS, victimLink)
	}
	// The refusals hold.
	for _, e := range denied {
		if msg, ok := refused(t, e, func(m string) bool { return containsAll(m, bound) }); !ok {
			t.Errorf("the refusal of %s did not hold: %s", e.GetName(), msg)
		}
	}
}
