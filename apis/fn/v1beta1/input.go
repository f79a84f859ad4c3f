package v1beta1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"

	linkv1alpha1 "github.com/eslink/eslink/apis/link/v1alpha1"
)

// Package type metadata.
const (
	Group   = "fn.eslink.io"
	Version = "v1beta1"
)

// InputGroupVersionKind is the GVK of the function input.
var InputGroupVersionKind = schema.GroupVersion{Group: Group, Version: Version}.WithKind("Input")

// Input holds the platform team's defaults for the links a Composition
// renders. Every field is optional.
// +kubebuilder:object:root=true
// +kubebuilder:storageversion
// +kubebuilder:resource:categories=crossplane
type Input struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// DefaultKeyManagement applies to links between ECK clusters that do
	// not set keyManagement. Defaults to ECK.
	// +optional
	DefaultKeyManagement linkv1alpha1.KeyManagement `json:"defaultKeyManagement,omitempty"`

	// RemoteProviderConfigRef reaches an ECK remote's Elasticsearch API, to
	// observe or own the link's key, when the link does not name one.
	// Defaults to the ClusterProviderConfig named eck.
	// +optional
	RemoteProviderConfigRef *linkv1alpha1.ProviderConfigReference `json:"remoteProviderConfigRef,omitempty"`

	// LocalProviderConfigRef reaches the local cluster's Elasticsearch API,
	// to read GET /_remote/info in every flow and, with provider-managed
	// keys, to set the alias's connection settings. Its user needs the
	// cluster privilege manage (monitor suffices for flows 1 and 2).
	// Defaults to the ClusterProviderConfig named eck.
	// +optional
	LocalProviderConfigRef *linkv1alpha1.ProviderConfigReference `json:"localProviderConfigRef,omitempty"`

	// ECKOperatorNamespace is where the ECK operator runs. When set, the
	// function requires a valid enterprise or trial operator license there
	// (Secrets labelled license.k8s.elastic.co/scope=operator) before it
	// renders a link that relies on ECK, because ECK without one silently
	// ignores remote clusters.
	// +optional
	ECKOperatorNamespace string `json:"eckOperatorNamespace,omitempty"`

	// DeletionPolicy for the remote cluster server: when true, the last link
	// removed from a remote turns its remote cluster server off again, which
	// restarts that cluster. Defaults to false.
	// +optional
	DisableRemoteClusterServerOnDelete bool `json:"disableRemoteClusterServerOnDelete,omitempty"`

	// MinimumKeyLifetime is how long a provider-managed key must serve
	// before it is replaced: a link's expiration minus its rotateBefore may
	// not be shorter. Every rotation restarts the local cluster unless it
	// reloads secure settings in place, so keep rotations rare. An
	// Elasticsearch duration; defaults to 1d. Set the provider's
	// --min-key-lifetime to the same value.
	// +optional
	// +kubebuilder:validation:MaxLength=32
	// +kubebuilder:validation:Pattern=`^[0-9]+(nanos|micros|ms|s|m|h|d)$`
	MinimumKeyLifetime string `json:"minimumKeyLifetime,omitempty"`
}
