package eck

import (
	"encoding/json"
	"fmt"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/eslink/eslink/internal/eckschema"
)

// An OwnerRecord is an annotation on an ECK object that maps keys (such as
// aliases) eslink configured somewhere other than a list of the object, to
// the uid of the managed resource that owns each: the alias's settings in
// the cluster's REST API, or its signing settings in the nodeSets' config.
type OwnerRecord struct {
	Annotation string
	// What names a key in messages, e.g. "remote cluster alias".
	What string
}

// Owners returns the recorded owners by key.
func (r OwnerRecord) Owners(obj *unstructured.Unstructured) (map[string]string, error) {
	owners := map[string]string{}
	raw, ok := obj.GetAnnotations()[r.Annotation]
	if !ok || strings.TrimSpace(raw) == "" {
		return owners, nil
	}
	if err := json.Unmarshal([]byte(raw), &owners); err != nil {
		return nil, fmt.Errorf("annotation %s on Elasticsearch %s is not a JSON object of %s to owner uid: repair or remove it by hand", r.Annotation, objectName(obj), r.What)
	}
	return owners, nil
}

// Claim records uid as the owner of key. It refuses with a *ConflictError
// when another owner holds it, and reports whether obj changed.
func (r OwnerRecord) Claim(obj *unstructured.Unstructured, key, uid string) (bool, error) {
	if uid == "" {
		return false, fmt.Errorf("cannot own %s %q on Elasticsearch %s without an owner uid", r.What, key, objectName(obj))
	}
	owners, err := r.Owners(obj)
	if err != nil {
		return false, err
	}
	switch owner, ok := owners[key]; {
	case ok && owner == uid:
		return false, nil
	case ok:
		return false, &ConflictError{What: r.What, Key: key, Object: objectName(obj), OtherOwner: owner}
	}
	owners[key] = uid
	return true, r.write(obj, owners)
}

// Release removes every key uid owns, and reports whether obj changed.
func (r OwnerRecord) Release(obj *unstructured.Unstructured, uid string) (bool, error) {
	owners, err := r.Owners(obj)
	if err != nil {
		return false, err
	}
	changed := false
	for k, o := range owners {
		if o == uid {
			delete(owners, k)
			changed = true
		}
	}
	if !changed {
		return false, nil
	}
	return true, r.write(obj, owners)
}

// Owns reports whether uid owns key.
func (r OwnerRecord) Owns(obj *unstructured.Unstructured, key, uid string) (bool, error) {
	owners, err := r.Owners(obj)
	if err != nil {
		return false, err
	}
	return owners[key] == uid, nil
}

func (r OwnerRecord) write(obj *unstructured.Unstructured, owners map[string]string) error {
	annotations := obj.GetAnnotations()
	if len(owners) == 0 {
		delete(annotations, r.Annotation)
		obj.SetAnnotations(annotations)
		return nil
	}
	b, err := json.Marshal(owners) // Sorted keys: stable bytes.
	if err != nil {
		return fmt.Errorf("cannot encode annotation %s: %w", r.Annotation, err)
	}
	if annotations == nil {
		annotations = map[string]string{}
	}
	annotations[r.Annotation] = string(b)
	obj.SetAnnotations(annotations)
	return nil
}

// SettingsOwners records the aliases whose connection settings a flow 3
// RemoteClusterSettings owns on a local cluster; entries read it to refuse
// those aliases.
var SettingsOwners = OwnerRecord{Annotation: eckschema.AnnotationRemoteClusterSettingsOwners, What: "remote cluster alias"}
