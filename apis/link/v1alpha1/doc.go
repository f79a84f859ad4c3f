// Package v1alpha1 holds the schema of the XRemoteClusterLink composite
// resource (eslink.io/v1alpha1). The Go types are the single source of the
// XRDs' openAPIV3Schema: hack/genxrd turns the CRD that controller-gen writes
// for XRemoteClusterLink into the namespaced and the legacy XRD.
// +kubebuilder:object:generate=true
// +groupName=eslink.io
// +versionName=v1alpha1
package v1alpha1
