package remoteclusterentry

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
	kerrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/yaml"

	"github.com/eslink/eslink/internal/eckschema"
	"github.com/eslink/eslink/provider/internal/controller/eck/remoteclusterserver"
	"github.com/eslink/eslink/test/controlplane"
)

// TestExamples applies examples/clusters and examples/eck as a platform team
// and an application team would, and checks that every example becomes
// Ready with the entries and server it promises.
func TestExamples(t *testing.T) {
	h := start(t, 2, remoteclusterserver.Setup)
	root, err := controlplane.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	var mrs []*unstructured.Unstructured
	for _, pattern := range []string{"examples/clusters/*.yaml", "examples/eck/*.yaml"} {
		files, err := filepath.Glob(filepath.Join(root, pattern))
		if err != nil || len(files) == 0 {
			t.Fatalf("no files match %s: %v", pattern, err)
		}
		for _, f := range files {
			for _, u := range readManifests(t, f) {
				if err := h.Kube.Create(context.Background(), u); err != nil && !kerrors.IsAlreadyExists(err) {
					t.Fatalf("cannot apply %s %s from %s: %v", u.GetKind(), u.GetName(), f, err)
				}
				if u.GroupVersionKind().Group == "eck.m.eslink.io" {
					mrs = append(mrs, u)
				}
			}
		}
		if pattern == "examples/clusters/*.yaml" {
			ns := &unstructured.Unstructured{Object: map[string]any{"apiVersion": "v1", "kind": "Namespace", "metadata": map[string]any{"name": "team-a"}}}
			if err := h.Kube.Create(context.Background(), ns); err != nil && !kerrors.IsAlreadyExists(err) {
				t.Fatal(err)
			}
		}
	}
	for _, mr := range mrs {
		waitFor(t, mr.GetKind()+" "+mr.GetName()+" Ready", func() (bool, string) {
			u := &unstructured.Unstructured{}
			u.SetGroupVersionKind(mr.GroupVersionKind())
			if err := h.Kube.Get(context.Background(), types.NamespacedName{Namespace: mr.GetNamespace(), Name: mr.GetName()}, u); err != nil {
				return false, err.Error()
			}
			conds, _, _ := unstructured.NestedSlice(u.Object, "status", "conditions")
			for _, c := range conds {
				if m, _ := c.(map[string]any); m["type"] == "Ready" && m["status"] == "True" {
					return true, ""
				}
			}
			return false, fmt.Sprint(conds)
		})
	}
	var aliases []string
	for _, e := range h.remoteClusters(t, "ns1", "cluster1") {
		aliases = append(aliases, eckschema.EntryName(e))
	}
	slices.Sort(aliases)
	if diff := cmp.Diff([]string{"archive", "legacy", "logs"}, aliases); diff != "" {
		t.Errorf("cluster1 aliases: -want +got:\n%s", diff)
	}
	if !eckschema.RemoteClusterServerEnabled(h.GetES(t, "ns2", "cluster2")) {
		t.Error("cluster2's remote cluster server is not enabled")
	}
}

func readManifests(t *testing.T, path string) []*unstructured.Unstructured {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	d := yaml.NewYAMLOrJSONDecoder(f, 4096)
	var out []*unstructured.Unstructured
	for {
		u := &unstructured.Unstructured{}
		if err := d.Decode(&u.Object); err != nil {
			if errors.Is(err, io.EOF) {
				return out
			}
			t.Fatalf("cannot decode %s: %v", path, err)
		}
		if len(u.Object) > 0 {
			out = append(out, u)
		}
	}
}
