// Package v1beta1 holds the input of the eslink composition function
// (fn.eslink.io/v1beta1): platform defaults for the links a Composition renders.
// +kubebuilder:object:generate=true
// +groupName=fn.eslink.io
// +versionName=v1beta1
package v1beta1
