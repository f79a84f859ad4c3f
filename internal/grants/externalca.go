package grants

import "github.com/eslink/eslink/internal/eckschema"

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
	if ns == target.Namespace || NamespaceListed(eckschema.SplitList(target.Annotations[AnnotationAllowedExternalCANamespaces]), ns) {
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
