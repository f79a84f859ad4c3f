package controlplane_test

import (
	"context"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/eslink/eslink/test/controlplane"
)

func elasticsearch(name string, spec map[string]any) *unstructured.Unstructured {
	u := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "elasticsearch.k8s.elastic.co/v1",
		"kind":       "Elasticsearch",
		"metadata":   map[string]any{"name": name, "namespace": "default"},
		"spec":       spec,
	}}
	return u
}

func TestControlPlaneServesUpstreamCRDs(t *testing.T) {
	// Only the upstream CRDs: eslink's own are covered by TestProjectCRDsInstall.
	env := controlplane.New(t, controlplane.WithoutProjectCRDs())
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	// Built-in types work through the default scheme.
	if err := env.Client.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "cp-test"}}); err != nil {
		t.Fatalf("create namespace: %v", err)
	}

	for _, name := range []string{
		"elasticsearches.elasticsearch.k8s.elastic.co",
		"compositeresourcedefinitions.apiextensions.crossplane.io",
		"compositions.apiextensions.crossplane.io",
		"functions.pkg.crossplane.io",
	} {
		crd := &apiextensionsv1.CustomResourceDefinition{}
		if err := env.Client.Get(ctx, types.NamespacedName{Name: name}, crd); err != nil {
			t.Errorf("CRD %s not installed: %v", name, err)
			continue
		}
		if !established(crd) {
			t.Errorf("CRD %s is not Established", name)
		}
	}

	t.Run("ValidElasticsearchAccepted", func(t *testing.T) {
		es := elasticsearch("quickstart", map[string]any{
			"version":  "8.19.7",
			"nodeSets": []any{map[string]any{"name": "default", "count": int64(1)}},
		})
		if err := env.Client.Create(ctx, es); err != nil {
			t.Fatalf("create Elasticsearch: %v", err)
		}
		got := &unstructured.Unstructured{}
		got.SetGroupVersionKind(es.GroupVersionKind())
		if err := env.Client.Get(ctx, client.ObjectKeyFromObject(es), got); err != nil {
			t.Fatalf("get Elasticsearch: %v", err)
		}
		if v, _, _ := unstructured.NestedString(got.Object, "spec", "version"); v != "8.19.7" {
			t.Errorf("spec.version = %q, want 8.19.7", v)
		}
	})

	t.Run("InvalidElasticsearchRejected", func(t *testing.T) {
		// The ECK schema requires at least one nodeSet, each with a name.
		for name, spec := range map[string]map[string]any{
			"no-nodesets":     {"version": "8.19.7"},
			"empty-nodesets":  {"version": "8.19.7", "nodeSets": []any{}},
			"nodeset-no-name": {"version": "8.19.7", "nodeSets": []any{map[string]any{"count": int64(1)}}},
		} {
			err := env.Client.Create(ctx, elasticsearch(name, spec))
			if !apierrors.IsInvalid(err) {
				t.Errorf("%s: want an Invalid error from schema validation, got %v", name, err)
			}
		}
	})

	t.Run("CompositeResourceDefinitionServed", func(t *testing.T) {
		xrd := &unstructured.Unstructured{Object: map[string]any{
			"apiVersion": "apiextensions.crossplane.io/v2",
			"kind":       "CompositeResourceDefinition",
			"metadata":   map[string]any{"name": "xtests.example.eslink.io"},
			"spec": map[string]any{
				"group": "example.eslink.io",
				"names": map[string]any{"kind": "XTest", "plural": "xtests"},
				"scope": "Namespaced",
				"versions": []any{map[string]any{
					"name": "v1alpha1", "served": true, "referenceable": true,
					"schema": map[string]any{"openAPIV3Schema": map[string]any{"type": "object"}},
				}},
			},
		}}
		if err := env.Client.Create(ctx, xrd); err != nil {
			t.Fatalf("create XRD: %v", err)
		}
	})
}

// TestProjectCRDsInstall checks that the API server accepts eslink's generated
// CRDs, including their CEL rules, which only a real API server compiles.
func TestProjectCRDsInstall(t *testing.T) {
	dirs, err := controlplane.ProjectCRDPaths()
	if err != nil {
		t.Fatal(err)
	}
	if len(dirs) == 0 {
		t.Skipf("none of %v exist yet", controlplane.ProjectCRDDirs)
	}
	env := controlplane.New(t)
	if len(env.CRDs) == 0 {
		t.Fatal("no CRDs installed")
	}
}

func TestPaths(t *testing.T) {
	p, err := controlplane.ECKCRDPath()
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("ECK CRD: %s", p)
	d, err := controlplane.CrossplaneCRDDir()
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("Crossplane CRDs: %s", d)
}

func established(crd *apiextensionsv1.CustomResourceDefinition) bool {
	for _, c := range crd.Status.Conditions {
		if c.Type == apiextensionsv1.Established && c.Status == apiextensionsv1.ConditionTrue {
			return true
		}
	}
	return false
}
