package v1alpha1

import (
	"github.com/crossplane/crossplane-runtime/v2/pkg/resource"
)

// The assertions live in a test file because angryjet loads this package
// before it has generated the methods they check.
var (
	_ resource.ModernManaged = &RemoteClusterServer{}
	_ resource.ModernManaged = &RemoteClusterEntry{}
	_ resource.ManagedList   = &RemoteClusterServerList{}
	_ resource.ManagedList   = &RemoteClusterEntryList{}
	_ resource.ModernManaged = &RemoteClusterCredentials{}
	_ resource.ModernManaged = &RemoteClusterTrust{}
	_ resource.ModernManaged = &RemoteClusterSigning{}
	_ resource.ManagedList   = &RemoteClusterCredentialsList{}
	_ resource.ManagedList   = &RemoteClusterTrustList{}
	_ resource.ManagedList   = &RemoteClusterSigningList{}
)
