// Package e2e proves the whole chain on real components: eslink's packages,
// pulled from a registry and installed by Crossplane core v2.4; a link
// applied by an application team with only the RBAC docs/install.md gives it;
// Crossplane composing it through eslink's function (dialled with mTLS); the
// provider reconciling what was composed against ECK objects and fake
// Elasticsearch clusters; and the link ending Ready, or saying why not.
package e2e

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/api/equality"
	kerrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/util/retry"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/eslink/eslink/internal/linkrules"
	"github.com/eslink/eslink/test/e2e/harness"
)

const timeout = 2 * time.Minute

// shared is the namespaced installation the tests share, as teams share
// one platform: started by the first test that needs it, stopped by
// TestMain. The tests run one after the other and clean up what they make.
var shared struct {
	once sync.Once
	h    *harness.Harness
	err  error
	// eck holds the ECK simulator's log: it runs across tests, so it
	// cannot log to one of them.
	eck logBuffer
}

func TestMain(m *testing.M) {
	code := m.Run()
	if shared.h != nil {
		shared.h.Stop()
	}
	os.Exit(code)
}

// minKeyLifetime lets the rotation test's keys expire within minutes.
const minKeyLifetime = "1m"

// sharedHarness returns the shared installation, starting it on first use.
// A failed test gets the components' logs.
func sharedHarness(t *testing.T) *harness.Harness {
	t.Helper()
	shared.once.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
		defer cancel()
		shared.h, shared.err = harness.Start(ctx, harness.Options{
			Progress:       func(f string, a ...any) { t.Logf(f, a...) },
			Log:            shared.eck.Printf,
			FailureLog:     func(logs string) { t.Log(logs) },
			MinKeyLifetime: minKeyLifetime,
		})
	})
	if shared.err != nil {
		t.Fatal(shared.err)
	}
	h := shared.h
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("provider log:\n%s", tail(h.ProviderLog(), 12000))
			t.Logf("Crossplane log:\n%s", tail(h.CrossplaneLog(), 8000))
			t.Logf("function log:\n%s", tail(h.FunctionLog(), 4000))
			t.Logf("ECK simulator log:\n%s", tail(shared.eck.String(), 8000))
		}
	})
	return h
}

// logBuffer keeps the last lines logged to it.
type logBuffer struct {
	mu    sync.Mutex
	lines []string
}

func (b *logBuffer) Printf(format string, args ...any) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.lines = append(b.lines, time.Now().Format("15:04:05.000 ")+fmt.Sprintf(format, args...))
	if len(b.lines) > 2000 {
		b.lines = b.lines[len(b.lines)-1000:]
	}
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return strings.Join(b.lines, "\n")
}

// startHarness starts an installation of its own for one test.
func startHarness(t *testing.T, legacy bool) *harness.Harness {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Minute)
	defer cancel()
	h, err := harness.Start(ctx, harness.Options{
		Legacy:     legacy,
		Progress:   func(f string, a ...any) { t.Logf(f, a...) },
		Log:        func(f string, a ...any) { t.Logf(f, a...) },
		FailureLog: func(logs string) { t.Log(logs) },
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("provider log:\n%s", tail(h.ProviderLog(), 8000))
			t.Logf("Crossplane log:\n%s", tail(h.CrossplaneLog(), 12000))
			t.Logf("function log:\n%s", tail(h.FunctionLog(), 4000))
		}
		h.Stop()
	})
	return h
}

func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}

func flow1Spec(alias string, names ...string) map[string]any {
	return map[string]any{
		"alias":  alias,
		"local":  map[string]any{"elasticsearchRef": map[string]any{"name": harness.LocalName, "namespace": harness.LocalNamespace}},
		"remote": map[string]any{"elasticsearchRef": map[string]any{"name": harness.RemoteName, "namespace": harness.RemoteNamespace}},
		"access": map[string]any{"search": map[string]any{"names": toAny(names)}},
	}
}

func toAny(s []string) []any {
	out := make([]any, len(s))
	for i := range s {
		out[i] = s[i]
	}
	return out
}

func eckKeyName(alias string) string {
	return fmt.Sprintf("eck-%s-%s-%s", harness.LocalNamespace, harness.LocalName, alias)
}

// activeKey returns the one active key with that name on the remote.
func activeKey(t *testing.T, h *harness.Harness, name string) harness.Key {
	t.Helper()
	keys, err := harness.Keys(t.Context(), h.Remote, name)
	if err != nil {
		t.Fatal(err)
	}
	var active []harness.Key
	for _, k := range keys {
		if !k.Invalidated {
			active = append(active, k)
		}
	}
	if len(active) != 1 {
		t.Fatalf("want exactly one active key %s on the remote, got %d of %d", name, len(active), len(keys))
	}
	return active[0]
}

func waitNoActiveKey(t *testing.T, h *harness.Harness, name string) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		keys, err := harness.Keys(t.Context(), h.Remote, name)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.ContainsFunc(keys, func(k harness.Key) bool { return !k.Invalidated }) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("key %s is still active on the remote after %s", name, timeout)
		}
		time.Sleep(500 * time.Millisecond)
	}
}

func aliases(t *testing.T, h *harness.Harness) []string {
	t.Helper()
	got, err := h.RemoteClusterAliases(t.Context(), harness.LocalNamespace, harness.LocalName)
	if err != nil {
		t.Fatal(err)
	}
	return got
}

// team is the application team of u's namespace: links are created and
// deleted with only the RBAC docs/install.md gives application teams.
func team(t *testing.T, h *harness.Harness, u *unstructured.Unstructured) client.Client {
	t.Helper()
	c, err := h.Team(u.GetNamespace())
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func create(t *testing.T, h *harness.Harness, u *unstructured.Unstructured) {
	t.Helper()
	if err := team(t, h, u).Create(t.Context(), u); err != nil {
		t.Fatalf("cannot create %s %s/%s as its application team: %v", u.GetKind(), u.GetNamespace(), u.GetName(), err)
	}
}

func deleteAndWait(t *testing.T, h *harness.Harness, u *unstructured.Unstructured) {
	t.Helper()
	if err := team(t, h, u).Delete(t.Context(), u); err != nil {
		t.Fatalf("cannot delete %s %s/%s: %v", u.GetKind(), u.GetNamespace(), u.GetName(), err)
	}
	if err := h.WaitGone(t.Context(), u, timeout); err != nil {
		t.Fatalf("%v\n%s", err, h.Messages(u))
	}
}

// composedOf returns what Crossplane composed for link, and checks that it
// did: every resource is controlled by the link's composite.
func composedOf(t *testing.T, h *harness.Harness, link, composite *unstructured.Unstructured) []*unstructured.Unstructured {
	t.Helper()
	got, err := h.Composed(t.Context(), link)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range got {
		ctl := metav1.GetControllerOf(c)
		if ctl == nil || ctl.UID != composite.GetUID() || ctl.Kind != composite.GetKind() {
			t.Errorf("%s %s/%s is not controlled by %s %s: %v", c.GetKind(), c.GetNamespace(), c.GetName(), composite.GetKind(), composite.GetName(), ctl)
		}
	}
	return got
}

func kinds(objs []*unstructured.Unstructured) []string {
	out := make([]string, 0, len(objs))
	for _, o := range objs {
		out = append(out, o.GetKind())
	}
	slices.Sort(out)
	return out
}

// waitComposedGone waits until nothing Crossplane composed for link is left:
// Crossplane leaves that to Kubernetes' garbage collector, and the provider's
// finalizers hold each resource until what it owns is cleaned up.
func waitComposedGone(t *testing.T, h *harness.Harness, link *unstructured.Unstructured) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		got, err := h.Composed(t.Context(), link)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s %s/%s is gone but its composed resources are not: %v", link.GetKind(), link.GetNamespace(), link.GetName(), kinds(got))
		}
		time.Sleep(500 * time.Millisecond)
	}
}

// setAllowedNamespaces changes a cluster's grant as its platform team does.
func setAllowedNamespaces(t *testing.T, h *harness.Harness, ns, name, value string) {
	t.Helper()
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		es, err := h.Elasticsearch(t.Context(), ns, name)
		if err != nil {
			return err
		}
		a := es.GetAnnotations()
		a[linkrules.AnnotationAllowedNamespaces] = value
		es.SetAnnotations(a)
		return h.Kube.Update(t.Context(), es)
	})
	if err != nil {
		t.Fatalf("cannot set the grant of %s/%s: %v", ns, name, err)
	}
}

func waitReady(t *testing.T, h *harness.Harness, u *unstructured.Unstructured) *unstructured.Unstructured {
	t.Helper()
	got, err := h.WaitFor(t.Context(), u, timeout, "Ready", harness.Ready)
	if err != nil {
		t.Fatal(err)
	}
	return got
}

// waitConnected waits until the local cluster's GET /_remote/info says
// connected for alias: the fake earns it only when everything ECK delivers
// is in place.
func waitConnected(t *testing.T, h *harness.Harness, alias string) {
	t.Helper()
	if _, err := h.WaitConnected(t.Context(), alias, timeout); err != nil {
		t.Fatal(err)
	}
}

// statusConnected reports the link's status.connected, which the function
// copies from the local cluster's GET /_remote/info.
func statusConnected(u *unstructured.Unstructured) bool {
	c, _, _ := unstructured.NestedBool(u.Object, "status", "connected")
	return c
}

func statusString(u *unstructured.Unstructured, path ...string) string {
	s, _, _ := unstructured.NestedString(u.Object, append([]string{"status"}, path...)...)
	return s
}

// TestNamespacedLinks runs the namespaced scenarios in order on one set of
// components, as several teams would use one pair of clusters.
func TestNamespacedLinks(t *testing.T) {
	h := sharedHarness(t)

	logs := harness.Link(harness.TeamNamespace, "orders-to-logs", false, flow1Spec("logs", "logs-*"))
	archive := harness.Link(harness.TeamNamespace, "orders-to-archive", false, flow1Spec("archive", "archive-*"))

	t.Run("Flow1Namespaced", func(t *testing.T) {
		create(t, h, logs)
		got := waitReady(t, h, logs)
		key := activeKey(t, h, eckKeyName("logs"))
		if id := statusString(got, "apiKey", "id"); id != key.ID {
			t.Errorf("link status.apiKey.id = %q, want the remote's key id %q", id, key.ID)
		}
		if s := statusString(got, "remoteClusterServer"); s != "Enabled" {
			t.Errorf("link status.remoteClusterServer = %q, want Enabled", s)
		}
		if s := statusString(got, "remoteClusterEntry"); s != "Present" {
			t.Errorf("link status.remoteClusterEntry = %q, want Present", s)
		}
		if !statusConnected(got) {
			t.Error("link status.connected is not true: Ready requires the local cluster connected to the alias")
		}
		remote, err := h.Elasticsearch(t.Context(), harness.RemoteNamespace, harness.RemoteName)
		if err != nil {
			t.Fatal(err)
		}
		if enabled, _, _ := unstructured.NestedBool(remote.Object, "spec", "remoteClusterServer", "enabled"); !enabled {
			t.Error("remote's spec.remoteClusterServer.enabled is not true")
		}
		if got := aliases(t, h); !slices.Equal(got, []string{"logs"}) {
			t.Errorf("local spec.remoteClusters = %v, want [logs]", got)
		}
		waitConnected(t, h, "logs")
		want := []string{"CrossClusterAPIKey", "RemoteClusterConnectivity", "RemoteClusterEntry", "RemoteClusterServer"}
		if got := kinds(composedOf(t, h, logs, got)); !slices.Equal(got, want) {
			t.Errorf("Crossplane composed %v, want %v", got, want)
		}
	})

	t.Run("ApplicationTeamHasNoRightsOnElasticsearch", func(t *testing.T) {
		// The link above was created as team-a with only the RBAC of docs/install.md;
		// that RBAC reaches no Elasticsearch object, so everything the link
		// did on them went through eslink's grants.
		c, err := h.Team(harness.TeamNamespace)
		if err != nil {
			t.Fatal(err)
		}
		es := linkrules.NewElasticsearch()
		err = c.Get(t.Context(), client.ObjectKey{Namespace: harness.RemoteNamespace, Name: harness.RemoteName}, es)
		if !kerrors.IsForbidden(err) {
			t.Errorf("team %s reading Elasticsearch %s/%s: got %v, want Forbidden", harness.TeamNamespace, harness.RemoteNamespace, harness.RemoteName, err)
		}
		mine := linkrules.NewElasticsearch()
		mine.SetNamespace(harness.TeamNamespace)
		mine.SetName("own-cluster")
		if err := c.Create(t.Context(), mine); !kerrors.IsForbidden(err) {
			t.Errorf("team %s creating an Elasticsearch object in its own namespace: got %v, want Forbidden", harness.TeamNamespace, err)
		}
	})

	t.Run("TwoLinksOnOneLocalCluster", func(t *testing.T) {
		create(t, h, archive)
		waitReady(t, h, archive)
		got := aliases(t, h)
		slices.Sort(got)
		if !slices.Equal(got, []string{"archive", "logs"}) {
			t.Errorf("local spec.remoteClusters = %v, want logs and archive", got)
		}
		activeKey(t, h, eckKeyName("archive"))
		waitConnected(t, h, "archive")
	})

	t.Run("RemovedGrantChangesTheLinkWithoutTouchingIt", func(t *testing.T) {
		// Crossplane 2.4 watches the resources a function requires (and
		// those it composed), so a grant removed on the remote re-renders
		// the link at once; core polls every 10 minutes here, so nothing
		// else could.
		before := mustGet(t, h, logs)
		es, err := h.Elasticsearch(t.Context(), harness.RemoteNamespace, harness.RemoteName)
		if err != nil {
			t.Fatal(err)
		}
		grant := es.GetAnnotations()[linkrules.AnnotationAllowedNamespaces]
		setAllowedNamespaces(t, h, harness.RemoteNamespace, harness.RemoteName, harness.LocalNamespace)
		restored := false
		defer func() {
			if !restored {
				setAllowedNamespaces(t, h, harness.RemoteNamespace, harness.RemoteName, grant)
			}
		}()
		// The function refuses to render the link (a fatal result), so
		// Crossplane reports it on Synced and leaves the rest of the status
		// as it was: the entry and the key stay until the link is deleted.
		denied := "namespace " + harness.TeamNamespace + " is not allowed to link " + harness.RemoteNamespace + "/" + harness.RemoteName
		got, err := h.WaitFor(t.Context(), logs, timeout, "denied after its grant was removed", func(u *unstructured.Unstructured) bool {
			st, _, msg := harness.Condition(u, "Synced")
			return st == "False" && strings.Contains(msg, denied)
		})
		if err != nil {
			t.Fatal(err)
		}
		if got.GetGeneration() != before.GetGeneration() {
			t.Errorf("the link's generation changed from %d to %d: someone wrote its spec", before.GetGeneration(), got.GetGeneration())
		}
		if !equality.Semantic.DeepEqual(got.Object["spec"], before.Object["spec"]) {
			t.Errorf("the link's spec changed:\nbefore %v\nafter  %v", before.Object["spec"], got.Object["spec"])
		}

		setAllowedNamespaces(t, h, harness.RemoteNamespace, harness.RemoteName, grant)
		restored = true
		if _, err := h.WaitFor(t.Context(), logs, timeout, "Synced and Ready again after the grant was restored", func(u *unstructured.Unstructured) bool {
			st, _, _ := harness.Condition(u, "Synced")
			return st == "True" && harness.Ready(u)
		}); err != nil {
			t.Fatal(err)
		}
		waitReady(t, h, archive)
	})

	t.Run("DeletingOneLinkLeavesTheOther", func(t *testing.T) {
		logsKey := activeKey(t, h, eckKeyName("logs"))
		deleteAndWait(t, h, archive)
		waitComposedGone(t, h, archive)
		waitNoActiveKey(t, h, eckKeyName("archive"))
		if got := aliases(t, h); !slices.Equal(got, []string{"logs"}) {
			t.Errorf("local spec.remoteClusters = %v, want [logs]", got)
		}
		if k := activeKey(t, h, eckKeyName("logs")); k.ID != logsKey.ID {
			t.Errorf("the other link's key changed from %s to %s", logsKey.ID, k.ID)
		}
		if !harness.Ready(mustGet(t, h, logs)) {
			t.Errorf("the other link is no longer Ready:\n%s", h.Messages(mustGet(t, h, logs)))
		}
	})

	t.Run("Flow2Certificate", func(t *testing.T) {
		spec := flow1Spec("certs")
		delete(spec, "access")
		spec["securityModel"] = "Certificate"
		cert := harness.Link(harness.TeamNamespace, "orders-certs", false, spec)
		create(t, h, cert)
		got := waitReady(t, h, cert)
		if f := statusString(got, "flow"); f != "Certificate" {
			t.Errorf("status.flow = %q, want Certificate", f)
		}
		if !statusConnected(got) {
			t.Error("link status.connected is not true: Ready requires the local cluster connected to the alias")
		}
		es, err := h.Elasticsearch(t.Context(), harness.LocalNamespace, harness.LocalName)
		if err != nil {
			t.Fatal(err)
		}
		entries, _, _ := unstructured.NestedSlice(es.Object, "spec", "remoteClusters")
		for _, e := range entries {
			m := e.(map[string]any)
			if m["name"] == "certs" {
				if _, ok := m["apiKey"]; ok {
					t.Errorf("certificate entry has apiKey: %v", m)
				}
			}
		}
		waitConnected(t, h, "certs")
		deleteAndWait(t, h, cert)
		// Kubernetes' garbage collector deletes the composed resources after
		// the link; the entry goes with them.
		waitComposedGone(t, h, cert)
		if got := aliases(t, h); slices.Contains(got, "certs") {
			t.Errorf("the deleted link's entry is still on the local cluster: %v", got)
		}
	})

	t.Run("AuthorizationDenialSurfacesOnTheLink", func(t *testing.T) {
		before := aliases(t, h)
		denied := harness.Link(harness.OtherNamespace, "sneaky", false, flow1Spec("sneaky", "logs-*"))
		create(t, h, denied)
		got, err := h.WaitFor(t.Context(), denied, timeout, "denied", func(u *unstructured.Unstructured) bool {
			return strings.Contains(h.Messages(u), "namespace "+harness.OtherNamespace+" is not allowed")
		})
		if err != nil {
			t.Fatal(err)
		}
		if harness.Ready(got) {
			t.Error("a denied link is Ready")
		}
		if after := aliases(t, h); !slices.Equal(before, after) {
			t.Errorf("a denied link changed the local cluster's entries from %v to %v", before, after)
		}
		deleteAndWait(t, h, denied)
	})

	t.Run("BasicLicenseSurfacesOnTheLink", func(t *testing.T) {
		h.Remote.SetLicense("basic")
		defer h.Remote.SetLicense("enterprise")
		spec := flow1Spec("owned", "archive-*")
		spec["keyManagement"] = "Provider"
		spec["expiration"] = "30d"
		owned := harness.Link(harness.TeamNamespace, "orders-owned", false, spec)
		create(t, h, owned)
		if _, err := h.WaitFor(t.Context(), owned, timeout, "reporting the license", func(u *unstructured.Unstructured) bool {
			return strings.Contains(h.Messages(u), "non-compliant")
		}); err != nil {
			t.Fatal(err)
		}
		deleteAndWait(t, h, owned)
	})

	t.Run("DeletingALinkRemovesEverything", func(t *testing.T) {
		deleteAndWait(t, h, logs)
		waitComposedGone(t, h, logs)
		waitNoActiveKey(t, h, eckKeyName("logs"))
		if got := aliases(t, h); len(got) != 0 {
			t.Errorf("local spec.remoteClusters = %v after deleting every link, want none", got)
		}
		remote, err := h.Elasticsearch(t.Context(), harness.RemoteNamespace, harness.RemoteName)
		if err != nil {
			t.Fatal(err)
		}
		for k, v := range remote.GetAnnotations() {
			switch {
			case k == linkrules.AnnotationRemoteClusterServerEnabledBy:
				// The server stays on (disableOnDelete is off), and so does
				// the record that eslink turned it on.
				if v != linkrules.RemoteClusterServerEnabledByEslink {
					t.Errorf("remote carries %s=%s, want %s", k, v, linkrules.RemoteClusterServerEnabledByEslink)
				}
			case strings.HasPrefix(k, "eslink.io/remote-cluster") && v != "" && v != "{}":
				t.Errorf("remote still carries %s=%s", k, v)
			}
		}
	})
}

func mustGet(t *testing.T, h *harness.Harness, u *unstructured.Unstructured) *unstructured.Unstructured {
	t.Helper()
	got, err := h.Get(t.Context(), u)
	if err != nil {
		t.Fatal(err)
	}
	return got
}

// TestLegacyClaim runs flow 1 through a RemoteClusterLink claim against the
// legacy XRD.
func TestLegacyClaim(t *testing.T) {
	h := startHarness(t, true)
	claim := harness.Link(harness.TeamNamespace, "orders-to-logs", true, flow1Spec("logs", "logs-*"))
	create(t, h, claim)
	got := waitReady(t, h, claim)
	key := activeKey(t, h, eckKeyName("logs"))
	if id := statusString(got, "apiKey", "id"); id != key.ID {
		t.Errorf("claim status.apiKey.id = %q, want %q", id, key.ID)
	}
	if s := statusString(got, "remoteClusterServer"); s != "Enabled" {
		t.Errorf("claim status.remoteClusterServer = %q, want Enabled", s)
	}
	if !statusConnected(got) {
		t.Error("claim status.connected is not true: Ready requires the local cluster connected to the alias")
	}
	if got := aliases(t, h); !slices.Equal(got, []string{"logs"}) {
		t.Errorf("local spec.remoteClusters = %v, want [logs]", got)
	}
	waitConnected(t, h, "logs")

	// Bound: the claim names a cluster-scoped composite that names it back,
	// and what the composite composed lives in the claim's namespace.
	xr, err := h.Composite(t.Context(), claim)
	if err != nil {
		t.Fatal(err)
	}
	if xr.GetNamespace() != "" {
		t.Errorf("the claim's composite %s is namespaced (%s), want cluster-scoped", xr.GetName(), xr.GetNamespace())
	}
	ref, _, _ := unstructured.NestedStringMap(xr.Object, "spec", "claimRef")
	if ref["name"] != claim.GetName() || ref["namespace"] != claim.GetNamespace() || ref["kind"] != harness.ClaimGroupVersionKind.Kind {
		t.Errorf("composite %s spec.claimRef = %v, want the claim %s/%s", xr.GetName(), ref, claim.GetNamespace(), claim.GetName())
	}
	want := []string{"CrossClusterAPIKey", "RemoteClusterConnectivity", "RemoteClusterEntry", "RemoteClusterServer"}
	if got := kinds(composedOf(t, h, claim, xr)); !slices.Equal(got, want) {
		t.Errorf("Crossplane composed %v in %s for the claim, want %v", got, claim.GetNamespace(), want)
	}

	deleteAndWait(t, h, claim)
	if err := h.WaitGone(t.Context(), xr, timeout); err != nil {
		t.Errorf("the claim is gone but its composite is not: %v", err)
	}
	waitComposedGone(t, h, claim)
	waitNoActiveKey(t, h, eckKeyName("logs"))
	if got := aliases(t, h); len(got) != 0 {
		t.Errorf("local spec.remoteClusters = %v after deleting the claim, want none", got)
	}
}
