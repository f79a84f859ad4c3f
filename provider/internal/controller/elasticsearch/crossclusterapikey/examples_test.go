package crossclusterapikey

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/eslink/eslink/test/controlplane"
)

// TestExampleProviderConfigsAreValid submits every example provider config
// to the API server (dry run), so that the CRDs' schemas and CEL rules
// check them.
func TestExampleProviderConfigsAreValid(t *testing.T) {
	root, err := controlplane.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	files, err := filepath.Glob(filepath.Join(root, "examples", "providerconfig", "*.yaml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no examples found: %v", err)
	}
	e := controlPlane(t)
	ctx := context.Background()
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		dec := utilyaml.NewYAMLOrJSONDecoder(bytes.NewReader(data), 4096)
		for {
			u := &unstructured.Unstructured{}
			if err := dec.Decode(&u.Object); err != nil {
				if errors.Is(err, io.EOF) {
					break
				}
				t.Fatalf("%s: %v", f, err)
			}
			if len(u.Object) == 0 {
				continue
			}
			if ns := u.GetNamespace(); ns != "" {
				err := e.Client.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}})
				if err != nil && client.IgnoreAlreadyExists(err) != nil {
					t.Fatal(err)
				}
			}
			if err := e.Client.Create(ctx, u, client.DryRunAll); err != nil {
				t.Errorf("%s: %s %s is rejected: %v", filepath.Base(f), u.GetKind(), u.GetName(), err)
			}
		}
	}
}
