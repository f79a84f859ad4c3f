package linkrules

import (
	"fmt"
	"regexp"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// Facts about ECK and Elasticsearch that flow 3 builds on, where a link's
// local cluster is wired to a key the provider owns. Each names the ECK
// v3.5.0 source it was read from.

// Annotations the provider keeps on a local cluster's Elasticsearch object
// for flow 3, each a JSON object of key to the uid of the managed resource
// that owns it.
const (
	// AnnotationSecureSettingsOwners maps each spec.secureSettings entry
	// eslink wrote (by secretName) to its RemoteClusterCredentials.
	AnnotationSecureSettingsOwners = "eslink.io/secure-settings-owners"
	// AnnotationRemoteClusterSettingsOwners maps each alias whose
	// cluster.remote.<alias> settings eslink set through the REST API to
	// its RemoteClusterSettings.
	AnnotationRemoteClusterSettingsOwners = "eslink.io/remote-cluster-settings-owners"
	// AnnotationRemoteClusterSigningOwners maps each alias whose signing
	// settings eslink put into the nodeSets' config to its
	// RemoteClusterSigning.
	AnnotationRemoteClusterSigningOwners = "eslink.io/remote-cluster-signing-owners"
)

// Annotations ECK reads or writes on an Elasticsearch object.
const (
	// AnnotationECKManagedRemoteClusters lists, comma separated, the aliases
	// whose seeds ECK set in the cluster settings (remotecluster/annotations.go).
	AnnotationECKManagedRemoteClusters = "elasticsearch.k8s.elastic.co/managed-remote-clusters"
	// AnnotationFileBasedSecureSettings: "true" makes ECK 3.5+ deliver
	// secure settings as file-based cluster_secrets on ES 9.5+
	// (esv1.FileBasedSecureSettingsAnnotation).
	AnnotationFileBasedSecureSettings = "eck.k8s.elastic.co/file-based-secure-settings"
	// AnnotationECKClusterUUID is the cluster_uuid that ECK read from the
	// cluster's GET / once it formed (bootstrap.ClusterUUIDAnnotationName).
	AnnotationECKClusterUUID = "elasticsearch.k8s.elastic.co/cluster-uuid"
)

// FileBasedSecureSettingsVersion is the first Elasticsearch version ECK
// delivers secure settings to as file-based settings
// (esversion.FileBasedSecureSettingsMinVersion, compared with spec.version).
var FileBasedSecureSettingsVersion = Version{Major: 9, Minor: 5}

// FileBasedSecureSettings reports whether ECK delivers es's secure settings
// as file-based settings, which Elasticsearch reloads without a restart.
// ECK decides from spec.version (driver/stateful/keystore.go), so does this;
// ECK must be 3.5 or later, which the object cannot tell.
func FileBasedSecureSettings(es *unstructured.Unstructured) bool {
	if es.GetAnnotations()[AnnotationFileBasedSecureSettings] != "true" {
		return false
	}
	raw, _, _ := unstructured.NestedString(es.Object, "spec", "version")
	v, err := ParseVersion(raw)
	return err == nil && !v.Less(FileBasedSecureSettingsVersion)
}

// RemoteClusterServerHost is the Service ECK creates for a cluster's remote
// cluster server (services.RemoteClusterServerServiceHost): a SAN of the
// transport certificates once the server is enabled
// (certificates/transport/csr.go), so it is also the TLS server name.
func RemoteClusterServerHost(name, namespace string) string {
	return fmt.Sprintf("%s-es-remote-cluster.%s.svc", name, namespace)
}

// RemoteClusterServerAddress is host:port of a cluster's remote cluster
// server, the port 9443 of ECK's Service.
func RemoteClusterServerAddress(name, namespace string) string {
	return RemoteClusterServerHost(name, namespace) + ":9443"
}

// TransportCAPublicSecret is the Secret in which ECK publishes a cluster's
// transport CA, key ca.crt. The remote cluster server uses the transport
// certificates, so it is the CA a remote cluster client must trust.
func TransportCAPublicSecret(name string) string { return name + "-es-transport-certs-public" }

// TransportCAKey is the key of the CA in TransportCAPublicSecret.
const TransportCAKey = "ca.crt"

// FileSettingsSecret is the Secret in which ECK writes a cluster's
// file-based settings (esv1.FileSettingsSecretName), key settings.json.
func FileSettingsSecret(name string) string { return name + "-es-file-settings" }

// ECK mounts each node's transport certificate and key at these paths
// (settings/merged_config.go); ${POD_NAME} is resolved by Elasticsearch
// when it reads its configuration file.
const (
	TransportCertificatePath = "/usr/share/elasticsearch/config/transport-certs/${POD_NAME}.tls.crt"
	TransportKeyPath         = "/usr/share/elasticsearch/config/transport-certs/${POD_NAME}.tls.key"
)

// DefaultCertificateIdentity is a certificate_identity pattern matching the
// subject DN of every transport certificate ECK issues to es's nodes,
// CN=<pod>.node.<name>.<namespace>.es.local,OU=<name>, or with
// spec.transport.tls.otherNameSuffix, CN=<pod>.<suffix>,OU=<name>
// (certificates/transport/csr.go). Pod names are <name>-es-<nodeSet>-<n>.
func DefaultCertificateIdentity(es *unstructured.Unstructured) string {
	name, ns := es.GetName(), es.GetNamespace()
	suffix, _, _ := unstructured.NestedString(es.Object, "spec", "transport", "tls", "otherNameSuffix")
	if suffix == "" {
		suffix = fmt.Sprintf("node.%s.%s.es.local", name, ns)
	}
	return fmt.Sprintf("^CN=%s-es-[^,]+\\.%s,OU=%s$", regexp.QuoteMeta(name), regexp.QuoteMeta(suffix), regexp.QuoteMeta(name))
}

// Reconciled reports whether ECK has finished reconciling es's current
// spec: it observed this generation, and reported the Ready phase with
// ReconciliationComplete true. ECK reports ApplyingChanges until a rolling
// restart is over (elasticsearch_controller.go, reconcile/state.go), so this
// is when a change that restarts the cluster has reached every node.
func Reconciled(es *unstructured.Unstructured) (bool, string) {
	name := es.GetNamespace() + "/" + es.GetName()
	observed, _, _ := unstructured.NestedInt64(es.Object, "status", "observedGeneration")
	if observed < es.GetGeneration() {
		return false, fmt.Sprintf("ECK has not reconciled generation %d of Elasticsearch %s yet (observed %d)", es.GetGeneration(), name, observed)
	}
	phase, _, _ := unstructured.NestedString(es.Object, "status", "phase")
	if phase != "Ready" {
		if phase == "" {
			phase = "unknown"
		}
		return false, fmt.Sprintf("ECK is applying changes to Elasticsearch %s (phase %s)", name, phase)
	}
	conds, _, _ := unstructured.NestedSlice(es.Object, "status", "conditions")
	for _, c := range conds {
		m, _ := c.(map[string]any)
		if m["type"] == "ReconciliationComplete" && m["status"] != "True" {
			msg, _ := m["message"].(string)
			return false, strings.TrimSpace(fmt.Sprintf("ECK has not completed reconciling Elasticsearch %s: %s", name, msg))
		}
	}
	return true, ""
}

// AliasUsedByECK reports whether ECK configures alias on es: an entry of
// spec.remoteClusters, or an alias ECK recorded as its own.
func AliasUsedByECK(es *unstructured.Unstructured, alias string) bool {
	entries, _ := RemoteClusters(es)
	for _, e := range entries {
		if EntryName(e) == alias {
			return true
		}
	}
	for _, a := range strings.Split(es.GetAnnotations()[AnnotationECKManagedRemoteClusters], ",") {
		if strings.TrimSpace(a) == alias {
			return true
		}
	}
	return false
}

// AnnotationAllowedExternalCANamespaces lists, comma separated, the
// namespaces ("*" for all) whose links may add a CA of their own (a remote
// outside ECK) to the cluster's remote cluster trust. That trust is
// node-wide: such a CA is trusted for every remote cluster connection of
// the cluster, so it needs a grant beyond using the cluster as local. Links
// in the cluster's own namespace need none.
const AnnotationAllowedExternalCANamespaces = "eslink.io/allowed-external-ca-namespaces"

// AuthorizeExternalCA returns a *DeniedError naming field (where the
// request names its CA) when links in namespace ns may not add their own CA
// to target's remote cluster trust.
func AuthorizeExternalCA(ns string, target Target, field string) error {
	if ns == target.Namespace || NamespaceListed(splitList(target.Annotations[AnnotationAllowedExternalCANamespaces]), ns) {
		return nil
	}
	return denied(field,
		"namespace %s may not add a CA to the remote cluster trust of %s: that trust is shared by every remote cluster connection of the cluster, so the platform team must add %s to annotation %s on Elasticsearch %s",
		ns, target, ns, AnnotationAllowedExternalCANamespaces, target)
}

// AuthorizeTrustSource returns a *DeniedError naming field (where the
// request names the source cluster) when links in namespace ns may not add
// the transport CA of the ECK cluster sourceNS/sourceName to target's
// remote cluster trust. Whoever can read the Secrets of the source's
// namespace holds that CA's key and can issue certificates the trust
// accepts (for CrossClusterSigning, certificates that match any key's
// certificate_identity), so a source outside the trusting cluster's own
// namespace is a CA of its own as much as a Secret is: it needs the same
// grant. A source in the trusting cluster's namespace, the cluster itself
// included, is held by the same people and needs none.
func AuthorizeTrustSource(ns string, target Target, sourceNS, sourceName, field string) error {
	if sourceNS == target.Namespace {
		return nil
	}
	if err := AuthorizeExternalCA(ns, target, field); err != nil {
		return denied(field,
			"namespace %s may not add the CA of Elasticsearch %s/%s to the remote cluster trust of %s: whoever can read the Secrets of namespace %s can issue certificates with that CA, and the trust is shared by every remote cluster connection of the cluster, so the platform team must add %s to annotation %s on Elasticsearch %s",
			ns, sourceNS, sourceName, target, sourceNS, ns, AnnotationAllowedExternalCANamespaces, target)
	}
	return nil
}
