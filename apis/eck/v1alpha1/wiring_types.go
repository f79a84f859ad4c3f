package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	xpv2 "github.com/crossplane/crossplane/apis/v2/core/v2"

	commonv1alpha1 "github.com/eslink/eslink/apis/common/v1alpha1"
)

// The kinds in this file wire a local ECK cluster to a remote whose
// cross-cluster API key the provider owns (flow 3): the key in the local
// cluster's secure settings, the remote's CA in its trust, and the signing
// settings of certificate identity.

// LocalSecretReference names a Secret in the managed resource's namespace.
type LocalSecretReference struct {
	// Name of the Secret.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	Name string `json:"name"`
}

// LocalSecretKeySelector names one key of a Secret in the managed
// resource's namespace.
type LocalSecretKeySelector struct {
	// Name of the Secret.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	Name string `json:"name"`
	// Key in the Secret. Defaults to ca.crt.
	// +optional
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:validation:Pattern=`^[-._a-zA-Z0-9]+$`
	Key string `json:"key,omitempty"`
}

// RemoteClusterCredentialsParameters are the desired state of one remote
// cluster's credentials in a local cluster's secure settings.
type RemoteClusterCredentialsParameters struct {
	// ElasticsearchRef is the local ECK cluster whose spec.secureSettings
	// holds the entry. Immutable: moving it would leave the credentials
	// behind on the old cluster.
	// +kubebuilder:validation:XValidation:rule="self == oldSelf",message="elasticsearchRef is immutable: delete this resource and create a new one to deliver credentials to another cluster"
	ElasticsearchRef commonv1alpha1.ElasticsearchReference `json:"elasticsearchRef"`

	// Alias is the remote cluster alias: the credentials are the secure
	// setting cluster.remote.<alias>.credentials. Immutable.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=63
	// +kubebuilder:validation:Pattern=`^[a-zA-Z0-9][a-zA-Z0-9_-]*$`
	// +kubebuilder:validation:XValidation:rule="self == oldSelf",message="alias is immutable: delete this resource and create a new one for another alias"
	Alias string `json:"alias"`

	// APIKeySecretRef is the Secret, in this resource's namespace, that
	// holds the cross-cluster API key to deliver in its keys id and encoded:
	// the connection Secret of the CrossClusterAPIKey.
	APIKeySecretRef LocalSecretReference `json:"apiKeySecretRef"`

	// RemoteElasticsearchRef is the remote ECK cluster the key belongs to,
	// when the remote is managed by ECK here: it must grant this resource's
	// namespace as well.
	// +optional
	RemoteElasticsearchRef *commonv1alpha1.ElasticsearchReference `json:"remoteElasticsearchRef,omitempty"`
}

// Ways ECK delivers secure settings to Elasticsearch.
const (
	// DeliveryKeystore: an init container builds the keystore, so every
	// change rolls the cluster.
	DeliveryKeystore = "Keystore"
	// DeliveryFileBased: ECK writes cluster_secrets into file-based
	// settings, which Elasticsearch reloads in place (ES 9.5+, ECK 3.5+,
	// annotation eck.k8s.elastic.co/file-based-secure-settings: "true").
	DeliveryFileBased = "FileBasedSecureSettings"
)

// RemoteClusterCredentialsObservation is the delivery as the local cluster
// shows it.
type RemoteClusterCredentialsObservation struct {
	// SecretName is the Secret in the local cluster's namespace that holds
	// the credentials, listed in its spec.secureSettings.
	// +optional
	SecretName string `json:"secretName,omitempty"`
	// KeyID is the id of the key the API key Secret holds now.
	// +optional
	KeyID string `json:"keyID,omitempty"`
	// DeliveredKeyID is the id of the key the secure settings entry names.
	// +optional
	DeliveredKeyID string `json:"deliveredKeyID,omitempty"`
	// TakenUpKeyID is the id of the key the local cluster has loaded: ECK
	// rolled it out (keystore), or Elasticsearch reloaded the file-based
	// settings that hold it.
	// +optional
	TakenUpKeyID string `json:"takenUpKeyID,omitempty"`
	// Delivery is Keystore or FileBasedSecureSettings.
	// +optional
	Delivery string `json:"delivery,omitempty"`
	// RestartsOnChange is true when each change of the credentials (first
	// delivery, each rotation) restarts the local cluster.
	// +optional
	RestartsOnChange bool `json:"restartsOnChange,omitempty"`
}

// A RemoteClusterCredentialsSpec defines the desired state of a RemoteClusterCredentials.
type RemoteClusterCredentialsSpec struct {
	xpv2.ManagedResourceSpec `json:",inline"`
	ForProvider              RemoteClusterCredentialsParameters `json:"forProvider"`
}

// A RemoteClusterCredentialsStatus represents the observed state of a RemoteClusterCredentials.
type RemoteClusterCredentialsStatus struct {
	xpv2.ManagedResourceStatus `json:",inline"`
	AtProvider                 RemoteClusterCredentialsObservation `json:"atProvider,omitempty"`
}

// +kubebuilder:object:root=true

// A RemoteClusterCredentials delivers a cross-cluster API key to a local ECK
// cluster: it owns one Secret in the cluster's namespace and one entry of
// its spec.secureSettings that maps it to cluster.remote.<alias>.credentials.
// Its spec.providerConfigRef, when set, reaches the local cluster's REST API
// to tell when file-based secure settings were reloaded.
// +kubebuilder:printcolumn:name="READY",type="string",JSONPath=".status.conditions[?(@.type=='Ready')].status"
// +kubebuilder:printcolumn:name="SYNCED",type="string",JSONPath=".status.conditions[?(@.type=='Synced')].status"
// +kubebuilder:printcolumn:name="CLUSTER",type="string",JSONPath=".spec.forProvider.elasticsearchRef.name"
// +kubebuilder:printcolumn:name="ALIAS",type="string",JSONPath=".spec.forProvider.alias"
// +kubebuilder:printcolumn:name="KEY-ID",type="string",JSONPath=".status.atProvider.takenUpKeyID"
// +kubebuilder:printcolumn:name="AGE",type="date",JSONPath=".metadata.creationTimestamp"
// +kubebuilder:subresource:status
// +kubebuilder:resource:scope=Namespaced,categories={crossplane,managed,eslink}
type RemoteClusterCredentials struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec   RemoteClusterCredentialsSpec   `json:"spec"`
	Status RemoteClusterCredentialsStatus `json:"status,omitempty"`
}

// +kubebuilder:object:root=true

// RemoteClusterCredentialsList contains a list of RemoteClusterCredentials.
type RemoteClusterCredentialsList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []RemoteClusterCredentials `json:"items"`
}

// TrustPurpose is what a cluster trusts a certificate authority for.
// +kubebuilder:validation:Enum=RemoteClusterClient;CrossClusterSigning
type TrustPurpose string

// Trust purposes.
const (
	// TrustRemoteClusterClient: the local cluster verifies remote cluster
	// servers (xpack.security.remote_cluster_client.ssl.certificate_authorities).
	TrustRemoteClusterClient TrustPurpose = "RemoteClusterClient"
	// TrustCrossClusterSigning: the remote cluster verifies the signatures
	// of cross-cluster requests (cluster.remote.signing.certificate_authorities).
	TrustCrossClusterSigning TrustPurpose = "CrossClusterSigning"
)

// CertificateAuthoritySource is where a trusted CA comes from.
// +kubebuilder:validation:XValidation:rule="has(self.elasticsearchRef) != has(self.secretRef)",message="set exactly one of elasticsearchRef (an ECK cluster's transport CA) or secretRef (a Secret in this namespace)"
type CertificateAuthoritySource struct {
	// ElasticsearchRef is an ECK cluster whose transport CA is trusted
	// (its Secret <name>-es-transport-certs-public, key ca.crt): the CA of
	// its remote cluster server and of its nodes' certificates.
	// +optional
	ElasticsearchRef *commonv1alpha1.ElasticsearchReference `json:"elasticsearchRef,omitempty"`
	// SecretRef is a Secret in this resource's namespace holding PEM CA
	// certificates, such as the CA of a remote outside ECK.
	// +optional
	SecretRef *LocalSecretKeySelector `json:"secretRef,omitempty"`
}

// RemoteClusterTrustParameters are the desired state of one CA in a
// cluster's eslink CA bundle.
type RemoteClusterTrustParameters struct {
	// ElasticsearchRef is the ECK cluster that trusts the CA. Immutable.
	// +kubebuilder:validation:XValidation:rule="self == oldSelf",message="elasticsearchRef is immutable: delete this resource and create a new one to trust a CA on another cluster"
	ElasticsearchRef commonv1alpha1.ElasticsearchReference `json:"elasticsearchRef"`

	// Purpose is RemoteClusterClient (the default: a local cluster trusts
	// a remote cluster server) or CrossClusterSigning (a remote cluster
	// trusts the signatures of a local cluster). Immutable.
	// +optional
	// +kubebuilder:default=RemoteClusterClient
	// +kubebuilder:validation:XValidation:rule="self == oldSelf",message="purpose is immutable"
	Purpose TrustPurpose `json:"purpose,omitempty"`

	// CertificateAuthority is the CA to trust.
	CertificateAuthority CertificateAuthoritySource `json:"certificateAuthority"`

	// RemoveWiringOnDelete removes the bundle's volume and setting from the
	// cluster's nodeSets when the last CA of the bundle goes, which
	// restarts the cluster. By default the wiring stays, so that the next
	// link does not restart it again.
	// +optional
	RemoveWiringOnDelete bool `json:"removeWiringOnDelete,omitempty"`
}

// RemoteClusterTrustObservation is the trust as the cluster shows it.
type RemoteClusterTrustObservation struct {
	// BundleSecretName is the eslink CA bundle Secret in the cluster's
	// namespace.
	// +optional
	BundleSecretName string `json:"bundleSecretName,omitempty"`
	// InBundle is true when the bundle holds this resource's CA.
	// +optional
	InBundle bool `json:"inBundle,omitempty"`
	// Mounted is true when every nodeSet mounts the bundle and lists it in
	// the purpose's certificate_authorities setting.
	// +optional
	Mounted bool `json:"mounted,omitempty"`
	// RolledOut is true once ECK has rolled the mount out to the nodes.
	// +optional
	RolledOut bool `json:"rolledOut,omitempty"`
	// Fingerprints are the SHA-256 fingerprints of the trusted CA
	// certificates.
	// +optional
	Fingerprints []string `json:"fingerprints,omitempty"`
}

// A RemoteClusterTrustSpec defines the desired state of a RemoteClusterTrust.
type RemoteClusterTrustSpec struct {
	xpv2.ManagedResourceSpec `json:",inline"`
	ForProvider              RemoteClusterTrustParameters `json:"forProvider"`
}

// A RemoteClusterTrustStatus represents the observed state of a RemoteClusterTrust.
type RemoteClusterTrustStatus struct {
	xpv2.ManagedResourceStatus `json:",inline"`
	AtProvider                 RemoteClusterTrustObservation `json:"atProvider,omitempty"`
}

// +kubebuilder:object:root=true

// A RemoteClusterTrust owns one CA in an ECK cluster's eslink CA bundle: a
// Secret in the cluster's namespace that every nodeSet mounts once and lists
// in the certificate_authorities setting of its purpose. Mounting it
// restarts the cluster once; later CAs change only the bundle, which
// Elasticsearch reloads in place. The transport layer's trust is never
// changed.
// +kubebuilder:printcolumn:name="READY",type="string",JSONPath=".status.conditions[?(@.type=='Ready')].status"
// +kubebuilder:printcolumn:name="SYNCED",type="string",JSONPath=".status.conditions[?(@.type=='Synced')].status"
// +kubebuilder:printcolumn:name="CLUSTER",type="string",JSONPath=".spec.forProvider.elasticsearchRef.name"
// +kubebuilder:printcolumn:name="PURPOSE",type="string",JSONPath=".spec.forProvider.purpose"
// +kubebuilder:printcolumn:name="AGE",type="date",JSONPath=".metadata.creationTimestamp"
// +kubebuilder:subresource:status
// +kubebuilder:resource:scope=Namespaced,categories={crossplane,managed,eslink}
type RemoteClusterTrust struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec   RemoteClusterTrustSpec   `json:"spec"`
	Status RemoteClusterTrustStatus `json:"status,omitempty"`
}

// +kubebuilder:object:root=true

// RemoteClusterTrustList contains a list of RemoteClusterTrust.
type RemoteClusterTrustList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []RemoteClusterTrust `json:"items"`
}

// RemoteClusterSigningParameters are the desired state of one alias's
// request signing on a local cluster.
type RemoteClusterSigningParameters struct {
	// ElasticsearchRef is the local ECK cluster that signs its requests to
	// the alias with its nodes' transport certificates. Immutable.
	// +kubebuilder:validation:XValidation:rule="self == oldSelf",message="elasticsearchRef is immutable: delete this resource and create a new one to sign on another cluster"
	ElasticsearchRef commonv1alpha1.ElasticsearchReference `json:"elasticsearchRef"`

	// Alias is the remote cluster alias whose requests are signed. Immutable.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=63
	// +kubebuilder:validation:Pattern=`^[a-zA-Z0-9][a-zA-Z0-9_-]*$`
	// +kubebuilder:validation:XValidation:rule="self == oldSelf",message="alias is immutable: delete this resource and create a new one for another alias"
	Alias string `json:"alias"`
}

// RemoteClusterSigningObservation is the signing configuration as the local
// cluster shows it.
type RemoteClusterSigningObservation struct {
	// Configured is true when every nodeSet holds the alias's signing
	// settings.
	// +optional
	Configured bool `json:"configured,omitempty"`
	// RolledOut is true once ECK has rolled the settings out to the nodes.
	// +optional
	RolledOut bool `json:"rolledOut,omitempty"`
	// SubjectPattern matches the subjects of the certificates the nodes
	// sign with: the default certificate identity for keys this cluster uses.
	// +optional
	SubjectPattern string `json:"subjectPattern,omitempty"`
}

// A RemoteClusterSigningSpec defines the desired state of a RemoteClusterSigning.
type RemoteClusterSigningSpec struct {
	xpv2.ManagedResourceSpec `json:",inline"`
	ForProvider              RemoteClusterSigningParameters `json:"forProvider"`
}

// A RemoteClusterSigningStatus represents the observed state of a RemoteClusterSigning.
type RemoteClusterSigningStatus struct {
	xpv2.ManagedResourceStatus `json:",inline"`
	AtProvider                 RemoteClusterSigningObservation `json:"atProvider,omitempty"`
}

// +kubebuilder:object:root=true

// A RemoteClusterSigning owns the settings cluster.remote.<alias>.signing.*
// in every nodeSet of a local ECK cluster: its nodes sign cross-cluster
// requests to the alias with their ECK transport certificates, so that a
// remote can bind a key to them (certificate_identity, Elasticsearch 9.3+).
// The settings name each node's own certificate file, which only the nodes'
// configuration can do, so adding or removing them restarts the cluster.
// +kubebuilder:printcolumn:name="READY",type="string",JSONPath=".status.conditions[?(@.type=='Ready')].status"
// +kubebuilder:printcolumn:name="SYNCED",type="string",JSONPath=".status.conditions[?(@.type=='Synced')].status"
// +kubebuilder:printcolumn:name="CLUSTER",type="string",JSONPath=".spec.forProvider.elasticsearchRef.name"
// +kubebuilder:printcolumn:name="ALIAS",type="string",JSONPath=".spec.forProvider.alias"
// +kubebuilder:printcolumn:name="AGE",type="date",JSONPath=".metadata.creationTimestamp"
// +kubebuilder:subresource:status
// +kubebuilder:resource:scope=Namespaced,categories={crossplane,managed,eslink}
type RemoteClusterSigning struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec   RemoteClusterSigningSpec   `json:"spec"`
	Status RemoteClusterSigningStatus `json:"status,omitempty"`
}

// +kubebuilder:object:root=true

// RemoteClusterSigningList contains a list of RemoteClusterSigning.
type RemoteClusterSigningList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []RemoteClusterSigning `json:"items"`
}
