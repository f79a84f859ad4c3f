package eck

import (
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	commonv1alpha1 "github.com/eslink/eslink/apis/common/v1alpha1"
	"github.com/eslink/eslink/internal/linkrules"
)

// Target is es as the target of an authorization check, referenced by the
// managed resource's field (such as spec.forProvider.elasticsearchRef),
// which a denial names. The check decides from the object as read, so a
// Mutate that authorizes inside its MutateFn sees a grant revoked between
// observe and write.
func Target(es *unstructured.Unstructured, field string) linkrules.Target {
	return linkrules.Target{
		Namespace:   es.GetNamespace(),
		Name:        es.GetName(),
		Annotations: es.GetAnnotations(),
		Field:       field,
	}
}

// Authorize returns a *linkrules.DeniedError when a managed resource in
// namespace ns may not use es in role, or may not request access from it
// (checked as spec.access; a nil access checks the namespace only). Checks
// that should name the resource's own fields, and the certificate model,
// use linkrules with Target instead.
func Authorize(ns string, es *unstructured.Unstructured, role linkrules.Role, access *commonv1alpha1.LinkAccess) error {
	return linkrules.Authorize(ns, Target(es, ""), role, access)
}
