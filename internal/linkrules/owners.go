package linkrules

import (
	"slices"
	"strings"
)

// Annotations the provider keeps on the ECK Elasticsearch objects it patches.
// They record ownership so that each managed resource changes only its own
// entry and hand-written entries are never touched.
const (
	// AnnotationRemoteClusterOwners maps each remoteClusters entry name
	// (alias) that eslink wrote to the uid of the RemoteClusterEntry that owns
	// it, as a JSON object: {"logs":"<uid>"}.
	AnnotationRemoteClusterOwners = "eslink.io/remote-cluster-owners"

	// AnnotationRemoteClusterServerClaims lists the uids of the
	// RemoteClusterServer resources that need the remote cluster server, as a
	// JSON object of uid to "<namespace>/<name>".
	AnnotationRemoteClusterServerClaims = "eslink.io/remote-cluster-server-claims"
)

// AnnotationRemoteClusterServerEnabledBy records, with the value
// RemoteClusterServerEnabledByEslink, that eslink turned the remote
// cluster server on, in the same update. eslink turns a server off only
// when this says it turned it on: one enabled by someone else stays on.
const AnnotationRemoteClusterServerEnabledBy = "eslink.io/remote-cluster-server-enabled-by"

// RemoteClusterServerEnabledByEslink is the value of
// AnnotationRemoteClusterServerEnabledBy.
const RemoteClusterServerEnabledByEslink = "eslink"

// AnnotationKeyNamespaces lists, comma separated and sorted, the
// namespaces for whose resources the provider created cross-cluster API
// keys on the cluster, each recorded before the namespace's first key. It
// is the proof that lets a deletion invalidate a resource's keys after the
// grant was revoked, kept where a team cannot write: a record in the
// resource's own status could be forged to reach a cluster that never
// granted the namespace, or cleared to leave its keys valid. A namespace's
// share is one entry, whatever the number of its keys.
const AnnotationKeyNamespaces = "eslink.io/key-namespaces"

// KeyNamespaceRecorded reports whether annotations record namespace ns in
// AnnotationKeyNamespaces.
func KeyNamespaceRecorded(annotations map[string]string, ns string) bool {
	return slices.Contains(splitList(annotations[AnnotationKeyNamespaces]), ns)
}

// WithKeyNamespace returns the AnnotationKeyNamespaces value that records
// ns too.
func WithKeyNamespace(value, ns string) string {
	list := splitList(value)
	if !slices.Contains(list, ns) {
		list = append(list, ns)
	}
	slices.Sort(list)
	return strings.Join(list, ",")
}
