package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	xpv2 "github.com/crossplane/crossplane/apis/v2/core/v2"

	commonv1alpha1 "github.com/eslink/eslink/apis/common/v1alpha1"
)

// ECKEndpoint derives the connection from ECK's conventions: the URL
// https://<name>-es-http.<namespace>.svc:9200, the elastic user from the
// Secret <name>-es-elastic-user and the CA from <name>-es-http-certs-public.
type ECKEndpoint struct {
	// ElasticsearchRef fixes the cluster. When empty, the cluster is the one
	// each managed resource targets (its forProvider.elasticsearchRef), after
	// the authorization check.
	// +optional
	ElasticsearchRef *commonv1alpha1.ElasticsearchReference `json:"elasticsearchRef,omitempty"`

	// URLOverride replaces the in-cluster URL, for a provider running outside
	// the cluster. It may contain {name} and {namespace}, replaced with the
	// target's. Credentials and CA still come from ECK's Secrets.
	// +optional
	URLOverride string `json:"urlOverride,omitempty"`

	// AllowInsecureHTTP lets the provider send the elastic user's password
	// over an http:// urlOverride, in clear. Every managed resource that
	// uses the config then carries an InsecureConnection condition.
	// +optional
	AllowInsecureHTTP bool `json:"allowInsecureHTTP,omitempty"`
}

// CredentialsType is how the provider authenticates to Elasticsearch.
// +kubebuilder:validation:Enum=Basic;APIKey
type CredentialsType string

// Credentials types.
const (
	// CredentialsBasic reads the keys username and password.
	CredentialsBasic CredentialsType = "Basic"
	// CredentialsAPIKey reads the key api_key, an encoded REST API key.
	CredentialsAPIKey CredentialsType = "APIKey"
)

// TLS configures trust in the Elasticsearch HTTP certificate. Verification is
// on unless insecureSkipVerify is set.
// +kubebuilder:validation:XValidation:rule="!(has(self.insecureSkipVerify) && self.insecureSkipVerify && has(self.certificateFingerprint))",message="set certificateFingerprint or insecureSkipVerify, not both: a pinned certificate is always checked"
type TLS struct {
	// CertificateFingerprint pins the SHA-256 fingerprint (hex) of the
	// server's own certificate, which must then be presented exactly, or of
	// a CA certificate, which must then sign a chain that verifies for the
	// URL's host. With a CA Secret as well, the chain must verify against
	// that CA and contain the pinned certificate.
	// +optional
	// +kubebuilder:validation:Pattern=`^([0-9a-fA-F]{2}:?){31}[0-9a-fA-F]{2}$`
	CertificateFingerprint string `json:"certificateFingerprint,omitempty"`

	// InsecureSkipVerify turns certificate verification off. Never use it in
	// production.
	// +optional
	InsecureSkipVerify bool `json:"insecureSkipVerify,omitempty"`
}

// LocalSecretKeyRef names a key of a Secret in the provider config's namespace.
type LocalSecretKeyRef struct {
	// Name of the Secret.
	// +kubebuilder:validation:MinLength=1
	Name string `json:"name"`
	// Key in the Secret.
	// +optional
	Key string `json:"key,omitempty"`
}

// SecretKeyRef names a key of a Secret in any namespace.
type SecretKeyRef struct {
	// Name of the Secret.
	// +kubebuilder:validation:MinLength=1
	Name string `json:"name"`
	// Namespace of the Secret.
	// +kubebuilder:validation:MinLength=1
	Namespace string `json:"namespace"`
	// Key in the Secret.
	// +optional
	Key string `json:"key,omitempty"`
}

// URLEndpoint is an explicit connection for a namespaced ProviderConfig;
// its Secrets are read from the config's own namespace only.
type URLEndpoint struct {
	// URL of the Elasticsearch HTTP API.
	// +kubebuilder:validation:Pattern=`^https?://`
	URL string `json:"url"`
	// CredentialsType selects basic auth or an API key.
	// +kubebuilder:default=Basic
	CredentialsType CredentialsType `json:"credentialsType,omitempty"`
	// CredentialsSecretRef holds username and password (Basic) or api_key
	// (APIKey). The key field is ignored.
	CredentialsSecretRef LocalSecretKeyRef `json:"credentialsSecretRef"`
	// CASecretRef holds the CA certificate (key defaults to ca.crt).
	// +optional
	CASecretRef *LocalSecretKeyRef `json:"caSecretRef,omitempty"`
	// TLS options.
	// +optional
	TLS *TLS `json:"tls,omitempty"`
	// AllowInsecureHTTP lets the provider send the credentials over an
	// http:// URL, in clear. Every managed resource that uses the config then
	// carries an InsecureConnection condition.
	// +optional
	AllowInsecureHTTP bool `json:"allowInsecureHTTP,omitempty"`
}

// ClusterURLEndpoint is an explicit connection for a ClusterProviderConfig.
type ClusterURLEndpoint struct {
	// URL of the Elasticsearch HTTP API.
	// +kubebuilder:validation:Pattern=`^https?://`
	URL string `json:"url"`
	// CredentialsType selects basic auth or an API key.
	// +kubebuilder:default=Basic
	CredentialsType CredentialsType `json:"credentialsType,omitempty"`
	// CredentialsSecretRef holds username and password (Basic) or api_key
	// (APIKey). The key field is ignored.
	CredentialsSecretRef SecretKeyRef `json:"credentialsSecretRef"`
	// CASecretRef holds the CA certificate (key defaults to ca.crt).
	// +optional
	CASecretRef *SecretKeyRef `json:"caSecretRef,omitempty"`
	// TLS options.
	// +optional
	TLS *TLS `json:"tls,omitempty"`
	// AllowInsecureHTTP lets the provider send the credentials over an
	// http:// URL, in clear. Every managed resource that uses the config then
	// carries an InsecureConnection condition.
	// +optional
	AllowInsecureHTTP bool `json:"allowInsecureHTTP,omitempty"`
}

// ProviderConfigSpec reaches one Elasticsearch cluster.
// +kubebuilder:validation:XValidation:rule="has(self.eck) != has(self.endpoint)",message="set exactly one of eck or endpoint"
type ProviderConfigSpec struct {
	// ECK derives the connection from an ECK cluster in this namespace.
	// +optional
	ECK *ECKEndpoint `json:"eck,omitempty"`
	// Endpoint is an explicit URL and credentials.
	// +optional
	Endpoint *URLEndpoint `json:"endpoint,omitempty"`
}

// ClusterProviderConfigSpec reaches one cluster, or, in ECK mode without an
// elasticsearchRef, whichever ECK cluster a managed resource targets.
// +kubebuilder:validation:XValidation:rule="has(self.eck) != has(self.endpoint)",message="set exactly one of eck or endpoint"
type ClusterProviderConfigSpec struct {
	// AllowedNamespaces lists the namespaces whose managed resources may
	// use this config; "*" allows every namespace. Empty allows none: a
	// config is a credential, and an ECK-mode config reaches a cluster only
	// when, in addition, the cluster's Elasticsearch object grants the
	// namespace.
	// +optional
	// +listType=set
	AllowedNamespaces []string `json:"allowedNamespaces,omitempty"`
	// ECK derives the connection from ECK's Secrets.
	// +optional
	ECK *ECKEndpoint `json:"eck,omitempty"`
	// Endpoint is an explicit URL and credentials.
	// +optional
	Endpoint *ClusterURLEndpoint `json:"endpoint,omitempty"`
}

// A ProviderConfigStatus is the status of a provider config.
type ProviderConfigStatus struct {
	xpv2.ProviderConfigStatus `json:",inline"`
}

// +kubebuilder:object:root=true
// +kubebuilder:storageversion
// +kubebuilder:subresource:status
// +kubebuilder:printcolumn:name="AGE",type="date",JSONPath=".metadata.creationTimestamp"
// +kubebuilder:printcolumn:name="URL",type="string",JSONPath=".spec.endpoint.url",priority=1
// +kubebuilder:resource:scope=Namespaced,categories={crossplane,provider,eslink}

// A ProviderConfig tells the provider how to reach one Elasticsearch cluster
// for managed resources in its namespace.
type ProviderConfig struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec   ProviderConfigSpec   `json:"spec"`
	Status ProviderConfigStatus `json:"status,omitempty"`
}

// +kubebuilder:object:root=true

// ProviderConfigList contains a list of ProviderConfig.
type ProviderConfigList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []ProviderConfig `json:"items"`
}

// +kubebuilder:object:root=true
// +kubebuilder:storageversion
// +kubebuilder:printcolumn:name="AGE",type="date",JSONPath=".metadata.creationTimestamp"
// +kubebuilder:printcolumn:name="CONFIG-NAME",type="string",JSONPath=".providerConfigRef.name"
// +kubebuilder:printcolumn:name="RESOURCE-KIND",type="string",JSONPath=".resourceRef.kind"
// +kubebuilder:printcolumn:name="RESOURCE-NAME",type="string",JSONPath=".resourceRef.name"
// +kubebuilder:resource:scope=Namespaced,categories={crossplane,provider,eslink}

// A ProviderConfigUsage records that a managed resource uses a ProviderConfig.
type ProviderConfigUsage struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	xpv2.TypedProviderConfigUsage `json:",inline"`
}

// +kubebuilder:object:root=true

// ProviderConfigUsageList contains a list of ProviderConfigUsage.
type ProviderConfigUsageList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []ProviderConfigUsage `json:"items"`
}

// +kubebuilder:object:root=true
// +kubebuilder:storageversion
// +kubebuilder:subresource:status
// +kubebuilder:printcolumn:name="AGE",type="date",JSONPath=".metadata.creationTimestamp"
// +kubebuilder:printcolumn:name="URL",type="string",JSONPath=".spec.endpoint.url",priority=1
// +kubebuilder:resource:scope=Cluster,categories={crossplane,provider,eslink}

// A ClusterProviderConfig tells the provider how to reach Elasticsearch for
// managed resources in any namespace.
type ClusterProviderConfig struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec   ClusterProviderConfigSpec `json:"spec"`
	Status ProviderConfigStatus      `json:"status,omitempty"`
}

// +kubebuilder:object:root=true

// ClusterProviderConfigList contains a list of ClusterProviderConfig.
type ClusterProviderConfigList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []ClusterProviderConfig `json:"items"`
}

// +kubebuilder:object:root=true
// +kubebuilder:storageversion
// +kubebuilder:printcolumn:name="AGE",type="date",JSONPath=".metadata.creationTimestamp"
// +kubebuilder:printcolumn:name="CONFIG-NAME",type="string",JSONPath=".providerConfigRef.name"
// +kubebuilder:printcolumn:name="RESOURCE-KIND",type="string",JSONPath=".resourceRef.kind"
// +kubebuilder:printcolumn:name="RESOURCE-NAME",type="string",JSONPath=".resourceRef.name"
// +kubebuilder:resource:scope=Namespaced,categories={crossplane,provider,eslink}

// A ClusterProviderConfigUsage records that a managed resource uses a
// ClusterProviderConfig. It lives in the managed resource's namespace.
type ClusterProviderConfigUsage struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	xpv2.TypedProviderConfigUsage `json:",inline"`
}

// +kubebuilder:object:root=true

// ClusterProviderConfigUsageList contains a list of ClusterProviderConfigUsage.
type ClusterProviderConfigUsageList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []ClusterProviderConfigUsage `json:"items"`
}
