// Package apis registers every kind the eslink provider serves.
package apis

import (
	"k8s.io/apimachinery/pkg/runtime"

	eckv1alpha1 "github.com/eslink/eslink/apis/eck/v1alpha1"
	esv1alpha1 "github.com/eslink/eslink/apis/elasticsearch/v1alpha1"
	v1alpha1 "github.com/eslink/eslink/apis/v1alpha1"
)

// AddToSchemes adds every provider kind to a scheme.
var AddToSchemes = runtime.SchemeBuilder{
	v1alpha1.SchemeBuilder.AddToScheme,
	esv1alpha1.SchemeBuilder.AddToScheme,
	eckv1alpha1.SchemeBuilder.AddToScheme,
}

// AddToScheme adds every provider kind to s.
func AddToScheme(s *runtime.Scheme) error {
	return AddToSchemes.AddToScheme(s)
}
