package eck

import (
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

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
