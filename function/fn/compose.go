package fn

import (
	"fmt"
	"net"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"

	xpv2 "github.com/crossplane/crossplane/apis/v2/core/v2"
	"github.com/crossplane/function-sdk-go/resource"
	"github.com/crossplane/function-sdk-go/resource/composed"

	commonv1alpha1 "github.com/eslink/eslink/apis/common/v1alpha1"
	eckv1alpha1 "github.com/eslink/eslink/apis/eck/v1alpha1"
	esv1alpha1 "github.com/eslink/eslink/apis/elasticsearch/v1alpha1"
	fnv1beta1 "github.com/eslink/eslink/apis/fn/v1beta1"
	linkv1alpha1 "github.com/eslink/eslink/apis/link/v1alpha1"
	"github.com/eslink/eslink/internal/linkrules"
)

// Composition resource names. They are stable: renaming one makes
// Crossplane delete the old resource and create a new one.
const (
	nameServer       = resource.Name("remote-cluster-server")
	nameEntry        = resource.Name("remote-cluster-entry")
	nameKey          = resource.Name("cross-cluster-api-key")
	nameConnectivity = resource.Name("remote-cluster-connectivity")
	nameCredentials  = resource.Name("remote-cluster-credentials")
	nameSettings     = resource.Name("remote-cluster-settings")
	nameTrust        = resource.Name("remote-cluster-trust")
	nameSigning      = resource.Name("remote-cluster-signing")
	nameSigningTrust = resource.Name("remote-signing-trust")
)

// resourceOrder is the order in which the link's parts are reported.
var resourceOrder = []resource.Name{
	nameServer, nameEntry, nameKey, nameCredentials, nameTrust, nameSigning, nameSigningTrust, nameSettings, nameConnectivity,
}

// defaultProviderConfig is the ECK-mode config that derives endpoint and
// credentials from the ECK object a resource targets.
var defaultProviderConfig = linkv1alpha1.ProviderConfigReference{Kind: "ClusterProviderConfig", Name: "eck"}

// composeState is what rendering needs beyond the link: the local cluster
// (its certificates give the default certificate identity) and the key the
// local cluster has taken up, which lets the key it replaced go.
type composeState struct {
	Local        *unstructured.Unstructured
	TakenUpKeyID string
}

// compose renders the managed resources of the link's flow.
func compose(l *link, in *fnv1beta1.Input, st composeState) (map[resource.Name]*composed.Unstructured, error) {
	out := map[resource.Name]runtime.Object{}
	switch l.Flow {
	case linkv1alpha1.FlowECKAPIKey:
		out[nameServer] = server(l, in)
		out[nameEntry] = entry(l, &eckv1alpha1.RemoteClusterAPIKey{Access: *l.Spec.Access})
		out[nameKey] = observedECKKey(l, in)
	case linkv1alpha1.FlowCertificate:
		out[nameEntry] = entry(l, nil)
	case linkv1alpha1.FlowProviderAPIKey:
		if l.Remote != nil {
			out[nameServer] = server(l, in)
		}
		out[nameKey] = ownedKey(l, in, st)
		out[nameCredentials] = credentials(l, in)
		out[nameSettings] = settings(l, in)
		out[nameTrust] = clientTrust(l)
		if l.Spec.CertificateIdentity != nil {
			out[nameSigning] = signing(l)
			if l.Remote != nil {
				out[nameSigningTrust] = signingTrust(l)
			}
		}
	}
	out[nameConnectivity] = connectivity(l, in)
	res := make(map[resource.Name]*composed.Unstructured, len(out))
	for name, obj := range out {
		m, err := runtime.DefaultUnstructuredConverter.ToUnstructured(obj)
		if err != nil {
			return nil, fmt.Errorf("cannot render %s for link %s/%s: %w", name, l.Namespace, l.Name, err)
		}
		// A desired resource carries no status, and no zero-valued
		// metadata that server-side apply would then claim to own.
		delete(m, "status")
		if md, ok := m["metadata"].(map[string]any); ok {
			delete(md, "creationTimestamp")
		}
		res[name] = &composed.Unstructured{Unstructured: unstructured.Unstructured{Object: m}}
	}
	return res, nil
}

func server(l *link, in *fnv1beta1.Input) *eckv1alpha1.RemoteClusterServer {
	s := &eckv1alpha1.RemoteClusterServer{}
	s.SetGroupVersionKind(eckv1alpha1.RemoteClusterServerGroupVersionKind)
	s.SetNamespace(l.Namespace)
	s.Spec.ForProvider = eckv1alpha1.RemoteClusterServerParameters{
		ElasticsearchRef: *l.Remote,
		DisableOnDelete:  in.DisableRemoteClusterServerOnDelete,
	}
	return s
}

func entry(l *link, key *eckv1alpha1.RemoteClusterAPIKey) *eckv1alpha1.RemoteClusterEntry {
	e := &eckv1alpha1.RemoteClusterEntry{}
	e.SetGroupVersionKind(eckv1alpha1.RemoteClusterEntryGroupVersionKind)
	e.SetNamespace(l.Namespace)
	e.Spec.ForProvider = eckv1alpha1.RemoteClusterEntryParameters{
		ElasticsearchRef:       l.Local,
		Alias:                  l.Alias,
		RemoteElasticsearchRef: *l.Remote,
		APIKey:                 key,
	}
	return e
}

// eckKeyName is the name ECK gives the key it creates for an entry
// (pkg/controller/remotecluster/apikey.go).
func eckKeyName(l *link) string {
	return fmt.Sprintf("eck-%s-%s-%s", l.Local.Namespace, l.Local.Name, l.Alias)
}

// ownedKeyName is the name of a key the provider owns; the eslink prefix
// keeps it apart from ECK's eck-* keys, which ECK garbage-collects.
func ownedKeyName(l *link) string {
	return fmt.Sprintf("eslink-%s-%s-%s", l.Namespace, l.Name, l.Alias)
}

// keySecretName is the connection Secret of an owned key, in the link's
// namespace: the credentials resource delivers what it holds.
func keySecretName(l *link) string { return l.Name + "-api-key" }

func observedECKKey(l *link, in *fnv1beta1.Input) *esv1alpha1.CrossClusterAPIKey {
	k := key(l, in, eckKeyName(l))
	k.Spec.ManagementPolicies = xpv2.ManagementPolicies{xpv2.ManagementActionObserve}
	return k
}

func ownedKey(l *link, in *fnv1beta1.Input, st composeState) *esv1alpha1.CrossClusterAPIKey {
	k := key(l, in, ownedKeyName(l))
	if l.Spec.Expiration != "" {
		k.Spec.ForProvider.Expiration = &l.Spec.Expiration
	}
	if l.Spec.RotateBefore != "" {
		k.Spec.ForProvider.RotateBefore = &l.Spec.RotateBefore
	}
	if pattern := certificateIdentity(l, st.Local); pattern != "" {
		k.Spec.ForProvider.CertificateIdentity = &pattern
	}
	// A replaced key stays valid until the local cluster has loaded its
	// successor: only then does a rotation cut nothing off.
	k.Spec.ForProvider.Handover = &esv1alpha1.KeyHandover{ConsumerKeyID: st.TakenUpKeyID}
	k.Spec.WriteConnectionSecretToReference = &xpv2.LocalSecretReference{Name: keySecretName(l)}
	return k
}

// certificateIdentity is the pattern the key is bound to: the link's own,
// or one matching the local cluster's ECK transport certificates, which its
// nodes sign with. Empty without certificateIdentity.
func certificateIdentity(l *link, local *unstructured.Unstructured) string {
	ci := l.Spec.CertificateIdentity
	switch {
	case ci == nil:
		return ""
	case ci.Pattern != "":
		return ci.Pattern
	}
	return linkrules.DefaultCertificateIdentity(local)
}

func key(l *link, in *fnv1beta1.Input, name string) *esv1alpha1.CrossClusterAPIKey {
	k := &esv1alpha1.CrossClusterAPIKey{}
	k.SetGroupVersionKind(esv1alpha1.CrossClusterAPIKeyGroupVersionKind)
	k.SetNamespace(l.Namespace)
	k.Spec.ForProvider.Name = name
	k.Spec.ForProvider.ElasticsearchRef = l.Remote
	k.Spec.ForProvider.Access = crossClusterAccess(l.Spec.Access)
	k.Spec.ProviderConfigReference = providerConfig(remoteProviderConfig(l, in))
	return k
}

func credentials(l *link, in *fnv1beta1.Input) *eckv1alpha1.RemoteClusterCredentials {
	c := &eckv1alpha1.RemoteClusterCredentials{}
	c.SetGroupVersionKind(eckv1alpha1.RemoteClusterCredentialsGroupVersionKind)
	c.SetNamespace(l.Namespace)
	c.Spec.ForProvider = eckv1alpha1.RemoteClusterCredentialsParameters{
		ElasticsearchRef:       l.Local,
		Alias:                  l.Alias,
		APIKeySecretRef:        eckv1alpha1.LocalSecretReference{Name: keySecretName(l)},
		RemoteElasticsearchRef: l.Remote,
	}
	// Reaches the local cluster only to tell when file-based secure
	// settings were reloaded.
	c.Spec.ProviderConfigReference = providerConfig(localProviderConfig(in))
	return c
}

// remoteAddress is host:port and TLS server name of the remote cluster
// server the local cluster connects to in proxy mode.
func remoteAddress(l *link) (address, serverName string) {
	if l.Remote != nil {
		return linkrules.RemoteClusterServerAddress(l.Remote.Name, l.Remote.Namespace), linkrules.RemoteClusterServerHost(l.Remote.Name, l.Remote.Namespace)
	}
	ext := l.Spec.Remote.External
	serverName = ext.ServerName
	if serverName == "" {
		serverName, _, _ = net.SplitHostPort(ext.Address)
	}
	return ext.Address, serverName
}

func settings(l *link, in *fnv1beta1.Input) *esv1alpha1.RemoteClusterSettings {
	address, serverName := remoteAddress(l)
	s := &esv1alpha1.RemoteClusterSettings{}
	s.SetGroupVersionKind(esv1alpha1.RemoteClusterSettingsGroupVersionKind)
	s.SetNamespace(l.Namespace)
	s.Spec.ForProvider = esv1alpha1.RemoteClusterSettingsParameters{
		ElasticsearchRef:       l.Local,
		Alias:                  l.Alias,
		ProxyAddress:           address,
		ServerName:             serverName,
		RemoteElasticsearchRef: l.Remote,
	}
	s.Spec.ProviderConfigReference = providerConfig(localProviderConfig(in))
	return s
}

// clientTrust makes the local cluster trust the remote cluster server: an
// ECK remote's server uses its transport certificates.
func clientTrust(l *link) *eckv1alpha1.RemoteClusterTrust {
	src := eckv1alpha1.CertificateAuthoritySource{ElasticsearchRef: l.Remote}
	if ext := l.Spec.Remote.External; ext != nil {
		src = eckv1alpha1.CertificateAuthoritySource{SecretRef: &eckv1alpha1.LocalSecretKeySelector{Name: ext.CASecretRef.Name, Key: ext.CASecretRef.Key}}
	}
	return trustOn(l, l.Local, eckv1alpha1.TrustRemoteClusterClient, src)
}

// signingTrust makes an ECK remote trust the local cluster's transport CA,
// which signed the certificates the local nodes sign their requests with.
func signingTrust(l *link) *eckv1alpha1.RemoteClusterTrust {
	local := l.Local
	return trustOn(l, *l.Remote, eckv1alpha1.TrustCrossClusterSigning, eckv1alpha1.CertificateAuthoritySource{ElasticsearchRef: &local})
}

func trustOn(l *link, target commonv1alpha1.ElasticsearchReference, purpose eckv1alpha1.TrustPurpose, src eckv1alpha1.CertificateAuthoritySource) *eckv1alpha1.RemoteClusterTrust {
	t := &eckv1alpha1.RemoteClusterTrust{}
	t.SetGroupVersionKind(eckv1alpha1.RemoteClusterTrustGroupVersionKind)
	t.SetNamespace(l.Namespace)
	t.Spec.ForProvider = eckv1alpha1.RemoteClusterTrustParameters{
		ElasticsearchRef:     target,
		Purpose:              purpose,
		CertificateAuthority: src,
	}
	return t
}

func signing(l *link) *eckv1alpha1.RemoteClusterSigning {
	s := &eckv1alpha1.RemoteClusterSigning{}
	s.SetGroupVersionKind(eckv1alpha1.RemoteClusterSigningGroupVersionKind)
	s.SetNamespace(l.Namespace)
	s.Spec.ForProvider = eckv1alpha1.RemoteClusterSigningParameters{ElasticsearchRef: l.Local, Alias: l.Alias}
	return s
}

func connectivity(l *link, in *fnv1beta1.Input) *esv1alpha1.RemoteClusterConnectivity {
	c := &esv1alpha1.RemoteClusterConnectivity{}
	c.SetGroupVersionKind(esv1alpha1.RemoteClusterConnectivityGroupVersionKind)
	c.SetNamespace(l.Namespace)
	c.Spec.ForProvider = esv1alpha1.RemoteClusterConnectivityParameters{ElasticsearchRef: l.Local, Alias: l.Alias}
	c.Spec.ProviderConfigReference = providerConfig(localProviderConfig(in))
	return c
}

func providerConfig(r linkv1alpha1.ProviderConfigReference) *xpv2.ProviderConfigReference {
	return &xpv2.ProviderConfigReference{Kind: r.Kind, Name: r.Name}
}

// remoteProviderConfig picks the config that reaches the remote's REST API:
// the link's own choice first, then the platform team's default.
func remoteProviderConfig(l *link, in *fnv1beta1.Input) linkv1alpha1.ProviderConfigReference {
	pc, _ := chosenProviderConfig(l, in)
	return pc
}

// chosenProviderConfig is remoteProviderConfig with the link's field that
// chose it, or "" when it is the platform team's default.
func chosenProviderConfig(l *link, in *fnv1beta1.Input) (linkv1alpha1.ProviderConfigReference, string) {
	switch {
	case l.Spec.Remote.External != nil:
		return l.Spec.Remote.External.ProviderConfigRef, "spec.remote.external.providerConfigRef"
	case l.Spec.Remote.ProviderConfigRef != nil:
		return *l.Spec.Remote.ProviderConfigRef, "spec.remote.providerConfigRef"
	case in.RemoteProviderConfigRef != nil:
		return *in.RemoteProviderConfigRef, ""
	}
	return defaultProviderConfig, ""
}

// localProviderConfig is the platform team's config that reaches the local
// cluster's REST API. A link cannot choose it: it acts on a cluster the
// team does not own.
func localProviderConfig(in *fnv1beta1.Input) linkv1alpha1.ProviderConfigReference {
	if in.LocalProviderConfigRef != nil {
		return *in.LocalProviderConfigRef
	}
	return defaultProviderConfig
}

// composesKey reports whether the link's flow has a key resource, which
// reaches the remote through a provider config.
func composesKey(l *link) bool {
	return l.Flow == linkv1alpha1.FlowECKAPIKey || l.Flow == linkv1alpha1.FlowProviderAPIKey
}

// crossClusterAccess converts ECK's one-entry-per-kind access into the
// lists of Elasticsearch's cross-cluster API key API.
func crossClusterAccess(a *commonv1alpha1.LinkAccess) *esv1alpha1.CrossClusterAccess {
	out := &esv1alpha1.CrossClusterAccess{}
	if a.Search != nil {
		out.Search = []commonv1alpha1.SearchAccess{*a.Search}
	}
	if a.Replication != nil {
		out.Replication = []commonv1alpha1.ReplicationAccess{{Names: a.Replication.Names}}
	}
	return out
}
