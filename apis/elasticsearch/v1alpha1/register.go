package v1alpha1

import (
	"reflect"

	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/scheme"
)

// Package type metadata.
const (
	Group   = "elasticsearch.m.eslink.io"
	Version = "v1alpha1"
)

var (
	// SchemeGroupVersion is group version used to register these objects.
	SchemeGroupVersion = schema.GroupVersion{Group: Group, Version: Version}

	// SchemeBuilder is used to add go types to the GroupVersionKind scheme.
	SchemeBuilder = &scheme.Builder{GroupVersion: SchemeGroupVersion}
)

// CrossClusterAPIKey type metadata.
var (
	CrossClusterAPIKeyKind             = reflect.TypeOf(CrossClusterAPIKey{}).Name()
	CrossClusterAPIKeyGroupKind        = schema.GroupKind{Group: Group, Kind: CrossClusterAPIKeyKind}.String()
	CrossClusterAPIKeyGroupVersionKind = SchemeGroupVersion.WithKind(CrossClusterAPIKeyKind)
)

func init() {
	SchemeBuilder.Register(&CrossClusterAPIKey{}, &CrossClusterAPIKeyList{})
}
