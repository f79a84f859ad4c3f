package fn

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/testing/protocmp"
	"k8s.io/utils/ptr"

	fnv1 "github.com/crossplane/function-sdk-go/proto/v1"
)

func TestRunFunctionFlows(t *testing.T) {
	certLink := edit(t, edit(t, xrFlow1, "securityModel: APIKey", "securityModel: Certificate"), "  access:\n    search: {names: [logs-*]}\n", "")
	certGranted := map[string]*fnv1.Resources{
		requiredLocal:               required(obj(t, cluster1)),
		requiredRemote:              required(obj(t, edit(t, cluster2, "eslink.io/allowed-namespaces: ns1", "eslink.io/allowed-namespaces: ns1, eslink.io/allowed-access: certificate"))),
		requiredLocalProviderConfig: localConfig(t),
	}
	externalLink := edit(t, xrFlow1, "remote: {elasticsearchRef: {name: cluster2, namespace: ns2}}",
		"remote: {external: {address: 'es.example.com:9443', caSecretRef: {name: ext-ca}, providerConfigRef: {kind: ProviderConfig, name: ext}}}\n  expiration: 30d")
	legacyXR := `
apiVersion: eslink.io/v1alpha1
kind: XRemoteClusterLink
metadata: {name: team-a-logs-x7k2p}
spec:
  claimRef: {apiVersion: eslink.io/v1alpha1, kind: RemoteClusterLink, name: team-a-logs, namespace: team-a}
  local: {elasticsearchRef: {name: cluster1, namespace: ns1}}
  remote: {elasticsearchRef: {name: cluster2, namespace: ns2}}
  access:
    search: {names: [logs-*]}
`
	// The local cluster also lets team-a trust the remote's CA: the remote
	// is in another namespace than the local cluster.
	grantTeamA := func(es string) string {
		if es == cluster1 {
			return edit(t, es, "metadata: {name: cluster1, namespace: ns1}", "metadata: {name: cluster1, namespace: ns1, annotations: {eslink.io/allowed-namespaces: team-a, eslink.io/allowed-external-ca-namespaces: team-a}}")
		}
		return edit(t, es, "eslink.io/allowed-namespaces: ns1", "eslink.io/allowed-namespaces: 'ns1,team-a'")
	}
	cluster2v812 := edit(t, edit(t, cluster2, "spec: {version: 9.3.2}", "spec: {version: 8.12.2}"), "status: {version: 9.3.2}", "status: {version: 8.12.2}")

	withWarning := func(msg string) *fnv1.RunFunctionResponse {
		r := flow1FirstPass()
		r.Results = append([]*fnv1.Result{warning("Unsupported", msg)}, r.Results...)
		return r
	}
	allReady := map[string]string{
		"remote-cluster-server":       observedReady("RemoteClusterServer", "s", `{enabled: true}`),
		"remote-cluster-entry":        observedReady("RemoteClusterEntry", "e", `{present: true}`),
		"cross-cluster-api-key":       observedReady("CrossClusterAPIKey", "k", `{id: VuaCfGcBCdbkQm-e5aOx, name: eck-ns1-cluster1-logs, accessMatches: false}`),
		"remote-cluster-connectivity": connected,
	}
	licensed := flow1FirstPass()
	licensed.Requirements.Resources[requiredLicenses] = &fnv1.ResourceSelector{
		ApiVersion: "v1", Kind: "Secret",
		Match:     &fnv1.ResourceSelector_MatchLabels{MatchLabels: &fnv1.MatchLabels{Labels: map[string]string{"license.k8s.elastic.co/scope": "operator"}}},
		Namespace: ptr.To("elastic-system"),
	}
	licensedRequired := flow1Required(t)
	licensedRequired[requiredLicenses] = required(obj(t, licenseSecret("enterprise_trial", testNow.Add(-time.Hour), testNow.Add(30*24*time.Hour))))

	cases := map[string]struct {
		reason string
		req    linkRequest
		want   *fnv1.RunFunctionResponse
	}{
		"Flow2Certificate": {
			reason: "The certificate model, on a remote that grants it, composes the entry alone, and warns once that it is deprecated on 9.x.",
			req:    linkRequest{xr: certLink, required: certGranted},
			want: &fnv1.RunFunctionResponse{
				Meta:         meta(),
				Requirements: clusterRequirements(),
				Desired: &fnv1.State{
					Composite: desiredXR(`{"alias":"logs","flow":"Certificate","remoteClusterServer":"NotRequired","remoteClusterEntry":"Pending"}`, fnv1.Ready_READY_FALSE),
					Resources: map[string]*fnv1.Resource{
						"remote-cluster-connectivity": desiredRes(desiredConnectivity, fnv1.Ready_READY_FALSE),
						"remote-cluster-entry": desiredRes(`{"apiVersion":"eck.m.eslink.io/v1alpha1","kind":"RemoteClusterEntry","metadata":{"namespace":"ns1"},
"spec":{"forProvider":{"elasticsearchRef":{"name":"cluster1","namespace":"ns1"},"alias":"logs","remoteElasticsearchRef":{"name":"cluster2","namespace":"ns2"}}}}`, fnv1.Ready_READY_FALSE),
					},
				},
				Results: []*fnv1.Result{
					warning("Unsupported", "the certificate security model is deprecated since Elasticsearch 9.0 and ns1/cluster1 runs 9.3.2: move the link to securityModel APIKey"),
					normal("Creating", "connectivity check of alias logs on ns1/cluster1 is being created"),
					normal("Creating", "remote cluster entry logs on ns1/cluster1 is being created"),
					normal("RemoteClusterEntryPending", "remote cluster entry logs not yet in spec.remoteClusters of ns1/cluster1"),
				},
				Conditions: linkCondition(fnv1.Status_STATUS_CONDITION_FALSE, "Waiting",
					"connectivity check of alias logs on ns1/cluster1 is being created; remote cluster entry logs on ns1/cluster1 is being created; remote cluster entry logs not yet in spec.remoteClusters of ns1/cluster1"),
			},
		},
		"Flow3ExternalProviderError": {
			reason: "An external remote gets an owned key through its own provider config and the local wiring, with the CA from the link's Secret and the server name from the address; a provider error is copied onto the link without the key it may contain.",
			req: linkRequest{xr: externalLink, required: map[string]*fnv1.Resources{requiredLocal: required(obj(t, cluster1)), requiredLocalProviderConfig: localConfig(t)}, observed: map[string]string{
				"cross-cluster-api-key": `
apiVersion: elasticsearch.m.eslink.io/v1alpha1
kind: CrossClusterAPIKey
metadata: {name: k, namespace: ns1}
status:
  conditions:
  - {type: Ready, status: "False", reason: Unavailable, lastTransitionTime: "2026-01-01T00:00:00Z"}
  - {type: Synced, status: "False", reason: ReconcileError, lastTransitionTime: "2026-01-01T00:00:00Z", message: "cannot create key (got ` + secretKey + `): current license is non-compliant for [advanced-remote-cluster-security]"}
`,
			}},
			want: &fnv1.RunFunctionResponse{
				Meta: meta(),
				Requirements: &fnv1.Requirements{Resources: map[string]*fnv1.ResourceSelector{
					requiredLocal: esSelector("cluster1", "ns1"), requiredLocalProviderConfig: configSelector("eck"),
				}},
				Desired: &fnv1.State{
					Composite: desiredXR(`{"alias":"logs","flow":"ProviderAPIKey","remoteClusterServer":"NotRequired","remoteClusterEntry":"NotRequired",
"local":{"credentials":"Pending","secureSettings":"Keystore","rotationRestartsLocal":true,"connectionSettings":"Pending","trust":"Pending","signing":"NotRequired"}}`, fnv1.Ready_READY_FALSE),
					Resources: map[string]*fnv1.Resource{
						"cross-cluster-api-key": desiredRes(`{"apiVersion":"elasticsearch.m.eslink.io/v1alpha1","kind":"CrossClusterAPIKey","metadata":{"namespace":"ns1"},
"spec":{"providerConfigRef":{"kind":"ProviderConfig","name":"ext"},"writeConnectionSecretToRef":{"name":"orders-to-logs-api-key"},
"forProvider":{"name":"eslink-ns1-orders-to-logs-logs","access":{"search":[{"names":["logs-*"]}]},"expiration":"30d","handover":{}}}}`, fnv1.Ready_READY_FALSE),
						"remote-cluster-credentials": desiredRes(`{"apiVersion":"eck.m.eslink.io/v1alpha1","kind":"RemoteClusterCredentials","metadata":{"namespace":"ns1"},
"spec":{"providerConfigRef":{"kind":"ClusterProviderConfig","name":"eck"},"forProvider":{"elasticsearchRef":{"name":"cluster1","namespace":"ns1"},"alias":"logs","apiKeySecretRef":{"name":"orders-to-logs-api-key"}}}}`, fnv1.Ready_READY_FALSE),
						"remote-cluster-settings": desiredRes(`{"apiVersion":"elasticsearch.m.eslink.io/v1alpha1","kind":"RemoteClusterSettings","metadata":{"namespace":"ns1"},
"spec":{"providerConfigRef":{"kind":"ClusterProviderConfig","name":"eck"},"forProvider":{"elasticsearchRef":{"name":"cluster1","namespace":"ns1"},"alias":"logs","proxyAddress":"es.example.com:9443","serverName":"es.example.com"}}}`, fnv1.Ready_READY_FALSE),
						"remote-cluster-trust": desiredRes(`{"apiVersion":"eck.m.eslink.io/v1alpha1","kind":"RemoteClusterTrust","metadata":{"namespace":"ns1"},
"spec":{"forProvider":{"elasticsearchRef":{"name":"cluster1","namespace":"ns1"},"purpose":"RemoteClusterClient","certificateAuthority":{"secretRef":{"name":"ext-ca"}}}}}`, fnv1.Ready_READY_FALSE),
						"remote-cluster-connectivity": desiredRes(desiredConnectivity, fnv1.Ready_READY_FALSE),
					},
				},
				Results: []*fnv1.Result{
					warning("ReconcileError", "key eslink-ns1-orders-to-logs-logs cannot be reconciled: ReconcileError: cannot create key (got [redacted]): current license is non-compliant for [advanced-remote-cluster-security]"),
					normal("Creating", "connectivity check of alias logs on ns1/cluster1 is being created"),
					normal("Creating", "credentials entry of alias logs on ns1/cluster1 is being created"),
					normal("Creating", "proxy connection of alias logs on ns1/cluster1 is being created"),
					normal("Creating", "CA trust of ns1/cluster1 for the remote cluster server is being created"),
					normal("KeyNotFound", "key eslink-ns1-orders-to-logs-logs not found on the remote yet: the provider creates it"),
				},
				Conditions: linkCondition(fnv1.Status_STATUS_CONDITION_FALSE, "Blocked",
					"key eslink-ns1-orders-to-logs-logs cannot be reconciled: ReconcileError: cannot create key (got [redacted]): current license is non-compliant for [advanced-remote-cluster-security]; "+
						"connectivity check of alias logs on ns1/cluster1 is being created; credentials entry of alias logs on ns1/cluster1 is being created; "+
						"proxy connection of alias logs on ns1/cluster1 is being created; CA trust of ns1/cluster1 for the remote cluster server is being created; "+
						"key eslink-ns1-orders-to-logs-logs not found on the remote yet: the provider creates it"),
			},
		},
		"LegacyXRWithInputDefaults": {
			reason: "A legacy XR composes into its claim's namespace, names things after the claim, and follows the input's defaults (Provider keys, other provider configs for the remote and the local cluster, disabling the server on delete).",
			req: linkRequest{
				xr: legacyXR,
				input: `
apiVersion: fn.eslink.io/v1beta1
kind: Input
defaultKeyManagement: Provider
remoteProviderConfigRef: {kind: ClusterProviderConfig, name: es-admin}
localProviderConfigRef: {kind: ClusterProviderConfig, name: es-local}
disableRemoteClusterServerOnDelete: true
`,
				required: map[string]*fnv1.Resources{
					requiredLocal: required(obj(t, grantTeamA(cluster1))), requiredRemote: required(obj(t, grantTeamA(cluster2))),
					requiredProviderConfig:      required(obj(t, edit(t, edit(t, eckConfig, "name: eck", "name: es-admin"), `["*"]`, "[team-a]"))),
					requiredLocalProviderConfig: required(obj(t, edit(t, edit(t, eckConfig, "name: eck", "name: es-local"), `["*"]`, "[team-a]"))),
				},
			},
			want: &fnv1.RunFunctionResponse{
				Meta: meta(),
				Requirements: &fnv1.Requirements{Resources: map[string]*fnv1.ResourceSelector{
					requiredLocal: esSelector("cluster1", "ns1"), requiredRemote: esSelector("cluster2", "ns2"),
					requiredProviderConfig: configSelector("es-admin"), requiredLocalProviderConfig: configSelector("es-local"),
				}},
				Desired: &fnv1.State{
					Composite: desiredXR(`{"alias":"team-a-logs","flow":"ProviderAPIKey","remoteClusterServer":"Pending","remoteClusterEntry":"NotRequired",
"local":{"credentials":"Pending","secureSettings":"Keystore","rotationRestartsLocal":true,"connectionSettings":"Pending","trust":"Pending","signing":"NotRequired"}}`, fnv1.Ready_READY_FALSE),
					Resources: map[string]*fnv1.Resource{
						"remote-cluster-server": desiredRes(`{"apiVersion":"eck.m.eslink.io/v1alpha1","kind":"RemoteClusterServer","metadata":{"namespace":"team-a"},
"spec":{"forProvider":{"elasticsearchRef":{"name":"cluster2","namespace":"ns2"},"disableOnDelete":true}}}`, fnv1.Ready_READY_FALSE),
						"cross-cluster-api-key": desiredRes(`{"apiVersion":"elasticsearch.m.eslink.io/v1alpha1","kind":"CrossClusterAPIKey","metadata":{"namespace":"team-a"},
"spec":{"providerConfigRef":{"kind":"ClusterProviderConfig","name":"es-admin"},"writeConnectionSecretToRef":{"name":"team-a-logs-api-key"},
"forProvider":{"name":"eslink-team-a-team-a-logs-team-a-logs","elasticsearchRef":{"name":"cluster2","namespace":"ns2"},"access":{"search":[{"names":["logs-*"]}]},"handover":{}}}}`, fnv1.Ready_READY_FALSE),
						"remote-cluster-credentials": desiredRes(`{"apiVersion":"eck.m.eslink.io/v1alpha1","kind":"RemoteClusterCredentials","metadata":{"namespace":"team-a"},
"spec":{"providerConfigRef":{"kind":"ClusterProviderConfig","name":"es-local"},"forProvider":{"elasticsearchRef":{"name":"cluster1","namespace":"ns1"},"alias":"team-a-logs",
"apiKeySecretRef":{"name":"team-a-logs-api-key"},"remoteElasticsearchRef":{"name":"cluster2","namespace":"ns2"}}}}`, fnv1.Ready_READY_FALSE),
						"remote-cluster-settings": desiredRes(`{"apiVersion":"elasticsearch.m.eslink.io/v1alpha1","kind":"RemoteClusterSettings","metadata":{"namespace":"team-a"},
"spec":{"providerConfigRef":{"kind":"ClusterProviderConfig","name":"es-local"},"forProvider":{"elasticsearchRef":{"name":"cluster1","namespace":"ns1"},"alias":"team-a-logs",
"proxyAddress":"cluster2-es-remote-cluster.ns2.svc:9443","serverName":"cluster2-es-remote-cluster.ns2.svc","remoteElasticsearchRef":{"name":"cluster2","namespace":"ns2"}}}}`, fnv1.Ready_READY_FALSE),
						"remote-cluster-trust": desiredRes(`{"apiVersion":"eck.m.eslink.io/v1alpha1","kind":"RemoteClusterTrust","metadata":{"namespace":"team-a"},
"spec":{"forProvider":{"elasticsearchRef":{"name":"cluster1","namespace":"ns1"},"purpose":"RemoteClusterClient","certificateAuthority":{"elasticsearchRef":{"name":"cluster2","namespace":"ns2"}}}}}`, fnv1.Ready_READY_FALSE),
						"remote-cluster-connectivity": desiredRes(`{"apiVersion":"elasticsearch.m.eslink.io/v1alpha1","kind":"RemoteClusterConnectivity","metadata":{"namespace":"team-a"},
"spec":{"providerConfigRef":{"kind":"ClusterProviderConfig","name":"es-local"},"forProvider":{"elasticsearchRef":{"name":"cluster1","namespace":"ns1"},"alias":"team-a-logs"}}}`, fnv1.Ready_READY_FALSE),
					},
				},
				Results: []*fnv1.Result{
					normal("Creating", "key eslink-team-a-team-a-logs-team-a-logs is being created"),
					normal("Creating", "connectivity check of alias team-a-logs on ns1/cluster1 is being created"),
					normal("Creating", "credentials entry of alias team-a-logs on ns1/cluster1 is being created"),
					normal("Creating", "remote cluster server on ns2/cluster2 is being created"),
					normal("Creating", "proxy connection of alias team-a-logs on ns1/cluster1 is being created"),
					normal("Creating", "CA trust of ns1/cluster1 for the remote cluster server is being created"),
					normal("RemoteClusterServerNotEnabled", "remote cluster server not enabled on ns2/cluster2 yet: eslink enables it, which restarts that cluster"),
					normal("KeyNotFound", "key eslink-team-a-team-a-logs-team-a-logs not found on ns2/cluster2 yet: the provider creates it"),
				},
				Conditions: linkCondition(fnv1.Status_STATUS_CONDITION_FALSE, "Waiting",
					"key eslink-team-a-team-a-logs-team-a-logs is being created; connectivity check of alias team-a-logs on ns1/cluster1 is being created; "+
						"credentials entry of alias team-a-logs on ns1/cluster1 is being created; remote cluster server on ns2/cluster2 is being created; "+
						"proxy connection of alias team-a-logs on ns1/cluster1 is being created; CA trust of ns1/cluster1 for the remote cluster server is being created; "+
						"remote cluster server not enabled on ns2/cluster2 yet: eslink enables it, which restarts that cluster; "+
						"key eslink-team-a-team-a-logs-team-a-logs not found on ns2/cluster2 yet: the provider creates it"),
			},
		},
		"BelowDocumentedMinimum": {
			reason: "8.10 to 8.13 renders, with a warning that the documentation says 8.14.",
			req:    linkRequest{xr: xrFlow1, required: withClusters(t, cluster1, cluster2v812)},
			want:   withWarning("Elasticsearch ns2/cluster2 runs 8.12.2: ECK accepts API-key remote clusters from 8.10, but the Elastic documentation states 8.14 as the minimum; upgrade to 8.14 or later for a supported setup"),
		},
		"ValidTrialLicense": {
			reason: "A valid trial operator license lets flow 1 render.",
			req:    linkRequest{xr: xrFlow1, input: "apiVersion: fn.eslink.io/v1beta1\nkind: Input\neckOperatorNamespace: elastic-system\n", required: licensedRequired},
			want:   licensed,
		},
		"KeyAccessMismatch": {
			reason: "Every resource ready but a key that does not grant the requested access keeps the link not Ready.",
			req:    linkRequest{xr: xrFlow1, required: flow1Required(t), observed: allReady},
			want: &fnv1.RunFunctionResponse{
				Meta:         meta(),
				Requirements: flow1Requirements(),
				Desired: &fnv1.State{
					Composite: desiredXR(`{"alias":"logs","flow":"ECKAPIKey","remoteClusterServer":"Enabled","remoteClusterEntry":"Present",
"apiKey":{"id":"VuaCfGcBCdbkQm-e5aOx","name":"eck-ns1-cluster1-logs"},"connected":true}`, fnv1.Ready_READY_FALSE),
					Resources: map[string]*fnv1.Resource{
						"remote-cluster-server":       desiredRes(desiredServer, fnv1.Ready_READY_TRUE),
						"remote-cluster-entry":        desiredRes(desiredEntry, fnv1.Ready_READY_TRUE),
						"cross-cluster-api-key":       desiredRes(desiredECKKey, fnv1.Ready_READY_TRUE),
						"remote-cluster-connectivity": desiredRes(desiredConnectivity, fnv1.Ready_READY_TRUE),
					},
				},
				Results: []*fnv1.Result{
					normal("KeyAccessMismatch", "key eck-ns1-cluster1-logs (id VuaCfGcBCdbkQm-e5aOx) on ns2/cluster2 does not grant the requested access yet: ECK updates it from the entry"),
				},
				Conditions: linkCondition(fnv1.Status_STATUS_CONDITION_FALSE, "Waiting",
					"key eck-ns1-cluster1-logs (id VuaCfGcBCdbkQm-e5aOx) on ns2/cluster2 does not grant the requested access yet: ECK updates it from the entry"),
			},
		},
		"BadInput": {
			reason: "A Composition input with an unknown key management mode is fatal and names the input field.",
			req:    linkRequest{xr: xrFlow1, input: "apiVersion: fn.eslink.io/v1beta1\nkind: Input\ndefaultKeyManagement: Manual\n"},
			want: &fnv1.RunFunctionResponse{Meta: meta(), Results: fatal(
				`function input defaultKeyManagement "Manual" is not a key management mode: use ECK or Provider in the Composition's input`)},
		},
		"BadMinimumKeyLifetime": {
			reason: "A minimum key lifetime that is not a duration is the platform's mistake: fatal, naming the input field, not blamed on the link.",
			req:    linkRequest{xr: xrFlow1, input: "apiVersion: fn.eslink.io/v1beta1\nkind: Input\nminimumKeyLifetime: a day\n"},
			want: &fnv1.RunFunctionResponse{Meta: meta(), Results: fatal(
				`function input minimumKeyLifetime "a day" is not an Elasticsearch duration: use a number and one of nanos, micros, ms, s, m, h, d, such as 7d: fix the Composition's input`)},
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
