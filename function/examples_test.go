package main

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	kyaml "k8s.io/apimachinery/pkg/util/yaml"

	"github.com/eslink/eslink/function/fn"
	"github.com/eslink/eslink/test/render"
)

// These tests render every example link through Crossplane's real
// composition engine (bin/xprender) with the function served in-process:
// a first pass as Crossplane sees a new link, then a second pass with the
// composed resources fed back as the provider leaves them once ready.

const repo = ".."

type exampleCase struct {
	file   string
	legacy bool
	// resources are the composition resource names and kinds rendered.
	resources map[string]string
	// ready is whether the second pass ends with the XR Ready.
	ready bool
	// status is the XR status after the second pass, without conditions
	// and apiKey times.
	status map[string]any
	// results are substrings every pass must report (warnings).
	results []string
	// linkReady is a substring of the LinkReady message after the second
	// pass.
	linkReady string
}

func TestRenderExamples(t *testing.T) {
	if _, err := render.EnginePath(); err != nil {
		t.Fatalf("the render tests need Crossplane's engine: %v", err)
	}
	addr := render.ServeFunction(t, fn.New())
	// The clusters and the cluster-wide provider configs a platform team
	// would have applied; the function requires both.
	var clusters []*unstructured.Unstructured
	for _, f := range []string{"examples/clusters/cluster1.yaml", "examples/clusters/cluster2.yaml", "examples/providerconfig/cluster-eck.yaml"} {
		clusters = append(clusters, readObjects(t, f)...)
	}

	eckFlow := map[string]string{
		"remote-cluster-server":       "RemoteClusterServer",
		"remote-cluster-entry":        "RemoteClusterEntry",
		"cross-cluster-api-key":       "CrossClusterAPIKey",
		"remote-cluster-connectivity": "RemoteClusterConnectivity",
	}
	// flow3Local is the local wiring once every part is observed ready.
	flow3Local := map[string]any{"credentials": "Delivered", "secureSettings": "Keystore", "rotationRestartsLocal": true,
		"connectionSettings": "Present", "trust": "Present", "signing": "NotRequired"}
	withKeyID := func(m map[string]any, id string, signing string) map[string]any {
		out := map[string]any{"keyID": id}
		for k, v := range m {
			out[k] = v
		}
		if signing != "" {
			out["signing"] = signing
		}
		return out
	}
	cases := map[string]exampleCase{
		"Flow1": {
			file: "examples/links/flow1-eck-api-key.yaml", resources: eckFlow, ready: true,
			status: map[string]any{"alias": "logs", "flow": "ECKAPIKey", "remoteClusterServer": "Enabled", "remoteClusterEntry": "Present", "connected": true,
				"apiKey": map[string]any{"id": "id-eck-ns1-cluster1-logs", "name": "eck-ns1-cluster1-logs", "accessMatches": true}},
		},
		"Flow1LegacyClaim": {
			file: "examples/links/flow1-legacy-claim.yaml", legacy: true, resources: eckFlow, ready: true,
			status: map[string]any{"alias": "team-a-logs", "flow": "ECKAPIKey", "remoteClusterServer": "Enabled", "remoteClusterEntry": "Present", "connected": true,
				"apiKey": map[string]any{"id": "id-eck-ns1-cluster1-team-a-logs", "name": "eck-ns1-cluster1-team-a-logs", "accessMatches": true}},
		},
		"Flow2Certificate": {
			file: "examples/links/flow2-certificate.yaml", ready: true,
			resources: map[string]string{"remote-cluster-entry": "RemoteClusterEntry", "remote-cluster-connectivity": "RemoteClusterConnectivity"},
			status:    map[string]any{"alias": "legacy-logs", "flow": "Certificate", "remoteClusterServer": "NotRequired", "remoteClusterEntry": "Present", "connected": true},
			results:   []string{"the certificate security model is deprecated since Elasticsearch 9.0"},
		},
		"Flow3ECKRemote": {
			file: "examples/links/flow3-provider-key.yaml", ready: true,
			resources: map[string]string{
				"remote-cluster-server":       "RemoteClusterServer",
				"cross-cluster-api-key":       "CrossClusterAPIKey",
				"remote-cluster-credentials":  "RemoteClusterCredentials",
				"remote-cluster-settings":     "RemoteClusterSettings",
				"remote-cluster-trust":        "RemoteClusterTrust",
				"remote-cluster-signing":      "RemoteClusterSigning",
				"remote-signing-trust":        "RemoteClusterTrust",
				"remote-cluster-connectivity": "RemoteClusterConnectivity",
			},
			status: map[string]any{"alias": "archive", "flow": "ProviderAPIKey", "remoteClusterServer": "Enabled", "remoteClusterEntry": "NotRequired", "connected": true,
				"local":  withKeyID(flow3Local, "id-eslink-ns1-orders-to-archive-archive", "Present"),
				"apiKey": map[string]any{"id": "id-eslink-ns1-orders-to-archive-archive", "name": "eslink-ns1-orders-to-archive-archive", "accessMatches": true}},
			linkReady: "each key rotation restarts ns1/cluster1 (keystore secure settings)",
		},
		"Flow3External": {
			file: "examples/links/flow3-external.yaml", ready: true,
			resources: map[string]string{
				"cross-cluster-api-key":       "CrossClusterAPIKey",
				"remote-cluster-credentials":  "RemoteClusterCredentials",
				"remote-cluster-settings":     "RemoteClusterSettings",
				"remote-cluster-trust":        "RemoteClusterTrust",
				"remote-cluster-connectivity": "RemoteClusterConnectivity",
			},
			status: map[string]any{"alias": "cloud-logs", "flow": "ProviderAPIKey", "remoteClusterServer": "NotRequired", "remoteClusterEntry": "NotRequired", "connected": true,
				"local":  withKeyID(flow3Local, "id-eslink-ns1-orders-to-cloud-cloud-logs", ""),
				"apiKey": map[string]any{"id": "id-eslink-ns1-orders-to-cloud-cloud-logs", "name": "eslink-ns1-orders-to-cloud-cloud-logs", "accessMatches": true}},
			linkReady: "each key rotation restarts ns1/cluster1 (keystore secure settings)",
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			renderExample(t, tc, addr, clusters)
		})
	}
}

func renderExample(t *testing.T, tc exampleCase, addr string, clusters []*unstructured.Unstructured) {
	xr := readObjects(t, tc.file)[0]
	flavour := "namespaced"
	wantNS := xr.GetNamespace()
	if tc.legacy {
		flavour = "legacy"
		xr = xrForClaim(xr)
		wantNS = xr.Object["spec"].(map[string]any)["claimRef"].(map[string]any)["namespace"].(string)
	}
	in := render.Input{
		XR:             xr,
		Composition:    readFile(t, "package/configuration/"+flavour+"/composition.yaml"),
		XRD:            readFile(t, "package/configuration/"+flavour+"/definition.yaml"),
		Functions:      []render.Function{{Name: "function-eslink", Address: addr}},
		IncludeResults: true,
	}
	for _, c := range clusters {
		if k := c.GetKind(); k == "Elasticsearch" || k == "ClusterProviderConfig" {
			in.Required = append(in.Required, c)
		}
	}

	first := render.MustRender(t, in)
	if first.ExitCode != 0 {
		t.Fatalf("first pass: exit code %d, results:\n%s\nstderr:\n%s", first.ExitCode, first.Raw, first.Stderr)
	}
	got := map[string]string{}
	for _, c := range first.Composed {
		got[c.GetAnnotations()["crossplane.io/composition-resource-name"]] = c.GetKind()
		if c.GetNamespace() != wantNS {
			t.Errorf("first pass: %s %s is in namespace %q, want the link's namespace %q", c.GetKind(), c.GetName(), c.GetNamespace(), wantNS)
		}
	}
	if diff := cmp.Diff(tc.resources, got); diff != "" {
		t.Errorf("first pass: composed resources -want, +got:\n%s", diff)
	}
	if s := condition(first.XR, "Ready"); s != "False" {
		t.Errorf("first pass: XR Ready = %q, want False before anything is observed", s)
	}
	checkResults(t, "first pass", first, tc.results)

	in.Observed = nil
	for _, c := range first.Composed {
		in.Observed = append(in.Observed, asReady(c))
	}
	second := render.MustRender(t, in)
	if second.ExitCode != 0 {
		t.Fatalf("second pass: exit code %d:\n%s\nstderr:\n%s", second.ExitCode, second.Raw, second.Stderr)
	}
	wantReady := map[bool]string{true: "True", false: "False"}[tc.ready]
	if s := condition(second.XR, "Ready"); s != wantReady {
		t.Errorf("second pass: XR Ready = %q, want %s\n%s", s, wantReady, second.Raw)
	}
	if s := condition(second.XR, fn.ConditionLinkReady); s != wantReady {
		t.Errorf("second pass: XR %s = %q, want %s", fn.ConditionLinkReady, s, wantReady)
	}
	if msg := conditionMessage(second.XR, fn.ConditionLinkReady); !strings.Contains(msg, tc.linkReady) {
		t.Errorf("second pass: XR %s message %q does not say %q", fn.ConditionLinkReady, msg, tc.linkReady)
	}
	status, _, _ := unstructured.NestedMap(second.XR.Object, "status")
	delete(status, "conditions")
	if tc.legacy {
		// Crossplane records which conditions it copies to the claim: the
		// link's own condition must be among them.
		if diff := cmp.Diff([]any{fn.ConditionLinkReady}, status["claimConditionTypes"]); diff != "" {
			t.Errorf("second pass: claimConditionTypes -want, +got:\n%s", diff)
		}
		delete(status, "claimConditionTypes")
	}
	if k, ok := status["apiKey"].(map[string]any); ok {
		if k["creation"] == nil {
			t.Errorf("second pass: status.apiKey.creation is not copied from the observed key")
		}
		delete(k, "creation")
	}
	if diff := cmp.Diff(tc.status, status); diff != "" {
		t.Errorf("second pass: XR status -want, +got:\n%s", diff)
	}
	checkResults(t, "second pass", second, tc.results)
}

// xrForClaim builds the cluster-scoped XR Crossplane's claim controller
// creates for a legacy claim.
func xrForClaim(claim *unstructured.Unstructured) *unstructured.Unstructured {
	xr := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "eslink.io/v1alpha1",
		"kind":       "XRemoteClusterLink",
		"metadata":   map[string]any{"name": claim.GetName() + "-x7k2p", "uid": "7c1f0b9e-legacy-xr"},
		"spec":       claim.Object["spec"],
	}}
	_ = unstructured.SetNestedMap(xr.Object, map[string]any{
		"apiVersion": claim.GetAPIVersion(), "kind": claim.GetKind(),
		"name": claim.GetName(), "namespace": claim.GetNamespace(),
	}, "spec", "claimRef")
	return xr
}

// asReady is a composed resource as the provider leaves it once reconciled.
func asReady(c *unstructured.Unstructured) *unstructured.Unstructured {
	o := c.DeepCopy()
	if o.GetName() == "" {
		o.SetName(o.GetGenerateName() + "abcde")
	}
	o.SetUID(types.UID(o.GetName() + "-uid"))
	conds := []any{
		map[string]any{"type": "Ready", "status": "True", "reason": "Available", "lastTransitionTime": "2026-01-01T00:00:00Z"},
		map[string]any{"type": "Synced", "status": "True", "reason": "ReconcileSuccess", "lastTransitionTime": "2026-01-01T00:00:00Z"},
	}
	var at map[string]any
	switch o.GetKind() {
	case "RemoteClusterServer":
		at = map[string]any{"enabled": true, "claims": int64(1), "version": "9.3.2"}
	case "RemoteClusterEntry":
		at = map[string]any{"present": true, "version": "9.3.2"}
	case "CrossClusterAPIKey":
		name, _, _ := unstructured.NestedString(o.Object, "spec", "forProvider", "name")
		access, _, _ := unstructured.NestedMap(o.Object, "spec", "forProvider", "access")
		at = map[string]any{"id": "id-" + name, "name": name, "creation": "2026-05-01T00:00:00Z", "accessMatches": true, "access": access}
	case "RemoteClusterCredentials":
		// The key the link's CrossClusterAPIKey holds: eslink-<ns>-<link>-<alias>,
		// its connection Secret <link>-api-key.
		secret, _, _ := unstructured.NestedString(o.Object, "spec", "forProvider", "apiKeySecretRef", "name")
		alias, _, _ := unstructured.NestedString(o.Object, "spec", "forProvider", "alias")
		id := "id-eslink-" + o.GetNamespace() + "-" + strings.TrimSuffix(secret, "-api-key") + "-" + alias
		at = map[string]any{"keyID": id, "deliveredKeyID": id, "takenUpKeyID": id, "delivery": "Keystore", "restartsOnChange": true}
	case "RemoteClusterSettings":
		at = map[string]any{"settings": map[string]any{"mode": "proxy"}}
	case "RemoteClusterTrust":
		at = map[string]any{"inBundle": true, "mounted": true, "rolledOut": true}
	case "RemoteClusterSigning":
		at = map[string]any{"configured": true, "rolledOut": true}
	case "RemoteClusterConnectivity":
		at = map[string]any{"configured": true, "connected": true, "mode": "proxy"}
	}
	o.Object["status"] = map[string]any{"conditions": conds, "atProvider": at}
	return o
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

func conditionMessage(u *unstructured.Unstructured, typ string) string {
	conds, _, _ := unstructured.NestedSlice(u.Object, "status", "conditions")
	for _, c := range conds {
		m, _ := c.(map[string]any)
		if m["type"] == typ {
			s, _ := m["message"].(string)
			return s
		}
	}
	return ""
}

func checkResults(t *testing.T, pass string, out *render.Output, want []string) {
	t.Helper()
	var msgs []string
	for _, r := range out.Results {
		m, _, _ := unstructured.NestedString(r.Object, "message")
		msgs = append(msgs, m)
	}
	all := strings.Join(msgs, "\n")
	for _, w := range want {
		if !strings.Contains(all, w) {
			t.Errorf("%s: no result says %q; results:\n%s", pass, w, all)
		}
	}
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(repo, path))
	if err != nil {
		t.Fatalf("cannot read %s: %v", path, err)
	}
	return b
}

func readObjects(t *testing.T, path string) []*unstructured.Unstructured {
	t.Helper()
	dec := kyaml.NewYAMLOrJSONDecoder(strings.NewReader(string(readFile(t, path))), 4096)
	var out []*unstructured.Unstructured
	for {
		m := map[string]any{}
		if err := dec.Decode(&m); err != nil {
			if errors.Is(err, io.EOF) {
				break
			}
			t.Fatalf("cannot parse %s: %v", path, err)
		}
		if len(m) > 0 {
			out = append(out, &unstructured.Unstructured{Object: m})
		}
	}
	return out
}
