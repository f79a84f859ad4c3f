package linkrules

import (
	"encoding/json"
	"fmt"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// AnnotationAliasOwners records, on a local cluster's Elasticsearch object,
// the one link that owns each remote cluster alias eslink wires there, as
// a JSON object of alias to owner (see AliasOwner): {"logs":"team-a/orders"}.
// Every piece that touches an alias (the spec.remoteClusters entry, the
// credentials, the connection settings, the signing settings) claims the
// alias under its link's owner and acts only while the record names that
// owner, so no team can split an alias with another. Only the provider
// and the platform team write the object's annotations.
const AnnotationAliasOwners = "eslink.io/alias-owners"

// LabelComposite is the label Crossplane puts on every composed resource:
// the name of its composite resource, the link.
const LabelComposite = "crossplane.io/composite"

// uidOwnerPrefix marks an owner that is a single resource outside a link.
// A label value never holds ':', so no label can forge one.
const uidOwnerPrefix = "uid:"

// AliasOwner is the owner under which a managed resource in namespace ns
// claims an alias: ns/<link> for a piece of a link (its LabelComposite), so
// that the pieces of one link share the alias; ns/uid:<uid> for a resource
// outside a link, which shares it with nothing. The namespace is where the
// resource lives, which no label or field can change: whatever a team
// writes, its resources can only ever equal an owner of its own namespace.
func AliasOwner(ns string, labels map[string]string, uid string) string {
	if link := labels[LabelComposite]; link != "" {
		return ns + "/" + link
	}
	return ns + "/" + uidOwnerPrefix + uid
}

// AliasOwners returns the alias owners recorded on es.
func AliasOwners(es *unstructured.Unstructured) (map[string]string, error) {
	owners := map[string]string{}
	raw, ok := es.GetAnnotations()[AnnotationAliasOwners]
	if !ok || strings.TrimSpace(raw) == "" {
		return owners, nil
	}
	if err := json.Unmarshal([]byte(raw), &owners); err != nil {
		return nil, fmt.Errorf("annotation %s on Elasticsearch %s/%s is not a JSON object of remote cluster alias to owner: the platform team must repair or remove it",
			AnnotationAliasOwners, es.GetNamespace(), es.GetName())
	}
	return owners, nil
}

// DescribeAliasOwner names owner to a resource in namespace ns: the link
// (or resource) when it is in ns, since the team can see it there; only
// "a link in another namespace" otherwise, so that no team learns what
// another one runs.
func DescribeAliasOwner(owner, ns string) string {
	ons, name, _ := strings.Cut(owner, "/")
	switch {
	case ons != ns:
		return "a link in another namespace"
	case strings.HasPrefix(name, uidOwnerPrefix):
		return "another resource of namespace " + ns + " that is not part of a link (no label " + LabelComposite + ")"
	default:
		return "link " + ns + "/" + name + " (label " + LabelComposite + "=" + name + ")"
	}
}
