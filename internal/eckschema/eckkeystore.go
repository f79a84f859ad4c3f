package eckschema

import (
	"encoding/json"
	"fmt"
)

// ECK keeps the cross-cluster API keys it created for a local (client)
// cluster in one Secret per cluster, <cluster>-es-remote-api-keys in the
// cluster's namespace (pkg/controller/remotecluster/keystore/keystore.go).
// Its annotation says which key id each alias uses, so a change to it is
// the moment ECK created or replaced a key.
const (
	// LabelECKType is ECK's type label; the keystore Secret has
	// ECKTypeRemoteAPIKeys.
	LabelECKType         = "common.k8s.elastic.co/type"
	ECKTypeRemoteAPIKeys = "remote-cluster-api-keys"
	// LabelECKClusterName names the Elasticsearch object a Secret belongs to.
	LabelECKClusterName = "elasticsearch.k8s.elastic.co/cluster-name"
	// AnnotationECKRemoteAPIKeys maps each alias to the remote cluster and
	// key id, as JSON: {"<alias>":{"namespace":..,"name":..,"id":..}}.
	AnnotationECKRemoteAPIKeys = "elasticsearch.k8s.elastic.co/remote-cluster-api-keys"
	// ECKRemoteAPIKeysSecretSuffix follows the cluster's name in the
	// Secret's name.
	ECKRemoteAPIKeysSecretSuffix = "-es-remote-api-keys"
)

// ECKRemoteAPIKey is one alias's record in AnnotationECKRemoteAPIKeys.
type ECKRemoteAPIKey struct {
	// Namespace and Name of the remote Elasticsearch object.
	Namespace string `json:"namespace"`
	Name      string `json:"name"`
	// ID of the cross-cluster API key on the remote.
	ID string `json:"id"`
}

// ECKRemoteAPIKeys parses AnnotationECKRemoteAPIKeys from a keystore
// Secret's annotations; a missing annotation is no keys.
func ECKRemoteAPIKeys(annotations map[string]string) (map[string]ECKRemoteAPIKey, error) {
	out := map[string]ECKRemoteAPIKey{}
	raw, ok := annotations[AnnotationECKRemoteAPIKeys]
	if !ok || raw == "" {
		return out, nil
	}
	if err := json.Unmarshal([]byte(raw), &out); err != nil {
		return nil, fmt.Errorf("annotation %s is not a JSON object of alias to remote cluster and key id: %w", AnnotationECKRemoteAPIKeys, err)
	}
	return out, nil
}

// ECKKeyName is the name ECK gives the cross-cluster API key it creates for
// the remoteClusters entry alias of the local cluster namespace/name
// (pkg/controller/remotecluster/apikey.go).
func ECKKeyName(namespace, name, alias string) string {
	return fmt.Sprintf("eck-%s-%s-%s", namespace, name, alias)
}
