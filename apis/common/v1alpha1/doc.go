// Package v1alpha1 holds the types that several eslink APIs share: references
// to ECK Elasticsearch objects and the cross-cluster access model. It defines
// no kinds of its own.
// +kubebuilder:object:generate=true
package v1alpha1
