package main

import (
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/eslink/eslink/function/fn"
	"github.com/eslink/eslink/internal/grants"
	"github.com/eslink/eslink/test/render"
)

// TestRenderTenantBoundary renders, through Crossplane's engine, links a
// tenant may write that reach past the platform team's grants. Each must
// end with a fatal result naming the field and the grant to ask for, and
// compose nothing; the grants that allow them let them render.
func TestRenderTenantBoundary(t *testing.T) {
	if _, err := render.EnginePath(); err != nil {
		t.Fatalf("the render tests need Crossplane's engine: %v", err)
	}
	addr := render.ServeFunction(t, fn.New())
	flow1 := readObjects(t, "examples/links/flow1-eck-api-key.yaml")[0]

	cases := map[string]struct {
		// link changes the flow 1 example link; remote the example remote
		// cluster2 (which grants ns1 logs-* and archive-*); configs the
		// example ClusterProviderConfigs.
		link    func(*unstructured.Unstructured)
		remote  func(*unstructured.Unstructured)
		configs func([]*unstructured.Unstructured)
		// denied is what the fatal result must say, empty when the link
		// renders.
		denied []string
	}{
		"CertificateModelOnRestrictedRemote": {
			link: func(u *unstructured.Unstructured) {
				unstructured.RemoveNestedField(u.Object, "spec", "access")
				_ = unstructured.SetNestedField(u.Object, "Certificate", "spec", "securityModel")
			},
			remote: annotate(grants.AnnotationAllowedAccess, "search,replication"),
			denied: []string{"spec.securityModel: the certificate security model is not allowed on remote ns2/cluster2", "add certificate to eslink.io/allowed-access"},
		},
		"CertificateModelGranted": {
			link: func(u *unstructured.Unstructured) {
				unstructured.RemoveNestedField(u.Object, "spec", "access")
				_ = unstructured.SetNestedField(u.Object, "Certificate", "spec", "securityModel")
			},
		},
		"RegexName": {
			link:   searchNames("/.*logs.*|.*/"),
			denied: []string{`spec.access.search.names[0]: index name "/.*logs.*|.*/" is a regular expression`, "eslink.io/allowed-index-regexes"},
		},
		"RegexGrantedVerbatim": {
			link:   searchNames("/logs-[0-9]+/"),
			remote: annotate(grants.AnnotationAllowedIndexRegexes, `["/logs-[0-9]+/"]`),
		},
		"SingleCharacterWildcard": {
			link:   searchNames("logs-?"),
			denied: []string{`spec.access.search.names[0]: index pattern "logs-?" uses the single-character wildcard ?`, `eslink.io/allow-single-character-wildcards: "true"`},
		},
		"SingleCharacterWildcardGranted": {
			link:   searchNames("logs-?"),
			remote: annotate(grants.AnnotationAllowSingleCharacterWildcards, "true"),
		},
		"WiderThanGranted": {
			link:   searchNames("logs*"),
			denied: []string{`spec.access.search.names[0]: index pattern "logs*" is outside what remote ns2/cluster2 grants (eslink.io/allowed-index-patterns: [logs-*,archive-*])`},
		},
		"RestrictedIndices": {
			link: func(u *unstructured.Unstructured) {
				_ = unstructured.SetNestedField(u.Object, true, "spec", "access", "search", "allowRestrictedIndices")
			},
			denied: []string{"spec.access.search.allowRestrictedIndices: true lets the patterns match restricted indices", `eslink.io/allow-restricted-indices: "true"`},
		},
		"TenantChosenClusterProviderConfig": {
			link: func(u *unstructured.Unstructured) {
				_ = unstructured.SetNestedMap(u.Object, map[string]any{"kind": "ClusterProviderConfig", "name": "remote"}, "spec", "remote", "providerConfigRef")
			},
			denied: []string{"spec.remote.providerConfigRef: ClusterProviderConfig remote does not allow namespace ns1", "add ns1 to spec.allowedNamespaces of ClusterProviderConfig remote"},
		},
		"DefaultConfigNotAllowingTheNamespace": {
			configs: func(cs []*unstructured.Unstructured) {
				for _, c := range cs {
					if c.GetName() == "eck" {
						_ = unstructured.SetNestedStringSlice(c.Object, []string{"team-a"}, "spec", "allowedNamespaces")
					}
				}
			},
			denied: []string{"the link names no provider config, and the Composition's default ClusterProviderConfig eck does not allow namespace ns1"},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			link := flow1.DeepCopy()
			if tc.link != nil {
				tc.link(link)
			}
			in := render.Input{
				XR:             link,
				Composition:    readFile(t, "package/configuration/namespaced/composition.yaml"),
				XRD:            readFile(t, "package/configuration/namespaced/definition.yaml"),
				Functions:      []render.Function{{Name: "function-eslink", Address: addr}},
				IncludeResults: true,
			}
			var configs []*unstructured.Unstructured
			for _, f := range []string{"examples/clusters/cluster1.yaml", "examples/clusters/cluster2.yaml",
				"examples/providerconfig/cluster-eck.yaml", "examples/providerconfig/cluster-endpoint-fingerprint.yaml"} {
				for _, o := range readObjects(t, f) {
					switch {
					case o.GetKind() == "Elasticsearch" && o.GetName() == "cluster2" && tc.remote != nil:
						tc.remote(o)
					case o.GetKind() == "ClusterProviderConfig":
						configs = append(configs, o)
					case o.GetKind() != "Elasticsearch":
						continue
					}
					in.Required = append(in.Required, o)
				}
			}
			if tc.configs != nil {
				tc.configs(configs)
			}

			out := render.MustRender(t, in)
			var msgs []string
			for _, r := range out.Results {
				sev, _, _ := unstructured.NestedString(r.Object, "severity")
				m, _, _ := unstructured.NestedString(r.Object, "message")
				msgs = append(msgs, sev+": "+m)
			}
			all := strings.Join(msgs, "\n")
			if len(tc.denied) == 0 {
				if out.ExitCode != 0 || len(out.Composed) == 0 {
					t.Fatalf("exit code %d, %d composed resources, want the link rendered; results:\n%s", out.ExitCode, len(out.Composed), all)
				}
				return
			}
			if out.ExitCode != render.ExitFatal {
				t.Errorf("exit code %d, want %d (a fatal result); results:\n%s", out.ExitCode, render.ExitFatal, all)
			}
			if len(out.Composed) != 0 {
				t.Errorf("a denied link composed %d resources", len(out.Composed))
			}
			for _, want := range tc.denied {
				if !strings.Contains(all, want) {
					t.Errorf("no result says %q; results:\n%s", want, all)
				}
			}
		})
	}
}

func annotate(key, value string) func(*unstructured.Unstructured) {
	return func(u *unstructured.Unstructured) {
		a := u.GetAnnotations()
		a[key] = value
		u.SetAnnotations(a)
	}
}

func searchNames(names ...string) func(*unstructured.Unstructured) {
	return func(u *unstructured.Unstructured) {
		_ = unstructured.SetNestedStringSlice(u.Object, names, "spec", "access", "search", "names")
		unstructured.RemoveNestedField(u.Object, "spec", "access", "replication")
	}
}
