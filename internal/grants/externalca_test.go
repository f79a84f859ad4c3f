package grants

import (
	"strings"
	"testing"
)

func TestAuthorizeExternalCA(t *testing.T) {
	cases := map[string]struct {
		ns         string
		annotation string
		denied     bool
	}{
		"OwnNamespace":      {ns: "ns1"},
		"Granted":           {ns: "team-a", annotation: "team-b, team-a"},
		"AllGranted":        {ns: "team-a", annotation: "*"},
		"LocalGrantIsNotCA": {ns: "team-a", denied: true},
		"OtherGranted":      {ns: "team-a", annotation: "team-b", denied: true},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			target := Target{Namespace: "ns1", Name: "cluster1", Annotations: map[string]string{AnnotationAllowedNamespaces: "*"}}
			if tc.annotation != "" {
				target.Annotations[AnnotationAllowedExternalCANamespaces] = tc.annotation
			}
			err := AuthorizeExternalCA(tc.ns, target, "spec.forProvider.certificateAuthority.secretRef")
			if (err != nil) != tc.denied || (err != nil && !IsDenied(err)) {
				t.Errorf("AuthorizeExternalCA(%s) = %v, want denied %v", tc.ns, err, tc.denied)
			}
			if err != nil && !strings.HasPrefix(err.Error(), "spec.forProvider.certificateAuthority.secretRef: ") {
				t.Errorf("AuthorizeExternalCA(%s) = %v, want the denial to name the field", tc.ns, err)
			}
		})
	}
}

func TestAuthorizeTrustSource(t *testing.T) {
	target := Target{Namespace: "platform", Name: "shared", Annotations: map[string]string{AnnotationAllowedExternalCANamespaces: "granted"}}
	cases := map[string]struct {
		ns, sourceNS string
		denied       bool
	}{
		"SourceInTheTrustingClustersNamespace": {ns: "team-a", sourceNS: "platform"},
		"TeamsOwnClusterNotGranted":            {ns: "team-a", sourceNS: "team-a", denied: true},
		"OtherNamespaceNotGranted":             {ns: "team-a", sourceNS: "elsewhere", denied: true},
		"TeamsOwnClusterGranted":               {ns: "granted", sourceNS: "granted"},
		"TrustOnTheTeamsOwnCluster":            {ns: "platform", sourceNS: "elsewhere"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			err := AuthorizeTrustSource(tc.ns, target, tc.sourceNS, "source", "spec.forProvider.certificateAuthority.elasticsearchRef")
			if (err != nil) != tc.denied {
				t.Fatalf("AuthorizeTrustSource(%s, source in %s) = %v, want denied %v", tc.ns, tc.sourceNS, err, tc.denied)
			}
			if err != nil && (!strings.Contains(err.Error(), "spec.forProvider.certificateAuthority.elasticsearchRef") || !strings.Contains(err.Error(), AnnotationAllowedExternalCANamespaces)) {
				t.Errorf("the denial %q does not name the field and the grant", err)
			}
		})
	}
}
