package eck

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/eslink/eslink/internal/eckschema"
)

const claimsKey = eckschema.AnnotationRemoteClusterServerClaims

type serverState struct {
	Server    map[string]any
	Claims    string
	EnabledBy string
}

func server(claims string, server map[string]any) *unstructured.Unstructured {
	es := eckschema.NewElasticsearch()
	es.SetNamespace("ns2")
	es.SetName("c2")
	if claims != "" {
		es.SetAnnotations(map[string]string{claimsKey: claims})
	}
	if server != nil {
		_ = unstructured.SetNestedMap(es.Object, server, "spec", "remoteClusterServer")
	}
	return es
}

// byEslink records on es that eslink turned its server on.
func byEslink(es *unstructured.Unstructured) *unstructured.Unstructured {
	a := es.GetAnnotations()
	if a == nil {
		a = map[string]string{}
	}
	a[eckschema.AnnotationRemoteClusterServerEnabledBy] = eckschema.RemoteClusterServerEnabledByEslink
	es.SetAnnotations(a)
	return es
}

func serverStateOf(es *unstructured.Unstructured) serverState {
	m, _, _ := unstructured.NestedMap(es.Object, "spec", "remoteClusterServer")
	return serverState{Server: m, Claims: es.GetAnnotations()[claimsKey], EnabledBy: es.GetAnnotations()[eckschema.AnnotationRemoteClusterServerEnabledBy]}
}

func TestClaimServer(t *testing.T) {
	svc := map[string]any{"spec": map[string]any{"type": "LoadBalancer"}}
	cases := map[string]struct {
		es          *unstructured.Unstructured
		want        serverState
		wantChanged bool
		wantErr     bool
	}{
		"FirstClaimEnables": {
			es:          server("", nil),
			wantChanged: true,
			want:        serverState{Server: map[string]any{"enabled": true}, Claims: `{"u1":"team-a/s"}`, EnabledBy: "eslink"},
		},
		"KeepsServiceTemplate": {
			es:          server("", map[string]any{"service": svc}),
			wantChanged: true,
			want:        serverState{Server: map[string]any{"enabled": true, "service": svc}, Claims: `{"u1":"team-a/s"}`, EnabledBy: "eslink"},
		},
		"EnabledBySomeoneElse": {
			es:          server("", map[string]any{"enabled": true}),
			wantChanged: true,
			want:        serverState{Server: map[string]any{"enabled": true}, Claims: `{"u1":"team-a/s"}`},
		},
		"AlreadyEnabledByOthers": {
			es:          server(`{"u2":"team-b/s"}`, map[string]any{"enabled": true}),
			wantChanged: true,
			want:        serverState{Server: map[string]any{"enabled": true}, Claims: `{"u1":"team-a/s","u2":"team-b/s"}`},
		},
		"NothingToDo": {
			es:   server(`{"u1":"team-a/s"}`, map[string]any{"enabled": true}),
			want: serverState{Server: map[string]any{"enabled": true}, Claims: `{"u1":"team-a/s"}`},
		},
		"ReEnablesAfterHandEdit": {
			es:          server(`{"u1":"team-a/s"}`, map[string]any{"enabled": false}),
			wantChanged: true,
			want:        serverState{Server: map[string]any{"enabled": true}, Claims: `{"u1":"team-a/s"}`, EnabledBy: "eslink"},
		},
		"DamagedAnnotation": {
			es:      server(`oops`, nil),
			want:    serverState{Claims: `oops`},
			wantErr: true,
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			changed, err := ClaimServer(tc.es, "u1", "team-a/s")
			if (err != nil) != tc.wantErr {
				t.Fatalf("ClaimServer: err = %v, wantErr %v", err, tc.wantErr)
			}
			if changed != tc.wantChanged {
				t.Errorf("ClaimServer changed = %v, want %v", changed, tc.wantChanged)
			}
			if diff := cmp.Diff(tc.want, serverStateOf(tc.es)); diff != "" {
				t.Errorf("ClaimServer: -want +got:\n%s", diff)
			}
		})
	}
}

func TestReleaseServer(t *testing.T) {
	cases := map[string]struct {
		es          *unstructured.Unstructured
		disable     bool
		want        serverState
		wantChanged bool
	}{
		"LastClaimKeepsServerByDefault": {
			es:          byEslink(server(`{"u1":"team-a/s"}`, map[string]any{"enabled": true})),
			wantChanged: true,
			want:        serverState{Server: map[string]any{"enabled": true}, EnabledBy: "eslink"},
		},
		"LastClaimDisablesWhenAsked": {
			es: byEslink(server(`{"u1":"team-a/s"}`, map[string]any{"enabled": true})), disable: true,
			wantChanged: true,
			want:        serverState{Server: map[string]any{"enabled": false}},
		},
		"NeverDisablesWhatOthersEnabled": {
			es: server(`{"u1":"team-a/s"}`, map[string]any{"enabled": true}), disable: true,
			wantChanged: true,
			want:        serverState{Server: map[string]any{"enabled": true}},
		},
		"OtherClaimKeepsServerOn": {
			es: byEslink(server(`{"u1":"team-a/s","u2":"team-b/s"}`, map[string]any{"enabled": true})), disable: true,
			wantChanged: true,
			want:        serverState{Server: map[string]any{"enabled": true}, Claims: `{"u2":"team-b/s"}`, EnabledBy: "eslink"},
		},
		"NotClaimed": {
			es:   server(`{"u2":"team-b/s"}`, map[string]any{"enabled": true}),
			want: serverState{Server: map[string]any{"enabled": true}, Claims: `{"u2":"team-b/s"}`},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			changed, err := ReleaseServer(tc.es, "u1", tc.disable)
			if err != nil {
				t.Fatal(err)
			}
			if changed != tc.wantChanged {
				t.Errorf("ReleaseServer changed = %v, want %v", changed, tc.wantChanged)
			}
			if diff := cmp.Diff(tc.want, serverStateOf(tc.es)); diff != "" {
				t.Errorf("ReleaseServer: -want +got:\n%s", diff)
			}
		})
	}
}
