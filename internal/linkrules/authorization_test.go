package linkrules

import (
	"testing"

	commonv1alpha1 "github.com/eslink/eslink/apis/common/v1alpha1"
)

func TestAuthorize(t *testing.T) {
	search := &commonv1alpha1.LinkAccess{Search: &commonv1alpha1.SearchAccess{Names: []string{"logs-app-*"}}}
	both := &commonv1alpha1.LinkAccess{
		Search:      &commonv1alpha1.SearchAccess{Names: []string{"logs-*"}},
		Replication: &commonv1alpha1.ECKReplicationAccess{Names: []string{"archive-*"}},
	}
	cases := map[string]struct {
		ns     string
		target Target
		role   Role
		access *commonv1alpha1.LinkAccess
		denied bool
	}{
		"SameNamespace": {ns: "ns2", target: Target{Namespace: "ns2", Name: "c2"}, role: RoleRemote, access: search},
		"GrantedNamespace": {ns: "team-a", role: RoleRemote, access: search,
			target: Target{Namespace: "ns2", Name: "c2", Annotations: map[string]string{AnnotationAllowedNamespaces: "team-b, team-a"}}},
		"Wildcard": {ns: "team-a", role: RoleLocal,
			target: Target{Namespace: "ns1", Name: "c1", Annotations: map[string]string{AnnotationAllowedNamespaces: "*"}}},
		"NotGranted": {ns: "team-a", role: RoleRemote, access: search, denied: true,
			target: Target{Namespace: "ns2", Name: "c2", Annotations: map[string]string{AnnotationAllowedNamespaces: "team-b"}}},
		"NoAnnotation": {ns: "team-a", role: RoleLocal, denied: true, target: Target{Namespace: "ns1", Name: "c1"}},
		"IndexPatternInsideGrant": {ns: "ns2", role: RoleRemote, access: search,
			target: Target{Namespace: "ns2", Name: "c2", Annotations: map[string]string{AnnotationAllowedIndexPatterns: "metrics-*,logs-*"}}},
		"IndexPatternOutsideGrant": {ns: "ns2", role: RoleRemote, access: both, denied: true,
			target: Target{Namespace: "ns2", Name: "c2", Annotations: map[string]string{AnnotationAllowedIndexPatterns: "logs-*"}}},
		"DisallowedAccessKind": {ns: "ns2", role: RoleRemote, access: both, denied: true,
			target: Target{Namespace: "ns2", Name: "c2", Annotations: map[string]string{AnnotationAllowedAccess: "search"}}},
		"AllowedAccessKind": {ns: "ns2", role: RoleRemote, access: search,
			target: Target{Namespace: "ns2", Name: "c2", Annotations: map[string]string{AnnotationAllowedAccess: "search"}}},
		"LocalRoleIgnoresRemoteRestrictions": {ns: "ns1", role: RoleLocal, access: both,
			target: Target{Namespace: "ns1", Name: "c1", Annotations: map[string]string{AnnotationAllowedAccess: "search"}}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			err := Authorize(tc.ns, tc.target, tc.role, tc.access)
			if got := err != nil; got != tc.denied {
				t.Fatalf("Authorize(...): denied = %v, want %v (err %v)", got, tc.denied, err)
			}
			if err != nil && !IsDenied(err) {
				t.Errorf("Authorize(...): error %T is not a *DeniedError", err)
			}
		})
	}
}

func TestMatchPattern(t *testing.T) {
	cases := []struct {
		grant, name string
		want        bool
	}{
		{"logs-*", "logs-*", true},
		{"logs-*", "logs-app-*", true},
		{"logs-*", "logs-2026", true},
		{"logs-*", "*", false},
		{"logs-*", "log*", false},
		{"logs", "logs", true},
		{"logs", "logs-*", false},
		{"*", "anything", true},
		{"a*b*c", "axxbyyc", true},
		{"a*b*c", "axxbyy", false},
		{"a*bc", "abc", true},
		{"ab*bc", "abc", false},
	}
	for _, tc := range cases {
		if got := MatchPattern(tc.grant, tc.name); got != tc.want {
			t.Errorf("MatchPattern(%q, %q) = %v, want %v", tc.grant, tc.name, got, tc.want)
		}
	}
}
