package conditions

import xpv2 "github.com/crossplane/crossplane/apis/v2/core/v2"

// The reasons of the Ready condition that eslink's controllers set beyond
// the blocked ones above (ReasonTargetNotFound and its kin) and
// crossplane-runtime's own. Users, alerts and the function match on these
// strings: each is spelled here once and nowhere else.

// Reasons of a change that waits for ECK or for another resource.
const (
	// ReasonRollingOut says a change waits for ECK to restart the nodes.
	ReasonRollingOut xpv2.ConditionReason = "RollingOut"
	// ReasonWaitingForKey says the credentials wait for the key they deliver.
	ReasonWaitingForKey xpv2.ConditionReason = "WaitingForKey"
	// ReasonWaitingForSettings says the alias's connection settings are
	// not this link's (yet), so the key is not delivered.
	ReasonWaitingForSettings xpv2.ConditionReason = "WaitingForSettings"
)

// Reasons of RemoteClusterCredentials.
const (
	ReasonAPIKeySecretInvalid xpv2.ConditionReason = "APIKeySecretInvalid"
	ReasonFileSettingsFailed  xpv2.ConditionReason = "FileSettingsFailed"
)

// Reasons of RemoteClusterTrust.
const (
	// ReasonCANotInBundle says the bundle lacks this resource's CA.
	ReasonCANotInBundle xpv2.ConditionReason = "CANotInBundle"
	// ReasonBundleNotMounted says the nodes do not mount the bundle.
	ReasonBundleNotMounted xpv2.ConditionReason = "BundleNotMounted"
)

// Reasons of RemoteClusterConnectivity.
const (
	ReasonConnected          xpv2.ConditionReason = "Connected"
	ReasonNotConnected       xpv2.ConditionReason = "NotConnected"
	ReasonAliasNotConfigured xpv2.ConditionReason = "AliasNotConfigured"
	// ReasonAliasNotOwned says the alias is not this resource's link's, so
	// nothing about it is shown.
	ReasonAliasNotOwned xpv2.ConditionReason = "AliasNotOwned"
)

// Reasons of CrossClusterAPIKey a person can act on.
const (
	ReasonClusterChanged      xpv2.ConditionReason = "ClusterChanged"
	ReasonKeyNotFound         xpv2.ConditionReason = "KeyNotFound"
	ReasonAmbiguousKey        xpv2.ConditionReason = "AmbiguousKey"
	ReasonKeyInvalidated      xpv2.ConditionReason = "KeyInvalidated"
	ReasonAccessMismatch      xpv2.ConditionReason = "AccessMismatch"
	ReasonKeyNotOwned         xpv2.ConditionReason = "KeyNotOwned"
	ReasonPoliciesRefused     xpv2.ConditionReason = "ManagementPoliciesRefused"
	ReasonConnectionSecretBad xpv2.ConditionReason = "ConnectionSecretInvalid"
)

// Reasons of an error no more specific reason explains: the fallbacks of
// the controllers that classify Elasticsearch's errors
// (elasticsearch.ReasonOf) themselves, beside crossplane-runtime's
// xpv2.ReasonReconcileError.
const (
	// ReasonProviderConfigError says the provider config or what it points
	// at (URL, credentials, CA) cannot be used.
	ReasonProviderConfigError xpv2.ConditionReason = "ProviderConfigError"
	ReasonElasticsearchError  xpv2.ConditionReason = "ElasticsearchError"
)
