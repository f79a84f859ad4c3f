package eck

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/eslink/eslink/internal/linkrules"
)

func TestChanges(t *testing.T) {
	// with returns a copy of es changed by fn.
	with := func(es *unstructured.Unstructured, fn func(*unstructured.Unstructured)) *unstructured.Unstructured {
		out := es.DeepCopy()
		fn(out)
		return out
	}
	annotate := func(k, v string) func(*unstructured.Unstructured) {
		return func(u *unstructured.Unstructured) {
			a := u.GetAnnotations()
			if a == nil {
				a = map[string]string{}
			}
			a[k] = v
			u.SetAnnotations(a)
		}
	}
	set := func(v any, path ...string) func(*unstructured.Unstructured) {
		return func(u *unstructured.Unstructured) {
			if err := unstructured.SetNestedField(u.Object, v, path...); err != nil {
				t.Fatal(err)
			}
		}
	}
	remoteClusters := func(owners string, entries ...map[string]any) func(*unstructured.Unstructured) {
		return func(u *unstructured.Unstructured) {
			annotate(ownersKey, owners)(u)
			if err := linkrules.SetRemoteClusters(u, entries); err != nil {
				t.Fatal(err)
			}
		}
	}
	base := object(`{"logs":"u1","metrics":"u2"}`, entry("logs", "c2"), entry("metrics", "c2"))
	base = with(base, annotate(linkrules.AnnotationRemoteClusterServerClaims, `{"s1":"team-a/one"}`))

	cases := map[string]struct {
		cur        *unstructured.Unstructured
		wantShared bool
		wantParts  []string
	}{
		"Nothing": {cur: base.DeepCopy()},
		"NodeSetsAndHealth": {
			cur: with(with(base, set("red", "status", "health")), set(int64(5), "spec", "nodeSets")),
		},
		"GrantAdded": {
			cur:        with(base, annotate(linkrules.AnnotationAllowedNamespaces, "team-b")),
			wantShared: true,
		},
		"UnrelatedAnnotation": {cur: with(base, annotate("example.com/note", "x"))},
		"StatusVersion": {
			cur:        with(base, set("9.3.2", "status", "version")),
			wantShared: true,
		},
		"ServerEnabled": {
			cur:        with(base, set(true, "spec", "remoteClusterServer", "enabled")),
			wantShared: true,
		},
		"EntryAdded": {
			cur:       with(base, remoteClusters(`{"logs":"u1","metrics":"u2","new":"u3"}`, entry("logs", "c2"), entry("metrics", "c2"), entry("new", "c3"))),
			wantParts: []string{RemoteClusterPart("new")},
		},
		"EntryChanged": {
			cur:       with(base, remoteClusters(`{"logs":"u1","metrics":"u2"}`, entry("logs", "c9"), entry("metrics", "c2"))),
			wantParts: []string{RemoteClusterPart("logs")},
		},
		"EntryRemovedByHand": {
			cur:       with(base, remoteClusters(`{"logs":"u1","metrics":"u2"}`, entry("metrics", "c2"))),
			wantParts: []string{RemoteClusterPart("logs")},
		},
		"OwnerChanged": {
			cur:       with(base, remoteClusters(`{"logs":"u1","metrics":"u9"}`, entry("logs", "c2"), entry("metrics", "c2"))),
			wantParts: []string{RemoteClusterPart("metrics")},
		},
		"ClaimAddedAndRemoved": {
			cur:       with(base, annotate(linkrules.AnnotationRemoteClusterServerClaims, `{"s2":"team-a/two"}`)),
			wantParts: []string{ServerClaimPart("s1"), ServerClaimPart("s2")},
		},
		"FlowThreeSettingsClaimAnAlias": {
			cur:       with(base, annotate(linkrules.AnnotationRemoteClusterSettingsOwners, `{"logs":"u7","audit":"u8"}`)),
			wantParts: []string{RemoteClusterPart("audit"), RemoteClusterPart("logs")},
		},
		"FlowThreeSecureSettingsAndSigning": {
			cur: with(with(base, annotate(linkrules.AnnotationSecureSettingsOwners, `{"eslink-remote-logs":"u7"}`)),
				annotate(linkrules.AnnotationRemoteClusterSigningOwners, `{"logs":"u7"}`)),
		},
		"EntryAndFlowThreeSettingsOfOneAlias": {
			cur: with(with(base, remoteClusters(`{"logs":"u1","metrics":"u2"}`, entry("logs", "c9"), entry("metrics", "c2"))),
				annotate(linkrules.AnnotationRemoteClusterSettingsOwners, `{"logs":"u7"}`)),
			wantParts: []string{RemoteClusterPart("logs")},
		},
		"AliasClaimed": {
			cur:       with(base, annotate(linkrules.AnnotationAliasOwners, `{"audit":"team-a/orders"}`)),
			wantParts: []string{RemoteClusterPart("audit")},
		},
		"DamagedSettingsOwners": {
			cur:        with(base, annotate(linkrules.AnnotationRemoteClusterSettingsOwners, `{`)),
			wantShared: true,
		},
		"DamagedOwners": {
			cur:        with(base, annotate(linkrules.AnnotationRemoteClusterOwners, `{`)),
			wantShared: true,
		},
		"DamagedClaims": {
			cur:        with(base, annotate(linkrules.AnnotationRemoteClusterServerClaims, `[]`)),
			wantShared: true,
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			shared, parts := Changes(base, tc.cur)
			if shared != tc.wantShared {
				t.Errorf("Changes(...): shared = %t, want %t", shared, tc.wantShared)
			}
			if diff := cmp.Diff(tc.wantParts, parts); diff != "" {
				t.Errorf("Changes(...): -want parts, +got:\n%s", diff)
			}
		})
	}
}
