package v1alpha1

import (
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// Package type metadata.
const (
	Group   = "eslink.io"
	Version = "v1alpha1"
)

// Kinds served through the XRDs.
const (
	XRemoteClusterLinkKind = "XRemoteClusterLink"
	RemoteClusterLinkKind  = "RemoteClusterLink"
)

// SchemeGroupVersion is the group version of the link kinds.
var SchemeGroupVersion = schema.GroupVersion{Group: Group, Version: Version}

// XRemoteClusterLinkGroupVersionKind is the GVK of the composite resource.
var XRemoteClusterLinkGroupVersionKind = SchemeGroupVersion.WithKind(XRemoteClusterLinkKind)
