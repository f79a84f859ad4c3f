package fn

// Fixtures in the shape of examples/: cluster1 in ns1 queries cluster2 in
// ns2, which grants ns1.
const (
	xrFlow1 = `
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
	cluster1 = `
apiVersion: elasticsearch.k8s.elastic.co/v1
kind: Elasticsearch
metadata: {name: cluster1, namespace: ns1}
spec: {version: 9.3.2}
status: {version: 9.3.2}
`
	cluster2 = `
apiVersion: elasticsearch.k8s.elastic.co/v1
kind: Elasticsearch
metadata:
  name: cluster2
  namespace: ns2
  annotations: {eslink.io/allowed-namespaces: ns1, eslink.io/allowed-external-ca-namespaces: ns1}
spec: {version: 9.3.2}
status: {version: 9.3.2}
`
	// eckConfig is the platform team's ECK-mode config, usable from every
	// namespace (the clusters' grants still apply).
	eckConfig = `
apiVersion: m.eslink.io/v1alpha1
kind: ClusterProviderConfig
metadata: {name: eck}
spec: {allowedNamespaces: ["*"], eck: {}}
`
	// The desired resources of flow 1 for xrFlow1.
	desiredServer = `{"apiVersion":"eck.m.eslink.io/v1alpha1","kind":"RemoteClusterServer","metadata":{"namespace":"ns1"},
"spec":{"forProvider":{"elasticsearchRef":{"name":"cluster2","namespace":"ns2"}}}}`
	desiredEntry = `{"apiVersion":"eck.m.eslink.io/v1alpha1","kind":"RemoteClusterEntry","metadata":{"namespace":"ns1"},
"spec":{"forProvider":{"elasticsearchRef":{"name":"cluster1","namespace":"ns1"},"alias":"logs",
"remoteElasticsearchRef":{"name":"cluster2","namespace":"ns2"},"apiKey":{"access":{"search":{"names":["logs-*"]}}}}}}`
	desiredConnectivity = `{"apiVersion":"elasticsearch.m.eslink.io/v1alpha1","kind":"RemoteClusterConnectivity","metadata":{"namespace":"ns1"},
"spec":{"providerConfigRef":{"kind":"ClusterProviderConfig","name":"eck"},"forProvider":{"elasticsearchRef":{"name":"cluster1","namespace":"ns1"},"alias":"logs"}}}`
	desiredECKKey = `{"apiVersion":"elasticsearch.m.eslink.io/v1alpha1","kind":"CrossClusterAPIKey","metadata":{"namespace":"ns1"},
"spec":{"managementPolicies":["Observe"],"providerConfigRef":{"kind":"ClusterProviderConfig","name":"eck"},
"forProvider":{"name":"eck-ns1-cluster1-logs","elasticsearchRef":{"name":"cluster2","namespace":"ns2"},
"access":{"search":[{"names":["logs-*"]}]}}}}`
)
