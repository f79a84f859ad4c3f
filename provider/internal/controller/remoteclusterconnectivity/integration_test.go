package remoteclusterconnectivity

import (
	"context"
	"fmt"
	"net/http"
	"testing"

	xpv2 "github.com/crossplane/crossplane/apis/v2/core/v2"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	commonv1alpha1 "github.com/eslink/eslink/apis/common/v1alpha1"
	"github.com/eslink/eslink/apis/elasticsearch/v1alpha1"
	"github.com/eslink/eslink/internal/linkrules"
	"github.com/eslink/eslink/provider/internal/clients/elasticsearch"
	"github.com/eslink/eslink/provider/internal/controller/eck/ecktest"
	"github.com/eslink/eslink/test/controlplane"
	"github.com/eslink/eslink/test/fakeelasticsearch/esfake"
)

func TestMain(m *testing.M) { ecktest.Main(m) }

// TestConnectivity reports the alias as GET /_remote/info shows it: not
// configured, configured but not connected while the local cluster does not
// trust the remote's server, then connected; and never writes.
func TestConnectivity(t *testing.T) {
	h := ecktest.Start(t, 1, Setup)
	ns := h.Namespace(t, "connectivity")
	h.Elasticsearch(t, ns, "c1", "9.3.2", nil, nil)
	srv := h.LocalAPI(t, ns, "c1", esfake.Options{ClusterName: "c1"})

	// A remote with its remote cluster server reachable at address, and a
	// cross-cluster key of it in the local cluster's keystore.
	const address, serverName = "c2-es-remote-cluster.ns2.svc:9443", "c2-es-remote-cluster.ns2.svc"
	remote := esfake.NewServer(t, esfake.Options{ClusterName: "c2", TLS: true})
	if err := remote.EnableRemoteClusterServer(serverName); err != nil {
		t.Fatal(err)
	}
	network := esfake.NewNetwork()
	network.Join(srv)
	if err := network.Register(address, remote, esfake.RemoteClusterServerListener); err != nil {
		t.Fatal(err)
	}
	rc, err := elasticsearch.New(elasticsearch.Config{URL: remote.URL, Username: "elastic", Password: "changeme", CACert: remote.CACertPEM})
	if err != nil {
		t.Fatal(err)
	}
	key, err := rc.CreateCrossClusterAPIKey(context.Background(), elasticsearch.CreateRequest{Name: "logs", Access: elasticsearch.Access{Search: []elasticsearch.SearchAccess{{Names: []string{"logs-*"}}}}})
	if err != nil {
		t.Fatal(err)
	}
	srv.SetKeystore(map[string]string{"cluster.remote.logs.credentials": key.Encoded})
	if err := srv.Restart(); err != nil {
		t.Fatal(err)
	}

	mg := &v1alpha1.RemoteClusterConnectivity{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "logs", Labels: map[string]string{linkrules.LabelComposite: "logs-link"}},
		Spec: v1alpha1.RemoteClusterConnectivitySpec{
			ManagedResourceSpec: xpv2.ManagedResourceSpec{ProviderConfigReference: &xpv2.ProviderConfigReference{Kind: "ProviderConfig", Name: "eck"}},
			ForProvider:         v1alpha1.RemoteClusterConnectivityParameters{ElasticsearchRef: commonv1alpha1.ElasticsearchReference{Name: "c1"}, Alias: "logs"},
		},
	}
	if err := h.Kube.Create(context.Background(), mg); err != nil {
		t.Fatal(err)
	}
	observed := func(reason xpv2.ConditionReason) func() (bool, string) {
		return func() (bool, string) {
			out := &v1alpha1.RemoteClusterConnectivity{}
			if err := h.Kube.Get(context.Background(), types.NamespacedName{Namespace: ns, Name: "logs"}, out); err != nil {
				t.Fatal(err)
			}
			c := ecktest.Condition(out.Status.Conditions, xpv2.TypeReady)
			return c.Reason == reason, fmt.Sprintf("%s/%s %s, %+v", c.Status, c.Reason, c.Message, out.Status.AtProvider)
		}
	}
	// Until a piece of its link owns the alias, nothing about it is read.
	ecktest.WaitFor(t, "the alias not owned", observed(ReasonNotOwned))
	for _, r := range srv.Requests() {
		if r.Endpoint == "GET /_remote/info" {
			t.Errorf("the resource read %s for an alias its link does not own", r.Path)
		}
	}
	es := h.GetES(t, ns, "c1")
	if err := controlplane.Update(context.Background(), h.Kube, es, func() error {
		es.SetAnnotations(map[string]string{linkrules.AnnotationAliasOwners: `{"logs":"` + ns + `/logs-link"}`})
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	ecktest.WaitFor(t, "the alias not configured", observed(ReasonNotConfigured))

	c, err := elasticsearch.New(elasticsearch.Config{URL: srv.URL, Username: "elastic", Password: "changeme", CACert: srv.CACertPEM})
	if err != nil {
		t.Fatal(err)
	}
	proxy, addr, name := "proxy", address, serverName
	if err := c.PutPersistentSettings(context.Background(), map[string]*string{
		"cluster.remote.logs.mode": &proxy, "cluster.remote.logs.proxy_address": &addr, "cluster.remote.logs.server_name": &name,
	}); err != nil {
		t.Fatal(err)
	}
	ecktest.WaitFor(t, "the alias configured but not connected", observed(ReasonNotConnected))

	// The remote cluster client trusts the remote's transport CA, a static
	// setting the node reads when it starts.
	srv.WriteFile("remote-certs/ca.crt", remote.TransportCACertPEM())
	srv.SetNodeConfig(esfake.NodeConfig{Settings: map[string]any{
		"xpack.security.remote_cluster_client.ssl.certificate_authorities": []any{"remote-certs/ca.crt"},
	}})
	if err := srv.Restart(); err != nil {
		t.Fatal(err)
	}
	ecktest.WaitFor(t, "the alias connected", observed(ReasonConnected))
	for _, r := range srv.Requests() {
		if r.Method != http.MethodGet && r.Path != "/_cluster/settings" {
			t.Errorf("the resource sent %s %s: it must only read", r.Method, r.Path)
		}
	}
}
