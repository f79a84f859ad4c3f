package tenant

import (
	xpv2 "github.com/crossplane/crossplane/apis/v2/core/v2"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	commonv1alpha1 "github.com/eslink/eslink/apis/common/v1alpha1"
	eckv1alpha1 "github.com/eslink/eslink/apis/eck/v1alpha1"
	esv1alpha1 "github.com/eslink/eslink/apis/elasticsearch/v1alpha1"
	v1alpha1 "github.com/eslink/eslink/apis/v1alpha1"
)

// The managed resources a team writes by hand, in the shapes the function
// composes them.

// entry owns alias on local's spec.remoteClusters, pointing at remote; a nil
// access is the certificate model.
func entry(ns, name, alias string, local, remote *cluster, access *commonv1alpha1.LinkAccess) *eckv1alpha1.RemoteClusterEntry {
	e := &eckv1alpha1.RemoteClusterEntry{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}}
	e.Spec.ForProvider = eckv1alpha1.RemoteClusterEntryParameters{
		ElasticsearchRef: local.ref(), Alias: alias, RemoteElasticsearchRef: remote.ref(),
	}
	if access != nil {
		e.Spec.ForProvider.APIKey = &eckv1alpha1.RemoteClusterAPIKey{Access: *access}
	}
	return e
}

// server claims remote's remote cluster server.
func server(ns, name string, remote *cluster, disableOnDelete bool) *eckv1alpha1.RemoteClusterServer {
	s := &eckv1alpha1.RemoteClusterServer{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}}
	s.Spec.ForProvider = eckv1alpha1.RemoteClusterServerParameters{ElasticsearchRef: remote.ref(), DisableOnDelete: disableOnDelete}
	return s
}

// key is a provider-owned cross-cluster API key named keyName on the
// cluster ref, reached through the ClusterProviderConfig config.
func key(ns, name, keyName, config string, ref *commonv1alpha1.ElasticsearchReference, access *esv1alpha1.CrossClusterAccess) *esv1alpha1.CrossClusterAPIKey {
	k := &esv1alpha1.CrossClusterAPIKey{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}}
	k.Spec.ProviderConfigReference = &xpv2.ProviderConfigReference{Kind: v1alpha1.ClusterProviderConfigKind, Name: config}
	k.Spec.ForProvider = esv1alpha1.CrossClusterAPIKeyParameters{Name: keyName, ElasticsearchRef: ref, Access: access}
	k.Spec.WriteConnectionSecretToReference = &xpv2.LocalSecretReference{Name: name + "-key"}
	return k
}

func search(names ...string) *commonv1alpha1.LinkAccess {
	return &commonv1alpha1.LinkAccess{Search: &commonv1alpha1.SearchAccess{Names: names}}
}

func keySearch(names ...string) *esv1alpha1.CrossClusterAccess {
	return &esv1alpha1.CrossClusterAccess{Search: []commonv1alpha1.SearchAccess{{Names: names}}}
}
