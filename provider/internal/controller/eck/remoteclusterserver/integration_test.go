package remoteclusterserver

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	xpv2 "github.com/crossplane/crossplane/apis/v2/core/v2"
	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	kerrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"

	commonv1alpha1 "github.com/eslink/eslink/apis/common/v1alpha1"
	"github.com/eslink/eslink/apis/eck/v1alpha1"
	"github.com/eslink/eslink/internal/eckschema"
	"github.com/eslink/eslink/internal/grants"
	"github.com/eslink/eslink/provider/internal/clients/eck"
	"github.com/eslink/eslink/provider/internal/controller/conditions"
)

func newServer(ns, name string, target commonv1alpha1.ElasticsearchReference, disableOnDelete bool) *v1alpha1.RemoteClusterServer {
	return &v1alpha1.RemoteClusterServer{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec: v1alpha1.RemoteClusterServerSpec{ForProvider: v1alpha1.RemoteClusterServerParameters{
			ElasticsearchRef: target, DisableOnDelete: disableOnDelete,
		}},
	}
}

func (h *harness) create(t *testing.T, mg *v1alpha1.RemoteClusterServer) {
	t.Helper()
	if err := h.Kube.Create(context.Background(), mg); err != nil {
		t.Fatalf("cannot create RemoteClusterServer %s/%s: %v", mg.Namespace, mg.Name, err)
	}
}

func (h *harness) get(t *testing.T, ns, name string) *v1alpha1.RemoteClusterServer {
	t.Helper()
	mg := &v1alpha1.RemoteClusterServer{}
	if err := h.Kube.Get(context.Background(), types.NamespacedName{Namespace: ns, Name: name}, mg); err != nil {
		t.Fatal(err)
	}
	return mg
}

func (h *harness) waitReady(t *testing.T, ns, name string, reason xpv2.ConditionReason) *v1alpha1.RemoteClusterServer {
	t.Helper()
	var mg *v1alpha1.RemoteClusterServer
	waitFor(t, fmt.Sprintf("RemoteClusterServer %s/%s Ready (reason %q)", ns, name, reason), func() (bool, string) {
		mg = h.get(t, ns, name)
		c := condition(mg.Status.Conditions, xpv2.TypeReady)
		if reason == "" {
			return c.Status == corev1.ConditionTrue, fmt.Sprintf("%+v", mg.Status.Conditions)
		}
		return c.Status == corev1.ConditionFalse && c.Reason == reason, fmt.Sprintf("%+v", mg.Status.Conditions)
	})
	return mg
}

func (h *harness) remove(t *testing.T, ns, name string) {
	t.Helper()
	if err := h.Kube.Delete(context.Background(), &v1alpha1.RemoteClusterServer{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, fmt.Sprintf("RemoteClusterServer %s/%s deleted", ns, name), func() (bool, string) {
		err := h.Kube.Get(context.Background(), types.NamespacedName{Namespace: ns, Name: name}, &v1alpha1.RemoteClusterServer{})
		return kerrors.IsNotFound(err), fmt.Sprint(err)
	})
}

func serverSpec(es *unstructured.Unstructured) map[string]any {
	m, _, _ := unstructured.NestedMap(es.Object, "spec", "remoteClusterServer")
	return m
}

func claims(t *testing.T, es *unstructured.Unstructured) map[string]string {
	t.Helper()
	c, err := eck.ServerClaims(es)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestServerClaims enables the server for the first claim, keeps it for as
// long as any claim remains, and turns it off only when the last claim
// asks for that.
func TestServerClaims(t *testing.T) {
	h := start(t, 4)
	remoteNS := h.Namespace(t, "remote")
	teamA, teamB := h.Namespace(t, "team-a"), h.Namespace(t, "team-b")
	service := map[string]any{"spec": map[string]any{"type": "LoadBalancer"}}
	h.Elasticsearch(t, remoteNS, "c2", "9.3.2", map[string]string{grants.AnnotationAllowedNamespaces: teamA + "," + teamB},
		map[string]any{"remoteClusterServer": map[string]any{"service": service}})

	h.create(t, newServer(teamA, "srv", ref(remoteNS, "c2"), true))
	a := h.waitReady(t, teamA, "srv", "")
	es := h.GetES(t, remoteNS, "c2")
	if diff := cmp.Diff(map[string]any{"enabled": true, "service": service}, serverSpec(es)); diff != "" {
		t.Errorf("spec.remoteClusterServer: -want +got:\n%s", diff)
	}
	if diff := cmp.Diff(map[string]string{string(a.UID): teamA + "/srv"}, claims(t, es)); diff != "" {
		t.Errorf("claims: -want +got:\n%s", diff)
	}
	if a.Status.AtProvider != (v1alpha1.RemoteClusterServerObservation{Enabled: true, Claims: 1, Version: "9.3.2"}) {
		t.Errorf("atProvider = %+v", a.Status.AtProvider)
	}

	h.create(t, newServer(teamB, "srv", ref(remoteNS, "c2"), false))
	b := h.waitReady(t, teamB, "srv", "")

	// team-a asks for the server to be turned off, but team-b still needs it.
	h.remove(t, teamA, "srv")
	es = h.GetES(t, remoteNS, "c2")
	if !eckschema.RemoteClusterServerEnabled(es) {
		t.Error("server turned off while another claim remains")
	}
	if diff := cmp.Diff(map[string]string{string(b.UID): teamB + "/srv"}, claims(t, es)); diff != "" {
		t.Errorf("claims: -want +got:\n%s", diff)
	}

	// team-b did not ask: the server stays on, the claim goes.
	h.remove(t, teamB, "srv")
	es = h.GetES(t, remoteNS, "c2")
	if !eckschema.RemoteClusterServerEnabled(es) {
		t.Error("server turned off though the last claim did not ask for it")
	}
	if _, ok := es.GetAnnotations()[eckschema.AnnotationRemoteClusterServerClaims]; ok {
		t.Errorf("claims annotation left behind: %v", es.GetAnnotations())
	}

	// A last claim that asks turns it off, keeping the service template.
	h.create(t, newServer(teamA, "srv2", ref(remoteNS, "c2"), true))
	h.waitReady(t, teamA, "srv2", "")
	h.remove(t, teamA, "srv2")
	if diff := cmp.Diff(map[string]any{"enabled": false, "service": service}, serverSpec(h.GetES(t, remoteNS, "c2"))); diff != "" {
		t.Errorf("spec.remoteClusterServer after the last claim: -want +got:\n%s", diff)
	}
}

// TestServerRefusals: a claim that is not granted, or that ECK's webhook
// would reject for the version, gets a condition and an event and writes
// nothing; a missing target is retried until it appears.
func TestServerRefusals(t *testing.T) {
	h := start(t, 4)
	team := h.Namespace(t, "team")
	remoteNS := h.Namespace(t, "remote")

	t.Run("NotGranted", func(t *testing.T) {
		es := h.Elasticsearch(t, remoteNS, "private", "9.3.2", map[string]string{grants.AnnotationAllowedNamespaces: "someone-else"}, nil)
		h.create(t, newServer(team, "denied", ref(remoteNS, "private"), false))
		mg := h.waitReady(t, team, "denied", conditions.ReasonNotAuthorized)
		want := fmt.Sprintf("namespace %s is not allowed to link %s/private as remote cluster", team, remoteNS)
		if msg := condition(mg.Status.Conditions, xpv2.TypeReady).Message; !strings.Contains(msg, want) {
			t.Errorf("Ready message %q does not contain %q", msg, want)
		}
		waitFor(t, "a Warning event with the denial", func() (bool, string) {
			ev := h.WarningEvents(t, team, "denied")
			return containsAny(ev, want), fmt.Sprint(ev)
		})
		if got := h.GetES(t, remoteNS, "private").GetResourceVersion(); got != es.GetResourceVersion() {
			t.Errorf("denied claim wrote Elasticsearch: resourceVersion %s -> %s", es.GetResourceVersion(), got)
		}
		// Deleting a denied claim touches nothing either.
		h.remove(t, team, "denied")
		if got := h.GetES(t, remoteNS, "private").GetResourceVersion(); got != es.GetResourceVersion() {
			t.Errorf("deleting a denied claim wrote Elasticsearch: resourceVersion %s -> %s", es.GetResourceVersion(), got)
		}
	})

	t.Run("OldVersion", func(t *testing.T) {
		es := h.Elasticsearch(t, team, "old", "8.9.0", nil, nil)
		h.create(t, newServer(team, "old", ref("", "old"), false))
		mg := h.waitReady(t, team, "old", conditions.ReasonVersionUnsupported)
		if msg := condition(mg.Status.Conditions, xpv2.TypeReady).Message; !strings.Contains(msg, "runs 8.9.0, below 8.10.0") {
			t.Errorf("Ready message %q does not name the versions", msg)
		}
		if got := h.GetES(t, team, "old").GetResourceVersion(); got != es.GetResourceVersion() {
			t.Errorf("claim on an old cluster wrote Elasticsearch: resourceVersion %s -> %s", es.GetResourceVersion(), got)
		}
	})

	t.Run("MissingTargetIsRetried", func(t *testing.T) {
		h.create(t, newServer(team, "later", ref("", "later"), false))
		mg := h.waitReady(t, team, "later", conditions.ReasonTargetNotFound)
		if msg := condition(mg.Status.Conditions, xpv2.TypeReady).Message; !strings.Contains(msg, "spec.forProvider.elasticsearchRef") {
			t.Errorf("Ready message %q does not name the reference", msg)
		}
		h.Elasticsearch(t, team, "later", "8.10.0", nil, nil)
		h.waitReady(t, team, "later", "")
		if !eckschema.RemoteClusterServerEnabled(h.GetES(t, team, "later")) {
			t.Error("server not enabled once the target appeared")
		}
	})
}

// TestServerSteadyState checks that settled claims cause no writes.
func TestServerSteadyState(t *testing.T) {
	h := start(t, 2)
	team := h.Namespace(t, "team")
	h.Elasticsearch(t, team, "c2", "9.3.2", nil, nil)
	h.create(t, newServer(team, "a", ref("", "c2"), false))
	h.create(t, newServer(team, "b", ref("", "c2"), true))
	h.waitReady(t, team, "a", "")
	h.waitReady(t, team, "b", "")

	time.Sleep(3 * pollInterval)
	versions := map[string]string{"a": h.get(t, team, "a").ResourceVersion, "b": h.get(t, team, "b").ResourceVersion}
	esVersion := h.GetES(t, team, "c2").GetResourceVersion()
	writes := len(h.Log.Snapshot())
	reads := h.Log.ESReads.Load()
	waitFor(t, "several more polls", func() (bool, string) {
		r := h.Log.ESReads.Load() - reads
		return r >= 8, fmt.Sprintf("%d Elasticsearch reads", r)
	})
	if got := h.Log.Snapshot()[writes:]; len(got) != 0 {
		t.Errorf("writes in steady state: %v", got)
	}
	if got := h.GetES(t, team, "c2").GetResourceVersion(); got != esVersion {
		t.Errorf("Elasticsearch resourceVersion moved in steady state: %s -> %s", esVersion, got)
	}
	for name, v := range versions {
		if got := h.get(t, team, name).ResourceVersion; got != v {
			t.Errorf("RemoteClusterServer %s resourceVersion moved in steady state: %s -> %s", name, v, got)
		}
	}
}

func ref(ns, name string) commonv1alpha1.ElasticsearchReference {
	return commonv1alpha1.ElasticsearchReference{Namespace: ns, Name: name}
}
