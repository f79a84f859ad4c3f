package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	xpv2 "github.com/crossplane/crossplane/apis/v2/core/v2"

	commonv1alpha1 "github.com/eslink/eslink/apis/common/v1alpha1"
)

// RemoteClusterSettingsParameters are the desired proxy-mode connection
// settings of one remote cluster alias on a local cluster.
type RemoteClusterSettingsParameters struct {
	// ElasticsearchRef is the local ECK cluster whose cluster settings hold
	// the alias: the ECK-mode provider config reaches it, and it must grant
	// this resource's namespace. Immutable: moving it would leave the
	// settings behind on the old cluster.
	// +kubebuilder:validation:XValidation:rule="self == oldSelf",message="elasticsearchRef is immutable: delete this resource and create a new one to configure another cluster"
	ElasticsearchRef commonv1alpha1.ElasticsearchReference `json:"elasticsearchRef"`

	// Alias is the remote cluster alias (cluster.remote.<alias>). Immutable.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=63
	// +kubebuilder:validation:Pattern=`^[a-zA-Z0-9][a-zA-Z0-9_-]*$`
	// +kubebuilder:validation:XValidation:rule="self == oldSelf",message="alias is immutable: delete this resource and create a new one for another alias"
	Alias string `json:"alias"`

	// ProxyAddress is host:port of the remote's remote cluster server
	// (cluster.remote.<alias>.proxy_address).
	// +kubebuilder:validation:MaxLength=261
	// +kubebuilder:validation:Pattern=`^[^\s:/]+:[0-9]{1,5}$`
	ProxyAddress string `json:"proxyAddress"`

	// ServerName is the TLS server name the local cluster sends and
	// verifies (cluster.remote.<alias>.server_name).
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:validation:Pattern=`^[a-zA-Z0-9]([-a-zA-Z0-9.]*[a-zA-Z0-9])?$`
	ServerName string `json:"serverName"`

	// SkipUnavailable is cluster.remote.<alias>.skip_unavailable; unset
	// leaves Elasticsearch's default.
	// +optional
	SkipUnavailable *bool `json:"skipUnavailable,omitempty"`

	// RemoteElasticsearchRef is the remote ECK cluster the address belongs
	// to, when the remote is managed by ECK here: it must grant this
	// resource's namespace as well.
	// +optional
	RemoteElasticsearchRef *commonv1alpha1.ElasticsearchReference `json:"remoteElasticsearchRef,omitempty"`
}

// RemoteClusterSettingsObservation is the alias as the local cluster holds it.
type RemoteClusterSettingsObservation struct {
	// Settings are the alias's persistent settings this resource owns, as
	// Elasticsearch holds them (keys without the cluster.remote.<alias>.
	// prefix).
	// +optional
	Settings map[string]string `json:"settings,omitempty"`
}

// A RemoteClusterSettingsSpec defines the desired state of a RemoteClusterSettings.
type RemoteClusterSettingsSpec struct {
	xpv2.ManagedResourceSpec `json:",inline"`
	ForProvider              RemoteClusterSettingsParameters `json:"forProvider"`
}

// A RemoteClusterSettingsStatus represents the observed state of a RemoteClusterSettings.
type RemoteClusterSettingsStatus struct {
	xpv2.ManagedResourceStatus `json:",inline"`
	AtProvider                 RemoteClusterSettingsObservation `json:"atProvider,omitempty"`
}

// +kubebuilder:object:root=true

// A RemoteClusterSettings owns the proxy-mode connection settings of one
// alias on a local cluster (cluster.remote.<alias>.mode, proxy_address,
// server_name, skip_unavailable), as persistent cluster settings through the
// cluster's REST API. It records its ownership on the local ECK object,
// corrects drift, refuses an alias that ECK or a person configured, and
// nulls its settings when deleted.
// +kubebuilder:printcolumn:name="READY",type="string",JSONPath=".status.conditions[?(@.type=='Ready')].status"
// +kubebuilder:printcolumn:name="SYNCED",type="string",JSONPath=".status.conditions[?(@.type=='Synced')].status"
// +kubebuilder:printcolumn:name="CLUSTER",type="string",JSONPath=".spec.forProvider.elasticsearchRef.name"
// +kubebuilder:printcolumn:name="ALIAS",type="string",JSONPath=".spec.forProvider.alias"
// +kubebuilder:printcolumn:name="ADDRESS",type="string",JSONPath=".spec.forProvider.proxyAddress",priority=1
// +kubebuilder:printcolumn:name="AGE",type="date",JSONPath=".metadata.creationTimestamp"
// +kubebuilder:subresource:status
// +kubebuilder:resource:scope=Namespaced,categories={crossplane,managed,eslink}
type RemoteClusterSettings struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec   RemoteClusterSettingsSpec   `json:"spec"`
	Status RemoteClusterSettingsStatus `json:"status,omitempty"`
}

// +kubebuilder:object:root=true

// RemoteClusterSettingsList contains a list of RemoteClusterSettings.
type RemoteClusterSettingsList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []RemoteClusterSettings `json:"items"`
}

// RemoteClusterConnectivityParameters name the alias to watch.
type RemoteClusterConnectivityParameters struct {
	// ElasticsearchRef is the local ECK cluster to ask; it must grant this
	// resource's namespace.
	ElasticsearchRef commonv1alpha1.ElasticsearchReference `json:"elasticsearchRef"`

	// Alias is the remote cluster alias.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=63
	// +kubebuilder:validation:Pattern=`^[a-zA-Z0-9][a-zA-Z0-9_-]*$`
	Alias string `json:"alias"`
}

// RemoteClusterConnectivityObservation is the alias as the local cluster's
// GET /_remote/info reports it.
type RemoteClusterConnectivityObservation struct {
	// Configured is true when the local cluster knows the alias.
	// +optional
	Configured bool `json:"configured,omitempty"`
	// Connected is the alias's connected flag.
	// +optional
	Connected bool `json:"connected,omitempty"`
	// Mode is sniff or proxy.
	// +optional
	Mode string `json:"mode,omitempty"`
	// Addresses are the proxy address or the seeds.
	// +optional
	Addresses []string `json:"addresses,omitempty"`
	// ServerName is the proxy mode's server name.
	// +optional
	ServerName string `json:"serverName,omitempty"`
	// CredentialsConfigured is true when the local cluster holds
	// credentials for the alias (the API key security model).
	// +optional
	CredentialsConfigured bool `json:"credentialsConfigured,omitempty"`
	// Connections is the number of open proxy sockets or connected nodes.
	// +optional
	Connections int64 `json:"connections,omitempty"`
}

// A RemoteClusterConnectivitySpec defines the desired state of a RemoteClusterConnectivity.
type RemoteClusterConnectivitySpec struct {
	xpv2.ManagedResourceSpec `json:",inline"`
	ForProvider              RemoteClusterConnectivityParameters `json:"forProvider"`
}

// A RemoteClusterConnectivityStatus represents the observed state of a RemoteClusterConnectivity.
type RemoteClusterConnectivityStatus struct {
	xpv2.ManagedResourceStatus `json:",inline"`
	AtProvider                 RemoteClusterConnectivityObservation `json:"atProvider,omitempty"`
}

// +kubebuilder:object:root=true

// A RemoteClusterConnectivity observes whether a local cluster is connected
// to a remote cluster alias, from its GET /_remote/info. It never writes:
// it is Ready while the alias is connected.
// +kubebuilder:printcolumn:name="READY",type="string",JSONPath=".status.conditions[?(@.type=='Ready')].status"
// +kubebuilder:printcolumn:name="SYNCED",type="string",JSONPath=".status.conditions[?(@.type=='Synced')].status"
// +kubebuilder:printcolumn:name="CLUSTER",type="string",JSONPath=".spec.forProvider.elasticsearchRef.name"
// +kubebuilder:printcolumn:name="ALIAS",type="string",JSONPath=".spec.forProvider.alias"
// +kubebuilder:printcolumn:name="CONNECTED",type="boolean",JSONPath=".status.atProvider.connected"
// +kubebuilder:printcolumn:name="AGE",type="date",JSONPath=".metadata.creationTimestamp"
// +kubebuilder:subresource:status
// +kubebuilder:resource:scope=Namespaced,categories={crossplane,managed,eslink}
type RemoteClusterConnectivity struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec   RemoteClusterConnectivitySpec   `json:"spec"`
	Status RemoteClusterConnectivityStatus `json:"status,omitempty"`
}

// +kubebuilder:object:root=true

// RemoteClusterConnectivityList contains a list of RemoteClusterConnectivity.
type RemoteClusterConnectivityList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []RemoteClusterConnectivity `json:"items"`
}
