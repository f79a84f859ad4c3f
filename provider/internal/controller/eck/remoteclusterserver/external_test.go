package remoteclusterserver

import (
	"context"
	"testing"

	"github.com/crossplane/crossplane-runtime/v2/pkg/reconciler/managed"
	xpv2 "github.com/crossplane/crossplane/apis/v2/core/v2"
	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	"github.com/eslink/eslink/apis/eck/v1alpha1"
	"github.com/eslink/eslink/internal/eckschema"
	"github.com/eslink/eslink/internal/grants"
	"github.com/eslink/eslink/provider/internal/clients/eck"
	"github.com/eslink/eslink/provider/internal/controller/conditions"
	"github.com/eslink/eslink/provider/internal/controller/controllertest"
)

func fakeES(version string, enabled bool, annotations map[string]string) *unstructured.Unstructured {
	es := eckschema.NewElasticsearch()
	es.SetNamespace("ns2")
	es.SetName("c2")
	es.SetAnnotations(annotations)
	_ = unstructured.SetNestedField(es.Object, version, "spec", "version")
	if enabled {
		_ = unstructured.SetNestedField(es.Object, true, "spec", "remoteClusterServer", "enabled")
	}
	return es
}

func TestObserve(t *testing.T) {
	grant := grants.AnnotationAllowedNamespaces
	claim := eckschema.AnnotationRemoteClusterServerClaims
	cases := map[string]struct {
		es          *unstructured.Unstructured
		deleting    bool
		want        managed.ExternalObservation
		wantAt      v1alpha1.RemoteClusterServerObservation
		wantReason  xpv2.ConditionReason
		wantMessage string
		wantEvent   string
		// wantReady is the Ready condition's message, when set.
		wantReady string
	}{
		"ClaimedAndEnabled": {
			es:     fakeES("9.3.2", true, map[string]string{grant: "team", claim: `{"u1":"team/srv","u2":"x/y"}`}),
			want:   managed.ExternalObservation{ResourceExists: true, ResourceUpToDate: true},
			wantAt: v1alpha1.RemoteClusterServerObservation{Enabled: true, Claims: 2, Version: "9.3.2"},
		},
		"EnabledByOthers": {
			es:     fakeES("9.3.2", true, map[string]string{grant: "team", claim: `{"u2":"x/y"}`}),
			wantAt: v1alpha1.RemoteClusterServerObservation{Enabled: true, Claims: 1, Version: "9.3.2"},
		},
		"ClaimedButTurnedOffByHand": {
			es:        fakeES("9.3.2", false, map[string]string{grant: "*", claim: `{"u1":"team/srv"}`}),
			want:      managed.ExternalObservation{ResourceExists: true},
			wantAt:    v1alpha1.RemoteClusterServerObservation{Claims: 1, Version: "9.3.2"},
			wantReady: "the remote cluster server of ns2/c2 is disabled (spec.remoteClusterServer.enabled is not true): eslink enables it again, which restarts that cluster",
		},
		"Missing": {
			wantReason:  conditions.ReasonTargetNotFound,
			wantMessage: "Elasticsearch ns2/c2 (spec.forProvider.elasticsearchRef) not found: create it or fix the reference; eslink never creates Elasticsearch objects",
		},
		"NotGranted": {
			es:          fakeES("9.3.2", false, map[string]string{grant: "other"}),
			wantReason:  conditions.ReasonNotAuthorized,
			wantMessage: "spec.forProvider.elasticsearchRef: namespace team is not allowed to link ns2/c2 as remote cluster: the platform team must add team to annotation eslink.io/allowed-namespaces on Elasticsearch ns2/c2",
		},
		"TooOld": {
			es:          fakeES("8.9.1", false, map[string]string{grant: "*"}),
			wantReason:  conditions.ReasonVersionUnsupported,
			wantMessage: "Elasticsearch ns2/c2 runs 8.9.1, below 8.10.0, the minimum ECK's webhook accepts for spec.remoteClusterServer (Elastic's documentation states 8.14.0); upgrade the cluster first",
		},
		"DeletingClaimedWithoutGrant": {
			es:       fakeES("9.3.2", true, map[string]string{claim: `{"u1":"team/srv"}`}),
			deleting: true,
			want:     managed.ExternalObservation{ResourceExists: true},
		},
		"DeletingNotClaimed": {
			es:       fakeES("9.3.2", true, nil),
			deleting: true,
		},
		"DeletingMissing": {deleting: true,
			wantEvent: "Warning TargetGone: the Elasticsearch object ns2/c2 (spec.forProvider.elasticsearchRef) is gone, and its remote cluster server claim with it: nothing left to remove, so the resource lets go"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			b := fake.NewClientBuilder()
			if tc.es != nil {
				b = b.WithObjects([]client.Object{tc.es}...)
			}
			rec := &controllertest.Recorder{}
			kube := b.Build()
			e := &external{es: eck.NewClient(kube, kube), record: rec}
			mg := newServer("team", "srv", ref("ns2", "c2"), false)
			mg.UID = "u1"
			if tc.deleting {
				now := metav1.Now()
				mg.DeletionTimestamp = &now
			}
			got, err := e.Observe(context.Background(), mg)
			var events []string
			for _, ev := range rec.Events {
				events = append(events, string(ev.Type)+" "+string(ev.Reason)+": "+ev.Message)
			}
			var wantEvents []string
			if tc.wantEvent != "" {
				wantEvents = []string{tc.wantEvent}
			}
			if diff := cmp.Diff(wantEvents, events); diff != "" {
				t.Errorf("events: -want +got:\n%s", diff)
			}
			if tc.wantReason != "" {
				if err == nil || err.Error() != tc.wantMessage {
					t.Fatalf("Observe: err = %v, want %q", err, tc.wantMessage)
				}
				if c := mg.GetCondition(xpv2.TypeReady); c.Status != "False" || c.Reason != tc.wantReason || c.Message != tc.wantMessage {
					t.Errorf("Ready = %+v, want False %s", c, tc.wantReason)
				}
				return
			}
			if err != nil {
				t.Fatalf("Observe: %v", err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("Observe: -want +got:\n%s", diff)
			}
			if diff := cmp.Diff(tc.wantAt, mg.Status.AtProvider); diff != "" {
				t.Errorf("atProvider: -want +got:\n%s", diff)
			}
			if c := mg.GetCondition(xpv2.TypeReady); tc.wantReady != "" && c.Message != tc.wantReady {
				t.Errorf("Ready message = %q, want %q", c.Message, tc.wantReady)
			}
		})
	}
}
