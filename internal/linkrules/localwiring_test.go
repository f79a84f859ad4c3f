package linkrules

import (
	"regexp"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

func TestFileBasedSecureSettings(t *testing.T) {
	cases := map[string]struct {
		version    string
		annotation string
		want       bool
	}{
		"9.5 with annotation":   {version: "9.5.0", annotation: "true", want: true},
		"prerelease of 9.5":     {version: "9.5.0-SNAPSHOT", annotation: "true", want: true},
		"9.4 with annotation":   {version: "9.4.3", annotation: "true"},
		"9.5 without":           {version: "9.5.1"},
		"annotation not true":   {version: "10.0.0", annotation: "yes"},
		"unparseable version":   {version: "latest", annotation: "true"},
		"10.x with annotation":  {version: "10.1.0", annotation: "true", want: true},
		"annotation, no spec":   {annotation: "true"},
		"9.5 annotation false":  {version: "9.5.0", annotation: "false"},
		"spec above, 9.6 patch": {version: "9.6.2", annotation: "true", want: true},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			es := NewElasticsearch()
			if tc.version != "" {
				_ = unstructured.SetNestedField(es.Object, tc.version, "spec", "version")
			}
			if tc.annotation != "" {
				es.SetAnnotations(map[string]string{AnnotationFileBasedSecureSettings: tc.annotation})
			}
			if got := FileBasedSecureSettings(es); got != tc.want {
				t.Errorf("FileBasedSecureSettings = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestDefaultCertificateIdentity(t *testing.T) {
	cases := map[string]struct {
		suffix   string
		want     string
		match    []string
		notMatch []string
	}{
		"ECKDefault": {
			want:  `^CN=cluster1-es-[^,]+\.node\.cluster1\.ns1\.es\.local,OU=cluster1$`,
			match: []string{"CN=cluster1-es-default-0.node.cluster1.ns1.es.local,OU=cluster1"},
			notMatch: []string{
				"CN=cluster2-es-default-0.node.cluster2.ns1.es.local,OU=cluster2",
				"CN=cluster1-es-default-0.node.cluster1.ns2.es.local,OU=cluster1",
				"CN=cluster1-es-default-0Xnode.cluster1.ns1.es.local,OU=cluster1",
				"CN=x,OU=y,CN=cluster1-es-default-0.node.cluster1.ns1.es.local,OU=cluster1",
			},
		},
		"OtherNameSuffix": {
			suffix:   "prod.example.com",
			want:     `^CN=cluster1-es-[^,]+\.prod\.example\.com,OU=cluster1$`,
			match:    []string{"CN=cluster1-es-hot-2.prod.example.com,OU=cluster1"},
			notMatch: []string{"CN=cluster1-es-hot-2.node.cluster1.ns1.es.local,OU=cluster1"},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			es := NewElasticsearch()
			es.SetName("cluster1")
			es.SetNamespace("ns1")
			if tc.suffix != "" {
				_ = unstructured.SetNestedField(es.Object, tc.suffix, "spec", "transport", "tls", "otherNameSuffix")
			}
			got := DefaultCertificateIdentity(es)
			if got != tc.want {
				t.Fatalf("DefaultCertificateIdentity = %s, want %s", got, tc.want)
			}
			re := regexp.MustCompile(got)
			for _, dn := range tc.match {
				if !re.MatchString(dn) {
					t.Errorf("%s does not match %s", got, dn)
				}
			}
			for _, dn := range tc.notMatch {
				if re.MatchString(dn) {
					t.Errorf("%s matches %s", got, dn)
				}
			}
		})
	}
}

func TestReconciled(t *testing.T) {
	cases := map[string]struct {
		generation int64
		status     map[string]any
		want       bool
	}{
		"Ready at generation": {generation: 3, want: true, status: map[string]any{
			"observedGeneration": int64(3), "phase": "Ready",
			"conditions": []any{map[string]any{"type": "ReconciliationComplete", "status": "True"}},
		}},
		"Older generation": {generation: 4, status: map[string]any{"observedGeneration": int64(3), "phase": "Ready"}},
		"Applying changes": {generation: 3, status: map[string]any{"observedGeneration": int64(3), "phase": "ApplyingChanges"}},
		"Not complete": {generation: 3, status: map[string]any{
			"observedGeneration": int64(3), "phase": "Ready",
			"conditions": []any{map[string]any{"type": "ReconciliationComplete", "status": "False", "message": "rolling upgrade"}},
		}},
		"No status": {generation: 1},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			es := NewElasticsearch()
			es.SetGeneration(tc.generation)
			if tc.status != nil {
				es.Object["status"] = tc.status
			}
			got, why := Reconciled(es)
			if got != tc.want || (!got && why == "") {
				t.Errorf("Reconciled = %v (%q), want %v with a reason when false", got, why, tc.want)
			}
		})
	}
}

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
