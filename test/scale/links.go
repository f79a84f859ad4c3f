package main

import (
	"fmt"

	xpv2 "github.com/crossplane/crossplane/apis/v2/core/v2"
	"sigs.k8s.io/controller-runtime/pkg/client"

	commonv1alpha1 "github.com/eslink/eslink/apis/common/v1alpha1"
	eckv1alpha1 "github.com/eslink/eslink/apis/eck/v1alpha1"
	esv1alpha1 "github.com/eslink/eslink/apis/elasticsearch/v1alpha1"
	v1alpha1 "github.com/eslink/eslink/apis/v1alpha1"
	"github.com/eslink/eslink/internal/eckschema"
)

// linkObjects returns the managed resources eslink's function composes for
// link i, as function/fn/compose.go renders them, each with the label
// crossplane.io/composite that Crossplane puts on every piece of one link
// (the pieces claim the local cluster's alias under it). A flow 1 link (ECK
// creates the key) is a RemoteClusterServer on the remote, a
// RemoteClusterEntry with apiKey on the local cluster and an observe-only
// CrossClusterAPIKey; a flow 3 link (every ownedEvery-th) is a
// RemoteClusterServer and a CrossClusterAPIKey the provider owns, with a
// connection Secret, and with -mix flow3 also the local cluster's wiring:
// the RemoteClusterSettings (proxy address and server name of the remote's
// server), the RemoteClusterCredentials that deliver the key (a Secret and
// a spec.secureSettings entry) and the RemoteClusterTrust that makes the
// local cluster trust the remote's server; every link is then flow 3. The
// local pieces use the local cluster's provider config. Links are spread
// round-robin over the namespaces, and each namespace's links over the
// remote/local pairs.
//
// Not composed here: the RemoteClusterConnectivity every link has, whose
// probe needs the fakes to dial each other (an esfake.Network).
func linkObjects(c *config, mix string, i int) []client.Object {
	ns := teamNamespace(i % c.namespaces)
	// Each namespace spreads its links over all pairs (i%remotes would
	// put all of a namespace's links on one pair when remotes divides
	// namespaces): a namespace may keep only so many records on one shared
	// cluster (grants' per-namespace budget), and a team's links go to
	// many clusters.
	r := (i / c.namespaces) % c.remotes
	name := fmt.Sprintf("link-%04d", i)
	remote := commonv1alpha1.ElasticsearchReference{Namespace: clusterNamespace, Name: remoteName(r)}
	local := commonv1alpha1.ElasticsearchReference{Namespace: clusterNamespace, Name: localName(r)}
	search := commonv1alpha1.SearchAccess{Names: []string{indexPattern}}
	pc := &xpv2.ProviderConfigReference{Kind: v1alpha1.ClusterProviderConfigKind, Name: remoteName(r)}
	localPC := &xpv2.ProviderConfigReference{Kind: v1alpha1.ClusterProviderConfigKind, Name: localName(r)}
	// Crossplane labels every composed resource with its composite.
	composed := func(objs ...client.Object) []client.Object {
		for _, o := range objs {
			o.SetLabels(map[string]string{eckschema.LabelComposite: name})
		}
		return objs
	}

	server := &eckv1alpha1.RemoteClusterServer{}
	server.SetNamespace(ns)
	server.SetName(name)
	server.Spec.ForProvider.ElasticsearchRef = remote

	key := &esv1alpha1.CrossClusterAPIKey{}
	key.SetNamespace(ns)
	key.SetName(name)
	key.Spec.ProviderConfigReference = pc
	key.Spec.ForProvider.ElasticsearchRef = &remote
	key.Spec.ForProvider.Access = &esv1alpha1.CrossClusterAccess{Search: []commonv1alpha1.SearchAccess{search}}

	if mix == mixFlow3 || (c.ownedEvery > 0 && i%c.ownedEvery == c.ownedEvery-1) {
		key.Spec.ForProvider.Name = fmt.Sprintf("eslink-%s-%s-%s", ns, name, name)
		key.Spec.WriteConnectionSecretToReference = &xpv2.LocalSecretReference{Name: name + "-api-key"}
		if mix != mixFlow3 {
			return composed(server, key)
		}
		creds := &eckv1alpha1.RemoteClusterCredentials{}
		creds.SetNamespace(ns)
		creds.SetName(name)
		creds.Spec.ForProvider = eckv1alpha1.RemoteClusterCredentialsParameters{
			ElasticsearchRef:       local,
			Alias:                  name,
			APIKeySecretRef:        eckv1alpha1.LocalSecretReference{Name: name + "-api-key"},
			RemoteElasticsearchRef: &remote,
		}
		creds.Spec.ProviderConfigReference = localPC
		settings := &esv1alpha1.RemoteClusterSettings{}
		settings.SetNamespace(ns)
		settings.SetName(name)
		settings.Spec.ForProvider = esv1alpha1.RemoteClusterSettingsParameters{
			ElasticsearchRef:       local,
			Alias:                  name,
			ProxyAddress:           eckschema.RemoteClusterServerAddress(remote.Name, remote.Namespace),
			ServerName:             eckschema.RemoteClusterServerHost(remote.Name, remote.Namespace),
			RemoteElasticsearchRef: &remote,
		}
		settings.Spec.ProviderConfigReference = localPC
		trust := &eckv1alpha1.RemoteClusterTrust{}
		trust.SetNamespace(ns)
		trust.SetName(name)
		trust.Spec.ForProvider = eckv1alpha1.RemoteClusterTrustParameters{
			ElasticsearchRef:     local,
			Purpose:              eckv1alpha1.TrustRemoteClusterClient,
			CertificateAuthority: eckv1alpha1.CertificateAuthoritySource{ElasticsearchRef: &remote},
		}
		return composed(server, key, creds, settings, trust)
	}

	entry := &eckv1alpha1.RemoteClusterEntry{}
	entry.SetNamespace(ns)
	entry.SetName(name)
	entry.Spec.ForProvider = eckv1alpha1.RemoteClusterEntryParameters{
		ElasticsearchRef:       local,
		Alias:                  name,
		RemoteElasticsearchRef: remote,
		APIKey:                 &eckv1alpha1.RemoteClusterAPIKey{Access: commonv1alpha1.LinkAccess{Search: &search}},
	}
	// The name ECK gives the key it creates for the entry.
	key.Spec.ForProvider.Name = fmt.Sprintf("eck-%s-%s-%s", clusterNamespace, localName(r), name)
	key.Spec.ManagementPolicies = xpv2.ManagementPolicies{xpv2.ManagementActionObserve}
	return composed(server, entry, key)
}
