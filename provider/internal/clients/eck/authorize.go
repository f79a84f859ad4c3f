package eck

import (
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	commonv1alpha1 "github.com/eslink/eslink/apis/common/v1alpha1"
	"github.com/eslink/eslink/internal/linkrules"
)

// Authorize returns an *linkrules.DeniedError when a managed resource in
// namespace ns may not use es in role, or may not request access from it.
// It decides from the object as read, so a Mutate that authorizes inside its
// MutateFn sees a grant revoked between observe and write.
func Authorize(ns string, es *unstructured.Unstructured, role linkrules.Role, access *commonv1alpha1.LinkAccess) error {
	return linkrules.Authorize(ns, linkrules.Target{
		Namespace:   es.GetNamespace(),
		Name:        es.GetName(),
		Annotations: es.GetAnnotations(),
	}, role, access)
}
