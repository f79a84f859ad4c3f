package v1alpha1

import (
	"reflect"

	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/scheme"
)

// Package type metadata.
const (
	Group   = "eck.m.eslink.io"
	Version = "v1alpha1"
)

var (
	// SchemeGroupVersion is group version used to register these objects.
	SchemeGroupVersion = schema.GroupVersion{Group: Group, Version: Version}

	// SchemeBuilder is used to add go types to the GroupVersionKind scheme.
	SchemeBuilder = &scheme.Builder{GroupVersion: SchemeGroupVersion}
)

// Kind metadata.
var (
	RemoteClusterServerKind             = reflect.TypeOf(RemoteClusterServer{}).Name()
	RemoteClusterServerGroupKind        = schema.GroupKind{Group: Group, Kind: RemoteClusterServerKind}.String()
	RemoteClusterServerGroupVersionKind = SchemeGroupVersion.WithKind(RemoteClusterServerKind)

	RemoteClusterEntryKind             = reflect.TypeOf(RemoteClusterEntry{}).Name()
	RemoteClusterEntryGroupKind        = schema.GroupKind{Group: Group, Kind: RemoteClusterEntryKind}.String()
	RemoteClusterEntryGroupVersionKind = SchemeGroupVersion.WithKind(RemoteClusterEntryKind)
)

func init() {
	SchemeBuilder.Register(&RemoteClusterServer{}, &RemoteClusterServerList{})
	SchemeBuilder.Register(&RemoteClusterEntry{}, &RemoteClusterEntryList{})
}
