// Package e2e proves the whole chain on real components: a link applied to a
// real API server is rendered by Crossplane's engine through eslink's
// function, the provider reconciles what it composed against ECK objects and
// fake Elasticsearch clusters, and the link ends Ready, or says why not.
package e2e

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/eslink/eslink/test/e2e/harness"
)

const timeout = 2 * time.Minute

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
// deleted with only the RBAC the README gives application teams.
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

func waitReady(t *testing.T, h *harness.Harness, u *unstructured.Unstructured) *unstructured.Unstructured {
	t.Helper()
	got, err := h.WaitFor(t.Context(), u, timeout, "Ready", harness.Ready)
	if err != nil {
		t.Fatal(err)
	}
	return got
}

func statusString(u *unstructured.Unstructured, path ...string) string {
	s, _, _ := unstructured.NestedString(u.Object, append([]string{"status"}, path...)...)
	return s
}

// TestNamespacedLinks runs the namespaced scenarios in order on one set of
// components, as several teams would use one pair of clusters.
func TestNamespacedLinks(t *testing.T) {
	h := startHarness(t, false)

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
	})

	t.Run("DeletingOneLinkLeavesTheOther", func(t *testing.T) {
		logsKey := activeKey(t, h, eckKeyName("logs"))
		deleteAndWait(t, h, archive)
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
		deleteAndWait(t, h, cert)
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
		waitNoActiveKey(t, h, eckKeyName("logs"))
		if got := aliases(t, h); len(got) != 0 {
			t.Errorf("local spec.remoteClusters = %v after deleting every link, want none", got)
		}
		remote, err := h.Elasticsearch(t.Context(), harness.RemoteNamespace, harness.RemoteName)
		if err != nil {
			t.Fatal(err)
		}
		for k := range remote.GetAnnotations() {
			if strings.HasPrefix(k, "eslink.io/remote-cluster") {
				if v := remote.GetAnnotations()[k]; v != "" && v != "{}" {
					t.Errorf("remote still carries %s=%s", k, v)
				}
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
	if got := aliases(t, h); !slices.Equal(got, []string{"logs"}) {
		t.Errorf("local spec.remoteClusters = %v, want [logs]", got)
	}
	deleteAndWait(t, h, claim)
	waitNoActiveKey(t, h, eckKeyName("logs"))
	if got := aliases(t, h); len(got) != 0 {
		t.Errorf("local spec.remoteClusters = %v after deleting the claim, want none", got)
	}
}
