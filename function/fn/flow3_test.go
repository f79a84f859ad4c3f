package fn

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/testing/protocmp"

	fnv1 "github.com/crossplane/function-sdk-go/proto/v1"
)

// xrFlow3 is xrFlow1 with a key the provider owns, rotated a week before
// it expires after 30 days.
var xrFlow3 = xrFlow1 + "  keyManagement: Provider\n  expiration: 30d\n  rotateBefore: 7d\n"

// defaultIdentity matches cluster1's ECK transport certificates.
const defaultIdentity = `^CN=cluster1-es-[^,]+\\.node\\.cluster1\\.ns1\\.es\\.local,OU=cluster1$`

// flow3Desired are the desired resources of xrFlow3, with the handover of
// consumer, and with certificate identity pattern (JSON-escaped) when set.
func flow3Desired(consumer, pattern string, ready map[string]bool) map[string]*fnv1.Resource {
	r := func(name string) fnv1.Ready {
		if ready[name] {
			return fnv1.Ready_READY_TRUE
		}
		return fnv1.Ready_READY_FALSE
	}
	handover := `{}`
	if consumer != "" {
		handover = `{"consumerKeyID":"` + consumer + `"}`
	}
	identity := ""
	if pattern != "" {
		identity = `,"certificateIdentity":"` + pattern + `"`
	}
	out := map[string]*fnv1.Resource{
		"remote-cluster-server": desiredRes(desiredServer, r("remote-cluster-server")),
		"cross-cluster-api-key": desiredRes(`{"apiVersion":"elasticsearch.m.eslink.io/v1alpha1","kind":"CrossClusterAPIKey","metadata":{"namespace":"ns1"},
"spec":{"providerConfigRef":{"kind":"ClusterProviderConfig","name":"eck"},"writeConnectionSecretToRef":{"name":"orders-to-logs-api-key"},
"forProvider":{"name":"eslink-ns1-orders-to-logs-logs","elasticsearchRef":{"name":"cluster2","namespace":"ns2"},"access":{"search":[{"names":["logs-*"]}]},
"expiration":"30d","rotateBefore":"7d","handover":`+handover+identity+`}}}`, r("cross-cluster-api-key")),
		"remote-cluster-credentials": desiredRes(`{"apiVersion":"eck.m.eslink.io/v1alpha1","kind":"RemoteClusterCredentials","metadata":{"namespace":"ns1"},
"spec":{"providerConfigRef":{"kind":"ClusterProviderConfig","name":"eck"},"forProvider":{"elasticsearchRef":{"name":"cluster1","namespace":"ns1"},"alias":"logs",
"apiKeySecretRef":{"name":"orders-to-logs-api-key"},"remoteElasticsearchRef":{"name":"cluster2","namespace":"ns2"}}}}`, r("remote-cluster-credentials")),
		"remote-cluster-settings": desiredRes(`{"apiVersion":"elasticsearch.m.eslink.io/v1alpha1","kind":"RemoteClusterSettings","metadata":{"namespace":"ns1"},
"spec":{"providerConfigRef":{"kind":"ClusterProviderConfig","name":"eck"},"forProvider":{"elasticsearchRef":{"name":"cluster1","namespace":"ns1"},"alias":"logs",
"proxyAddress":"cluster2-es-remote-cluster.ns2.svc:9443","serverName":"cluster2-es-remote-cluster.ns2.svc","remoteElasticsearchRef":{"name":"cluster2","namespace":"ns2"}}}}`, r("remote-cluster-settings")),
		"remote-cluster-trust": desiredRes(`{"apiVersion":"eck.m.eslink.io/v1alpha1","kind":"RemoteClusterTrust","metadata":{"namespace":"ns1"},
"spec":{"forProvider":{"elasticsearchRef":{"name":"cluster1","namespace":"ns1"},"purpose":"RemoteClusterClient","certificateAuthority":{"elasticsearchRef":{"name":"cluster2","namespace":"ns2"}}}}}`, r("remote-cluster-trust")),
		"remote-cluster-connectivity": desiredRes(desiredConnectivity, r("remote-cluster-connectivity")),
	}
	if pattern != "" {
		out["remote-cluster-signing"] = desiredRes(`{"apiVersion":"eck.m.eslink.io/v1alpha1","kind":"RemoteClusterSigning","metadata":{"namespace":"ns1"},
"spec":{"forProvider":{"elasticsearchRef":{"name":"cluster1","namespace":"ns1"},"alias":"logs"}}}`, r("remote-cluster-signing"))
		out["remote-signing-trust"] = desiredRes(`{"apiVersion":"eck.m.eslink.io/v1alpha1","kind":"RemoteClusterTrust","metadata":{"namespace":"ns1"},
"spec":{"forProvider":{"elasticsearchRef":{"name":"cluster2","namespace":"ns2"},"purpose":"CrossClusterSigning","certificateAuthority":{"elasticsearchRef":{"name":"cluster1","namespace":"ns1"}}}}}`, r("remote-signing-trust"))
	}
	return out
}

// allTrue marks every resource of flow3Desired ready.
var allTrue = map[string]bool{
	"remote-cluster-server": true, "cross-cluster-api-key": true, "remote-cluster-credentials": true, "remote-cluster-settings": true,
	"remote-cluster-trust": true, "remote-cluster-connectivity": true, "remote-cluster-signing": true, "remote-signing-trust": true,
}

func except(m map[string]bool, names ...string) map[string]bool {
	out := map[string]bool{}
	for k, v := range m {
		out[k] = v
	}
	for _, n := range names {
		delete(out, n)
	}
	return out
}

const (
	keyAt = `{id: KEY2, name: eslink-ns1-orders-to-logs-logs, creation: "2026-05-01T00:00:00Z", expiration: "2026-05-31T00:00:00Z", nextRotation: "2026-05-24T00:00:00Z", accessMatches: true`
	// statusKey is keyAt in the link's status.
	statusKey      = `"apiKey":{"id":"KEY2","name":"eslink-ns1-orders-to-logs-logs","creation":"2026-05-01T00:00:00Z","expiration":"2026-05-31T00:00:00Z","nextRotation":"2026-05-24T00:00:00Z","accessMatches":true`
	restartMessage = `alias logs on ns1/cluster1 reaches ns2/cluster2; each key rotation restarts ns1/cluster1 (keystore secure settings): with Elasticsearch 9.5+, ECK 3.5+ and annotation eck.k8s.elastic.co/file-based-secure-settings: "true" it reloads them in place`
)

// flow3Observed is every part of xrFlow3 as the provider leaves it once
// wired, with the key's and the credentials' observations given.
func flow3Observed(key, takenUp string) map[string]string {
	return map[string]string{
		"remote-cluster-server":       observedReady("RemoteClusterServer", "s", `{enabled: true}`),
		"cross-cluster-api-key":       observedReady("CrossClusterAPIKey", "k", key),
		"remote-cluster-credentials":  observedReady("RemoteClusterCredentials", "cr", `{keyID: KEY2, deliveredKeyID: KEY2, takenUpKeyID: `+takenUp+`, delivery: Keystore, restartsOnChange: true}`),
		"remote-cluster-settings":     observedReady("RemoteClusterSettings", "st", `{settings: {mode: proxy}}`),
		"remote-cluster-trust":        observedReady("RemoteClusterTrust", "t", `{inBundle: true, mounted: true, rolledOut: true}`),
		"remote-cluster-connectivity": connected,
	}
}

func TestRunFunctionFlow3(t *testing.T) {
	cluster1FileBased := edit(t, edit(t, edit(t, cluster1, "spec: {version: 9.3.2}", "spec: {version: 9.5.0}"), "status: {version: 9.3.2}", "status: {version: 9.5.0}"),
		"metadata: {name: cluster1, namespace: ns1}", `metadata: {name: cluster1, namespace: ns1, annotations: {eck.k8s.elastic.co/file-based-secure-settings: "true"}}`)
	cluster2v95 := edit(t, edit(t, cluster2, "spec: {version: 9.3.2}", "spec: {version: 9.5.0}"), "status: {version: 9.3.2}", "status: {version: 9.5.0}")
	invalidated := flow3Observed(keyAt+`, invalidated: true}`, "KEY2")
	invalidated["cross-cluster-api-key"] = edit(t, invalidated["cross-cluster-api-key"], `status: "True", reason: Available`, `status: "False", reason: KeyInvalidated`)
	invalidated["remote-cluster-connectivity"] = observedReady("RemoteClusterConnectivity", "c", `{configured: true, connected: false, mode: proxy}`)
	invalidated["remote-cluster-connectivity"] = edit(t, invalidated["remote-cluster-connectivity"], `status: "True", reason: Available`, `status: "False", reason: NotConnected`)

	cases := map[string]struct {
		reason string
		req    linkRequest
		want   *fnv1.RunFunctionResponse
	}{
		"ECKRemoteWithIdentityFirstPass": {
			reason: "Flow 3 to an ECK remote composes the server, the owned key bound to cluster1's ECK transport certificates, and the local wiring: credentials, proxy connection, trust, signing and the remote's trust in the signatures.",
			req:    linkRequest{xr: xrFlow3 + "  certificateIdentity: {}\n", required: flow1Required(t)},
			want: &fnv1.RunFunctionResponse{
				Meta:         meta(),
				Requirements: flow1Requirements(),
				Desired: &fnv1.State{
					Composite: desiredXR(`{"alias":"logs","flow":"ProviderAPIKey","remoteClusterServer":"Pending","remoteClusterEntry":"NotRequired",
"local":{"credentials":"Pending","secureSettings":"Keystore","rotationRestartsLocal":true,"connectionSettings":"Pending","trust":"Pending","signing":"Pending"}}`, fnv1.Ready_READY_FALSE),
					Resources: flow3Desired("", defaultIdentity, nil),
				},
				Results: []*fnv1.Result{
					normal("Creating", "key eslink-ns1-orders-to-logs-logs is being created"),
					normal("Creating", "connectivity check of alias logs on ns1/cluster1 is being created"),
					normal("Creating", "credentials entry of alias logs on ns1/cluster1 is being created"),
					normal("Creating", "remote cluster server on ns2/cluster2 is being created"),
					normal("Creating", "proxy connection of alias logs on ns1/cluster1 is being created"),
					normal("Creating", "request signing of alias logs on ns1/cluster1 is being created"),
					normal("Creating", "CA trust of ns1/cluster1 for the remote cluster server is being created"),
					normal("Creating", "signature trust of ns2/cluster2 for ns1/cluster1 is being created"),
					normal("RemoteClusterServerNotEnabled", "remote cluster server not enabled on ns2/cluster2 yet: eslink enables it, which restarts that cluster"),
					normal("KeyNotFound", "key eslink-ns1-orders-to-logs-logs not found on ns2/cluster2 yet: the provider creates it"),
				},
				Conditions: linkCondition(fnv1.Status_STATUS_CONDITION_FALSE, "Waiting",
					"key eslink-ns1-orders-to-logs-logs is being created; connectivity check of alias logs on ns1/cluster1 is being created; "+
						"credentials entry of alias logs on ns1/cluster1 is being created; remote cluster server on ns2/cluster2 is being created; "+
						"proxy connection of alias logs on ns1/cluster1 is being created; request signing of alias logs on ns1/cluster1 is being created; "+
						"CA trust of ns1/cluster1 for the remote cluster server is being created; signature trust of ns2/cluster2 for ns1/cluster1 is being created; "+
						"remote cluster server not enabled on ns2/cluster2 yet: eslink enables it, which restarts that cluster; "+
						"key eslink-ns1-orders-to-logs-logs not found on ns2/cluster2 yet: the provider creates it"),
			},
		},
		"ECKRemoteConnected": {
			reason: "With every part in place, the key taken up and the alias connected, the link is Ready; it shows the key's expiration and next rotation, hands the key over, and says each rotation restarts the local cluster.",
			req:    linkRequest{xr: xrFlow3, required: flow1Required(t), observed: flow3Observed(keyAt+"}", "KEY2")},
			want: &fnv1.RunFunctionResponse{
				Meta:         meta(),
				Requirements: flow1Requirements(),
				Desired: &fnv1.State{
					Composite: desiredXR(`{"alias":"logs","flow":"ProviderAPIKey","remoteClusterServer":"Enabled","remoteClusterEntry":"NotRequired",`+statusKey+`},
"local":{"credentials":"Delivered","keyID":"KEY2","secureSettings":"Keystore","rotationRestartsLocal":true,"connectionSettings":"Present","trust":"Present","signing":"NotRequired"},
"connected":true}`, fnv1.Ready_READY_TRUE),
					Resources: flow3Desired("KEY2", "", allTrue),
				},
				Conditions: linkCondition(fnv1.Status_STATUS_CONDITION_TRUE, "Available", restartMessage),
			},
		},
		"RotationInProgress": {
			reason: "While the local cluster still uses the replaced key, the handover names that key, so the remote keeps it valid; the link stays Ready as long as it is connected.",
			req:    linkRequest{xr: xrFlow3, required: flow1Required(t), observed: flow3Observed(keyAt+`, awaitingHandoverKeyID: KEY1}`, "KEY1")},
			want: &fnv1.RunFunctionResponse{
				Meta:         meta(),
				Requirements: flow1Requirements(),
				Desired: &fnv1.State{
					Composite: desiredXR(`{"alias":"logs","flow":"ProviderAPIKey","remoteClusterServer":"Enabled","remoteClusterEntry":"NotRequired",`+statusKey+`,"awaitingHandoverKeyID":"KEY1"},
"local":{"credentials":"Rotating","keyID":"KEY1","secureSettings":"Keystore","rotationRestartsLocal":true,"connectionSettings":"Present","trust":"Present","signing":"NotRequired"},
"connected":true}`, fnv1.Ready_READY_TRUE),
					Resources: flow3Desired("KEY1", "", allTrue),
				},
				Conditions: linkCondition(fnv1.Status_STATUS_CONDITION_TRUE, "Available", restartMessage),
			},
		},
		"KeyInvalidatedByHand": {
			reason: "A key invalidated outside eslink disconnects the alias: the link is not Ready and names the key as the broken part.",
			req:    linkRequest{xr: xrFlow3, required: flow1Required(t), observed: invalidated},
			want: &fnv1.RunFunctionResponse{
				Meta:         meta(),
				Requirements: flow1Requirements(),
				Desired: &fnv1.State{
					Composite: desiredXR(`{"alias":"logs","flow":"ProviderAPIKey","remoteClusterServer":"Enabled","remoteClusterEntry":"NotRequired",`+statusKey+`,"invalidated":true},
"local":{"credentials":"Delivered","keyID":"KEY2","secureSettings":"Keystore","rotationRestartsLocal":true,"connectionSettings":"Present","trust":"Present","signing":"NotRequired"},
"connected":false}`, fnv1.Ready_READY_FALSE),
					Resources: flow3Desired("KEY2", "", except(allTrue, "cross-cluster-api-key", "remote-cluster-connectivity")),
				},
				Results: []*fnv1.Result{
					normal("Unavailable", "key eslink-ns1-orders-to-logs-logs is not ready yet: KeyInvalidated"),
					warning("KeyInvalidated", "key eslink-ns1-orders-to-logs-logs (id KEY2) on ns2/cluster2 is invalidated: the provider creates it again"),
					warning("NotConnected", "alias logs on ns1/cluster1 is not connected to ns2/cluster2: key eslink-ns1-orders-to-logs-logs (id KEY2) is invalidated"),
				},
				Conditions: linkCondition(fnv1.Status_STATUS_CONDITION_FALSE, "Blocked",
					"key eslink-ns1-orders-to-logs-logs is not ready yet: KeyInvalidated; "+
						"key eslink-ns1-orders-to-logs-logs (id KEY2) on ns2/cluster2 is invalidated: the provider creates it again; "+
						"alias logs on ns1/cluster1 is not connected to ns2/cluster2: key eslink-ns1-orders-to-logs-logs (id KEY2) is invalidated"),
			},
		},
		"ReplacedKeyRejected": {
			reason: "When the key the local cluster still uses was invalidated on the remote (not by a rotation, which keeps it until taken up), the link says so while the replacement rolls out.",
			req: linkRequest{xr: xrFlow3, required: flow1Required(t), observed: func() map[string]string {
				o := flow3Observed(keyAt+"}", "KEY1")
				o["remote-cluster-connectivity"] = edit(t, observedReady("RemoteClusterConnectivity", "c", `{configured: true, connected: false, mode: proxy}`),
					`status: "True", reason: Available`, `status: "False", reason: NotConnected`)
				return o
			}()},
			want: &fnv1.RunFunctionResponse{
				Meta:         meta(),
				Requirements: flow1Requirements(),
				Desired: &fnv1.State{
					Composite: desiredXR(`{"alias":"logs","flow":"ProviderAPIKey","remoteClusterServer":"Enabled","remoteClusterEntry":"NotRequired",`+statusKey+`},
"local":{"credentials":"Rotating","keyID":"KEY1","secureSettings":"Keystore","rotationRestartsLocal":true,"connectionSettings":"Present","trust":"Present","signing":"NotRequired"},
"connected":false}`, fnv1.Ready_READY_FALSE),
					Resources: flow3Desired("KEY1", "", except(allTrue, "remote-cluster-connectivity")),
				},
				Results: []*fnv1.Result{
					normal("NotConnected", "alias logs on ns1/cluster1 is not connected to ns2/cluster2: ns1/cluster1 still uses key eslink-ns1-orders-to-logs-logs (id KEY1), which ns2/cluster2 no longer accepts: it was invalidated or expired there; eslink delivered its replacement (id KEY2), which ns1/cluster1 has not loaded yet"),
				},
				Conditions: linkCondition(fnv1.Status_STATUS_CONDITION_FALSE, "Waiting",
					"alias logs on ns1/cluster1 is not connected to ns2/cluster2: ns1/cluster1 still uses key eslink-ns1-orders-to-logs-logs (id KEY1), which ns2/cluster2 no longer accepts: it was invalidated or expired there; eslink delivered its replacement (id KEY2), which ns1/cluster1 has not loaded yet"),
			},
		},
		"FileBasedLocal": {
			reason: "A local cluster on 9.5 with the file-based annotation reloads the key in place, and the link says so.",
			req: linkRequest{xr: xrFlow3, observed: flow3Observed(keyAt+"}", "KEY2"), required: map[string]*fnv1.Resources{
				requiredLocal: required(obj(t, cluster1FileBased)), requiredRemote: required(obj(t, cluster2v95)),
				requiredProviderConfig: required(obj(t, eckConfig)), requiredLocalProviderConfig: localConfig(t),
			}},
			want: &fnv1.RunFunctionResponse{
				Meta:         meta(),
				Requirements: flow1Requirements(),
				Desired: &fnv1.State{
					Composite: desiredXR(`{"alias":"logs","flow":"ProviderAPIKey","remoteClusterServer":"Enabled","remoteClusterEntry":"NotRequired",`+statusKey+`},
"local":{"credentials":"Delivered","keyID":"KEY2","secureSettings":"FileBasedSecureSettings","rotationRestartsLocal":false,"connectionSettings":"Present","trust":"Present","signing":"NotRequired"},
"connected":true}`, fnv1.Ready_READY_TRUE),
					Resources: flow3Desired("KEY2", "", allTrue),
				},
				Conditions: linkCondition(fnv1.Status_STATUS_CONDITION_TRUE, "Available",
					"alias logs on ns1/cluster1 reaches ns2/cluster2; key rotations reload in place on ns1/cluster1 (file-based secure settings), without a restart"),
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
