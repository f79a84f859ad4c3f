package fn

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/testing/protocmp"
	"google.golang.org/protobuf/types/known/durationpb"
	"k8s.io/utils/ptr"

	fnv1 "github.com/crossplane/function-sdk-go/proto/v1"
	"github.com/crossplane/function-sdk-go/resource"
	"github.com/crossplane/function-sdk-go/response"
)

var testNow = time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)

type linkRequest struct {
	xr       string
	input    string
	required map[string]*fnv1.Resources
	observed map[string]string
}

func (r linkRequest) build(t testing.TB) *fnv1.RunFunctionRequest {
	t.Helper()
	req := &fnv1.RunFunctionRequest{
		Meta:              &fnv1.RequestMeta{Tag: "t"},
		Observed:          &fnv1.State{Composite: &fnv1.Resource{Resource: obj(t, r.xr)}},
		RequiredResources: r.required,
	}
	if r.input != "" {
		req.Input = obj(t, r.input)
	}
	if len(r.observed) > 0 {
		req.Observed.Resources = map[string]*fnv1.Resource{}
		for n, y := range r.observed {
			req.Observed.Resources[n] = &fnv1.Resource{
				Resource:          obj(t, y),
				ConnectionDetails: map[string][]byte{"encoded": []byte(secretKey)},
			}
		}
	}
	return req
}

// secretKey stands for an encoded API key in observed connection details:
// it must never show up in a response.
const secretKey = "VnVhQ2ZHY0JDZGJrUW0tZTVhT3g6dWkybHAyYXhUTm1zeWFrdzl0dk5udw=="

func meta() *fnv1.ResponseMeta {
	return &fnv1.ResponseMeta{Tag: "t", Ttl: durationpb.New(response.DefaultTTL)}
}

func esSelector(name, ns string) *fnv1.ResourceSelector {
	return &fnv1.ResourceSelector{
		ApiVersion: "elasticsearch.k8s.elastic.co/v1", Kind: "Elasticsearch",
		Match: &fnv1.ResourceSelector_MatchName{MatchName: name}, Namespace: ptr.To(ns),
	}
}

func configSelector(name string) *fnv1.ResourceSelector {
	return &fnv1.ResourceSelector{
		ApiVersion: "m.eslink.io/v1alpha1", Kind: "ClusterProviderConfig",
		Match: &fnv1.ResourceSelector_MatchName{MatchName: name},
	}
}

// clusterRequirements asks for the two clusters of xrFlow1 and the config
// that reaches the local one, as the certificate model does, which composes
// no key.
func clusterRequirements() *fnv1.Requirements {
	return &fnv1.Requirements{Resources: map[string]*fnv1.ResourceSelector{
		requiredLocal:               esSelector("cluster1", "ns1"),
		requiredRemote:              esSelector("cluster2", "ns2"),
		requiredLocalProviderConfig: configSelector("eck"),
	}}
}

func flow1Requirements() *fnv1.Requirements {
	r := clusterRequirements()
	r.Resources[requiredProviderConfig] = configSelector("eck")
	return r
}

// flow1Required resolves flow1Requirements with the fixtures.
func flow1Required(t testing.TB) map[string]*fnv1.Resources {
	return withClusters(t, cluster1, cluster2)
}

// withClusters resolves flow1Requirements with these clusters.
func withClusters(t testing.TB, local, remote string) map[string]*fnv1.Resources {
	return map[string]*fnv1.Resources{
		requiredLocal:               required(obj(t, local)),
		requiredRemote:              required(obj(t, remote)),
		requiredProviderConfig:      required(obj(t, eckConfig)),
		requiredLocalProviderConfig: localConfig(t),
	}
}

// localConfig resolves the requirement of the config that reaches the
// local cluster with eckConfig.
func localConfig(t testing.TB) *fnv1.Resources {
	return required(obj(t, eckConfig))
}

func fatal(msg string) []*fnv1.Result {
	return []*fnv1.Result{{Severity: fnv1.Severity_SEVERITY_FATAL, Message: msg, Target: fnv1.Target_TARGET_COMPOSITE.Enum()}}
}

func result(sev fnv1.Severity, reason, msg string) *fnv1.Result {
	return &fnv1.Result{Severity: sev, Reason: ptr.To(reason), Message: msg, Target: fnv1.Target_TARGET_COMPOSITE_AND_CLAIM.Enum()}
}

func normal(reason, msg string) *fnv1.Result {
	return result(fnv1.Severity_SEVERITY_NORMAL, reason, msg)
}
func warning(reason, msg string) *fnv1.Result {
	return result(fnv1.Severity_SEVERITY_WARNING, reason, msg)
}

func linkCondition(status fnv1.Status, reason, msg string) []*fnv1.Condition {
	return []*fnv1.Condition{{
		Type: ConditionLinkReady, Status: status, Reason: reason, Message: ptr.To(msg),
		Target: fnv1.Target_TARGET_COMPOSITE_AND_CLAIM.Enum(),
	}}
}

func desiredXR(status string, ready fnv1.Ready) *fnv1.Resource {
	return &fnv1.Resource{Resource: resource.MustStructJSON(`{"status":` + status + `}`), Ready: ready}
}

func desiredRes(j string, ready fnv1.Ready) *fnv1.Resource {
	return &fnv1.Resource{Resource: resource.MustStructJSON(j), Ready: ready}
}

// observedReady is a managed resource as the provider leaves it once ready.
func observedReady(kind, name, atProvider string) string {
	apiVersion := "eck.m.eslink.io/v1alpha1"
	switch kind {
	case "CrossClusterAPIKey", "RemoteClusterSettings", "RemoteClusterConnectivity":
		apiVersion = "elasticsearch.m.eslink.io/v1alpha1"
	}
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

// connected is the connectivity resource once the alias is connected.
var connected = observedReady("RemoteClusterConnectivity", "c", `{configured: true, connected: true, mode: proxy}`)

const readyKeyAtProvider = `{id: VuaCfGcBCdbkQm-e5aOx, name: eck-ns1-cluster1-logs, creation: "2026-05-01T00:00:00Z", accessMatches: true}`

func TestRunFunction(t *testing.T) {
	cases := map[string]struct {
		reason string
		req    linkRequest
		want   *fnv1.RunFunctionResponse
	}{
		"RequestsClustersBeforeRendering": {
			reason: "Until Crossplane resolved the Elasticsearch objects the function only asks for them.",
			req:    linkRequest{xr: xrFlow1},
			want:   &fnv1.RunFunctionResponse{Meta: meta(), Requirements: flow1Requirements()},
		},
		"Flow1FirstPass": {
			reason: "Flow 1 renders the server, the entry and the observe-only key, none ready yet, and says what it waits for.",
			req:    linkRequest{xr: xrFlow1, required: flow1Required(t)},
			want:   flow1FirstPass(),
		},
		"Flow1AllReady": {
			reason: "With every observed resource ready, the key present and matching, the link is Ready and its status filled.",
			req: linkRequest{xr: xrFlow1, required: flow1Required(t), observed: map[string]string{
				"remote-cluster-server":       observedReady("RemoteClusterServer", "s", `{enabled: true}`),
				"remote-cluster-entry":        observedReady("RemoteClusterEntry", "e", `{present: true}`),
				"cross-cluster-api-key":       observedReady("CrossClusterAPIKey", "k", readyKeyAtProvider),
				"remote-cluster-connectivity": connected,
			}},
			want: &fnv1.RunFunctionResponse{
				Meta:         meta(),
				Requirements: flow1Requirements(),
				Desired: &fnv1.State{
					Composite: desiredXR(`{"alias":"logs","flow":"ECKAPIKey","remoteClusterServer":"Enabled","remoteClusterEntry":"Present",
"apiKey":{"id":"VuaCfGcBCdbkQm-e5aOx","name":"eck-ns1-cluster1-logs","creation":"2026-05-01T00:00:00Z","accessMatches":true},"connected":true}`, fnv1.Ready_READY_TRUE),
					Resources: map[string]*fnv1.Resource{
						"remote-cluster-server":       desiredRes(desiredServer, fnv1.Ready_READY_TRUE),
						"remote-cluster-entry":        desiredRes(desiredEntry, fnv1.Ready_READY_TRUE),
						"cross-cluster-api-key":       desiredRes(desiredECKKey, fnv1.Ready_READY_TRUE),
						"remote-cluster-connectivity": desiredRes(desiredConnectivity, fnv1.Ready_READY_TRUE),
					},
				},
				Conditions: linkCondition(fnv1.Status_STATUS_CONDITION_TRUE, "Available", "alias logs on ns1/cluster1 reaches ns2/cluster2"),
			},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			f := New(WithClock(func() time.Time { return testNow }))
			rsp, err := f.RunFunction(context.Background(), tc.req.build(t))
			if err != nil {
				t.Fatalf("%s\nRunFunction returned an error: %v", tc.reason, err)
			}
			if diff := cmp.Diff(tc.want, rsp, protocmp.Transform()); diff != "" {
				t.Errorf("%s\nRunFunction(...): -want, +got:\n%s", tc.reason, diff)
			}
			assertNoSecret(t, rsp)
		})
	}
}

// assertNoSecret fails when the encoded key of the observed connection
// details appears anywhere in the response.
func assertNoSecret(t *testing.T, rsp *fnv1.RunFunctionResponse) {
	t.Helper()
	b, err := protojson.Marshal(rsp)
	if err != nil {
		t.Fatal(err)
	}
	if s := string(b); strings.Contains(s, secretKey) {
		t.Errorf("response contains the encoded API key: %s", s)
	}
}

// flow1FirstPass is the response to xrFlow1 before anything is observed.
func flow1FirstPass() *fnv1.RunFunctionResponse {
	return &fnv1.RunFunctionResponse{
		Meta:         meta(),
		Requirements: flow1Requirements(),
		Desired: &fnv1.State{
			Composite: desiredXR(`{"alias":"logs","flow":"ECKAPIKey","remoteClusterServer":"Pending","remoteClusterEntry":"Pending"}`, fnv1.Ready_READY_FALSE),
			Resources: map[string]*fnv1.Resource{
				"remote-cluster-server":       desiredRes(desiredServer, fnv1.Ready_READY_FALSE),
				"remote-cluster-entry":        desiredRes(desiredEntry, fnv1.Ready_READY_FALSE),
				"cross-cluster-api-key":       desiredRes(desiredECKKey, fnv1.Ready_READY_FALSE),
				"remote-cluster-connectivity": desiredRes(desiredConnectivity, fnv1.Ready_READY_FALSE),
			},
		},
		Results: []*fnv1.Result{
			normal("Creating", "key eck-ns1-cluster1-logs is being created"),
			normal("Creating", "connectivity check of alias logs on ns1/cluster1 is being created"),
			normal("Creating", "remote cluster entry logs on ns1/cluster1 is being created"),
			normal("Creating", "remote cluster server on ns2/cluster2 is being created"),
			normal("RemoteClusterServerNotEnabled", "remote cluster server not enabled on ns2/cluster2 yet: eslink enables it, which restarts that cluster"),
			normal("RemoteClusterEntryPending", "remote cluster entry logs not yet in spec.remoteClusters of ns1/cluster1"),
			normal("KeyNotFound", "key eck-ns1-cluster1-logs not found on ns2/cluster2 yet: ECK creates it once the entry is applied"),
		},
		Conditions: linkCondition(fnv1.Status_STATUS_CONDITION_FALSE, "Waiting",
			"key eck-ns1-cluster1-logs is being created; connectivity check of alias logs on ns1/cluster1 is being created; remote cluster entry logs on ns1/cluster1 is being created; remote cluster server on ns2/cluster2 is being created; "+
				"remote cluster server not enabled on ns2/cluster2 yet: eslink enables it, which restarts that cluster; remote cluster entry logs not yet in spec.remoteClusters of ns1/cluster1; "+
				"key eck-ns1-cluster1-logs not found on ns2/cluster2 yet: ECK creates it once the entry is applied"),
	}
}
