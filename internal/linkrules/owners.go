package linkrules

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
