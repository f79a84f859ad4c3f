package fn

import (
	"fmt"

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
)

// Composition resource names. They are stable: renaming one makes
// Crossplane delete the old resource and create a new one.
const (
	nameServer = resource.Name("remote-cluster-server")
	nameEntry  = resource.Name("remote-cluster-entry")
	nameKey    = resource.Name("cross-cluster-api-key")
)

// defaultRemoteProviderConfig is the ECK-mode config that derives endpoint
// and credentials from the ECK object a key resource targets.
var defaultRemoteProviderConfig = linkv1alpha1.ProviderConfigReference{Kind: "ClusterProviderConfig", Name: "eck"}

// compose renders the managed resources of the link's flow.
func compose(l *link, in *fnv1beta1.Input) (map[resource.Name]*composed.Unstructured, error) {
	out := map[resource.Name]runtime.Object{}
	switch l.Flow {
	case FlowECKAPIKey:
		out[nameServer] = server(l, in)
		out[nameEntry] = entry(l, &eckv1alpha1.RemoteClusterAPIKey{Access: *l.Spec.Access})
		out[nameKey] = observedECKKey(l, in)
	case FlowCertificate:
		out[nameEntry] = entry(l, nil)
	case FlowProviderAPIKey:
		if l.Remote != nil {
			out[nameServer] = server(l, in)
		}
		out[nameKey] = ownedKey(l, in)
	}
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

func observedECKKey(l *link, in *fnv1beta1.Input) *esv1alpha1.CrossClusterAPIKey {
	k := key(l, in, eckKeyName(l))
	k.Spec.ManagementPolicies = xpv2.ManagementPolicies{xpv2.ManagementActionObserve}
	return k
}

func ownedKey(l *link, in *fnv1beta1.Input) *esv1alpha1.CrossClusterAPIKey {
	k := key(l, in, ownedKeyName(l))
	if l.Spec.Expiration != "" {
		k.Spec.ForProvider.Expiration = &l.Spec.Expiration
	}
	if l.Spec.RotateBefore != "" {
		k.Spec.ForProvider.RotateBefore = &l.Spec.RotateBefore
	}
	k.Spec.WriteConnectionSecretToReference = &xpv2.LocalSecretReference{Name: l.Name + "-api-key"}
	return k
}

func key(l *link, in *fnv1beta1.Input, name string) *esv1alpha1.CrossClusterAPIKey {
	k := &esv1alpha1.CrossClusterAPIKey{}
	k.SetGroupVersionKind(esv1alpha1.CrossClusterAPIKeyGroupVersionKind)
	k.SetNamespace(l.Namespace)
	k.Spec.ForProvider.Name = name
	k.Spec.ForProvider.ElasticsearchRef = l.Remote
	k.Spec.ForProvider.Access = crossClusterAccess(l.Spec.Access)
	pc := remoteProviderConfig(l, in)
	k.Spec.ProviderConfigReference = &xpv2.ProviderConfigReference{Kind: pc.Kind, Name: pc.Name}
	return k
}

// remoteProviderConfig picks the config that reaches the remote's REST API:
// the link's own choice first, then the platform team's default.
func remoteProviderConfig(l *link, in *fnv1beta1.Input) linkv1alpha1.ProviderConfigReference {
	switch {
	case l.Spec.Remote.External != nil:
		return l.Spec.Remote.External.ProviderConfigRef
	case l.Spec.Remote.ProviderConfigRef != nil:
		return *l.Spec.Remote.ProviderConfigRef
	case in.RemoteProviderConfigRef != nil:
		return *in.RemoteProviderConfigRef
	}
	return defaultRemoteProviderConfig
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
