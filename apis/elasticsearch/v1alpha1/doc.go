// Package v1alpha1 holds the managed resources reconciled against the
// Elasticsearch REST API (elasticsearch.m.eslink.io).
// +kubebuilder:object:generate=true
// +groupName=elasticsearch.m.eslink.io
// +versionName=v1alpha1
package v1alpha1
