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

	RemoteClusterCredentialsKind             = reflect.TypeOf(RemoteClusterCredentials{}).Name()
	RemoteClusterCredentialsGroupKind        = schema.GroupKind{Group: Group, Kind: RemoteClusterCredentialsKind}.String()
	RemoteClusterCredentialsGroupVersionKind = SchemeGroupVersion.WithKind(RemoteClusterCredentialsKind)

	RemoteClusterTrustKind             = reflect.TypeOf(RemoteClusterTrust{}).Name()
	RemoteClusterTrustGroupKind        = schema.GroupKind{Group: Group, Kind: RemoteClusterTrustKind}.String()
	RemoteClusterTrustGroupVersionKind = SchemeGroupVersion.WithKind(RemoteClusterTrustKind)

	RemoteClusterSigningKind             = reflect.TypeOf(RemoteClusterSigning{}).Name()
	RemoteClusterSigningGroupKind        = schema.GroupKind{Group: Group, Kind: RemoteClusterSigningKind}.String()
	RemoteClusterSigningGroupVersionKind = SchemeGroupVersion.WithKind(RemoteClusterSigningKind)
)

func init() {
	SchemeBuilder.Register(&RemoteClusterServer{}, &RemoteClusterServerList{})
	SchemeBuilder.Register(&RemoteClusterEntry{}, &RemoteClusterEntryList{})
	SchemeBuilder.Register(&RemoteClusterCredentials{}, &RemoteClusterCredentialsList{})
	SchemeBuilder.Register(&RemoteClusterTrust{}, &RemoteClusterTrustList{})
	SchemeBuilder.Register(&RemoteClusterSigning{}, &RemoteClusterSigningList{})
}
