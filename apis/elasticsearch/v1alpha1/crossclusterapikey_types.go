package v1alpha1

import (
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	xpv2 "github.com/crossplane/crossplane/apis/v2/core/v2"

	commonv1alpha1 "github.com/eslink/eslink/apis/common/v1alpha1"
)

// Metadata keys the provider writes on the keys it creates.
const (
	MetadataManagedBy  = "eslink.io/managed-by"
	MetadataNamespace  = "eslink.io/namespace"
	MetadataName       = "eslink.io/name"
	MetadataUID        = "eslink.io/uid"
	MetadataAccessHash = "eslink.io/access-hash"
	// MetadataExpiration is spec.forProvider.expiration as the key's
	// expiration was last set from, so that a changed expiration is noticed.
	MetadataExpiration = "eslink.io/expiration"
	// MetadataReplaces is the id of the key a key replaced, recorded on
	// Elasticsearch so that a pending handover survives any crash.
	MetadataReplaces = "eslink.io/replaces"
	// MetadataForceReplaceBefore is spec.forProvider.forceReplaceBefore as
	// the key was created with, so that one value replaces a key once
	// whatever the clocks of the provider and Elasticsearch say.
	MetadataForceReplaceBefore = "eslink.io/force-replace-before"

	// ManagedByValue is the value of MetadataManagedBy.
	ManagedByValue = "eslink"
)

// Connection detail keys published for an owned key.
const (
	ConnectionKeyID      = "id"
	ConnectionKeyName    = "name"
	ConnectionKeyAPIKey  = "api_key"
	ConnectionKeyEncoded = "encoded"
)

// CrossClusterAccess is the access of a cross-cluster API key, as
// Elasticsearch's access field: lists of search and replication entries.
// +kubebuilder:validation:XValidation:rule="(has(self.search) && size(self.search) > 0) || (has(self.replication) && size(self.replication) > 0)",message="must specify non-empty access for either search or replication"
// +kubebuilder:validation:XValidation:rule="!(has(self.replication) && size(self.replication) > 0 && has(self.search) && self.search.exists(s, has(s.query) || has(s.fieldSecurity)))",message="search with query or fieldSecurity is not allowed together with replication: Elasticsearch rejects document and field level security when replication is assigned"
type CrossClusterAccess struct {
	// Search entries.
	// +optional
	// +kubebuilder:validation:MaxItems=16
	// +listType=atomic
	Search []commonv1alpha1.SearchAccess `json:"search,omitempty"`

	// Replication entries.
	// +optional
	// +kubebuilder:validation:MaxItems=16
	// +listType=atomic
	Replication []commonv1alpha1.ReplicationAccess `json:"replication,omitempty"`
}

// KeyHandover keeps a replaced key valid until its consumer has taken up its
// successor, so that a rotation never cuts a consumer off.
type KeyHandover struct {
	// ConsumerKeyID is the id of the key the consumer (the local cluster)
	// uses now. While it does not name the key in the connection Secret, the
	// key that one replaced stays valid; once it does, the replaced key is
	// invalidated.
	// +optional
	// +kubebuilder:validation:MaxLength=64
	ConsumerKeyID string `json:"consumerKeyID,omitempty"`
}

// CrossClusterAPIKeyParameters are the desired state of the key.
// +kubebuilder:validation:XValidation:rule="!has(self.rotateBefore) || has(self.expiration)",message="rotateBefore needs expiration: a key that never expires is never rotated",fieldPath=".rotateBefore"
// +kubebuilder:validation:XValidation:rule="!has(self.rotateBefore) || !has(self.expiration) || !self.expiration.matches('^[0-9]+(nanos|micros|ms|s|m|h|d)$') || !self.rotateBefore.matches('^[0-9]+(nanos|micros|ms|s|m|h|d)$') || double(self.rotateBefore.find('^[0-9]+')) * {'nanos': 0.000000001, 'micros': 0.000001, 'ms': 0.001, 's': 1.0, 'm': 60.0, 'h': 3600.0, 'd': 86400.0}[self.rotateBefore.find('[a-z]+$')] < double(self.expiration.find('^[0-9]+')) * {'nanos': 0.000000001, 'micros': 0.000001, 'ms': 0.001, 's': 1.0, 'm': 60.0, 'h': 3600.0, 'd': 86400.0}[self.expiration.find('[a-z]+$')]",message="rotateBefore must be shorter than expiration: the key would be due for replacement as soon as it is created",fieldPath=".rotateBefore"
type CrossClusterAPIKeyParameters struct {
	// Name of the key. Elasticsearch does not require names to be unique;
	// the provider identifies its keys by id and by metadata.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=256
	// +kubebuilder:validation:XValidation:rule="!self.startsWith('_')",message="name may not begin with an underscore"
	// +kubebuilder:validation:XValidation:rule="self.trim() == self",message="name may not begin or end with whitespace"
	Name string `json:"name"`

	// ElasticsearchRef is the ECK cluster that holds the key. Required with
	// an ECK-mode provider config that does not fix the cluster. Immutable:
	// moving it would leave the key behind on the old cluster.
	// +optional
	// +kubebuilder:validation:XValidation:rule="self == oldSelf",message="elasticsearchRef is immutable: delete this resource and create a new one to hold a key on another cluster"
	ElasticsearchRef *commonv1alpha1.ElasticsearchReference `json:"elasticsearchRef,omitempty"`

	// Access granted by the key. Required unless the resource only observes.
	// +optional
	Access *CrossClusterAccess `json:"access,omitempty"`

	// Expiration is the key's lifetime from creation, as an Elasticsearch
	// duration such as 30d. Changing it applies to the existing key: through
	// the update API on Elasticsearch 8.13 or later, by replacing the key
	// before. The provider's --min-key-lifetime bounds it from below.
	// +optional
	// +kubebuilder:validation:MaxLength=32
	// +kubebuilder:validation:Pattern=`^[0-9]+(nanos|micros|ms|s|m|h|d)$`
	Expiration *string `json:"expiration,omitempty"`

	// RotateBefore replaces the key this long before it expires: a new key
	// is created and published before the old one is invalidated. Must be
	// shorter than expiration.
	// +optional
	// +kubebuilder:validation:MaxLength=32
	// +kubebuilder:validation:Pattern=`^[0-9]+(nanos|micros|ms|s|m|h|d)$`
	RotateBefore *string `json:"rotateBefore,omitempty"`

	// Handover, when set, keeps a replaced key valid after a rotation until
	// handover.consumerKeyID names its successor. Without it the replaced
	// key is invalidated as soon as its successor is published.
	// +optional
	Handover *KeyHandover `json:"handover,omitempty"`

	// Metadata stored on the key, next to the provider's own eslink.io/
	// tags. Keys may not begin with an underscore or eslink.io/; the provider
	// rejects them (the schema cannot, as values are arbitrary JSON). At
	// most 32 entries of 4 KiB together: every key on a remote is read in
	// one shared listing.
	// +optional
	// +kubebuilder:validation:MaxProperties=32
	Metadata map[string]apiextensionsv1.JSON `json:"metadata,omitempty"`

	// CertificateIdentity is a regular expression the querying cluster's
	// signing certificate subject must match (Elasticsearch 9.3+).
	// +optional
	// +kubebuilder:validation:MaxLength=1024
	CertificateIdentity *string `json:"certificateIdentity,omitempty"`

	// ForceReplaceBefore replaces the key at once when it was created
	// before this time, even if it has not yet served the provider's
	// --min-key-lifetime. A change of the spec that needs a new key (such
	// as removing expiration) waits for that lifetime otherwise. Set it to
	// the current time to replace the key now; the new key records the
	// value in its metadata, so one value replaces the key once.
	// +optional
	ForceReplaceBefore *metav1.Time `json:"forceReplaceBefore,omitempty"`
}

// CrossClusterAPIKeyObservation is the key as Elasticsearch holds it.
type CrossClusterAPIKeyObservation struct {
	// ID of the key.
	// +optional
	ID string `json:"id,omitempty"`
	// Name of the key.
	// +optional
	Name string `json:"name,omitempty"`
	// Creation time.
	// +optional
	Creation *metav1.Time `json:"creation,omitempty"`
	// Expiration time; empty when the key never expires.
	// +optional
	Expiration *metav1.Time `json:"expiration,omitempty"`
	// Invalidated is true once the key was invalidated.
	// +optional
	Invalidated bool `json:"invalidated,omitempty"`
	// Invalidation time.
	// +optional
	Invalidation *metav1.Time `json:"invalidation,omitempty"`
	// Expired is true when the expiration time has passed.
	// +optional
	Expired bool `json:"expired,omitempty"`
	// Access as Elasticsearch reports it (query as a JSON string).
	// +optional
	Access *CrossClusterAccess `json:"access,omitempty"`
	// CertificateIdentity as stored.
	// +optional
	CertificateIdentity *string `json:"certificateIdentity,omitempty"`
	// Username of the key's owner.
	// +optional
	Username string `json:"username,omitempty"`
	// AccessMatches is true when the key grants exactly spec.forProvider.access.
	// +optional
	AccessMatches bool `json:"accessMatches,omitempty"`
	// NextRotation is when the provider replaces the key (its expiration
	// minus spec.forProvider.rotateBefore); empty when it is never rotated.
	// +optional
	NextRotation *metav1.Time `json:"nextRotation,omitempty"`
	// AwaitingHandoverKeyID is the id of the key this one replaced, kept
	// valid until spec.forProvider.handover.consumerKeyID names this key.
	// +optional
	AwaitingHandoverKeyID string `json:"awaitingHandoverKeyID,omitempty"`
}

// A CrossClusterAPIKeySpec defines the desired state of a CrossClusterAPIKey.
type CrossClusterAPIKeySpec struct {
	xpv2.ManagedResourceSpec `json:",inline"`
	ForProvider              CrossClusterAPIKeyParameters `json:"forProvider"`
}

// A CrossClusterAPIKeyStatus represents the observed state of a CrossClusterAPIKey.
type CrossClusterAPIKeyStatus struct {
	xpv2.ManagedResourceStatus `json:",inline"`
	AtProvider                 CrossClusterAPIKeyObservation `json:"atProvider,omitempty"`
	// AuthorizedCluster is the ECK Elasticsearch object (namespace/name)
	// whose grants last allowed this resource, recorded by the provider
	// before it first wrote a key there. It is a hint that names the
	// cluster in messages and notices a provider config that moved: the
	// proof that lets a deletion invalidate the keys after the grant was
	// revoked is the eslink.io/key-namespaces annotation the provider keeps
	// on that Elasticsearch object, which a team cannot write.
	// +optional
	AuthorizedCluster string `json:"authorizedCluster,omitempty"`
}

// +kubebuilder:object:root=true

// A CrossClusterAPIKey is a cross-cluster API key on a remote Elasticsearch
// cluster. Its external name is the key id.
// +kubebuilder:printcolumn:name="READY",type="string",JSONPath=".status.conditions[?(@.type=='Ready')].status"
// +kubebuilder:printcolumn:name="SYNCED",type="string",JSONPath=".status.conditions[?(@.type=='Synced')].status"
// +kubebuilder:printcolumn:name="KEY-NAME",type="string",JSONPath=".spec.forProvider.name"
// +kubebuilder:printcolumn:name="KEY-ID",type="string",JSONPath=".metadata.annotations.crossplane\\.io/external-name"
// +kubebuilder:printcolumn:name="EXPIRATION",type="string",JSONPath=".status.atProvider.expiration",priority=1
// +kubebuilder:printcolumn:name="AGE",type="date",JSONPath=".metadata.creationTimestamp"
// +kubebuilder:subresource:status
// +kubebuilder:resource:scope=Namespaced,categories={crossplane,managed,eslink}
// +kubebuilder:validation:XValidation:rule="(has(self.spec.managementPolicies) && self.spec.managementPolicies == ['Observe']) || has(self.spec.forProvider.access)",message="spec.forProvider.access is required unless managementPolicies is [Observe]"
type CrossClusterAPIKey struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec   CrossClusterAPIKeySpec   `json:"spec"`
	Status CrossClusterAPIKeyStatus `json:"status,omitempty"`
}

// +kubebuilder:object:root=true

// CrossClusterAPIKeyList contains a list of CrossClusterAPIKey.
type CrossClusterAPIKeyList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []CrossClusterAPIKey `json:"items"`
}
