// Package eckschema is the one place that knows ECK's Elasticsearch object
// and the names ECK derives from a cluster's: its GVK and versions, the
// remoteClusters, remoteClusterServer, nodeSets and secureSettings parts
// eslink reads and writes, ECK's own annotations and labels, the Secrets and
// Services ECK creates (<name>-es-http, <name>-es-elastic-user,
// <name>-es-transport-certs-public, <name>-es-remote-cluster, ...) and the
// keys it names (eck-<ns>-<name>-<alias>), each with the ECK v3.5.0 source
// it was read from. It also holds the annotations by which eslink records,
// on that object, what it owns there.
//
// ECK's Go types are under the Elastic License, so the schema is
// re-expressed over unstructured objects, which also keeps every field
// eslink does not know. The function and the provider both derive ECK's
// names here, so that the two can never disagree; no other production
// package spells one (test/layering checks it). Test stand-ins keep their
// own reading of ECK, as independent witnesses.
package eckschema
