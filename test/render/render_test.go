package render_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	fnv1 "github.com/crossplane/function-sdk-go/proto/v1"
	"github.com/crossplane/function-sdk-go/request"
	"github.com/crossplane/function-sdk-go/resource"
	"github.com/crossplane/function-sdk-go/resource/composed"
	"github.com/crossplane/function-sdk-go/response"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/eslink/eslink/test/render"
)

// configMapFunction composes one ConfigMap holding the XR's spec.message and
// marks it ready. spec.fail makes it return a fatal result instead.
type configMapFunction struct {
	fnv1.UnimplementedFunctionRunnerServiceServer
}

func (configMapFunction) RunFunction(_ context.Context, req *fnv1.RunFunctionRequest) (*fnv1.RunFunctionResponse, error) {
	rsp := response.To(req, response.DefaultTTL)

	xr, err := request.GetObservedCompositeResource(req)
	if err != nil {
		response.Fatal(rsp, err)
		return rsp, nil
	}
	if fail, _ := xr.Resource.GetBool("spec.fail"); fail {
		response.Fatal(rsp, errors.New("asked to fail"))
		return rsp, nil
	}
	msg, _ := xr.Resource.GetString("spec.message")

	cm := composed.New()
	cm.SetAPIVersion("v1")
	cm.SetKind("ConfigMap")
	if err := cm.SetString("data.message", msg); err != nil {
		response.Fatal(rsp, err)
		return rsp, nil
	}
	desired, err := request.GetDesiredComposedResources(req)
	if err != nil {
		response.Fatal(rsp, err)
		return rsp, nil
	}
	desired["config"] = &resource.DesiredComposed{Resource: cm, Ready: resource.ReadyTrue}
	if err := response.SetDesiredComposedResources(rsp, desired); err != nil {
		response.Fatal(rsp, err)
		return rsp, nil
	}
	response.Normalf(rsp, "composed ConfigMap with message %q", msg)
	return rsp, nil
}

const xrd = `
apiVersion: apiextensions.crossplane.io/v2
kind: CompositeResourceDefinition
metadata:
  name: xtests.example.eslink.io
spec:
  group: example.eslink.io
  names: {kind: XTest, plural: xtests}
  scope: Namespaced
  versions:
  - name: v1alpha1
    served: true
    referenceable: true
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec:
            type: object
            properties:
              message: {type: string, default: hello}
              fail: {type: boolean}
`

const composition = `
apiVersion: apiextensions.crossplane.io/v1
kind: Composition
metadata:
  name: xtests.example.eslink.io
spec:
  compositeTypeRef: {apiVersion: example.eslink.io/v1alpha1, kind: XTest}
  mode: Pipeline
  pipeline:
  - step: compose
    functionRef: {name: function-test}
`

func xr(spec map[string]any) *unstructured.Unstructured {
	return &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "example.eslink.io/v1alpha1",
		"kind":       "XTest",
		"metadata":   map[string]any{"name": "demo", "namespace": "team-a", "uid": "5c4b6c0e-0000-4000-8000-000000000001"},
		"spec":       spec,
	}}
}

func TestRenderNamespacedXR(t *testing.T) {
	addr := render.ServeFunction(t, configMapFunction{})

	out := render.MustRender(t, render.Input{
		XR:             xr(map[string]any{"message": "hi there"}),
		Composition:    composition,
		XRD:            xrd,
		Functions:      []render.Function{{Name: "function-test", Address: addr}},
		IncludeResults: true,
	})
	t.Logf("rendered:\n%s", out.Raw)
	if out.ExitCode != 0 {
		t.Fatalf("exit code %d, stderr: %s", out.ExitCode, out.Stderr)
	}

	if len(out.Composed) != 1 {
		t.Fatalf("want 1 composed resource, got %d:\n%s", len(out.Composed), out.Raw)
	}
	cm := out.ComposedByName("config")
	if cm == nil {
		t.Fatalf("no composed resource named config:\n%s", out.Raw)
	}
	if cm.GetKind() != "ConfigMap" || cm.GetNamespace() != "team-a" {
		t.Errorf("composed %s in namespace %q, want a ConfigMap in team-a", cm.GetKind(), cm.GetNamespace())
	}
	if got, _, _ := unstructured.NestedString(cm.Object, "data", "message"); got != "hi there" {
		t.Errorf("data.message = %q, want %q", got, "hi there")
	}
	owners := cm.GetOwnerReferences()
	if len(owners) != 1 || owners[0].Kind != "XTest" || owners[0].Controller == nil || !*owners[0].Controller {
		t.Errorf("want the XR as controller owner, got %+v", owners)
	}

	for _, typ := range []string{"Ready", "Synced"} {
		if got := condition(out.XR, typ); got != "True" {
			t.Errorf("XR condition %s = %q, want True:\n%s", typ, got, out.Raw)
		}
	}

	found := false
	for _, r := range out.Results {
		msg, _, _ := unstructured.NestedString(r.Object, "message")
		sev, _, _ := unstructured.NestedString(r.Object, "severity")
		found = found || (sev == "Normal" && strings.Contains(msg, `composed ConfigMap with message "hi there"`))
	}
	if !found {
		t.Errorf("want the function's Normal result among the results:\n%s", out.Raw)
	}
}

func TestRenderAppliesXRDDefaults(t *testing.T) {
	addr := render.ServeFunction(t, configMapFunction{})
	out := render.MustRender(t, render.Input{
		XR:          xr(map[string]any{}),
		Composition: composition,
		XRD:         xrd,
		Functions:   []render.Function{{Name: "function-test", Address: addr}},
	})
	cm := out.ComposedByName("config")
	if cm == nil {
		t.Fatalf("no composed resource named config:\n%s", out.Raw)
	}
	if got, _, _ := unstructured.NestedString(cm.Object, "data", "message"); got != "hello" {
		t.Errorf("data.message = %q, want the XRD default %q", got, "hello")
	}
}

func TestRenderFatalResult(t *testing.T) {
	addr := render.ServeFunction(t, configMapFunction{})
	out := render.MustRender(t, render.Input{
		XR:             xr(map[string]any{"fail": true}),
		Composition:    composition,
		Functions:      []render.Function{{Name: "function-test", Address: addr}},
		IncludeResults: true,
	})
	if out.ExitCode != render.ExitFatal {
		t.Fatalf("exit code %d, want %d:\n%s", out.ExitCode, render.ExitFatal, out.Raw)
	}
	if out.XR == nil || out.XR.GetName() != "demo" {
		t.Errorf("want the partial XR output, got %v", out.XR)
	}
}

func condition(u *unstructured.Unstructured, typ string) string {
	conds, _, _ := unstructured.NestedSlice(u.Object, "status", "conditions")
	for _, c := range conds {
		m, _ := c.(map[string]any)
		if m["type"] == typ {
			s, _ := m["status"].(string)
			return s
		}
	}
	return ""
}
