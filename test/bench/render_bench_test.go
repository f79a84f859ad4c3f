package bench

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/eslink/eslink/test/render"
)

// link is the flow 1 example link both functions render.
const link = `
apiVersion: eslink.io/v1alpha1
kind: XRemoteClusterLink
metadata: {name: orders-to-logs, namespace: ns1}
spec:
  alias: logs
  local: {elasticsearchRef: {name: cluster1}}
  remote: {elasticsearchRef: {name: cluster2, namespace: ns2}}
  securityModel: APIKey
  access:
    search: {names: [logs-*]}
`

const clusters = `
apiVersion: elasticsearch.k8s.elastic.co/v1
kind: Elasticsearch
metadata: {name: cluster1, namespace: ns1}
spec: {version: 9.3.2}
---
apiVersion: elasticsearch.k8s.elastic.co/v1
kind: Elasticsearch
metadata: {name: cluster2, namespace: ns2, annotations: {eslink.io/allowed-namespaces: ns1}}
spec: {version: 9.3.2}
---
apiVersion: m.eslink.io/v1alpha1
kind: ClusterProviderConfig
metadata: {name: eck}
spec: {allowedNamespaces: ["*"], eck: {}}
`

// pandtComposition renders the same three managed resources as flow 1 with
// patches from the XR, which is what a platform team would write without
// eslink's function (minus validation, authorization and status).
const pandtComposition = `
apiVersion: apiextensions.crossplane.io/v1
kind: Composition
metadata: {name: pandt-remote-cluster-link}
spec:
  compositeTypeRef: {apiVersion: eslink.io/v1alpha1, kind: XRemoteClusterLink}
  mode: Pipeline
  pipeline:
  - step: patch-and-transform
    functionRef: {name: function-patch-and-transform}
    input:
      apiVersion: pt.fn.crossplane.io/v1beta1
      kind: Resources
      resources:
      - name: remote-cluster-server
        base:
          apiVersion: eck.m.eslink.io/v1alpha1
          kind: RemoteClusterServer
          spec: {forProvider: {elasticsearchRef: {name: "", namespace: ""}}}
        patches:
        - {type: FromCompositeFieldPath, fromFieldPath: spec.remote.elasticsearchRef.name, toFieldPath: spec.forProvider.elasticsearchRef.name}
        - {type: FromCompositeFieldPath, fromFieldPath: spec.remote.elasticsearchRef.namespace, toFieldPath: spec.forProvider.elasticsearchRef.namespace}
      - name: remote-cluster-entry
        base:
          apiVersion: eck.m.eslink.io/v1alpha1
          kind: RemoteClusterEntry
          spec: {forProvider: {elasticsearchRef: {name: ""}, alias: "", remoteElasticsearchRef: {name: ""}}}
        patches:
        - {type: FromCompositeFieldPath, fromFieldPath: spec.local.elasticsearchRef.name, toFieldPath: spec.forProvider.elasticsearchRef.name}
        - {type: FromCompositeFieldPath, fromFieldPath: metadata.namespace, toFieldPath: spec.forProvider.elasticsearchRef.namespace}
        - {type: FromCompositeFieldPath, fromFieldPath: spec.alias, toFieldPath: spec.forProvider.alias}
        - {type: FromCompositeFieldPath, fromFieldPath: spec.remote.elasticsearchRef.name, toFieldPath: spec.forProvider.remoteElasticsearchRef.name}
        - {type: FromCompositeFieldPath, fromFieldPath: spec.remote.elasticsearchRef.namespace, toFieldPath: spec.forProvider.remoteElasticsearchRef.namespace}
        - {type: FromCompositeFieldPath, fromFieldPath: spec.access, toFieldPath: spec.forProvider.apiKey.access}
      - name: cross-cluster-api-key
        base:
          apiVersion: elasticsearch.m.eslink.io/v1alpha1
          kind: CrossClusterAPIKey
          spec:
            managementPolicies: [Observe]
            providerConfigRef: {kind: ClusterProviderConfig, name: eck}
            forProvider: {name: "", elasticsearchRef: {name: ""}}
        patches:
        - type: CombineFromComposite
          combine:
            variables:
            - fromFieldPath: metadata.namespace
            - fromFieldPath: spec.local.elasticsearchRef.name
            - fromFieldPath: spec.alias
            strategy: string
            string: {fmt: "eck-%s-%s-%s"}
          toFieldPath: spec.forProvider.name
        - {type: FromCompositeFieldPath, fromFieldPath: spec.remote.elasticsearchRef.name, toFieldPath: spec.forProvider.elasticsearchRef.name}
        - {type: FromCompositeFieldPath, fromFieldPath: spec.remote.elasticsearchRef.namespace, toFieldPath: spec.forProvider.elasticsearchRef.namespace}
        - {type: FromCompositeFieldPath, fromFieldPath: spec.access.search, toFieldPath: "spec.forProvider.access.search[0]"}
`

func repoFile(b *testing.B, path string) []byte {
	b.Helper()
	out, err := os.ReadFile(filepath.Join("..", "..", path))
	if err != nil {
		b.Fatalf("cannot read %s: %v", path, err)
	}
	return out
}

// BenchmarkRender renders one link per iteration through the engine: each
// iteration starts xprender, which dials the function over gRPC on loopback.
// Both functions run as separate processes, so allocs/op counts the test
// process (files, engine process handling, output parsing) only.
func BenchmarkRender(b *testing.B) {
	if _, err := render.EnginePath(); err != nil {
		b.Fatal(err)
	}
	var perOp = map[string]time.Duration{}
	b.Run("eslink", func(b *testing.B) {
		in := render.Input{
			XR:          link,
			Composition: repoFile(b, "package/configuration/namespaced/composition.yaml"),
			Functions:   []render.Function{{Name: "function-eslink", Address: address(startFunction(b, buildESLink(b)))}},
			Required:    []any{clusters},
		}
		// Flow 1's three resources and the check that the local cluster
		// is connected.
		perOp["eslink"] = benchRender(b, in, 4)
	})
	b.Run("patch-and-transform", func(b *testing.B) {
		in := render.Input{
			XR:          link,
			Composition: pandtComposition,
			Functions:   []render.Function{{Name: "function-patch-and-transform", Address: address(startFunction(b, pandtBinary(b)))}},
		}
		perOp["patch-and-transform"] = benchRender(b, in, 3)
	})
	if e, p := perOp["eslink"], perOp["patch-and-transform"]; e > 0 && p > 0 {
		// The closing note of `make bench`: how eslink's render compares.
		fmt.Printf("# render time per link: eslink %v, patch-and-transform %v, ratio eslink/patch-and-transform %.2f\n",
			e.Round(time.Microsecond), p.Round(time.Microsecond), float64(e)/float64(p))
	}
}

// benchRender returns the time per render of the last (final) run, which
// must compose want resources.
func benchRender(b *testing.B, in render.Input, want int) time.Duration {
	b.Helper()
	// One render outside the timer proves the pipeline works and warms the
	// function's gRPC server.
	if out := render.MustRender(b, in); out.ExitCode != 0 || len(out.Composed) != want {
		b.Fatalf("render produced %d resources, want %d (exit %d):\n%s\n%s", len(out.Composed), want, out.ExitCode, out.Raw, out.Stderr)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		out, err := render.Render(context.Background(), in)
		if err != nil || out.ExitCode != 0 {
			b.Fatalf("render failed: %v", err)
		}
	}
	return b.Elapsed() / time.Duration(b.N)
}

// buildESLink builds eslink's function binary (cached by Go's build
// cache), so that both functions run as their own process, as Crossplane
// runs them.
func buildESLink(b *testing.B) string {
	b.Helper()
	bin := filepath.Join(b.TempDir(), "function-eslink")
	cmd := exec.Command("go", "build", "-o", bin, "github.com/eslink/eslink/function")
	if out, err := cmd.CombinedOutput(); err != nil {
		b.Fatalf("cannot build the eslink function: %v\n%s", err, out)
	}
	return bin
}

func address(addr string, _ int) string { return addr }

// pandtBinary is function-patch-and-transform as built by
// hack/build-pandt.sh.
func pandtBinary(b *testing.B) string {
	b.Helper()
	bin := filepath.Join("..", "..", "bin", "function-patch-and-transform")
	if _, err := os.Stat(bin); err != nil {
		b.Fatalf("%s not found: run hack/build-pandt.sh first", bin)
	}
	return bin
}

// startFunction runs a function binary on a free loopback port without
// TLS, as the engine's Development runtime expects, and stops it when the
// benchmark ends. It returns the address and the process id.
func startFunction(b *testing.B, bin string) (string, int) {
	b.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	addr := l.Addr().String()
	_ = l.Close()
	cmd := exec.Command(bin, "--insecure", "--address", addr)
	if err := cmd.Start(); err != nil {
		b.Fatalf("cannot start %s: %v", bin, err)
	}
	b.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	deadline := time.Now().Add(30 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			_ = c.Close()
			return addr, cmd.Process.Pid
		}
		if time.Now().After(deadline) {
			b.Fatal(fmt.Errorf("%s did not listen on %s: %w", filepath.Base(bin), addr, err))
		}
		time.Sleep(50 * time.Millisecond)
	}
}
