package remoteclusterentry

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	xpv2 "github.com/crossplane/crossplane/apis/v2/core/v2"
	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	kerrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"

	commonv1alpha1 "github.com/eslink/eslink/apis/common/v1alpha1"
	"github.com/eslink/eslink/apis/eck/v1alpha1"
	"github.com/eslink/eslink/internal/eckschema"
	"github.com/eslink/eslink/internal/grants"
	"github.com/eslink/eslink/provider/internal/clients/eck"
	"github.com/eslink/eslink/provider/internal/controller/conditions"
	"github.com/eslink/eslink/test/controlplane"
)

func ref(ns, name string) commonv1alpha1.ElasticsearchReference {
	return commonv1alpha1.ElasticsearchReference{Namespace: ns, Name: name}
}

func search(names ...string) *commonv1alpha1.LinkAccess {
	return &commonv1alpha1.LinkAccess{Search: &commonv1alpha1.SearchAccess{Names: names}}
}

func newEntry(ns, name, alias string, local, remote commonv1alpha1.ElasticsearchReference, access *commonv1alpha1.LinkAccess) *v1alpha1.RemoteClusterEntry {
	mg := &v1alpha1.RemoteClusterEntry{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec: v1alpha1.RemoteClusterEntrySpec{ForProvider: v1alpha1.RemoteClusterEntryParameters{
			ElasticsearchRef: local, Alias: alias, RemoteElasticsearchRef: remote,
		}},
	}
	if access != nil {
		mg.Spec.ForProvider.APIKey = &v1alpha1.RemoteClusterAPIKey{Access: *access}
	}
	return mg
}

func (h *harness) create(t *testing.T, mg *v1alpha1.RemoteClusterEntry) {
	t.Helper()
	if err := h.Kube.Create(context.Background(), mg); err != nil {
		t.Fatalf("cannot create RemoteClusterEntry %s/%s: %v", mg.Namespace, mg.Name, err)
	}
}

func (h *harness) get(t *testing.T, ns, name string) *v1alpha1.RemoteClusterEntry {
	t.Helper()
	mg := &v1alpha1.RemoteClusterEntry{}
	if err := h.Kube.Get(context.Background(), types.NamespacedName{Namespace: ns, Name: name}, mg); err != nil {
		t.Fatal(err)
	}
	return mg
}

// waitReady waits for Ready=True, or for Ready=False with reason when
// reason is set, and returns the resource as then held.
func (h *harness) waitReady(t *testing.T, ns, name string, reason xpv2.ConditionReason) *v1alpha1.RemoteClusterEntry {
	t.Helper()
	var mg *v1alpha1.RemoteClusterEntry
	waitFor(t, fmt.Sprintf("RemoteClusterEntry %s/%s Ready (reason %q)", ns, name, reason), func() (bool, string) {
		mg = h.get(t, ns, name)
		c := condition(mg.Status.Conditions, xpv2.TypeReady)
		if reason == "" {
			return c.Status == corev1.ConditionTrue, fmt.Sprintf("%+v", mg.Status.Conditions)
		}
		return c.Status == corev1.ConditionFalse && c.Reason == reason, fmt.Sprintf("%+v", mg.Status.Conditions)
	})
	return mg
}

func (h *harness) waitGone(t *testing.T, ns, name string) {
	t.Helper()
	waitFor(t, fmt.Sprintf("RemoteClusterEntry %s/%s deleted", ns, name), func() (bool, string) {
		err := h.Kube.Get(context.Background(), types.NamespacedName{Namespace: ns, Name: name}, &v1alpha1.RemoteClusterEntry{})
		return kerrors.IsNotFound(err), fmt.Sprint(err)
	})
}

func (h *harness) remoteClusters(t *testing.T, ns, name string) []map[string]any {
	t.Helper()
	entries, err := eckschema.RemoteClusters(h.GetES(t, ns, name))
	if err != nil {
		t.Fatal(err)
	}
	return entries
}

func handEntry(remoteNS string) map[string]any {
	return map[string]any{"name": "by-hand", "elasticsearchRef": map[string]any{"name": "elsewhere", "namespace": remoteNS}}
}

// TestAuthorizationMatrix checks who may link to what: a denied entry gets
// a condition and a Warning event, and the local object is not written.
func TestAuthorizationMatrix(t *testing.T) {
	h := start(t, 4)
	ann := func(kv ...string) map[string]string {
		m := map[string]string{}
		for i := 0; i < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return m
	}
	both := &commonv1alpha1.LinkAccess{
		Search:      &commonv1alpha1.SearchAccess{Names: []string{"logs-*"}},
		Replication: &commonv1alpha1.ECKReplicationAccess{Names: []string{"archive-*"}},
	}
	cases := map[string]struct {
		sameNamespace bool
		localAnn      map[string]string
		remoteAnn     map[string]string
		access        *commonv1alpha1.LinkAccess
		wantDenied    string // substring of the denial; empty when allowed
	}{
		"SameNamespace": {sameNamespace: true, access: search("logs-*")},
		"GrantedNamespace": {
			localAnn:  ann(grants.AnnotationAllowedNamespaces, "team-x, {ns}"),
			remoteAnn: ann(grants.AnnotationAllowedNamespaces, "{ns}"),
			access:    search("logs-*"),
		},
		"Wildcard": {
			localAnn:  ann(grants.AnnotationAllowedNamespaces, "*"),
			remoteAnn: ann(grants.AnnotationAllowedNamespaces, "*"),
			access:    both,
		},
		"LocalNotGranted": {
			localAnn:   ann(grants.AnnotationAllowedNamespaces, "team-x"),
			remoteAnn:  ann(grants.AnnotationAllowedNamespaces, "*"),
			access:     search("logs-*"),
			wantDenied: "as local cluster",
		},
		"RemoteNotGranted": {
			localAnn:   ann(grants.AnnotationAllowedNamespaces, "*"),
			access:     search("logs-*"),
			wantDenied: "as remote cluster",
		},
		"IndexPatternOutsideGrant": {
			localAnn:   ann(grants.AnnotationAllowedNamespaces, "*"),
			remoteAnn:  ann(grants.AnnotationAllowedNamespaces, "*", grants.AnnotationAllowedIndexPatterns, "logs-*"),
			access:     search("logs-app-*", "metrics-*"),
			wantDenied: `spec.forProvider.apiKey.access.search.names[1]: index pattern "metrics-*" is outside what remote`,
		},
		"DisallowedAccessKind": {
			localAnn:   ann(grants.AnnotationAllowedNamespaces, "*"),
			remoteAnn:  ann(grants.AnnotationAllowedNamespaces, "*", grants.AnnotationAllowedAccess, "search"),
			access:     both,
			wantDenied: "access kind replication is not allowed on remote",
		},
		"CertificateModelNamespaceNotGranted": {
			localAnn:   ann(grants.AnnotationAllowedNamespaces, "*"),
			remoteAnn:  ann(grants.AnnotationAllowedNamespaces, "team-x"),
			wantDenied: "as remote cluster",
		},
		"CertificateModelNotGranted": {
			localAnn:   ann(grants.AnnotationAllowedNamespaces, "*"),
			remoteAnn:  ann(grants.AnnotationAllowedNamespaces, "*", grants.AnnotationAllowedIndexPatterns, "logs-*"),
			wantDenied: "spec.forProvider.apiKey: the certificate security model is not allowed on remote",
		},
		"CertificateModelGranted": {
			localAnn:  ann(grants.AnnotationAllowedNamespaces, "*"),
			remoteAnn: ann(grants.AnnotationAllowedNamespaces, "*", grants.AnnotationAllowedAccess, "certificate"),
		},
		"RegexName": {
			localAnn:   ann(grants.AnnotationAllowedNamespaces, "*"),
			remoteAnn:  ann(grants.AnnotationAllowedNamespaces, "*", grants.AnnotationAllowedIndexPatterns, "*logs*"),
			access:     search("/.*logs.*|.*/"),
			wantDenied: `index name "/.*logs.*|.*/" is a regular expression`,
		},
		"RestrictedIndices": {
			localAnn:  ann(grants.AnnotationAllowedNamespaces, "*"),
			remoteAnn: ann(grants.AnnotationAllowedNamespaces, "*"),
			access: &commonv1alpha1.LinkAccess{Search: &commonv1alpha1.SearchAccess{
				Names: []string{".security*"}, AllowRestrictedIndices: ptr.To(true),
			}},
			wantDenied: "spec.forProvider.apiKey.access.search.allowRestrictedIndices: true lets the patterns match restricted indices",
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			ns := h.Namespace(t, "team")
			localNS, remoteNS := ns, ns
			if !tc.sameNamespace {
				localNS, remoteNS = h.Namespace(t, "local"), h.Namespace(t, "remote")
			}
			fill := func(m map[string]string) map[string]string {
				out := map[string]string{}
				for k, v := range m {
					out[k] = strings.ReplaceAll(v, "{ns}", ns)
				}
				return out
			}
			local := h.Elasticsearch(t, localNS, "c1", "9.3.2", fill(tc.localAnn), map[string]any{"remoteClusters": []any{handEntry(remoteNS)}})
			h.Elasticsearch(t, remoteNS, "c2", "9.3.2", fill(tc.remoteAnn), nil)

			mg := newEntry(ns, "link", "logs", ref(localNS, "c1"), ref(remoteNS, "c2"), tc.access)
			h.create(t, mg)

			if tc.wantDenied == "" {
				got := h.waitReady(t, ns, "link", "")
				want, err := eck.RenderRemoteCluster(got.Spec.ForProvider, ns)
				if err != nil {
					t.Fatal(err)
				}
				if diff := cmp.Diff([]map[string]any{handEntry(remoteNS), want}, h.remoteClusters(t, localNS, "c1")); diff != "" {
					t.Errorf("spec.remoteClusters: -want +got:\n%s", diff)
				}
				return
			}

			got := h.waitReady(t, ns, "link", conditions.ReasonNotAuthorized)
			ready := condition(got.Status.Conditions, xpv2.TypeReady)
			if !strings.Contains(ready.Message, tc.wantDenied) {
				t.Errorf("Ready message %q does not contain %q", ready.Message, tc.wantDenied)
			}
			if synced := condition(got.Status.Conditions, xpv2.TypeSynced); synced.Status != corev1.ConditionFalse || !strings.Contains(synced.Message, tc.wantDenied) {
				t.Errorf("Synced = %+v, want False with the denial", synced)
			}
			waitFor(t, "a Warning event with the denial", func() (bool, string) {
				ev := h.WarningEvents(t, ns, "link")
				return containsAny(ev, tc.wantDenied), fmt.Sprint(ev)
			})
			if after := h.GetES(t, localNS, "c1"); after.GetResourceVersion() != local.GetResourceVersion() {
				t.Errorf("denied entry changed Elasticsearch %s/c1: resourceVersion %s -> %s", localNS, local.GetResourceVersion(), after.GetResourceVersion())
			}
		})
	}
}

// TestEntryLifecycle walks one entry through the states a user meets and
// checks that what the provider writes survives ECK's real schema intact
// (nothing pruned, nothing rejected).
func TestEntryLifecycle(t *testing.T) {
	h := start(t, 2)
	ns := h.Namespace(t, "team")
	yes := true
	full := &commonv1alpha1.LinkAccess{Search: &commonv1alpha1.SearchAccess{
		Names:                  []string{"logs-*", "metrics-*"},
		Query:                  &apiextensionsv1.JSON{Raw: []byte(`{"bool":{"filter":[{"term":{"team":"a"}},{"range":{"age":{"gte":10,"lt":20.5}}}]}}`)},
		FieldSecurity:          &commonv1alpha1.FieldSecurity{Grant: []string{"*"}, Except: []string{"secret"}},
		AllowRestrictedIndices: &yes,
	}}

	t.Run("MissingLocalIsRetried", func(t *testing.T) {
		h.create(t, newEntry(ns, "full", "logs", ref(ns, "c1"), ref(ns, "c2"), full))
		mg := h.waitReady(t, ns, "full", conditions.ReasonTargetNotFound)
		if msg := condition(mg.Status.Conditions, xpv2.TypeReady).Message; !strings.Contains(msg, "spec.forProvider.elasticsearchRef") {
			t.Errorf("Ready message %q does not name the reference", msg)
		}
		h.Elasticsearch(t, ns, "c1", "9.3.2", nil, map[string]any{"remoteClusters": []any{handEntry(ns)}})
		waitFor(t, "the missing remote to be reported", func() (bool, string) {
			c := condition(h.get(t, ns, "full").Status.Conditions, xpv2.TypeReady)
			return c.Reason == conditions.ReasonTargetNotFound && strings.Contains(c.Message, "spec.forProvider.remoteElasticsearchRef"), c.Message
		})
		// The entry asks for restricted indices, and a later one for the
		// certificate model, which only grants allow.
		h.Elasticsearch(t, ns, "c2", "9.3.2", map[string]string{
			grants.AnnotationAllowRestrictedIndices: "true",
			grants.AnnotationAllowedAccess:          "search,replication,certificate",
		}, nil)
		h.waitReady(t, ns, "full", "")
	})

	t.Run("SchemaRoundTrip", func(t *testing.T) {
		mg := h.get(t, ns, "full")
		want, err := eck.RenderRemoteCluster(mg.Spec.ForProvider, ns)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff([]map[string]any{handEntry(ns), want}, h.remoteClusters(t, ns, "c1"), numbersByValue()); diff != "" {
			t.Errorf("spec.remoteClusters after the API server: -want +got:\n%s", diff)
		}
		if !mg.Status.AtProvider.Present || mg.Status.AtProvider.Version != "9.3.2" {
			t.Errorf("atProvider = %+v, want present at 9.3.2", mg.Status.AtProvider)
		}
	})

	t.Run("ReplicationAndOrder", func(t *testing.T) {
		h.create(t, newEntry(ns, "str", "archive", ref(ns, "c1"), ref(ns, "c2"), &commonv1alpha1.LinkAccess{
			Search:      &commonv1alpha1.SearchAccess{Names: []string{"logs-*"}},
			Replication: &commonv1alpha1.ECKReplicationAccess{Names: []string{"archive-*"}},
		}))
		h.create(t, newEntry(ns, "dls", "dls", ref(ns, "c1"), ref(ns, "c2"), &commonv1alpha1.LinkAccess{Search: &commonv1alpha1.SearchAccess{
			Names: []string{"logs-*"}, Query: &apiextensionsv1.JSON{Raw: []byte(`{"match_all":{}}`)},
		}}))
		h.waitReady(t, ns, "str", "")
		h.waitReady(t, ns, "dls", "")
		got := h.remoteClusters(t, ns, "c1")
		names := make([]string, len(got))
		for i, e := range got {
			names[i] = eckschema.EntryName(e)
		}
		// Hand-written entries first, then owned ones by alias.
		if diff := cmp.Diff([]string{"by-hand", "archive", "dls", "logs"}, names); diff != "" {
			t.Errorf("entry order: -want +got:\n%s", diff)
		}
		for i, name := range []string{"str", "dls"} {
			mg := h.get(t, ns, name)
			want, err := eck.RenderRemoteCluster(mg.Spec.ForProvider, ns)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(want, got[i+1]); diff != "" {
				t.Errorf("entry of %s after the API server: -want +got:\n%s", name, diff)
			}
		}
	})

	t.Run("UpdateRewritesOnlyOwnEntry", func(t *testing.T) {
		mg := h.get(t, ns, "str")
		if err := controlplane.Update(context.Background(), h.Kube, mg, func() error {
			mg.Spec.ForProvider.APIKey.Access.Replication.Names = []string{"archive-2026-*"}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		waitFor(t, "the updated entry", func() (bool, string) {
			got := h.remoteClusters(t, ns, "c1")
			return len(got) == 4 && strings.Contains(fmt.Sprint(got[1]), "archive-2026-*"), fmt.Sprint(got)
		})
		if got := h.remoteClusters(t, ns, "c1"); !cmp.Equal(got[0], handEntry(ns)) {
			t.Errorf("hand-written entry changed: %v", got[0])
		}
	})

	t.Run("AliasOwnedByHandIsAConflict", func(t *testing.T) {
		before := h.GetES(t, ns, "c1").GetResourceVersion()
		h.create(t, newEntry(ns, "clash", "by-hand", ref(ns, "c1"), ref(ns, "c2"), search("logs-*")))
		mg := h.waitReady(t, ns, "clash", conditions.ReasonEntryConflict)
		if msg := condition(mg.Status.Conditions, xpv2.TypeReady).Message; !strings.Contains(msg, `remote cluster alias "by-hand" already exists`) {
			t.Errorf("Ready message %q does not explain the conflict", msg)
		}
		if after := h.GetES(t, ns, "c1").GetResourceVersion(); after != before {
			t.Errorf("conflicting entry wrote Elasticsearch: resourceVersion %s -> %s", before, after)
		}
		// Deleting it must not take the hand-written entry along.
		if err := h.Kube.Delete(context.Background(), mg); err != nil {
			t.Fatal(err)
		}
		h.waitGone(t, ns, "clash")
		if got := h.remoteClusters(t, ns, "c1"); !cmp.Equal(got[0], handEntry(ns)) {
			t.Errorf("hand-written entry lost: %v", got)
		}
	})

	t.Run("OldVersion", func(t *testing.T) {
		h.Elasticsearch(t, ns, "old", "8.9.0", nil, nil)
		h.create(t, newEntry(ns, "old", "logs", ref(ns, "old"), ref(ns, "c2"), search("logs-*")))
		mg := h.waitReady(t, ns, "old", conditions.ReasonVersionUnsupported)
		if msg := condition(mg.Status.Conditions, xpv2.TypeReady).Message; !strings.Contains(msg, "runs 8.9.0, below 8.10.0") || !strings.Contains(msg, "8.14.0") {
			t.Errorf("Ready message %q does not name the versions", msg)
		}
		if got := h.remoteClusters(t, ns, "old"); len(got) != 0 {
			t.Errorf("old cluster got entries: %v", got)
		}
		// The certificate model has no version floor.
		h.create(t, newEntry(ns, "old-cert", "cert", ref(ns, "old"), ref(ns, "c2"), nil))
		h.waitReady(t, ns, "old-cert", "")
	})

	t.Run("DeleteRemovesOnlyOwnEntry", func(t *testing.T) {
		for _, name := range []string{"full", "str", "dls"} {
			if err := h.Kube.Delete(context.Background(), h.get(t, ns, name)); err != nil {
				t.Fatal(err)
			}
		}
		for _, name := range []string{"full", "str", "dls"} {
			h.waitGone(t, ns, name)
		}
		es := h.GetES(t, ns, "c1")
		got, _ := eckschema.RemoteClusters(es)
		if diff := cmp.Diff([]map[string]any{handEntry(ns)}, got); diff != "" {
			t.Errorf("spec.remoteClusters after deletes: -want +got:\n%s", diff)
		}
		if a, ok := es.GetAnnotations()[eckschema.AnnotationRemoteClusterOwners]; ok {
			t.Errorf("ownership annotation left behind: %s", a)
		}
	})
}

// numbersByValue compares JSON numbers whatever Go type the decoder chose.
func numbersByValue() cmp.Option {
	return cmp.FilterValues(func(a, b any) bool {
		return isNumber(a) && isNumber(b)
	}, cmp.Comparer(func(a, b any) bool { return toFloat(a) == toFloat(b) }))
}

func isNumber(v any) bool {
	switch v.(type) {
	case int64, float64, int:
		return true
	}
	return false
}

func toFloat(v any) float64 {
	switch n := v.(type) {
	case int64:
		return float64(n)
	case int:
		return float64(n)
	case float64:
		return n
	}
	return 0
}

// TestConcurrentEntries creates and deletes twenty entries on one local
// cluster concurrently, in random order, with several reconciles racing on
// the same object; every end state must hold exactly the live entries plus
// the hand-written one, in the documented order.
func TestConcurrentEntries(t *testing.T) {
	h := start(t, 10)
	ns := h.Namespace(t, "team")
	h.Elasticsearch(t, ns, "c1", "9.3.2", nil, map[string]any{"remoteClusters": []any{handEntry(ns)}})
	h.Elasticsearch(t, ns, "c2", "9.3.2", nil, nil)
	const n = 20
	seed := time.Now().UnixNano()
	t.Logf("random seed %d", seed)
	rng := rand.New(rand.NewPCG(uint64(seed), 0)) // Test ordering, not security.
	var rngMu sync.Mutex
	delay := func() time.Duration {
		rngMu.Lock()
		defer rngMu.Unlock()
		return time.Duration(rng.IntN(300)) * time.Millisecond
	}

	name := func(i int) string { return fmt.Sprintf("link-%02d", i) }
	alias := func(i int) string { return fmt.Sprintf("alias-%02d", (i*7)%n) } // Creation order differs from alias order.
	live := map[int]bool{}

	// checkEndState waits for the controllers to converge, then asserts
	// the exact list and ownership.
	checkEndState := func(t *testing.T) {
		t.Helper()
		var want []map[string]any
		want = append(want, handEntry(ns))
		owners := map[string]string{}
		var liveIdx []int
		for i := range n {
			if live[i] {
				liveIdx = append(liveIdx, i)
			} else {
				h.waitGone(t, ns, name(i))
			}
		}
		slices.SortFunc(liveIdx, func(a, b int) int { return strings.Compare(alias(a), alias(b)) })
		for _, i := range liveIdx {
			mg := h.waitReady(t, ns, name(i), "")
			e, err := eck.RenderRemoteCluster(mg.Spec.ForProvider, ns)
			if err != nil {
				t.Fatal(err)
			}
			want = append(want, e)
			owners[alias(i)] = string(mg.UID)
		}
		es := h.GetES(t, ns, "c1")
		got, _ := eckschema.RemoteClusters(es)
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("spec.remoteClusters: -want +got:\n%s", diff)
		}
		gotOwners, err := eck.RemoteClusters.Keys(es)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(owners, gotOwners); diff != "" {
			t.Errorf("ownership annotation: -want +got:\n%s", diff)
		}
	}

	run := func(ops map[int]func()) {
		var wg sync.WaitGroup
		for _, op := range ops {
			wg.Go(func() {
				time.Sleep(delay())
				op()
			})
		}
		wg.Wait()
	}
	create := func(i int) func() {
		return func() {
			mg := newEntry(ns, name(i), alias(i), ref(ns, "c1"), ref(ns, "c2"), search(fmt.Sprintf("logs-%02d-*", i)))
			if err := h.Kube.Create(context.Background(), mg); err != nil {
				t.Errorf("cannot create %s: %v", name(i), err)
			}
		}
	}
	remove := func(i int) func() {
		return func() {
			mg := &v1alpha1.RemoteClusterEntry{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name(i)}}
			if err := h.Kube.Delete(context.Background(), mg); err != nil {
				t.Errorf("cannot delete %s: %v", name(i), err)
			}
		}
	}

	t.Run("CreateAllWhileDeletingSome", func(t *testing.T) {
		// Every resource is created; a random third is deleted again
		// while the others are still being created.
		ops := map[int]func(){}
		for i := range n {
			live[i] = true
			ops[i] = create(i)
		}
		run(ops)
		ops = map[int]func(){}
		for _, i := range rng.Perm(n)[:n/3] {
			live[i] = false
			ops[i] = remove(i)
		}
		run(ops)
		checkEndState(t)
	})

	t.Run("RecreateSomeDeleteOthers", func(t *testing.T) {
		ops := map[int]func(){}
		for i := range n {
			switch {
			case !live[i]:
				live[i] = true
				ops[i] = create(i)
			case rng.IntN(2) == 0:
				live[i] = false
				ops[i] = remove(i)
			}
		}
		run(ops)
		checkEndState(t)
	})

	t.Run("DeleteAll", func(t *testing.T) {
		ops := map[int]func(){}
		for i := range n {
			if live[i] {
				live[i] = false
				ops[i] = remove(i)
			}
		}
		run(ops)
		checkEndState(t)
		if a, ok := h.GetES(t, ns, "c1").GetAnnotations()[eckschema.AnnotationRemoteClusterOwners]; ok {
			t.Errorf("ownership annotation left behind: %s", a)
		}
	})
	t.Logf("resourceVersion conflicts met and retried: %d", h.Log.Conflicts.Load())
}

// TestSteadyState checks that settled entries cause no writes to the API
// server while the controllers keep polling.
func TestSteadyState(t *testing.T) {
	h := start(t, 4)
	ns := h.Namespace(t, "team")
	h.Elasticsearch(t, ns, "c1", "9.3.2", nil, map[string]any{"remoteClusters": []any{handEntry(ns)}})
	h.Elasticsearch(t, ns, "c2", "9.3.2", nil, nil)
	for i := range 3 {
		h.create(t, newEntry(ns, fmt.Sprintf("link-%d", i), fmt.Sprintf("alias-%d", i), ref(ns, "c1"), ref(ns, "c2"), search("logs-*")))
	}
	// One blocked resource: a refused change must not write either.
	h.create(t, newEntry(ns, "clash", "by-hand", ref(ns, "c1"), ref(ns, "c2"), search("logs-*")))
	versions := map[string]string{}
	for i := range 3 {
		versions[fmt.Sprintf("link-%d", i)] = h.waitReady(t, ns, fmt.Sprintf("link-%d", i), "").ResourceVersion
	}
	versions["clash"] = h.waitReady(t, ns, "clash", conditions.ReasonEntryConflict).ResourceVersion

	// Let the last status updates and the blocked resource's backoff pass
	// their first steps, then take the baseline.
	time.Sleep(3 * pollInterval)
	for name := range versions {
		versions[name] = h.get(t, ns, name).ResourceVersion
	}
	esVersion := h.GetES(t, ns, "c1").GetResourceVersion()
	writes := len(h.Log.Snapshot())
	reads := h.Log.ESReads.Load()
	events := h.EventCounts(t, ns)

	// Wait until every resource has been observed several more times.
	waitFor(t, "several more polls", func() (bool, string) {
		r := h.Log.ESReads.Load() - reads
		return r >= 4*int64(len(versions)), fmt.Sprintf("%d Elasticsearch reads", r)
	})

	if got := h.Log.Snapshot()[writes:]; len(got) != 0 {
		t.Errorf("writes in steady state: %v", got)
	}
	if got := h.GetES(t, ns, "c1").GetResourceVersion(); got != esVersion {
		t.Errorf("Elasticsearch resourceVersion moved in steady state: %s -> %s", esVersion, got)
	}
	for name, v := range versions {
		if got := h.get(t, ns, name).ResourceVersion; got != v {
			t.Errorf("RemoteClusterEntry %s resourceVersion moved in steady state: %s -> %s", name, v, got)
		}
	}
	// Settled resources emit no events either. (A blocked one repeats its
	// Warning on each retry, under the managed reconciler's backoff.)
	after := h.EventCounts(t, ns)
	for key, n := range after {
		if !strings.HasPrefix(key, "clash/") && n != events[key] {
			t.Errorf("event %s emitted in steady state: count %d -> %d", key, events[key], n)
		}
	}
}
