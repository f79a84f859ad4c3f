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

// RemoteClusterSettings type metadata.
var (
	RemoteClusterSettingsKind             = reflect.TypeOf(RemoteClusterSettings{}).Name()
	RemoteClusterSettingsGroupKind        = schema.GroupKind{Group: Group, Kind: RemoteClusterSettingsKind}.String()
	RemoteClusterSettingsGroupVersionKind = SchemeGroupVersion.WithKind(RemoteClusterSettingsKind)
)

// RemoteClusterConnectivity type metadata.
var (
	RemoteClusterConnectivityKind             = reflect.TypeOf(RemoteClusterConnectivity{}).Name()
	RemoteClusterConnectivityGroupKind        = schema.GroupKind{Group: Group, Kind: RemoteClusterConnectivityKind}.String()
	RemoteClusterConnectivityGroupVersionKind = SchemeGroupVersion.WithKind(RemoteClusterConnectivityKind)
)

func init() {
	SchemeBuilder.Register(&CrossClusterAPIKey{}, &CrossClusterAPIKeyList{})
	SchemeBuilder.Register(&RemoteClusterSettings{}, &RemoteClusterSettingsList{})
	SchemeBuilder.Register(&RemoteClusterConnectivity{}, &RemoteClusterConnectivityList{})
}
