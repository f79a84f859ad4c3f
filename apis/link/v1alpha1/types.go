package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	commonv1alpha1 "github.com/eslink/eslink/apis/common/v1alpha1"
)

// SecurityModel is how the local cluster authenticates to the remote.
// +kubebuilder:validation:Enum=APIKey;Certificate
type SecurityModel string

// Security models.
const (
	// SecurityModelAPIKey uses a cross-cluster API key and the remote
	// cluster server port (9443).
	SecurityModelAPIKey SecurityModel = "APIKey"
	// SecurityModelCertificate uses mutual TLS on the transport port (9300).
	// Deprecated upstream since Elasticsearch 9.0.
	SecurityModelCertificate SecurityModel = "Certificate"
)

// Flow is the rendering a link gets, written by the function to
// status.flow.
// +kubebuilder:validation:Enum=ECKAPIKey;Certificate;ProviderAPIKey
type Flow string

// Flows, as docs/flows.md describes them.
const (
	// FlowECKAPIKey: ECK creates the cross-cluster API key on an ECK
	// remote and wires the local cluster (securityModel APIKey,
	// keyManagement ECK).
	FlowECKAPIKey Flow = "ECKAPIKey"
	// FlowCertificate: mutual TLS on the transport port, no key
	// (securityModel Certificate).
	FlowCertificate Flow = "Certificate"
	// FlowProviderAPIKey: the provider owns the key and wires the local
	// cluster entry by entry (keyManagement Provider, or a remote outside
	// ECK).
	FlowProviderAPIKey Flow = "ProviderAPIKey"
)

// KeyManagement is who owns the cross-cluster API key.
// +kubebuilder:validation:Enum=ECK;Provider
type KeyManagement string

// Key management modes.
const (
	// KeyManagementECK lets ECK create and update the key; eslink observes it.
	KeyManagementECK KeyManagement = "ECK"
	// KeyManagementProvider lets the eslink provider own the key's whole life,
	// which allows expiration, rotation and certificate identity.
	KeyManagementProvider KeyManagement = "Provider"
)

// LocalCluster is the cluster that queries the remote.
type LocalCluster struct {
	// ElasticsearchRef is the ECK Elasticsearch object of the local cluster.
	ElasticsearchRef commonv1alpha1.ElasticsearchReference `json:"elasticsearchRef"`
}

// ProviderConfigReference selects the provider config used to reach a
// cluster's Elasticsearch API.
type ProviderConfigReference struct {
	// Kind is ProviderConfig (in the link's namespace) or
	// ClusterProviderConfig.
	// +kubebuilder:validation:Enum=ProviderConfig;ClusterProviderConfig
	Kind string `json:"kind"`

	// Name of the provider config.
	// +kubebuilder:validation:MinLength=1
	Name string `json:"name"`
}

// ExternalCluster is a remote cluster that ECK does not manage here.
type ExternalCluster struct {
	// Address is host:port of the remote's remote cluster server
	// (port 9443 by default) used in proxy mode.
	// +kubebuilder:validation:Pattern=`^[^\s:]+:[0-9]{1,5}$`
	Address string `json:"address"`

	// ServerName is the TLS server name to verify on the remote cluster
	// server. Defaults to the host of address.
	// +optional
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:validation:Pattern=`^[a-zA-Z0-9]([-a-zA-Z0-9.]*[a-zA-Z0-9])?$`
	ServerName string `json:"serverName,omitempty"`

	// CASecretRef is a Secret in the link's namespace holding the PEM CA
	// certificate(s) that signed the remote cluster server's certificate.
	// The local cluster trusts it for remote cluster connections only,
	// never for its transport layer.
	CASecretRef SecretKeySelector `json:"caSecretRef"`

	// ProviderConfigRef reaches the remote's Elasticsearch REST API, where
	// the provider creates the cross-cluster API key. Its user needs the
	// cluster privileges manage_security and monitor: an API key cannot
	// create cross-cluster API keys.
	ProviderConfigRef ProviderConfigReference `json:"providerConfigRef"`
}

// SecretKeySelector names one key of a Secret in the link's namespace.
type SecretKeySelector struct {
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

// CertificateIdentity binds the link's key to the certificate the local
// cluster signs its requests with (Elasticsearch 9.3+ on both clusters).
type CertificateIdentity struct {
	// Pattern is a regular expression the subject DN of the local cluster's
	// signing certificate must match, as Elasticsearch's
	// certificate_identity. When empty, the pattern matches the subjects
	// of the local cluster's ECK transport certificates, which its nodes
	// sign with.
	// +optional
	// +kubebuilder:validation:MaxLength=1024
	Pattern string `json:"pattern,omitempty"`
}

// RemoteCluster is the cluster that serves the data.
// +kubebuilder:validation:XValidation:rule="has(self.elasticsearchRef) != has(self.external)",message="set exactly one of remote.elasticsearchRef (an ECK cluster) or remote.external (a cluster outside ECK)"
type RemoteCluster struct {
	// ElasticsearchRef is the ECK Elasticsearch object of the remote.
	// +optional
	ElasticsearchRef *commonv1alpha1.ElasticsearchReference `json:"elasticsearchRef,omitempty"`

	// External describes a remote outside ECK. Requires keyManagement
	// Provider.
	// +optional
	External *ExternalCluster `json:"external,omitempty"`

	// ProviderConfigRef overrides the provider config used to reach an ECK
	// remote's Elasticsearch API (to observe or own its key). Defaults to the
	// function input's remoteProviderConfigRef.
	// +optional
	ProviderConfigRef *ProviderConfigReference `json:"providerConfigRef,omitempty"`
}

// XRemoteClusterLinkSpec is what an application team asks for.
// +kubebuilder:validation:XValidation:rule="self.securityModel == 'Certificate' || has(self.access)",message="access is required with securityModel APIKey: say what the link may search or replicate"
// +kubebuilder:validation:XValidation:rule="self.securityModel != 'Certificate' || !has(self.access)",message="access is not allowed with securityModel Certificate: the certificate model grants what the remote's roles allow; remove access or use APIKey"
// +kubebuilder:validation:XValidation:rule="self.securityModel != 'Certificate' || !has(self.remote.external)",message="securityModel Certificate needs an ECK remote (remote.elasticsearchRef)"
// +kubebuilder:validation:XValidation:rule="!has(self.keyManagement) || self.keyManagement != 'ECK' || (!has(self.expiration) && !has(self.rotateBefore) && !has(self.certificateIdentity))",message="expiration, rotateBefore and certificateIdentity need keyManagement Provider: ECK cannot expire, rotate or bind keys"
// +kubebuilder:validation:XValidation:rule="!has(self.rotateBefore) || has(self.expiration)",message="rotateBefore needs expiration: a key that never expires is never rotated",fieldPath=".rotateBefore"
// +kubebuilder:validation:XValidation:rule="!has(self.rotateBefore) || !has(self.expiration) || !self.expiration.matches('^[0-9]+(nanos|micros|ms|s|m|h|d)$') || !self.rotateBefore.matches('^[0-9]+(nanos|micros|ms|s|m|h|d)$') || double(self.rotateBefore.find('^[0-9]+')) * {'nanos': 0.000000001, 'micros': 0.000001, 'ms': 0.001, 's': 1.0, 'm': 60.0, 'h': 3600.0, 'd': 86400.0}[self.rotateBefore.find('[a-z]+$')] < double(self.expiration.find('^[0-9]+')) * {'nanos': 0.000000001, 'micros': 0.000001, 'ms': 0.001, 's': 1.0, 'm': 60.0, 'h': 3600.0, 'd': 86400.0}[self.expiration.find('[a-z]+$')]",message="rotateBefore must be shorter than expiration: the key would be due for replacement as soon as it is created",fieldPath=".rotateBefore"
type XRemoteClusterLinkSpec struct {
	// Alias is the remote cluster alias on the local cluster
	// (cluster.remote.<alias>), used in queries as <alias>:<index>.
	// Defaults to metadata.name, which must then be a valid alias.
	// +optional
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=63
	// +kubebuilder:validation:Pattern=`^[a-zA-Z0-9][a-zA-Z0-9_-]*$`
	Alias string `json:"alias,omitempty"`

	// Local is the cluster that runs the queries.
	Local LocalCluster `json:"local"`

	// Remote is the cluster that serves the data.
	Remote RemoteCluster `json:"remote"`

	// SecurityModel is APIKey (default) or Certificate (deprecated upstream
	// since 9.0, ECK remotes only).
	// +optional
	// +kubebuilder:default=APIKey
	SecurityModel SecurityModel `json:"securityModel,omitempty"`

	// KeyManagement is ECK (the default for ECK remotes) or Provider (the
	// default and only choice for external remotes).
	// +optional
	KeyManagement KeyManagement `json:"keyManagement,omitempty"`

	// Access is what the link may do on the remote.
	// +optional
	Access *commonv1alpha1.LinkAccess `json:"access,omitempty"`

	// Expiration is the key's lifetime as an Elasticsearch duration such as
	// 30d; at least the platform's minimum key lifetime (1d unless the
	// platform team sets another). keyManagement Provider only.
	// +optional
	// +kubebuilder:validation:MaxLength=32
	// +kubebuilder:validation:Pattern=`^[0-9]+(nanos|micros|ms|s|m|h|d)$`
	Expiration string `json:"expiration,omitempty"`

	// RotateBefore replaces the key this long before it expires. Shorter
	// than expiration, and expiration minus rotateBefore at least the
	// platform's minimum key lifetime. keyManagement Provider only.
	// +optional
	// +kubebuilder:validation:MaxLength=32
	// +kubebuilder:validation:Pattern=`^[0-9]+(nanos|micros|ms|s|m|h|d)$`
	RotateBefore string `json:"rotateBefore,omitempty"`

	// CertificateIdentity binds the key to the local cluster's signing
	// certificate (Elasticsearch 9.3+ on both clusters): {} for the
	// subjects of its ECK transport certificates, or {pattern: ...}.
	// keyManagement Provider only.
	// +optional
	CertificateIdentity *CertificateIdentity `json:"certificateIdentity,omitempty"`
}

// APIKeyStatus is the link's key as the remote holds it.
type APIKeyStatus struct {
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
	// Invalidated is true when the key can no longer be used.
	// +optional
	Invalidated bool `json:"invalidated,omitempty"`
	// AccessMatches is true when the key grants exactly the requested access.
	// +optional
	AccessMatches bool `json:"accessMatches,omitempty"`
	// NextRotation is when the provider replaces the key; empty when it is
	// never rotated.
	// +optional
	NextRotation *metav1.Time `json:"nextRotation,omitempty"`
	// AwaitingHandoverKeyID is the key this one replaced, still valid until
	// the local cluster has taken this one up.
	// +optional
	AwaitingHandoverKeyID string `json:"awaitingHandoverKeyID,omitempty"`
}

// LocalWiringStatus is how far the local cluster is wired to use a key the
// provider owns (flow 3).
type LocalWiringStatus struct {
	// Credentials is Delivered once the local cluster has loaded the
	// current key, Rotating while it still uses the key being replaced,
	// Pending before it loaded any.
	// +optional
	Credentials string `json:"credentials,omitempty"`
	// KeyID is the key the local cluster has loaded.
	// +optional
	KeyID string `json:"keyID,omitempty"`
	// SecureSettings is how ECK delivers the key: Keystore or
	// FileBasedSecureSettings.
	// +optional
	SecureSettings string `json:"secureSettings,omitempty"`
	// RotationRestartsLocal is true when each key rotation restarts the
	// local cluster (keystore delivery).
	// +optional
	RotationRestartsLocal *bool `json:"rotationRestartsLocal,omitempty"`
	// ConnectionSettings is Present once the alias's proxy settings are
	// set on the local cluster, Pending before.
	// +optional
	ConnectionSettings string `json:"connectionSettings,omitempty"`
	// Trust is Present once the local cluster trusts the remote cluster
	// server's CA, Pending before.
	// +optional
	Trust string `json:"trust,omitempty"`
	// Signing is Present once the local cluster signs its requests to the
	// alias, Pending before, NotRequired without certificateIdentity.
	// +optional
	Signing string `json:"signing,omitempty"`
}

// XRemoteClusterLinkStatus is written by the function from observed resources.
type XRemoteClusterLinkStatus struct {
	// Alias in effect on the local cluster.
	// +optional
	Alias string `json:"alias,omitempty"`
	// Flow is the rendering in effect: ECKAPIKey, Certificate or ProviderAPIKey.
	// +optional
	Flow Flow `json:"flow,omitempty"`
	// APIKey is the key as the remote holds it.
	// +optional
	APIKey *APIKeyStatus `json:"apiKey,omitempty"`
	// RemoteClusterServer is Enabled, Pending or NotRequired.
	// +optional
	RemoteClusterServer string `json:"remoteClusterServer,omitempty"`
	// RemoteClusterEntry is Present, Pending or NotRequired.
	// +optional
	RemoteClusterEntry string `json:"remoteClusterEntry,omitempty"`
	// Local is the local cluster's wiring for a key the provider owns.
	// +optional
	Local *LocalWiringStatus `json:"local,omitempty"`
	// Connected is the alias's connected flag in the local cluster's
	// GET /_remote/info; the link is Ready only while it is true.
	// +optional
	Connected *bool `json:"connected,omitempty"`
}

// XRemoteClusterLink links a local Elasticsearch cluster to a remote one.
// It is served through an XRD, not as a CRD: the type exists so the XRD
// schema is generated from Go.
// +kubebuilder:object:root=true
// +kubebuilder:resource:scope=Namespaced
type XRemoteClusterLink struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec   XRemoteClusterLinkSpec   `json:"spec"`
	Status XRemoteClusterLinkStatus `json:"status,omitempty"`
}
