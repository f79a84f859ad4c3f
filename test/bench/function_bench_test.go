package bench

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/protobuf/types/known/structpb"
	"sigs.k8s.io/yaml"

	fnv1 "github.com/crossplane/function-sdk-go/proto/v1"
)

// eslinkInput is the render-link step's input of the generated Composition.
const eslinkInput = `
apiVersion: fn.eslink.io/v1beta1
kind: Input
remoteProviderConfigRef: {kind: ClusterProviderConfig, name: eck}
`

// pandtInput renders flow 1's three managed resources with eight patches
// from the XR: what a platform team would write without eslink's function,
// minus validation, authorization and status.
const pandtInput = `
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
    spec: {forProvider: {elasticsearchRef: {name: ""}, alias: "", remoteElasticsearchRef: {name: "", namespace: ns2}}}
  patches:
  - {type: FromCompositeFieldPath, fromFieldPath: spec.local.elasticsearchRef.name, toFieldPath: spec.forProvider.elasticsearchRef.name}
  - {type: FromCompositeFieldPath, fromFieldPath: spec.alias, toFieldPath: spec.forProvider.alias}
  - {type: FromCompositeFieldPath, fromFieldPath: spec.remote.elasticsearchRef.name, toFieldPath: spec.forProvider.remoteElasticsearchRef.name}
  - {type: FromCompositeFieldPath, fromFieldPath: spec.access, toFieldPath: spec.forProvider.apiKey.access}
- name: cross-cluster-api-key
  base:
    apiVersion: elasticsearch.m.eslink.io/v1alpha1
    kind: CrossClusterAPIKey
    spec:
      managementPolicies: [Observe]
      providerConfigRef: {kind: ClusterProviderConfig, name: eck}
      forProvider: {name: "", elasticsearchRef: {name: "", namespace: ns2}, access: {search: [{names: [logs-*]}]}}
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
`

// floorInput is patch-and-transform's least work: one bare resource.
const floorInput = `
apiVersion: pt.fn.crossplane.io/v1beta1
kind: Resources
resources:
- name: remote-cluster-server
  base: {apiVersion: eck.m.eslink.io/v1alpha1, kind: RemoteClusterServer}
`

// observedReady is a composed resource as the provider leaves it once Ready.
func observedReady(apiVersion, kind, name, atProvider string) string {
	return `
apiVersion: ` + apiVersion + `
kind: ` + kind + `
metadata: {name: ` + name + `, namespace: ns1, uid: uid-` + name + `}
status:
  conditions:
  - {type: Ready, status: "True", reason: Available, lastTransitionTime: "2026-01-01T00:00:00Z"}
  - {type: Synced, status: "True", reason: ReconcileSuccess, lastTransitionTime: "2026-01-01T00:00:00Z"}
  atProvider: ` + atProvider + `
`
}

// observed is flow 1 with every resource Ready: the most work a call does.
var observed = map[string]string{
	"remote-cluster-server": observedReady("eck.m.eslink.io/v1alpha1", "RemoteClusterServer", "s", `{enabled: true}`),
	"remote-cluster-entry":  observedReady("eck.m.eslink.io/v1alpha1", "RemoteClusterEntry", "e", `{present: true}`),
	"cross-cluster-api-key": observedReady("elasticsearch.m.eslink.io/v1alpha1", "CrossClusterAPIKey", "k",
		`{id: VuaCfGcBCdbkQm-e5aOx, name: eck-ns1-cluster1-logs, creation: "2026-05-01T00:00:00Z", accessMatches: true}`),
}

func structOf(b *testing.B, y string) *structpb.Struct {
	b.Helper()
	m := map[string]any{}
	if err := yaml.Unmarshal([]byte(y), &m); err != nil {
		b.Fatal(err)
	}
	s, err := structpb.NewStruct(m)
	if err != nil {
		b.Fatal(err)
	}
	return s
}

// request is what Crossplane sends a function step for the link.
func request(b *testing.B, input string, withObserved bool, required map[string]string) *fnv1.RunFunctionRequest {
	b.Helper()
	req := &fnv1.RunFunctionRequest{
		Meta:     &fnv1.RequestMeta{Tag: "bench"},
		Observed: &fnv1.State{Composite: &fnv1.Resource{Resource: structOf(b, link)}},
		Input:    structOf(b, input),
	}
	if withObserved {
		req.Observed.Resources = map[string]*fnv1.Resource{}
		for name, y := range observed {
			req.Observed.Resources[name] = &fnv1.Resource{Resource: structOf(b, y)}
		}
	}
	if required != nil {
		req.RequiredResources = map[string]*fnv1.Resources{}
		for name, y := range required {
			req.RequiredResources[name] = &fnv1.Resources{Items: []*fnv1.Resource{{Resource: structOf(b, y)}}}
		}
	}
	return req
}

// contender is a function process and the request it answers.
type contender struct {
	name   string
	pid    int
	client fnv1.FunctionRunnerServiceClient
	req    *fnv1.RunFunctionRequest
	wall   time.Duration
	cpu0   time.Duration
}

// BenchmarkFunctionCost calls, over gRPC on loopback, eslink's function,
// function-patch-and-transform rendering the same three resources with eight
// patches, and a floor (patch-and-transform with one bare resource), each a
// process of its own. Every iteration calls each once, so that the load of a
// shared machine falls on all three alike. It reports each one's time per
// call, wall clock and the function process's CPU, and eslink's work above
// the floor as a fraction of patch-and-transform's.
func BenchmarkFunctionCost(b *testing.B) {
	docs := strings.Split(clusters, "\n---\n")
	cs := []*contender{
		{name: "eslink", req: request(b, eslinkInput, true, map[string]string{
			"local-elasticsearch": docs[0], "remote-elasticsearch": docs[1],
			"remote-provider-config": docs[2], "local-provider-config": docs[2],
		})},
		{name: "patch-and-transform", req: request(b, pandtInput, true, nil)},
		{name: "floor", req: request(b, floorInput, false, nil)},
	}
	bins := map[string]string{"eslink": buildESLink(b), "patch-and-transform": pandtBinary(b), "floor": pandtBinary(b)}
	ctx := context.Background()
	for _, c := range cs {
		addr, pid := startFunction(b, bins[c.name])
		conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { _ = conn.Close() })
		c.pid, c.client = pid, fnv1.NewFunctionRunnerServiceClient(conn)
		// Warm up the connection and the function; check it renders.
		for range 50 {
			rsp, err := c.client.RunFunction(ctx, c.req)
			if err != nil {
				b.Fatalf("%s: %v", c.name, err)
			}
			// eslink renders flow 1's three resources and the check
			// that the local cluster is connected.
			want := map[string]int{"eslink": 4, "patch-and-transform": 3, "floor": 1}[c.name]
			if len(rsp.GetDesired().GetResources()) != want {
				b.Fatalf("%s rendered %d resources: %v", c.name, len(rsp.GetDesired().GetResources()), rsp.GetResults())
			}
		}
		c.cpu0 = cpuTime(b, pid)
	}
	b.ResetTimer()
	for b.Loop() {
		for _, c := range cs {
			t := time.Now()
			if _, err := c.client.RunFunction(ctx, c.req); err != nil {
				b.Fatalf("%s: %v", c.name, err)
			}
			c.wall += time.Since(t)
		}
	}
	b.StopTimer()
	n := time.Duration(b.N)
	var wall, cpu [3]time.Duration
	for i, c := range cs {
		wall[i], cpu[i] = c.wall/n, (cpuTime(b, c.pid)-c.cpu0)/n
		b.ReportMetric(float64(wall[i].Microseconds()), c.name+"-µs/call")
		b.ReportMetric(float64(cpu[i].Microseconds()), c.name+"-cpu-µs/call")
	}
	fraction := func(d [3]time.Duration) float64 { return float64(d[0]-d[2]) / float64(d[1]-d[2]) }
	b.ReportMetric(fraction(cpu), "eslink/pandt-above-floor")
	fmt.Printf("# function cost per call over gRPC (%d calls each): function CPU eslink %v, patch-and-transform %v, floor %v; wall eslink %v, patch-and-transform %v, floor %v\n",
		b.N, cpu[0], cpu[1], cpu[2], wall[0], wall[1], wall[2])
	fmt.Printf("# eslink's work above the floor as a fraction of patch-and-transform's: %.2f (function CPU), %.2f (wall)\n", fraction(cpu), fraction(wall))
}

// cpuTime is the user and system CPU time process pid used so far.
func cpuTime(b *testing.B, pid int) time.Duration {
	b.Helper()
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		b.Fatal(err)
	}
	// Fields count from the closing parenthesis of the command name:
	// utime and stime are the 14th and 15th, in clock ticks of 1/100s.
	f := strings.Fields(string(raw[bytes.LastIndexByte(raw, ')')+1:]))
	utime, err1 := strconv.ParseInt(f[11], 10, 64)
	stime, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		b.Fatalf("cannot parse /proc/%d/stat", pid)
	}
	return time.Duration(utime+stime) * 10 * time.Millisecond
}
