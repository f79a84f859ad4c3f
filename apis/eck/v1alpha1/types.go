package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	xpv2 "github.com/crossplane/crossplane/apis/v2/core/v2"

	commonv1alpha1 "github.com/eslink/eslink/apis/common/v1alpha1"
)

// RemoteClusterServerParameters are the desired state of a claim on a
// cluster's remote cluster server.
type RemoteClusterServerParameters struct {
	// ElasticsearchRef is the ECK cluster that serves remote clusters.
	// Immutable: moving a claim would leave the old cluster's server on.
	// +kubebuilder:validation:XValidation:rule="self == oldSelf",message="elasticsearchRef is immutable: delete this resource and create a new one to claim another cluster's server"
	ElasticsearchRef commonv1alpha1.ElasticsearchReference `json:"elasticsearchRef"`

	// DisableOnDelete turns the server off when this resource is deleted and
	// no other claim remains. Turning it off restarts the cluster.
	// +optional
	DisableOnDelete bool `json:"disableOnDelete,omitempty"`
}

// RemoteClusterServerObservation is the server as the ECK object holds it.
type RemoteClusterServerObservation struct {
	// Enabled is spec.remoteClusterServer.enabled of the target.
	// +optional
	Enabled bool `json:"enabled,omitempty"`
	// Claims is the number of resources that need the server.
	// +optional
	Claims int `json:"claims,omitempty"`
	// Version is the target's Elasticsearch version (status, else spec).
	// +optional
	Version string `json:"version,omitempty"`
}

// A RemoteClusterServerSpec defines the desired state of a RemoteClusterServer.
type RemoteClusterServerSpec struct {
	xpv2.ManagedResourceSpec `json:",inline"`
	ForProvider              RemoteClusterServerParameters `json:"forProvider"`
}

// A RemoteClusterServerStatus represents the observed state of a RemoteClusterServer.
type RemoteClusterServerStatus struct {
	xpv2.ManagedResourceStatus `json:",inline"`
	AtProvider                 RemoteClusterServerObservation `json:"atProvider,omitempty"`
}

// +kubebuilder:object:root=true

// A RemoteClusterServer ensures spec.remoteClusterServer.enabled on an ECK
// Elasticsearch object and records its claim there.
// +kubebuilder:printcolumn:name="READY",type="string",JSONPath=".status.conditions[?(@.type=='Ready')].status"
// +kubebuilder:printcolumn:name="SYNCED",type="string",JSONPath=".status.conditions[?(@.type=='Synced')].status"
// +kubebuilder:printcolumn:name="CLUSTER",type="string",JSONPath=".spec.forProvider.elasticsearchRef.name"
// +kubebuilder:printcolumn:name="ENABLED",type="boolean",JSONPath=".status.atProvider.enabled"
// +kubebuilder:printcolumn:name="AGE",type="date",JSONPath=".metadata.creationTimestamp"
// +kubebuilder:subresource:status
// +kubebuilder:resource:scope=Namespaced,categories={crossplane,managed,eslink}
type RemoteClusterServer struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec   RemoteClusterServerSpec   `json:"spec"`
	Status RemoteClusterServerStatus `json:"status,omitempty"`
}

// +kubebuilder:object:root=true

// RemoteClusterServerList contains a list of RemoteClusterServer.
type RemoteClusterServerList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []RemoteClusterServer `json:"items"`
}

// RemoteClusterAPIKey is ECK's remoteClusters[].apiKey.
type RemoteClusterAPIKey struct {
	// Access granted to the key ECK creates on the remote.
	Access commonv1alpha1.LinkAccess `json:"access"`
}

// RemoteClusterEntryParameters are the desired state of one entry of the
// local cluster's spec.remoteClusters.
type RemoteClusterEntryParameters struct {
	// ElasticsearchRef is the local ECK cluster whose spec.remoteClusters
	// holds the entry. Immutable: moving it would leave the entry behind on
	// the old cluster.
	// +kubebuilder:validation:XValidation:rule="self == oldSelf",message="elasticsearchRef is immutable: delete this resource and create a new one to write an entry on another cluster"
	ElasticsearchRef commonv1alpha1.ElasticsearchReference `json:"elasticsearchRef"`

	// Alias is the entry's name, the remote cluster alias.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=63
	// +kubebuilder:validation:Pattern=`^[a-zA-Z0-9][a-zA-Z0-9_-]*$`
	Alias string `json:"alias"`

	// RemoteElasticsearchRef is the remote ECK cluster, written as the
	// entry's elasticsearchRef.
	RemoteElasticsearchRef commonv1alpha1.ElasticsearchReference `json:"remoteElasticsearchRef"`

	// APIKey selects the API key security model with this access; without
	// it the entry uses the certificate model.
	// +optional
	APIKey *RemoteClusterAPIKey `json:"apiKey,omitempty"`
}

// RemoteClusterEntryObservation is the entry as the local ECK object holds it.
type RemoteClusterEntryObservation struct {
	// Present is true when the owned entry is in spec.remoteClusters.
	// +optional
	Present bool `json:"present,omitempty"`
	// Version is the local cluster's Elasticsearch version.
	// +optional
	Version string `json:"version,omitempty"`
}

// A RemoteClusterEntrySpec defines the desired state of a RemoteClusterEntry.
type RemoteClusterEntrySpec struct {
	xpv2.ManagedResourceSpec `json:",inline"`
	ForProvider              RemoteClusterEntryParameters `json:"forProvider"`
}

// A RemoteClusterEntryStatus represents the observed state of a RemoteClusterEntry.
type RemoteClusterEntryStatus struct {
	xpv2.ManagedResourceStatus `json:",inline"`
	AtProvider                 RemoteClusterEntryObservation `json:"atProvider,omitempty"`
}

// +kubebuilder:object:root=true

// A RemoteClusterEntry owns exactly one entry of an ECK Elasticsearch
// object's spec.remoteClusters.
// +kubebuilder:printcolumn:name="READY",type="string",JSONPath=".status.conditions[?(@.type=='Ready')].status"
// +kubebuilder:printcolumn:name="SYNCED",type="string",JSONPath=".status.conditions[?(@.type=='Synced')].status"
// +kubebuilder:printcolumn:name="CLUSTER",type="string",JSONPath=".spec.forProvider.elasticsearchRef.name"
// +kubebuilder:printcolumn:name="ALIAS",type="string",JSONPath=".spec.forProvider.alias"
// +kubebuilder:printcolumn:name="AGE",type="date",JSONPath=".metadata.creationTimestamp"
// +kubebuilder:subresource:status
// +kubebuilder:resource:scope=Namespaced,categories={crossplane,managed,eslink}
type RemoteClusterEntry struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec   RemoteClusterEntrySpec   `json:"spec"`
	Status RemoteClusterEntryStatus `json:"status,omitempty"`
}

// +kubebuilder:object:root=true

// RemoteClusterEntryList contains a list of RemoteClusterEntry.
type RemoteClusterEntryList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []RemoteClusterEntry `json:"items"`
}
