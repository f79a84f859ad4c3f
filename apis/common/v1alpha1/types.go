package v1alpha1

import (
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
)

// ElasticsearchReference points at an ECK Elasticsearch object
// (elasticsearch.k8s.elastic.co/v1). It mirrors ECK's own elasticsearchRef
// without serviceName, which ECK ignores for remote clusters.
type ElasticsearchReference struct {
	// Name of the Elasticsearch object.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	Name string `json:"name"`

	// Namespace of the Elasticsearch object. Defaults to the namespace of
	// the resource that holds the reference.
	// +optional
	// +kubebuilder:validation:MaxLength=63
	Namespace string `json:"namespace,omitempty"`
}

// FieldSecurity restricts the fields a search may read (field level security).
type FieldSecurity struct {
	// Grant lists the fields that may be read.
	// +optional
	// +kubebuilder:validation:MaxItems=64
	// +kubebuilder:validation:items:MaxLength=255
	// +listType=atomic
	Grant []string `json:"grant,omitempty"`

	// Except lists fields removed from the granted ones.
	// +optional
	// +kubebuilder:validation:MaxItems=64
	// +kubebuilder:validation:items:MaxLength=255
	// +listType=atomic
	Except []string `json:"except,omitempty"`
}

// SearchAccess grants cross-cluster search on index patterns of the remote.
type SearchAccess struct {
	// Names are index names or patterns, such as logs-*.
	// +kubebuilder:validation:MinItems=1
	// +kubebuilder:validation:MaxItems=64
	// +kubebuilder:validation:items:MaxLength=255
	// +listType=atomic
	Names []string `json:"names"`

	// Query is a document level security query as a query DSL object, as in
	// ECK's remoteClusters[].apiKey.access.search.query.
	// +optional
	// +kubebuilder:pruning:PreserveUnknownFields
	// +kubebuilder:validation:Type=object
	Query *apiextensionsv1.JSON `json:"query,omitempty"`

	// FieldSecurity restricts the fields a search may read.
	// +optional
	FieldSecurity *FieldSecurity `json:"fieldSecurity,omitempty"`

	// AllowRestrictedIndices lets the patterns match restricted indices such
	// as .security. Elasticsearch defaults it to false.
	// +optional
	AllowRestrictedIndices *bool `json:"allowRestrictedIndices,omitempty"`
}

// ReplicationAccess grants cross-cluster replication of indices of the remote.
// Elasticsearch rejects document and field level security for replication.
type ReplicationAccess struct {
	// Names are index names or patterns, such as archive-*.
	// +kubebuilder:validation:MinItems=1
	// +kubebuilder:validation:MaxItems=64
	// +kubebuilder:validation:items:MaxLength=255
	// +listType=atomic
	Names []string `json:"names"`

	// AllowRestrictedIndices lets the patterns match restricted indices.
	// +optional
	AllowRestrictedIndices *bool `json:"allowRestrictedIndices,omitempty"`
}

// LinkAccess is what a remote cluster link may do on the remote: one search
// entry and one replication entry, the shape ECK's remoteClusters[].apiKey
// uses.
// +kubebuilder:validation:XValidation:rule="has(self.search) || has(self.replication)",message="access must grant search or replication (or both)"
// +kubebuilder:validation:XValidation:rule="!(has(self.replication) && has(self.search) && (has(self.search.query) || has(self.search.fieldSecurity)))",message="search with query or fieldSecurity is not allowed together with replication: Elasticsearch rejects document and field level security when replication is assigned"
type LinkAccess struct {
	// Search grants cross-cluster search.
	// +optional
	Search *SearchAccess `json:"search,omitempty"`

	// Replication grants cross-cluster replication. ECK supports names only.
	// +optional
	Replication *ECKReplicationAccess `json:"replication,omitempty"`
}

// ECKReplicationAccess is ECK's replication entry, which holds names only.
type ECKReplicationAccess struct {
	// Names are index names or patterns, such as archive-*.
	// +kubebuilder:validation:MinItems=1
	// +kubebuilder:validation:MaxItems=64
	// +kubebuilder:validation:items:MaxLength=255
	// +listType=atomic
	Names []string `json:"names"`
}
