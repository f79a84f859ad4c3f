package grants

import (
	"strings"
	"testing"

	"k8s.io/utils/ptr"

	commonv1alpha1 "github.com/eslink/eslink/apis/common/v1alpha1"
)

func remote(annotations map[string]string) Target {
	return Target{Namespace: "ns2", Name: "c2", Annotations: annotations}
}

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
		// denied is a substring of the denial, empty when allowed.
		denied string
	}{
		"SameNamespace": {ns: "ns2", target: remote(nil), role: RoleRemote, access: search},
		"GrantedNamespace": {ns: "team-a", role: RoleRemote, access: search,
			target: remote(map[string]string{AnnotationAllowedNamespaces: "team-b, team-a"})},
		"Wildcard": {ns: "team-a", role: RoleLocal,
			target: Target{Namespace: "ns1", Name: "c1", Annotations: map[string]string{AnnotationAllowedNamespaces: "*"}}},
		"NotGranted": {ns: "team-a", role: RoleRemote, access: search, denied: "spec.remote.elasticsearchRef: namespace team-a is not allowed to link ns2/c2 as remote cluster",
			target: remote(map[string]string{AnnotationAllowedNamespaces: "team-b"})},
		"NotGrantedLocal": {ns: "team-a", role: RoleLocal, denied: "spec.local.elasticsearchRef: namespace team-a", target: Target{Namespace: "ns1", Name: "c1"}},
		"NotGrantedOwnField": {ns: "team-a", role: RoleRemote, denied: "spec.forProvider.remoteElasticsearchRef: namespace team-a",
			target: Target{Namespace: "ns2", Name: "c2", Field: "spec.forProvider.remoteElasticsearchRef"}},
		"IndexPatternInsideGrant": {ns: "ns2", role: RoleRemote, access: search,
			target: remote(map[string]string{AnnotationAllowedIndexPatterns: "metrics-*,logs-*"})},
		"IndexPatternOutsideGrant": {ns: "ns2", role: RoleRemote, access: both,
			denied: `spec.access.replication.names[0]: index pattern "archive-*" is outside what remote ns2/c2 grants (eslink.io/allowed-index-patterns: [logs-*])`,
			target: remote(map[string]string{AnnotationAllowedIndexPatterns: "logs-*"})},
		"EmptyPatternGrantAllowsNothing": {ns: "ns2", role: RoleRemote, access: search, denied: "is outside what remote",
			target: remote(map[string]string{AnnotationAllowedIndexPatterns: ""})},
		"DisallowedAccessKind": {ns: "ns2", role: RoleRemote, access: both,
			denied: "spec.access.replication: access kind replication is not allowed on remote ns2/c2: its annotation eslink.io/allowed-access allows only [search]",
			target: remote(map[string]string{AnnotationAllowedAccess: "search"})},
		"AllowedAccessKind": {ns: "ns2", role: RoleRemote, access: search,
			target: remote(map[string]string{AnnotationAllowedAccess: "search"})},
		"LocalRoleIgnoresRemoteRestrictions": {ns: "ns1", role: RoleLocal, access: both,
			target: Target{Namespace: "ns1", Name: "c1", Annotations: map[string]string{AnnotationAllowedAccess: "search"}}},
		"RestrictedIndicesNeedGrant": {ns: "ns2", role: RoleRemote,
			access: &commonv1alpha1.LinkAccess{Search: &commonv1alpha1.SearchAccess{Names: []string{".security*"}, AllowRestrictedIndices: ptr.To(true)}},
			denied: `spec.access.search.allowRestrictedIndices: true lets the patterns match restricted indices such as .security, where Elasticsearch keeps credentials, and remote ns2/c2 does not allow it: remove it, or ask the platform team to set annotation eslink.io/allow-restricted-indices: "true"`,
			target: remote(nil)},
		"RestrictedIndicesFalseIsFine": {ns: "ns2", role: RoleRemote,
			access: &commonv1alpha1.LinkAccess{Search: &commonv1alpha1.SearchAccess{Names: []string{".security*"}, AllowRestrictedIndices: ptr.To(false)}},
			target: remote(nil)},
		"RestrictedIndicesGranted": {ns: "ns2", role: RoleRemote,
			access: &commonv1alpha1.LinkAccess{Search: &commonv1alpha1.SearchAccess{Names: []string{".security*"}, AllowRestrictedIndices: ptr.To(true)}},
			target: remote(map[string]string{AnnotationAllowRestrictedIndices: "true"})},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			checkDenial(t, authorize(tc.ns, tc.target, tc.role, tc.access), tc.denied)
		})
	}
}

func checkDenial(t *testing.T, err error, want string) {
	t.Helper()
	if want == "" {
		if err != nil {
			t.Fatalf("denied: %v", err)
		}
		return
	}
	if err == nil {
		t.Fatalf("allowed, want a denial containing %q", want)
	}
	if !IsDenied(err) {
		t.Errorf("error %T is not a *DeniedError", err)
	}
	if !strings.Contains(err.Error(), want) {
		t.Errorf("denial:\n%s\nwant it to contain:\n%s", err, want)
	}
}

// TestAuthorizeNames runs the names a hostile tenant would try against a
// remote that grants *logs* (and other grants), through the same path as
// links and managed resources.
func TestAuthorizeNames(t *testing.T) {
	patterns := map[string]string{AnnotationAllowedIndexPatterns: "*logs*"}
	cases := map[string]struct {
		names       []string
		annotations map[string]string
		denied      string
	}{
		"WithinGrant": {names: []string{"app-logs-*", "logs"}, annotations: patterns},
		"RegexMatchingEverything": {names: []string{"/.*logs.*|.*/"}, annotations: patterns,
			denied: `index name "/.*logs.*|.*/" is a regular expression, which Elasticsearch matches against every index name, and remote ns2/c2 does not grant it: use wildcard patterns such as logs-*, or ask the platform team to add it verbatim to annotation eslink.io/allowed-index-regexes`},
		"RegexOnUnrestrictedRemote": {names: []string{"/logs-.*/"}, denied: "is a regular expression"},
		"RegexGrantedVerbatim": {names: []string{"/logs-[0-9]+/"},
			annotations: map[string]string{AnnotationAllowedIndexPatterns: "*logs*", AnnotationAllowedIndexRegexes: `["/logs-[0-9]+/"]`}},
		"RegexNotTheGrantedOne": {names: []string{"/logs-[0-9]+|.*/"},
			annotations: map[string]string{AnnotationAllowedIndexRegexes: `["/logs-[0-9]+/"]`}, denied: "is a regular expression"},
		"RegexGrantNotJSON": {names: []string{"logs"},
			annotations: map[string]string{AnnotationAllowedIndexRegexes: `/logs-.*/`}, denied: "is not a JSON array of strings"},
		"SlashNotRegex": {names: []string{"/logs*"}, annotations: patterns, denied: `index name "/logs*" starts with / but is not a /regular expression/`},
		"LoneSlash":     {names: []string{"/"}, denied: "starts with /"},
		"Empty":         {names: []string{""}, denied: `index name "" is empty`},
		"SingleCharWildcard": {names: []string{"logs-?"}, annotations: patterns,
			denied: `spec.access.search.names[0]: index pattern "logs-?" uses the single-character wildcard ?, which remote ns2/c2 does not allow: use * or literal names, or ask the platform team to set annotation eslink.io/allow-single-character-wildcards: "true"`},
		"SingleCharWildcardUnrestricted": {names: []string{"logs-?"}, denied: "single-character wildcard"},
		"SingleCharWildcardGranted": {names: []string{"logs-?"},
			annotations: map[string]string{AnnotationAllowedIndexPatterns: "logs-*", AnnotationAllowSingleCharacterWildcards: "true"}},
		"SingleCharWildcardGrantedButOutside": {names: []string{"log?-*"},
			annotations: map[string]string{AnnotationAllowedIndexPatterns: "logs-*", AnnotationAllowSingleCharacterWildcards: "true"}, denied: "is outside"},
		"EscapedQuestionMarkIsLiteral": {names: []string{`logs\?`}, annotations: patterns},
		"StarOutsidePrefix": {names: []string{"*"}, annotations: map[string]string{AnnotationAllowedIndexPatterns: "logs-*"},
			denied: `index pattern "*" is outside`},
		"SecondNameOutside": {names: []string{"logs-a", "metrics"}, annotations: map[string]string{AnnotationAllowedIndexPatterns: "logs-*"},
			denied: `spec.access.search.names[1]: index pattern "metrics"`},
		"Backslashes": {names: []string{`\\logs\\`}, annotations: patterns},
		"OutsideBMP":  {names: []string{"logs-\U0001F600"}, denied: "outside the Basic Multilingual Plane"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			access := &commonv1alpha1.LinkAccess{Search: &commonv1alpha1.SearchAccess{Names: tc.names}}
			checkDenial(t, authorize("ns2", remote(tc.annotations), RoleRemote, access), tc.denied)
		})
	}
}

func TestAuthorizeAccessEntries(t *testing.T) {
	entries := []AccessEntry{
		{Field: "spec.forProvider.access.search[0]", Kind: AccessSearch, Names: []string{"logs-*"}},
		{Field: "spec.forProvider.access.replication[0]", Kind: AccessReplication, Names: []string{".security-7"}, AllowRestrictedIndices: true},
	}
	err := AuthorizeAccess("ns2", remote(nil), entries)
	checkDenial(t, err, "spec.forProvider.access.replication[0].allowRestrictedIndices: true lets the patterns match restricted indices")
}

func TestAuthorizeCertificate(t *testing.T) {
	cases := map[string]struct {
		ns          string
		annotations map[string]string
		denied      string
	}{
		"NeverImplicit": {ns: "ns2",
			denied: "spec.securityModel: the certificate security model is not allowed on remote ns2/c2: it gives the local cluster's roles their full rights there, past any index restriction, so a remote allows it only with certificate in annotation eslink.io/allowed-access (which allows [search,replication])"},
		"RestrictedRemote": {ns: "ns2", annotations: map[string]string{AnnotationAllowedAccess: "search", AnnotationAllowedIndexPatterns: "logs-*"},
			denied: "which allows [search]"},
		"Granted": {ns: "ns2", annotations: map[string]string{AnnotationAllowedAccess: "search,certificate"}},
		"GrantedButNotTheNamespace": {ns: "team-a", annotations: map[string]string{AnnotationAllowedAccess: "certificate"},
			denied: "namespace team-a is not allowed"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			checkDenial(t, AuthorizeCertificate(tc.ns, remote(tc.annotations), "spec.securityModel"), tc.denied)
		})
	}
}

func TestConfigAllowsNamespace(t *testing.T) {
	checkDenial(t, ConfigAllowsNamespace("ClusterProviderConfig", "eck", []string{"*"}, "team-a", "spec.providerConfigRef"), "")
	checkDenial(t, ConfigAllowsNamespace("ClusterProviderConfig", "eck", []string{"team-a"}, "team-a", "spec.providerConfigRef"), "")
	checkDenial(t, ConfigAllowsNamespace("ClusterProviderConfig", "admin", nil, "team-a", "spec.providerConfigRef"),
		"spec.providerConfigRef: ClusterProviderConfig admin does not allow namespace team-a: a provider config is a credential, usable only from the namespaces in its spec.allowedNamespaces; ask the platform team to add team-a to spec.allowedNamespaces of ClusterProviderConfig admin")
}

// authorize checks a link as the function does for a remote: the
// namespace first, then the access it requests.
func authorize(ns string, target Target, role Role, access *commonv1alpha1.LinkAccess) error {
	if err := AuthorizeNamespace(ns, target, role); err != nil {
		return err
	}
	if role != RoleRemote || access == nil {
		return nil
	}
	return AuthorizeAccess(ns, target, AccessEntries("spec.access", access))
}
