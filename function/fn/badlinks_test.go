package fn

import (
	"context"
	"encoding/base64"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/testing/protocmp"
	"k8s.io/utils/ptr"

	fnv1 "github.com/crossplane/function-sdk-go/proto/v1"
)

// edit returns the fixture with old replaced by new, failing loudly when
// the fixture does not contain old.
func edit(t *testing.T, fixture, old, new string) string {
	t.Helper()
	if !strings.Contains(fixture, old) {
		t.Fatalf("fixture does not contain %q", old)
	}
	return strings.Replace(fixture, old, new, 1)
}

func licenseSecret(typ string, start, expiry time.Time) string {
	j := `{"license":{"uid":"u","type":"` + typ + `","start_date_in_millis":` + itoa(start.UnixMilli()) +
		`,"expiry_date_in_millis":` + itoa(expiry.UnixMilli()) + `,"signature":"sig"}}`
	return `
apiVersion: v1
kind: Secret
metadata: {name: eck-license, namespace: elastic-system, labels: {license.k8s.elastic.co/scope: operator}}
data: {license: ` + base64.StdEncoding.EncodeToString([]byte(j)) + `}
`
}

func itoa(i int64) string { return strconv.FormatInt(i, 10) }

func TestRunFunctionBadLinks(t *testing.T) {
	const licenseInput = `
apiVersion: fn.eslink.io/v1beta1
kind: Input
eckOperatorNamespace: elastic-system
`
	licenseRequirements := func() *fnv1.Requirements {
		r := flow1Requirements()
		r.Resources[requiredLicenses] = &fnv1.ResourceSelector{
			ApiVersion: "v1", Kind: "Secret",
			Match:     &fnv1.ResourceSelector_MatchLabels{MatchLabels: &fnv1.MatchLabels{Labels: map[string]string{"license.k8s.elastic.co/scope": "operator"}}},
			Namespace: ptr.To("elastic-system"),
		}
		return r
	}
	withLicenses := func(secrets ...string) map[string]*fnv1.Resources {
		r := flow1Required(t)
		l := required()
		for _, s := range secrets {
			l.Items = append(l.Items, &fnv1.Resource{Resource: obj(t, s)})
		}
		r[requiredLicenses] = l
		return r
	}
	cluster2Old := edit(t, edit(t, cluster2, "spec: {version: 9.3.2}", "spec: {version: 8.9.0}"), "status: {version: 9.3.2}", "status: {version: 8.9.0}")
	cluster2Pre93 := edit(t, edit(t, cluster2, "spec: {version: 9.3.2}", "spec: {version: 9.2.0}"), "status: {version: 9.3.2}", "status: {version: 9.2.0}")
	providerLink := edit(t, xrFlow1, "securityModel: APIKey", "securityModel: APIKey\n  keyManagement: Provider\n  certificateIdentity: {pattern: '^CN=cluster1.*$'}")
	// restricted is cluster2 with more grant annotations (YAML flow entries).
	restricted := func(annotations string) string {
		return edit(t, cluster2, "eslink.io/allowed-namespaces: ns1", "eslink.io/allowed-namespaces: ns1, "+annotations)
	}
	searching := func(names string) string {
		return edit(t, xrFlow1, "search: {names: [logs-*]}", "search: {names: "+names+"}")
	}
	certLink := edit(t, edit(t, xrFlow1, "securityModel: APIKey", "securityModel: Certificate"), "  access:\n    search: {names: [logs-*]}\n", "")
	namingConfig := func(name string) string {
		return edit(t, xrFlow1, "remote: {elasticsearchRef: {name: cluster2, namespace: ns2}}",
			"remote: {elasticsearchRef: {name: cluster2, namespace: ns2}, providerConfigRef: {kind: ClusterProviderConfig, name: "+name+"}}")
	}
	adminConfig := `
apiVersion: m.eslink.io/v1alpha1
kind: ClusterProviderConfig
metadata: {name: admin}
spec: {allowedNamespaces: [platform], endpoint: {url: "https://prod.example.com:9200", credentialsSecretRef: {name: admin, namespace: platform}}}
`
	withConfig := func(name, config string) map[string]*fnv1.Resources {
		r := flow1Required(t)
		r[requiredProviderConfig] = required()
		if config != "" {
			r[requiredProviderConfig] = required(obj(t, config))
		}
		return r
	}
	configRequirements := func(name string) *fnv1.Requirements {
		r := flow1Requirements()
		r.Resources[requiredProviderConfig] = configSelector(name)
		return r
	}

	cases := map[string]struct {
		reason string
		req    linkRequest
		// requirements is nil when the link is rejected before the function
		// knows which clusters to ask for.
		requirements *fnv1.Requirements
		msg          string
	}{
		"AliasInvalid": {
			reason: "An alias outside the pattern is rejected naming spec.alias.",
			req:    linkRequest{xr: edit(t, xrFlow1, "alias: logs", "alias: 'logs prod'")},
			msg:    "link ns1/orders-to-logs: spec.alias: alias \"logs prod\" is not a valid remote cluster alias: use 1 to 63 letters, digits, '_' or '-', starting with a letter or digit",
		},
		"AliasFromInvalidName": {
			reason: "Without spec.alias the name is the alias, and a name that is no valid alias asks for spec.alias.",
			req:    linkRequest{xr: edit(t, edit(t, xrFlow1, "  alias: logs\n", ""), "name: orders-to-logs", "name: orders.to.logs")},
			msg:    "link ns1/orders.to.logs: spec.alias: alias defaults to the link's name \"orders.to.logs\", which is not a valid remote cluster alias: set spec.alias to a valid alias (use 1 to 63 letters, digits, '_' or '-', starting with a letter or digit)",
		},
		"AliasTooLong": {
			reason: "An alias longer than 63 characters is rejected.",
			req:    linkRequest{xr: edit(t, xrFlow1, "alias: logs", "alias: "+strings.Repeat("a", 64))},
			msg:    "link ns1/orders-to-logs: spec.alias: alias \"" + strings.Repeat("a", 64) + "\" is longer than 63 characters: use 1 to 63 letters, digits, '_' or '-', starting with a letter or digit",
		},
		"AccessMissing": {
			reason: "The API key model needs access.",
			req:    linkRequest{xr: edit(t, xrFlow1, "  access:\n    search: {names: [logs-*]}\n", "")},
			msg:    "link ns1/orders-to-logs: spec.access: is required with securityModel APIKey: grant search or replication (or both), for example access.search.names: [logs-*]",
		},
		"AccessSearchNamesEmpty": {
			reason: "A search grant without names grants nothing.",
			req:    linkRequest{xr: edit(t, xrFlow1, "names: [logs-*]", "names: []")},
			msg:    "link ns1/orders-to-logs: spec.access.search.names: must list one or more non-empty index names or patterns, such as logs-*",
		},
		"CertificateWithAccess": {
			reason: "The certificate model has no access to grant.",
			req:    linkRequest{xr: edit(t, xrFlow1, "securityModel: APIKey", "securityModel: Certificate")},
			msg:    "link ns1/orders-to-logs: spec.access: is not allowed with securityModel Certificate, which grants what the remote's roles allow; remove spec.access or use securityModel APIKey",
		},
		"ECKKeyWithExpiration": {
			reason: "Flow 3 fields with ECK key management name the field.",
			req:    linkRequest{xr: edit(t, xrFlow1, "securityModel: APIKey", "securityModel: APIKey\n  keyManagement: ECK\n  expiration: 30d")},
			msg:    "link ns1/orders-to-logs: spec.expiration: needs keyManagement Provider: ECK cannot expire, rotate or bind keys; change spec.keyManagement to Provider or remove spec.expiration",
		},
		"RotateBeforeLongerThanExpiration": {
			reason: "rotateBefore not shorter than expiration would rotate continuously; it names spec.rotateBefore.",
			req:    linkRequest{xr: edit(t, xrFlow1, "securityModel: APIKey", "securityModel: APIKey\n  keyManagement: Provider\n  expiration: 1d\n  rotateBefore: 2d")},
			msg:    "link ns1/orders-to-logs: spec.rotateBefore: 2d must be shorter than spec.expiration 1d: the key would be due for replacement as soon as it is created",
		},
		"ExpirationBelowMinimum": {
			reason: "A key must serve at least the platform's minimum lifetime (1d by default), so rotations stay rare.",
			req:    linkRequest{xr: edit(t, xrFlow1, "securityModel: APIKey", "securityModel: APIKey\n  keyManagement: Provider\n  expiration: 12h")},
			msg:    "link ns1/orders-to-logs: spec.expiration: 12h is shorter than the minimum key lifetime 24h0m0s that the platform (the default) sets: lengthen it",
		},
		"RotationMoreOftenThanInputMinimum": {
			reason: "The function input sets the minimum key lifetime; a rotation interval below it names both fields.",
			req: linkRequest{
				xr:    edit(t, xrFlow1, "securityModel: APIKey", "securityModel: APIKey\n  keyManagement: Provider\n  expiration: 2h\n  rotateBefore: 90m"),
				input: "apiVersion: fn.eslink.io/v1beta1\nkind: Input\nminimumKeyLifetime: 1h\n",
			},
			msg: "link ns1/orders-to-logs: spec.rotateBefore: spec.expiration 2h minus spec.rotateBefore 90m leaves 30m0s between rotations, less than the minimum key lifetime 1h0m0s that the platform (function input minimumKeyLifetime) sets: lengthen spec.expiration or shorten spec.rotateBefore",
		},
		"DefaultECKKeyWithCertificateIdentity": {
			reason: "ECK is the default key management for ECK remotes, so certificateIdentity asks for keyManagement Provider.",
			req:    linkRequest{xr: edit(t, xrFlow1, "securityModel: APIKey", "securityModel: APIKey\n  certificateIdentity: {pattern: '^CN=x$'}")},
			msg:    "link ns1/orders-to-logs: spec.certificateIdentity: needs keyManagement Provider: ECK cannot expire, rotate or bind keys; set spec.keyManagement: Provider or remove spec.certificateIdentity",
		},
		"ExternalRemoteWithECKKeys": {
			reason: "ECK cannot manage keys on a remote outside ECK.",
			req: linkRequest{xr: edit(t, xrFlow1, "remote: {elasticsearchRef: {name: cluster2, namespace: ns2}}",
				"remote: {external: {address: 'es.example.com:9443', caSecretRef: {name: ext-ca}, providerConfigRef: {kind: ProviderConfig, name: ext}}}\n  keyManagement: ECK")},
			msg: "link ns1/orders-to-logs: spec.keyManagement: ECK can only manage keys on an ECK remote; use keyManagement Provider with spec.remote.external",
		},
		"BothRemotes": {
			reason: "A remote is either ECK's or external.",
			req: linkRequest{xr: edit(t, xrFlow1, "remote: {elasticsearchRef: {name: cluster2, namespace: ns2}}",
				"remote: {elasticsearchRef: {name: cluster2}, external: {address: 'es.example.com:9443', providerConfigRef: {kind: ProviderConfig, name: ext}}}")},
			msg: "link ns1/orders-to-logs: spec.remote: set exactly one of remote.elasticsearchRef (an ECK cluster) or remote.external (a cluster outside ECK), not both",
		},
		"LegacyXRWithoutClaim": {
			reason: "A cluster-scoped XR needs the claim's namespace.",
			req:    linkRequest{xr: edit(t, xrFlow1, "metadata: {name: orders-to-logs, namespace: ns1}", "metadata: {name: orders-to-logs}")},
			msg:    "link orders-to-logs: spec.claimRef.namespace: cluster-scoped XRemoteClusterLink orders-to-logs has no claim: create a RemoteClusterLink claim in the team's namespace, or an XRemoteClusterLink in that namespace",
		},
		"LocalNotFound": {
			reason: "A resolved but missing local cluster names spec.local.elasticsearchRef.",
			req: linkRequest{xr: xrFlow1, required: map[string]*fnv1.Resources{
				requiredLocal: required(), requiredRemote: required(obj(t, cluster2)),
			}},
			requirements: flow1Requirements(),
			msg:          "link ns1/orders-to-logs: spec.local.elasticsearchRef: Elasticsearch ns1/cluster1 not found: create it, or correct the reference",
		},
		"RemoteNotAllowed": {
			reason:       "A remote that does not grant the link's namespace denies it.",
			req:          linkRequest{xr: xrFlow1, required: withClusters(t, cluster1, edit(t, cluster2, "eslink.io/allowed-namespaces: ns1", "eslink.io/allowed-namespaces: ns3"))},
			requirements: flow1Requirements(),
			msg:          "link ns1/orders-to-logs: spec.remote.elasticsearchRef: namespace ns1 is not allowed to link ns2/cluster2 as remote cluster: the platform team must add ns1 to annotation eslink.io/allowed-namespaces on Elasticsearch ns2/cluster2",
		},
		"IndexPatternNotAllowed": {
			reason:       "A remote restricting index patterns denies a wider pattern, naming spec.access.",
			req:          linkRequest{xr: xrFlow1, required: withClusters(t, cluster1, restricted("eslink.io/allowed-index-patterns: 'metrics-*'"))},
			requirements: flow1Requirements(),
			msg:          "link ns1/orders-to-logs: spec.access.search.names[0]: index pattern \"logs-*\" is outside what remote ns2/cluster2 grants (eslink.io/allowed-index-patterns: [metrics-*]): request a name or pattern within one of them, or ask the platform team to grant a pattern that covers it",
		},
		"CertificateModelNotGranted": {
			reason: "The certificate model needs certificate in the remote's allowed-access, even where the remote restricts index patterns.",
			req: linkRequest{xr: certLink, required: map[string]*fnv1.Resources{
				requiredLocal: required(obj(t, cluster1)), requiredRemote: required(obj(t, restricted("eslink.io/allowed-index-patterns: 'logs-*', eslink.io/allowed-access: search"))),
				requiredLocalProviderConfig: localConfig(t),
			}},
			requirements: clusterRequirements(),
			msg:          "link ns1/orders-to-logs: spec.securityModel: the certificate security model is not allowed on remote ns2/cluster2: it gives the local cluster's roles their full rights there, past any index restriction, so a remote allows it only with certificate in annotation eslink.io/allowed-access (which allows [search]); use the API key model, or ask the platform team to add certificate to eslink.io/allowed-access on Elasticsearch ns2/cluster2",
		},
		"RegexName": {
			reason:       "A regular expression is never compared with the granted patterns: it needs a verbatim grant.",
			req:          linkRequest{xr: searching(`['/.*logs.*|.*/']`), required: withClusters(t, cluster1, restricted("eslink.io/allowed-index-patterns: '*logs*'"))},
			requirements: flow1Requirements(),
			msg:          `link ns1/orders-to-logs: spec.access.search.names[0]: index name "/.*logs.*|.*/" is a regular expression, which Elasticsearch matches against every index name, and remote ns2/cluster2 does not grant it: use wildcard patterns such as logs-*, or ask the platform team to add it verbatim to annotation eslink.io/allowed-index-regexes (a JSON array) on Elasticsearch ns2/cluster2`,
		},
		"SingleCharacterWildcard": {
			reason:       "? needs its own grant, even within a granted pattern.",
			req:          linkRequest{xr: searching(`['logs-?']`), required: withClusters(t, cluster1, restricted("eslink.io/allowed-index-patterns: 'logs-*'"))},
			requirements: flow1Requirements(),
			msg:          `link ns1/orders-to-logs: spec.access.search.names[0]: index pattern "logs-?" uses the single-character wildcard ?, which remote ns2/cluster2 does not allow: use * or literal names, or ask the platform team to set annotation eslink.io/allow-single-character-wildcards: "true" on Elasticsearch ns2/cluster2`,
		},
		"RestrictedIndices": {
			reason: "allowRestrictedIndices needs its own grant: restricted indices hold credentials.",
			req: linkRequest{xr: edit(t, xrFlow1, "search: {names: [logs-*]}", "search: {names: ['.security*'], allowRestrictedIndices: true}"),
				required: flow1Required(t)},
			requirements: flow1Requirements(),
			msg:          `link ns1/orders-to-logs: spec.access.search.allowRestrictedIndices: true lets the patterns match restricted indices such as .security, where Elasticsearch keeps credentials, and remote ns2/cluster2 does not allow it: remove it, or ask the platform team to set annotation eslink.io/allow-restricted-indices: "true" on Elasticsearch ns2/cluster2`,
		},
		"ProviderConfigNotAllowed": {
			reason:       "A link may name only a ClusterProviderConfig that allows its namespace.",
			req:          linkRequest{xr: namingConfig("admin"), required: withConfig("admin", adminConfig)},
			requirements: configRequirements("admin"),
			msg:          "link ns1/orders-to-logs: spec.remote.providerConfigRef: ClusterProviderConfig admin does not allow namespace ns1: a provider config is a credential, usable only from the namespaces in its spec.allowedNamespaces; ask the platform team to add ns1 to spec.allowedNamespaces of ClusterProviderConfig admin, or use a provider config that allows it",
		},
		"ProviderConfigNotFound": {
			reason:       "A provider config the link names must exist.",
			req:          linkRequest{xr: namingConfig("nope"), required: withConfig("nope", "")},
			requirements: configRequirements("nope"),
			msg:          "link ns1/orders-to-logs: spec.remote.providerConfigRef: ClusterProviderConfig nope not found: name an existing provider config",
		},
		"DefaultProviderConfigNotAllowed": {
			reason:       "The Composition's default config is subject to the same rule, and the message says it is the default.",
			req:          linkRequest{xr: xrFlow1, required: withConfig("eck", edit(t, eckConfig, `allowedNamespaces: ["*"]`, "allowedNamespaces: [team-a]"))},
			requirements: flow1Requirements(),
			msg:          "link ns1/orders-to-logs: spec.remote.providerConfigRef: the link names no provider config, and the Composition's default ClusterProviderConfig eck does not allow namespace ns1: a provider config is a credential, usable only from the namespaces in its spec.allowedNamespaces; ask the platform team to add ns1 to spec.allowedNamespaces of ClusterProviderConfig eck, or use a provider config that allows it",
		},
		"LocalProviderConfigNotAllowed": {
			reason: "The config that reaches the local cluster's REST API (connectivity in every flow) must allow the link's namespace too; the link cannot choose it, so the message names the Composition's input.",
			req: linkRequest{xr: xrFlow1, required: func() map[string]*fnv1.Resources {
				r := flow1Required(t)
				r[requiredLocalProviderConfig] = required(obj(t, edit(t, eckConfig, `allowedNamespaces: ["*"]`, "allowedNamespaces: [team-a]")))
				return r
			}()},
			requirements: flow1Requirements(),
			msg:          "link ns1/orders-to-logs: spec.local.elasticsearchRef: the Composition reaches the local cluster's Elasticsearch API through ClusterProviderConfig eck (function input localProviderConfigRef), which does not allow namespace ns1: a provider config is a credential, usable only from the namespaces in its spec.allowedNamespaces; ask the platform team to add ns1 to spec.allowedNamespaces of ClusterProviderConfig eck",
		},
		"RemoteTooOld": {
			reason:       "Below 8.10 ECK rejects API-key remote clusters; the message says which minimum applies.",
			req:          linkRequest{xr: xrFlow1, required: withClusters(t, cluster1, cluster2Old)},
			requirements: flow1Requirements(),
			msg:          "link ns1/orders-to-logs: spec.remote.elasticsearchRef: Elasticsearch ns2/cluster2 runs 8.9.0, below 8.10, the minimum ECK and Elasticsearch enforce for API-key remote clusters (the Elastic documentation says 8.14): upgrade it or use securityModel Certificate",
		},
		"CertificateIdentityNeeds93": {
			reason:       "certificateIdentity needs 9.3 on the remote.",
			req:          linkRequest{xr: providerLink, required: withClusters(t, cluster1, cluster2Pre93)},
			requirements: flow1Requirements(),
			msg:          "link ns1/orders-to-logs: spec.certificateIdentity: needs Elasticsearch 9.3 or later on both clusters, and ns2/cluster2 (the remote, which checks them) runs 9.2.0: remove spec.certificateIdentity or upgrade it",
		},
		"ExternalRemoteWithoutCA": {
			reason: "An external remote needs the CA of its remote cluster server: the local cluster trusts only the CAs it is given.",
			req: linkRequest{xr: edit(t, xrFlow1, "remote: {elasticsearchRef: {name: cluster2, namespace: ns2}}",
				"remote: {external: {address: 'es.example.com:9443', providerConfigRef: {kind: ProviderConfig, name: ext}}}")},
			msg: "link ns1/orders-to-logs: spec.remote.external.caSecretRef.name: is required: name a Secret in namespace ns1 holding the CA that signed the remote cluster server's certificate (key ca.crt by default)",
		},
		"ExternalCANotGranted": {
			reason: "A team's own CA is trusted for every remote cluster connection of the local cluster, so a grant as local cluster is not enough.",
			req: linkRequest{
				xr: edit(t, edit(t, xrFlow1, "remote: {elasticsearchRef: {name: cluster2, namespace: ns2}}",
					"remote: {external: {address: 'es.example.com:9443', caSecretRef: {name: ext-ca}, providerConfigRef: {kind: ProviderConfig, name: ext}}}"),
					"metadata: {name: orders-to-logs, namespace: ns1}\nspec:\n  alias: logs\n  local: {elasticsearchRef: {name: cluster1}}",
					"metadata: {name: orders-to-logs, namespace: team-a}\nspec:\n  alias: logs\n  local: {elasticsearchRef: {name: cluster1, namespace: ns1}}"),
				required: map[string]*fnv1.Resources{requiredLocal: required(obj(t, edit(t, cluster1, "metadata: {name: cluster1, namespace: ns1}",
					"metadata: {name: cluster1, namespace: ns1, annotations: {eslink.io/allowed-namespaces: team-a}}"))),
					requiredLocalProviderConfig: localConfig(t)},
			},
			requirements: &fnv1.Requirements{Resources: map[string]*fnv1.ResourceSelector{requiredLocal: esSelector("cluster1", "ns1"), requiredLocalProviderConfig: configSelector("eck")}},
			msg:          "link team-a/orders-to-logs: spec.remote.external.caSecretRef: namespace team-a may not add a CA to the remote cluster trust of ns1/cluster1: that trust is shared by every remote cluster connection of the cluster, so the platform team must add team-a to annotation eslink.io/allowed-external-ca-namespaces on Elasticsearch ns1/cluster1",
		},
		"CertificateIdentityNeeds93OnLocal": {
			reason: "The local cluster signs the requests a bound key needs, which 9.3 introduced.",
			req: linkRequest{xr: xrFlow3 + "  certificateIdentity: {}\n", required: map[string]*fnv1.Resources{
				requiredLocal:  required(obj(t, edit(t, edit(t, cluster1, "spec: {version: 9.3.2}", "spec: {version: 9.2.0}"), "status: {version: 9.3.2}", "status: {version: 9.2.0}"))),
				requiredRemote: required(obj(t, cluster2)), requiredProviderConfig: required(obj(t, eckConfig)), requiredLocalProviderConfig: localConfig(t),
			}},
			requirements: flow1Requirements(),
			msg:          "link ns1/orders-to-logs: spec.certificateIdentity: needs Elasticsearch 9.3 or later on both clusters, and ns1/cluster1 (the local cluster, which signs its requests) runs 9.2.0: remove spec.certificateIdentity or upgrade it",
		},
		"OwnClusterCAInRemoteSigningTrust": {
			reason: "A bound key makes the remote trust the local cluster's transport CA, whose key whoever reads the Secrets of the local cluster's namespace holds: the remote must grant that like any CA of the team's own.",
			req: linkRequest{xr: xrFlow3 + "  certificateIdentity: {}\n", required: map[string]*fnv1.Resources{
				requiredLocal:  required(obj(t, cluster1)),
				requiredRemote: required(obj(t, edit(t, cluster2, ", eslink.io/allowed-external-ca-namespaces: ns1", ""))), requiredProviderConfig: required(obj(t, eckConfig)), requiredLocalProviderConfig: localConfig(t),
			}},
			requirements: flow1Requirements(),
			msg:          "link ns1/orders-to-logs: spec.local.elasticsearchRef: namespace ns1 may not add the CA of Elasticsearch ns1/cluster1 to the remote cluster trust of ns2/cluster2: whoever can read the Secrets of namespace ns1 can issue certificates with that CA, and the trust is shared by every remote cluster connection of the cluster, so the platform team must add ns1 to annotation eslink.io/allowed-external-ca-namespaces on Elasticsearch ns2/cluster2",
		},
		"AliasConfiguredByECK": {
			reason: "A flow 3 alias ECK configures (its managed-remote-clusters annotation) would get ECK's seeds next to eslink's proxy settings.",
			req: linkRequest{xr: xrFlow3, required: map[string]*fnv1.Resources{
				requiredLocal: required(obj(t, edit(t, cluster1, "metadata: {name: cluster1, namespace: ns1}",
					`metadata: {name: cluster1, namespace: ns1, annotations: {elasticsearch.k8s.elastic.co/managed-remote-clusters: "logs"}}`))),
				requiredRemote: required(obj(t, cluster2)), requiredProviderConfig: required(obj(t, eckConfig)), requiredLocalProviderConfig: localConfig(t),
			}},
			requirements: flow1Requirements(),
			msg:          "link ns1/orders-to-logs: spec.alias: alias \"logs\" is configured by ECK on Elasticsearch ns1/cluster1 (annotation elasticsearch.k8s.elastic.co/managed-remote-clusters): choose another spec.alias",
		},
		"AliasOwnedByAnotherFlow3Link": {
			reason: "An alias whose proxy settings another link owns is taken, for flow 1 as for flow 3.",
			req: linkRequest{xr: xrFlow1, required: map[string]*fnv1.Resources{
				requiredLocal: required(obj(t, edit(t, cluster1, "metadata: {name: cluster1, namespace: ns1}",
					`metadata: {name: cluster1, namespace: ns1, annotations: {eslink.io/remote-cluster-settings-owners: '{"logs":"uid-other"}'}}`))),
				requiredRemote: required(obj(t, cluster2)), requiredProviderConfig: required(obj(t, eckConfig)), requiredLocalProviderConfig: localConfig(t),
			}},
			requirements: flow1Requirements(),
			msg:          "link ns1/orders-to-logs: spec.alias: alias \"logs\" is already used on Elasticsearch ns1/cluster1 by another resource: choose another spec.alias",
		},
		"AliasOwnedByAnotherNamespace": {
			reason: "An alias another namespace's link owns (any of its pieces claimed it) is taken, and the message does not say which link owns it.",
			req: linkRequest{xr: xrFlow3, required: map[string]*fnv1.Resources{
				requiredLocal: required(obj(t, edit(t, cluster1, "metadata: {name: cluster1, namespace: ns1}",
					`metadata: {name: cluster1, namespace: ns1, annotations: {eslink.io/alias-owners: '{"logs":"team-b/secret-link"}'}}`))),
				requiredRemote: required(obj(t, cluster2)), requiredProviderConfig: required(obj(t, eckConfig)), requiredLocalProviderConfig: localConfig(t),
			}},
			requirements: flow1Requirements(),
			msg:          "link ns1/orders-to-logs: spec.alias: alias \"logs\" is already used on Elasticsearch ns1/cluster1 by a link in another namespace: choose another spec.alias",
		},
		"AliasOwnedByAnotherLinkOfTheNamespace": {
			reason: "An alias another link of the same namespace owns is taken, and the message names that link.",
			req: linkRequest{xr: xrFlow1, required: withClusters(t, edit(t, cluster1, "metadata: {name: cluster1, namespace: ns1}",
				`metadata: {name: cluster1, namespace: ns1, annotations: {eslink.io/alias-owners: '{"logs":"ns1/older-link"}'}}`), cluster2)},
			requirements: flow1Requirements(),
			msg:          "link ns1/orders-to-logs: spec.alias: alias \"logs\" is already used on Elasticsearch ns1/cluster1 by link ns1/older-link (label crossplane.io/composite=older-link): choose another spec.alias",
		},
		"AliasUsedByHandWrittenEntry": {
			reason:       "An entry on the local cluster that eslink does not own keeps its alias.",
			req:          linkRequest{xr: xrFlow1, required: withClusters(t, edit(t, cluster1, "spec: {version: 9.3.2}", "spec: {version: 9.3.2, remoteClusters: [{name: logs, elasticsearchRef: {name: other}}]}"), cluster2)},
			requirements: flow1Requirements(),
			msg:          "link ns1/orders-to-logs: spec.alias: alias \"logs\" is already used on Elasticsearch ns1/cluster1 by a hand-written spec.remoteClusters entry: choose another spec.alias, or have the cluster's owner remove that entry",
		},
		"AliasUsedByAnotherLink": {
			reason: "An alias owned by another link's RemoteClusterEntry is taken, even when this link already has an entry.",
			req: linkRequest{xr: xrFlow1,
				required: withClusters(t, edit(t, edit(t, cluster1, "spec: {version: 9.3.2}", "spec: {version: 9.3.2, remoteClusters: [{name: logs, elasticsearchRef: {name: cluster2, namespace: ns2}}]}"),
					"metadata: {name: cluster1, namespace: ns1}", `metadata: {name: cluster1, namespace: ns1, annotations: {eslink.io/remote-cluster-owners: '{"logs":"uid-other"}'}}`), cluster2),
				observed: map[string]string{"remote-cluster-entry": observedReady("RemoteClusterEntry", "e", `{present: false}`)},
			},
			requirements: flow1Requirements(),
			msg:          "link ns1/orders-to-logs: spec.alias: alias \"logs\" is already used on Elasticsearch ns1/cluster1 by another resource: choose another spec.alias",
		},
		"NoOperatorLicense": {
			reason:       "With the operator namespace configured, flow 1 needs an enterprise or trial license there.",
			req:          linkRequest{xr: xrFlow1, input: licenseInput, required: withLicenses()},
			requirements: licenseRequirements(),
			msg:          "link ns1/orders-to-logs: spec.keyManagement: the ECKAPIKey flow relies on ECK, and ECK in namespace elastic-system has no valid enterprise or trial operator license (no Secret labelled license.k8s.elastic.co/scope=operator found): without one ECK silently ignores spec.remoteClusters; ask the platform team to install a license, or use keyManagement Provider",
		},
		"BasicAndExpiredLicenses": {
			reason: "Basic and expired licenses do not count, and the message says why for each.",
			req: linkRequest{xr: xrFlow1, input: licenseInput, required: withLicenses(
				licenseSecret("basic", testNow.Add(-time.Hour), testNow.Add(time.Hour)),
				licenseSecret("enterprise", testNow.Add(-48*time.Hour), testNow.Add(-24*time.Hour)),
			)},
			requirements: licenseRequirements(),
			msg:          "link ns1/orders-to-logs: spec.keyManagement: the ECKAPIKey flow relies on ECK, and ECK in namespace elastic-system has no valid enterprise or trial operator license (Secret elastic-system/eck-license: license type \"basic\" does not enable enterprise features (need enterprise or trial); Secret elastic-system/eck-license: license expired at 2026-05-31T00:00:00Z): without one ECK silently ignores spec.remoteClusters; ask the platform team to install a license, or use keyManagement Provider",
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			f := New(WithClock(func() time.Time { return testNow }))
			rsp, err := f.RunFunction(context.Background(), tc.req.build(t))
			if err != nil {
				t.Fatalf("%s\nRunFunction returned an error: %v", tc.reason, err)
			}
			want := &fnv1.RunFunctionResponse{Meta: meta(), Requirements: tc.requirements, Results: fatal(tc.msg)}
			if diff := cmp.Diff(want, rsp, protocmp.Transform()); diff != "" {
				t.Errorf("%s\nRunFunction(...): -want, +got:\n%s", tc.reason, diff)
			}
		})
	}
}
