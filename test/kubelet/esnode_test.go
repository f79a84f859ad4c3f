package kubelet

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"math/big"
	"net/http"
	"net/netip"
	"testing"
	"time"
)

func selfSigned(t *testing.T) (certPEM, keyPEM []byte) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "es-http"}, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder})
}

// TestElasticsearchRuntime starts a fake node from a Pod's view as ECK
// shapes it: elasticsearch.yml (nested, with placeholders) from the config
// Secret, the HTTP certificate it names, the keystore from the init
// container's secure settings; the node serves HTTPS with that certificate
// on the Pod's address.
func TestElasticsearchRuntime(t *testing.T) {
	certPEM, keyPEM := selfSigned(t)
	yml := `cluster:
  name: es1
node:
  name: ${POD_NAME}
network:
  publish_host: ${POD_IP}
xpack:
  security:
    http:
      ssl:
        enabled: true
        certificate: /usr/share/elasticsearch/config/http-certs/tls.crt
        key: /usr/share/elasticsearch/config/http-certs/tls.key
`
	ip := netip.MustParseAddr("127.77.9.2")
	pod := &Pod{
		Namespace: "ns1", Name: "es1-es-default-0", IP: ip,
		Containers: map[string]*Container{
			"elastic-internal-init-filesystem": {Name: "elastic-internal-init-filesystem", Init: true, Files: map[string][]byte{
				"/mnt/elastic-internal/elasticsearch-config/elasticsearch.yml": []byte(yml),
			}},
			"elastic-internal-init-keystore": {Name: "elastic-internal-init-keystore", Init: true, Files: map[string][]byte{
				"/mnt/elastic-internal/secure-settings/cluster.remote.r.credentials": []byte("secret"),
			}},
			"elasticsearch": {Name: "elasticsearch", Image: "docker.elastic.co/elasticsearch/elasticsearch:9.3.2",
				Env: map[string]string{"POD_NAME": "es1-es-default-0", "POD_IP": ip.String()},
				Files: map[string][]byte{
					"/usr/share/elasticsearch/config/http-certs/tls.crt": certPEM,
					"/usr/share/elasticsearch/config/http-certs/tls.key": keyPEM,
				}},
		},
	}
	rt := &Elasticsearch{Log: t.Logf}
	proc, err := rt.Start(context.Background(), pod)
	if err != nil {
		t.Fatal(err)
	}
	defer proc.Stop()
	n, ok := rt.Node("ns1", "es1-es-default-0")
	if !ok || n.URL != "https://127.77.9.2:9200" {
		t.Fatalf("Node() = %+v, %v; want the node at https://127.77.9.2:9200", n, ok)
	}
	if got := n.Server.NodeSettings()["node.name"]; got != "es1-es-default-0" {
		t.Errorf("node.name = %v, want the Pod name", got)
	}
	if got := n.Server.ActiveKeystore()["cluster.remote.r.credentials"]; got != "secret" {
		t.Errorf("keystore entry = %q, want the secure settings file's content", got)
	}

	c := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{
		// The Pod's certificate, as ECK trusts it: chain only, no host name.
		InsecureSkipVerify: true,
		MinVersion:         tls.VersionTLS12,
	}}}
	req, _ := http.NewRequest(http.MethodGet, n.URL+"/", nil)
	req.SetBasicAuth("elastic", "changeme")
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if got := resp.TLS.PeerCertificates[0].Raw; !bytes.Equal(got, mustDER(t, certPEM)) {
		t.Errorf("the node does not serve the Pod's certificate")
	}
	var info struct {
		ClusterName string `json:"cluster_name"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&info); err != nil || info.ClusterName != "es1" {
		t.Errorf("GET / = %+v, %v; want cluster_name es1", info, err)
	}

	proc.Stop()
	if _, ok := rt.Node("ns1", "es1-es-default-0"); ok {
		t.Errorf("a stopped node is still listed")
	}
	if _, err := c.Do(req); err == nil {
		t.Errorf("a stopped node still answers")
	}
}

func mustDER(t *testing.T, certPEM []byte) []byte {
	t.Helper()
	b, _ := pem.Decode(certPEM)
	if b == nil {
		t.Fatal("bad PEM")
	}
	return b.Bytes
}
