package remoteclusterentry

import (
	"context"
	"testing"

	"github.com/crossplane/crossplane-runtime/v2/pkg/reconciler/managed"
	xpv2 "github.com/crossplane/crossplane/apis/v2/core/v2"
	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	"github.com/eslink/eslink/apis/eck/v1alpha1"
	"github.com/eslink/eslink/internal/linkrules"
	"github.com/eslink/eslink/provider/internal/clients/eck"
	"github.com/eslink/eslink/provider/internal/controller/eck/ecktest"
)

// fakeES builds an Elasticsearch object for the fake client.
func fakeES(ns, name, version string, annotations map[string]string, entries ...map[string]any) *unstructured.Unstructured {
	es := linkrules.NewElasticsearch()
	es.SetNamespace(ns)
	es.SetName(name)
	es.SetAnnotations(annotations)
	_ = unstructured.SetNestedField(es.Object, version, "spec", "version")
	_ = linkrules.SetRemoteClusters(es, entries)
	return es
}

func unitEntry(deleting bool) *v1alpha1.RemoteClusterEntry {
	mg := newEntry("team", "link", "logs", ref("ns1", "c1"), ref("ns2", "c2"), search("logs-*"))
	mg.UID = "u1"
	if deleting {
		now := metav1.Now()
		mg.DeletionTimestamp = &now
	}
	return mg
}

var (
	grantAll = map[string]string{linkrules.AnnotationAllowedNamespaces: "*"}
	owned    = map[string]string{linkrules.AnnotationAllowedNamespaces: "*", linkrules.AnnotationRemoteClusterOwners: `{"logs":"u1"}`,
		linkrules.AnnotationAliasOwners: `{"logs":"team/uid:u1"}`}
	// ownedUnclaimed is an entry written before aliases had one owner.
	ownedUnclaimed = map[string]string{linkrules.AnnotationAllowedNamespaces: "*", linkrules.AnnotationRemoteClusterOwners: `{"logs":"u1"}`}
	// aliasElsewhere is an alias another namespace's link owns.
	aliasElsewhere = map[string]string{linkrules.AnnotationAllowedNamespaces: "*", linkrules.AnnotationAliasOwners: `{"logs":"team-b/their-link"}`}
	ownedElse      = map[string]string{linkrules.AnnotationAllowedNamespaces: "*", linkrules.AnnotationRemoteClusterOwners: `{"logs":"u2"}`}
)

func desiredEntry(t *testing.T) map[string]any {
	t.Helper()
	e, err := eck.RenderRemoteCluster(unitEntry(false).Spec.ForProvider, "team")
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func TestObserve(t *testing.T) {
	want := desiredEntry(t)
	stale := map[string]any{"name": "logs", "elasticsearchRef": map[string]any{"name": "old", "namespace": "ns2"}}
	remote := fakeES("ns2", "c2", "9.3.2", grantAll)

	cases := map[string]struct {
		objs       []client.Object
		deleting   bool
		want       managed.ExternalObservation
		wantReason xpv2.ConditionReason // Ready=False reason when blocked
		// cert drops apiKey (the certificate model); names replaces the
		// requested search names.
		cert      bool
		names     []string
		wantEvent string
	}{
		"UpToDate": {
			objs: []client.Object{fakeES("ns1", "c1", "9.3.2", owned, want), remote},
			want: managed.ExternalObservation{ResourceExists: true, ResourceUpToDate: true},
		},
		"UnclaimedAliasIsClaimedOnUpdate": {
			objs: []client.Object{fakeES("ns1", "c1", "9.3.2", ownedUnclaimed, want), remote},
			want: managed.ExternalObservation{ResourceExists: true},
		},
		"AliasOfAnotherNamespacesLink": {
			objs:       []client.Object{fakeES("ns1", "c1", "9.3.2", aliasElsewhere), remote},
			wantReason: eck.ReasonEntryConflict,
		},
		"Outdated": {
			objs: []client.Object{fakeES("ns1", "c1", "9.3.2", owned, stale), remote},
			want: managed.ExternalObservation{ResourceExists: true},
		},
		"NotYetWritten": {
			objs: []client.Object{fakeES("ns1", "c1", "9.3.2", grantAll), remote},
			want: managed.ExternalObservation{},
		},
		"LocalMissing": {
			objs:       []client.Object{remote},
			wantReason: eck.ReasonTargetNotFound,
		},
		"RemoteMissing": {
			objs:       []client.Object{fakeES("ns1", "c1", "9.3.2", grantAll)},
			wantReason: eck.ReasonTargetNotFound,
		},
		"LocalNotGranted": {
			objs:       []client.Object{fakeES("ns1", "c1", "9.3.2", nil), remote},
			wantReason: eck.ReasonNotAuthorized,
		},
		"RemoteNotGranted": {
			objs:       []client.Object{fakeES("ns1", "c1", "9.3.2", grantAll), fakeES("ns2", "c2", "9.3.2", nil)},
			wantReason: eck.ReasonNotAuthorized,
		},
		"HandWrittenAlias": {
			objs:       []client.Object{fakeES("ns1", "c1", "9.3.2", grantAll, want), remote},
			wantReason: eck.ReasonEntryConflict,
		},
		"AliasOwnedByAnother": {
			objs:       []client.Object{fakeES("ns1", "c1", "9.3.2", ownedElse, want), remote},
			wantReason: eck.ReasonEntryConflict,
		},
		"TooOld": {
			objs:       []client.Object{fakeES("ns1", "c1", "8.9.0", grantAll), remote},
			wantReason: eck.ReasonVersionUnsupported,
		},
		"DeletingOwned": {
			// No grant needed to remove our own entry.
			objs:     []client.Object{fakeES("ns1", "c1", "9.3.2", map[string]string{linkrules.AnnotationRemoteClusterOwners: `{"logs":"u1"}`}, want)},
			deleting: true,
			want:     managed.ExternalObservation{ResourceExists: true},
		},
		"DeletingHandWritten": {
			objs:     []client.Object{fakeES("ns1", "c1", "9.3.2", nil, want)},
			deleting: true,
			want:     managed.ExternalObservation{},
		},
		"DeletingLocalGone": {
			deleting:  true,
			want:      managed.ExternalObservation{},
			wantEvent: "the Elasticsearch object ns1/c1 (spec.forProvider.elasticsearchRef) is gone, and its remote cluster alias logs with it: nothing left to remove, so the resource lets go",
		},
		"CertificateModelNotGranted": {
			objs:       []client.Object{fakeES("ns1", "c1", "9.3.2", grantAll), remote},
			cert:       true,
			wantReason: eck.ReasonNotAuthorized,
		},
		"CertificateModelGranted": {
			objs: []client.Object{fakeES("ns1", "c1", "9.3.2", grantAll),
				fakeES("ns2", "c2", "9.3.2", map[string]string{linkrules.AnnotationAllowedNamespaces: "*", linkrules.AnnotationAllowedAccess: "search,certificate"})},
			cert: true,
			want: managed.ExternalObservation{},
		},
		"RegexNameOnUnrestrictedRemote": {
			objs:       []client.Object{fakeES("ns1", "c1", "9.3.2", grantAll), remote},
			names:      []string{"/.*/"},
			wantReason: eck.ReasonNotAuthorized,
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			rec := &ecktest.Recorder{}
			kube := fake.NewClientBuilder().WithObjects(tc.objs...).Build()
			e := &external{es: eck.NewClient(kube, kube), record: rec}
			mg := unitEntry(tc.deleting)
			if tc.cert {
				mg.Spec.ForProvider.APIKey = nil
			}
			if tc.names != nil {
				mg.Spec.ForProvider.APIKey.Access.Search.Names = tc.names
			}
			got, err := e.Observe(context.Background(), mg)
			var events []string
			for _, ev := range rec.Events {
				events = append(events, string(ev.Type)+" "+string(ev.Reason)+": "+ev.Message)
			}
			var wantEvents []string
			if tc.wantEvent != "" {
				wantEvents = []string{"Warning TargetGone: " + tc.wantEvent}
			}
			if diff := cmp.Diff(wantEvents, events); diff != "" {
				t.Errorf("events: -want +got:\n%s", diff)
			}
			if tc.wantReason != "" {
				if err == nil {
					t.Fatalf("Observe: want an error with reason %s", tc.wantReason)
				}
				c := mg.GetCondition(xpv2.TypeReady)
				if c.Status != "False" || c.Reason != tc.wantReason || c.Message != err.Error() {
					t.Errorf("Ready = %+v, want False %s with the error message", c, tc.wantReason)
				}
				return
			}
			if err != nil {
				t.Fatalf("Observe: %v", err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("Observe: -want +got:\n%s", diff)
			}
		})
	}
}

func TestCreateAndDelete(t *testing.T) {
	want := desiredEntry(t)
	hand := map[string]any{"name": "by-hand", "elasticsearchRef": map[string]any{"name": "x", "namespace": "ns2"}}
	other := map[string]any{"name": "other", "elasticsearchRef": map[string]any{"name": "c2", "namespace": "ns2"}}
	ann := func(owners string) map[string]string {
		m := map[string]string{linkrules.AnnotationAllowedNamespaces: "*"}
		if owners != "" {
			m[linkrules.AnnotationRemoteClusterOwners] = owners
		}
		return m
	}
	kube := fake.NewClientBuilder().WithObjects(
		fakeES("ns1", "c1", "9.3.2", ann(`{"other":"u2"}`), hand, other),
		fakeES("ns2", "c2", "9.3.2", grantAll),
	).Build()
	e := &external{es: eck.NewClient(kube, kube), record: &ecktest.Recorder{}}
	state := func() ([]map[string]any, string) {
		es := linkrules.NewElasticsearch()
		if err := kube.Get(context.Background(), types.NamespacedName{Namespace: "ns1", Name: "c1"}, es); err != nil {
			t.Fatal(err)
		}
		entries, _ := linkrules.RemoteClusters(es)
		return entries, es.GetAnnotations()[linkrules.AnnotationRemoteClusterOwners]
	}

	if _, err := e.Create(context.Background(), unitEntry(false)); err != nil {
		t.Fatalf("Create: %v", err)
	}
	entries, owners := state()
	if diff := cmp.Diff([]map[string]any{hand, want, other}, entries); diff != "" {
		t.Errorf("after Create: -want +got:\n%s", diff)
	}
	if owners != `{"logs":"u1","other":"u2"}` {
		t.Errorf("owners after Create = %s", owners)
	}

	if _, err := e.Delete(context.Background(), unitEntry(true)); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	entries, owners = state()
	if diff := cmp.Diff([]map[string]any{hand, other}, entries); diff != "" {
		t.Errorf("after Delete: -want +got:\n%s", diff)
	}
	if owners != `{"other":"u2"}` {
		t.Errorf("owners after Delete = %s", owners)
	}
}
