package v1alpha1

import (
	"github.com/crossplane/crossplane-runtime/v2/pkg/resource"
)

// The assertions live in a test file because angryjet loads this package
// before it has generated the methods they check.
var (
	_ resource.ModernManaged = &CrossClusterAPIKey{}
	_ resource.ManagedList   = &CrossClusterAPIKeyList{}
	_ resource.ModernManaged = &RemoteClusterSettings{}
	_ resource.ManagedList   = &RemoteClusterSettingsList{}
	_ resource.ModernManaged = &RemoteClusterConnectivity{}
	_ resource.ManagedList   = &RemoteClusterConnectivityList{}
)
