// Package v1alpha1 holds the managed resources that each own one entry of an
// ECK Elasticsearch object (eck.m.eslink.io). ECK's remoteClusters and
// secureSettings are atomic lists, so every link's piece is written by
// read-modify-write of its own entry, never by a whole-list patch.
// +kubebuilder:object:generate=true
// +groupName=eck.m.eslink.io
// +versionName=v1alpha1
package v1alpha1
