// Package v1alpha1 holds the provider's configuration kinds (m.eslink.io):
// how the provider reaches a cluster's Elasticsearch API.
// +kubebuilder:object:generate=true
// +groupName=m.eslink.io
// +versionName=v1alpha1
package v1alpha1
