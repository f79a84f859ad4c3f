package eck

import (
	"encoding/json"
	"fmt"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/eslink/eslink/internal/eckschema"
)

// ServerClaims returns the claims on es's remote cluster server: uid of each
// RemoteClusterServer to its "namespace/name".
func ServerClaims(es *unstructured.Unstructured) (map[string]string, error) {
	claims := map[string]string{}
	raw, ok := es.GetAnnotations()[eckschema.AnnotationRemoteClusterServerClaims]
	if !ok || raw == "" {
		return claims, nil
	}
	if err := json.Unmarshal([]byte(raw), &claims); err != nil {
		return nil, fmt.Errorf("annotation %s on Elasticsearch %s is not a JSON object of uid to namespace/name: repair or remove it by hand",
			eckschema.AnnotationRemoteClusterServerClaims, objectName(es))
	}
	return claims, nil
}

// ClaimServer records the claim of uid (owner is its "namespace/name") and
// enables the remote cluster server, keeping the rest of
// spec.remoteClusterServer (such as its service template). When it turns
// the server on, it records so in the same change. It reports whether es
// changed.
func ClaimServer(es *unstructured.Unstructured, uid, owner string) (bool, error) {
	claims, err := ServerClaims(es)
	if err != nil {
		return false, err
	}
	changed := false
	if claims[uid] != owner {
		claims[uid] = owner
		if err := setClaims(es, claims); err != nil {
			return false, err
		}
		changed = true
	}
	if !eckschema.RemoteClusterServerEnabled(es) {
		if err := unstructured.SetNestedField(es.Object, true, "spec", "remoteClusterServer", "enabled"); err != nil {
			return false, fmt.Errorf("cannot set spec.remoteClusterServer.enabled of Elasticsearch %s: %w", objectName(es), err)
		}
		setAnnotation(es, eckschema.AnnotationRemoteClusterServerEnabledBy, eckschema.RemoteClusterServerEnabledByEslink)
		changed = true
	}
	return changed, nil
}

// EnabledByEslink reports whether eslink turned es's remote cluster server
// on (and nobody turned it off since).
func EnabledByEslink(es *unstructured.Unstructured) bool {
	return es.GetAnnotations()[eckschema.AnnotationRemoteClusterServerEnabledBy] == eckschema.RemoteClusterServerEnabledByEslink
}

// ReleaseServer removes the claim of uid. With disable, when no other claim
// remains and eslink turned the server on, it also turns the server off,
// which restarts the cluster. A server that other claims still need, or
// that someone else turned on, is never turned off. It reports whether es
// changed.
func ReleaseServer(es *unstructured.Unstructured, uid string, disable bool) (bool, error) {
	claims, err := ServerClaims(es)
	if err != nil {
		return false, err
	}
	changed := false
	if _, ok := claims[uid]; ok {
		delete(claims, uid)
		if err := setClaims(es, claims); err != nil {
			return false, err
		}
		changed = true
	}
	if disable && len(claims) == 0 && eckschema.RemoteClusterServerEnabled(es) && EnabledByEslink(es) {
		if err := unstructured.SetNestedField(es.Object, false, "spec", "remoteClusterServer", "enabled"); err != nil {
			return false, fmt.Errorf("cannot set spec.remoteClusterServer.enabled of Elasticsearch %s: %w", objectName(es), err)
		}
		removeAnnotation(es, eckschema.AnnotationRemoteClusterServerEnabledBy)
		changed = true
	}
	return changed, nil
}

func setAnnotation(es *unstructured.Unstructured, key, value string) {
	annotations := es.GetAnnotations()
	if annotations == nil {
		annotations = map[string]string{}
	}
	annotations[key] = value
	es.SetAnnotations(annotations)
}

func removeAnnotation(es *unstructured.Unstructured, key string) {
	annotations := es.GetAnnotations()
	delete(annotations, key)
	es.SetAnnotations(annotations)
}

func setClaims(es *unstructured.Unstructured, claims map[string]string) error {
	if len(claims) == 0 {
		removeAnnotation(es, eckschema.AnnotationRemoteClusterServerClaims)
		return nil
	}
	b, err := json.Marshal(claims)
	if err != nil {
		return fmt.Errorf("cannot encode annotation %s: %w", eckschema.AnnotationRemoteClusterServerClaims, err)
	}
	setAnnotation(es, eckschema.AnnotationRemoteClusterServerClaims, string(b))
	return nil
}
