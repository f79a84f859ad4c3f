// Package schema checks eslink's published schemas in a real API server:
// every CRD in package/ installs, the XRDs' schema (converted by
// crossplane-runtime's xcrd, the code Crossplane core serves XRDs with)
// accepts every example and rejects bad input naming the field. The
// end-to-end suite runs the XRDs through Crossplane core itself; these tests
// need only the schema, so they share one API server without core.
package schema

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	extv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"

	"github.com/crossplane/crossplane-runtime/v2/pkg/xcrd"

	xpv1 "github.com/crossplane/crossplane/apis/v2/apiextensions/v1"

	"github.com/eslink/eslink/test/controlplane"
)

// xrdCRDs returns the CRDs Crossplane serves for an XRD: its composite
// resource's and, for a legacy XRD, its claim's. v1 and v2 XRDs alike decode
// into the v1 type, which holds every field CRD generation reads, scope
// included.
func xrdCRDs(path string) ([]*extv1.CustomResourceDefinition, error) {
	b, err := os.ReadFile(path) // A path inside the repository.
	if err != nil {
		return nil, err
	}
	xrd := &xpv1.CompositeResourceDefinition{}
	if err := yaml.Unmarshal(b, xrd); err != nil {
		return nil, fmt.Errorf("cannot parse XRD %s: %w", path, err)
	}
	xr, err := xcrd.ForCompositeResource(xrd)
	if err != nil {
		return nil, fmt.Errorf("cannot derive the composite resource CRD of %s: %w", path, err)
	}
	out := []*extv1.CustomResourceDefinition{xr}
	if xrd.Spec.ClaimNames != nil {
		claim, err := xcrd.ForCompositeResourceClaim(xrd)
		if err != nil {
			return nil, fmt.Errorf("cannot derive the claim CRD of %s: %w", path, err)
		}
		out = append(out, claim)
	}
	for _, c := range out {
		// envtest installs only files that say what they hold, and there is
		// no XRD here to own the CRD.
		c.APIVersion, c.Kind = extv1.SchemeGroupVersion.String(), "CustomResourceDefinition"
		c.OwnerReferences = nil
	}
	return out, nil
}

func TestMain(m *testing.M) {
	root, err := controlplane.RepoRoot()
	if err != nil {
		panic(err)
	}
	crds, err := xrdCRDs(filepath.Join(root, "package", "configuration", "namespaced", "definition.yaml"))
	if err != nil {
		panic(err)
	}
	dir, err := os.MkdirTemp("", "eslink-schema-")
	if err != nil {
		panic(err)
	}
	for _, c := range crds {
		b, err := yaml.Marshal(c)
		if err != nil {
			panic(err)
		}
		if err := os.WriteFile(filepath.Join(dir, c.Name+".yaml"), b, 0o600); err != nil {
			panic(err)
		}
	}
	controlplane.Main(m, controlplane.WithCRDPaths(dir))
}

func readDocs(t *testing.T, path string) []*unstructured.Unstructured {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out []*unstructured.Unstructured
	for _, doc := range strings.Split(string(b), "\n---") {
		m := map[string]any{}
		if err := yaml.Unmarshal([]byte(doc), &m); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		if len(m) > 0 {
			out = append(out, &unstructured.Unstructured{Object: m})
		}
	}
	return out
}

// TestExamplesAreAccepted creates every example the API server can hold (the
// legacy claim needs the legacy XRD and is rendered by the function tests).
func TestExamplesAreAccepted(t *testing.T) {
	env := controlplane.New(t)
	root, _ := controlplane.RepoRoot()
	files, err := filepath.Glob(filepath.Join(root, "examples", "*", "*.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	// Namespaces first, then everything else.
	var docs []*unstructured.Unstructured
	for _, f := range files {
		for _, d := range readDocs(t, f) {
			if d.GetKind() == "Namespace" {
				docs = append([]*unstructured.Unstructured{d}, docs...)
			} else {
				docs = append(docs, d)
			}
		}
	}
	namespaces := map[string]bool{}
	created := 0
	for _, d := range docs {
		switch d.GetKind() {
		case "Function", "RemoteClusterLink", "Input":
			continue // a package, the legacy claim, the function input: not served here
		}
		if ns := d.GetNamespace(); ns != "" && !namespaces[ns] {
			nsObj := &unstructured.Unstructured{Object: map[string]any{"apiVersion": "v1", "kind": "Namespace", "metadata": map[string]any{"name": ns}}}
			_ = env.Client.Create(t.Context(), nsObj)
			namespaces[ns] = true
		}
		if err := env.Client.Create(t.Context(), d); err != nil {
			if d.GetKind() == "Namespace" && strings.Contains(err.Error(), "already exists") {
				continue
			}
			t.Errorf("example %s %s/%s rejected: %v", d.GetKind(), d.GetNamespace(), d.GetName(), err)
			continue
		}
		created++
	}
	if created < 10 {
		t.Errorf("created only %d example objects; the examples folder looks incomplete", created)
	}
}

func link(spec map[string]any) *unstructured.Unstructured {
	return &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "eslink.io/v1alpha1", "kind": "XRemoteClusterLink",
		"metadata": map[string]any{"generateName": "bad-", "namespace": "default"},
		"spec":     spec,
	}}
}

func validSpec() map[string]any {
	return map[string]any{
		"alias":  "logs",
		"local":  map[string]any{"elasticsearchRef": map[string]any{"name": "cluster1", "namespace": "ns1"}},
		"remote": map[string]any{"elasticsearchRef": map[string]any{"name": "cluster2", "namespace": "ns2"}},
		"access": map[string]any{"search": map[string]any{"names": []any{"logs-*"}}},
	}
}

func TestInvalidLinksAreRejected(t *testing.T) {
	env := controlplane.New(t)
	cases := map[string]struct {
		mutate func(map[string]any)
		want   []string // every string must appear in the API server's error
	}{
		"Valid": {mutate: func(map[string]any) {}},
		"MissingLocalRef": {
			mutate: func(s map[string]any) { delete(s, "local") },
			want:   []string{"spec.local", "Required"},
		},
		"MissingRemote": {
			mutate: func(s map[string]any) { s["remote"] = map[string]any{} },
			want:   []string{"spec.remote", "set exactly one of remote.elasticsearchRef"},
		},
		"EmptyAccess": {
			mutate: func(s map[string]any) { s["access"] = map[string]any{} },
			want:   []string{"spec.access", "access must grant search or replication"},
		},
		"MissingAccess": {
			mutate: func(s map[string]any) { delete(s, "access") },
			want:   []string{"spec", "access is required with securityModel APIKey"},
		},
		"EmptyNames": {
			mutate: func(s map[string]any) { s["access"] = map[string]any{"search": map[string]any{"names": []any{}}} },
			want:   []string{"spec.access.search.names"},
		},
		"IllegalAlias": {
			mutate: func(s map[string]any) { s["alias"] = "logs:prod" },
			want:   []string{"spec.alias", "should match"},
		},
		"QueryWithReplication": {
			mutate: func(s map[string]any) {
				s["access"] = map[string]any{
					"search":      map[string]any{"names": []any{"logs-*"}, "query": map[string]any{"term": map[string]any{"team": "a"}}},
					"replication": map[string]any{"names": []any{"archive-*"}},
				}
			},
			want: []string{"spec.access", "search with query or fieldSecurity is not allowed together with replication"},
		},
		"UnknownSecurityModel": {
			mutate: func(s map[string]any) { s["securityModel"] = "Password" },
			want:   []string{"spec.securityModel", "Unsupported value"},
		},
		"UnknownKeyManagement": {
			mutate: func(s map[string]any) { s["keyManagement"] = "Manual" },
			want:   []string{"spec.keyManagement", "Unsupported value"},
		},
		"ExpirationWithECKKeys": {
			mutate: func(s map[string]any) { s["keyManagement"] = "ECK"; s["expiration"] = "30d" },
			want:   []string{"spec", "need keyManagement Provider"},
		},
		"BadExpiration": {
			mutate: func(s map[string]any) { s["keyManagement"] = "Provider"; s["expiration"] = "30 days" },
			want:   []string{"spec.expiration"},
		},
		"RotateBeforeLongerThanExpiration": {
			mutate: func(s map[string]any) {
				s["keyManagement"] = "Provider"
				s["expiration"] = "1d"
				s["rotateBefore"] = "2d"
			},
			want: []string{"spec.rotateBefore", "rotateBefore must be shorter than expiration"},
		},
		"RotateBeforeEqualToExpiration": {
			mutate: func(s map[string]any) {
				s["keyManagement"] = "Provider"
				s["expiration"] = "24h"
				s["rotateBefore"] = "1d"
			},
			want: []string{"spec.rotateBefore", "rotateBefore must be shorter than expiration"},
		},
		"RotateBeforeInMillisecondsAgainstSeconds": {
			// "ms" ends with "s": 2500ms is longer than 2s.
			mutate: func(s map[string]any) {
				s["keyManagement"] = "Provider"
				s["expiration"] = "2s"
				s["rotateBefore"] = "2500ms"
			},
			want: []string{"spec.rotateBefore", "rotateBefore must be shorter than expiration"},
		},
		"RotateBeforeShorter": {
			mutate: func(s map[string]any) {
				s["keyManagement"] = "Provider"
				s["expiration"] = "30d"
				s["rotateBefore"] = "168h"
			},
		},
		"RotateBeforeInNanosShorter": {
			mutate: func(s map[string]any) {
				s["keyManagement"] = "Provider"
				s["expiration"] = "1s"
				s["rotateBefore"] = "999999999nanos"
			},
		},
		"RotateBeforeWithoutExpiration": {
			mutate: func(s map[string]any) { s["keyManagement"] = "Provider"; s["rotateBefore"] = "1d" },
			want:   []string{"spec.rotateBefore", "rotateBefore needs expiration"},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			spec := validSpec()
			tc.mutate(spec)
			err := env.Client.Create(t.Context(), link(spec))
			if len(tc.want) == 0 {
				if err != nil {
					t.Fatalf("valid link rejected: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatal("invalid link accepted")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
}

// TestTargetsAreImmutable: moving a managed resource to another cluster
// would leave its entry or key behind on the old one.
func TestTargetsAreImmutable(t *testing.T) {
	env := controlplane.New(t)
	cases := map[string]*unstructured.Unstructured{
		"RemoteClusterEntry": {Object: map[string]any{
			"apiVersion": "eck.m.eslink.io/v1alpha1", "kind": "RemoteClusterEntry",
			"metadata": map[string]any{"name": "immutable-entry", "namespace": "default"},
			"spec": map[string]any{"forProvider": map[string]any{
				"elasticsearchRef": map[string]any{"name": "cluster1"}, "alias": "logs",
				"remoteElasticsearchRef": map[string]any{"name": "cluster2", "namespace": "ns2"},
			}},
		}},
		"RemoteClusterServer": {Object: map[string]any{
			"apiVersion": "eck.m.eslink.io/v1alpha1", "kind": "RemoteClusterServer",
			"metadata": map[string]any{"name": "immutable-server", "namespace": "default"},
			"spec":     map[string]any{"forProvider": map[string]any{"elasticsearchRef": map[string]any{"name": "cluster1"}}},
		}},
		"CrossClusterAPIKey": {Object: map[string]any{
			"apiVersion": "elasticsearch.m.eslink.io/v1alpha1", "kind": "CrossClusterAPIKey",
			"metadata": map[string]any{"name": "immutable-key", "namespace": "default"},
			"spec": map[string]any{"forProvider": map[string]any{
				"name": "k", "elasticsearchRef": map[string]any{"name": "cluster1"},
				"access": map[string]any{"search": []any{map[string]any{"names": []any{"logs-*"}}}},
			}},
		}},
	}
	for name, obj := range cases {
		t.Run(name, func(t *testing.T) {
			if err := env.Client.Create(t.Context(), obj); err != nil {
				t.Fatalf("cannot create %s: %v", name, err)
			}
			if err := unstructured.SetNestedField(obj.Object, "cluster3", "spec", "forProvider", "elasticsearchRef", "name"); err != nil {
				t.Fatal(err)
			}
			err := env.Client.Update(t.Context(), obj)
			if err == nil || !strings.Contains(err.Error(), "elasticsearchRef is immutable") {
				t.Errorf("moving %s to another cluster: got %v, want an immutability error", name, err)
			}
		})
	}
}

// TestKeyDurationsAreChecked: the key's own CRD carries the same rule as the
// link, for keys written without the function.
func TestKeyDurationsAreChecked(t *testing.T) {
	env := controlplane.New(t)
	key := func(expiration, rotateBefore string) *unstructured.Unstructured {
		fp := map[string]any{
			"name":   "k",
			"access": map[string]any{"search": []any{map[string]any{"names": []any{"logs-*"}}}},
		}
		if expiration != "" {
			fp["expiration"] = expiration
		}
		if rotateBefore != "" {
			fp["rotateBefore"] = rotateBefore
		}
		return &unstructured.Unstructured{Object: map[string]any{
			"apiVersion": "elasticsearch.m.eslink.io/v1alpha1", "kind": "CrossClusterAPIKey",
			"metadata": map[string]any{"generateName": "durations-", "namespace": "default"},
			"spec":     map[string]any{"forProvider": fp},
		}}
	}
	cases := map[string]struct {
		expiration, rotateBefore string
		want                     []string
	}{
		"Shorter":       {expiration: "30d", rotateBefore: "7d"},
		"Longer":        {expiration: "1d", rotateBefore: "2d", want: []string{"spec.forProvider.rotateBefore", "rotateBefore must be shorter than expiration"}},
		"MillisVsMicro": {expiration: "1ms", rotateBefore: "1000micros", want: []string{"spec.forProvider.rotateBefore", "rotateBefore must be shorter than expiration"}},
		"NoExpiration":  {rotateBefore: "1d", want: []string{"spec.forProvider.rotateBefore", "rotateBefore needs expiration"}},
		"TooLong":       {expiration: "123456789012345678901234567890123d", want: []string{"spec.forProvider.expiration", "Too long"}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			err := env.Client.Create(t.Context(), key(tc.expiration, tc.rotateBefore))
			if len(tc.want) == 0 {
				if err != nil {
					t.Fatalf("valid key rejected: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatal("invalid key accepted")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
}

// TestPinnedCertificateIsAlwaysChecked: a pinned fingerprint cannot be
// combined with skipping verification, which would make the pin look like
// it protects a connection that checks nothing.
func TestPinnedCertificateIsAlwaysChecked(t *testing.T) {
	env := controlplane.New(t)
	pc := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "m.eslink.io/v1alpha1", "kind": "ClusterProviderConfig",
		"metadata": map[string]any{"name": "pinned-and-skipped"},
		"spec": map[string]any{"allowedNamespaces": []any{"*"}, "endpoint": map[string]any{
			"url":                  "https://es.example.com:9200",
			"credentialsSecretRef": map[string]any{"name": "creds", "namespace": "default"},
			"tls": map[string]any{
				"certificateFingerprint": strings.Repeat("ab", 32),
				"insecureSkipVerify":     true,
			},
		}},
	}}
	err := env.Client.Create(t.Context(), pc)
	if err == nil || !strings.Contains(err.Error(), "set certificateFingerprint or insecureSkipVerify, not both") {
		t.Errorf("a config pinning a certificate and skipping verification: got %v, want it rejected", err)
	}
}
