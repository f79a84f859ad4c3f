package controllertest

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"

	v1alpha1 "github.com/eslink/eslink/apis/v1alpha1"
	"github.com/eslink/eslink/internal/eckschema"
	"github.com/eslink/eslink/test/controlplane"
	"github.com/eslink/eslink/test/fakeelasticsearch/esfake"
)

// Reconciled writes the status ECK reports once it has reconciled the
// object's current spec: this generation observed, phase Ready and
// ReconciliationComplete true. ECK cannot run here; tests play its part.
func (h *Harness) Reconciled(t *testing.T, ns, name string) {
	t.Helper()
	es := h.GetES(t, ns, name)
	// The provider may write the object meanwhile: the status then goes on
	// the newer generation, as ECK's would.
	if err := controlplane.UpdateStatus(context.Background(), h.Kube, es, func() error {
		status, _, _ := unstructured.NestedMap(es.Object, "status")
		if status == nil {
			status = map[string]any{}
		}
		status["observedGeneration"] = es.GetGeneration()
		status["phase"] = "Ready"
		status["conditions"] = []any{map[string]any{
			"type": "ReconciliationComplete", "status": "True",
			"lastTransitionTime": time.Now().UTC().Format(time.RFC3339),
		}}
		es.Object["status"] = status
		return nil
	}); err != nil {
		t.Fatalf("cannot write the status of Elasticsearch %s/%s: %v", ns, name, err)
	}
}

// NewCA returns a fresh self-signed PEM CA certificate.
func NewCA(t *testing.T, cn string) []byte {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: cn},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}

// Secret creates a Secret with data.
func (h *Harness) Secret(t *testing.T, ns, name string, data map[string][]byte) {
	t.Helper()
	s := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}, Data: data}
	if err := h.Kube.Create(context.Background(), s); err != nil {
		t.Fatalf("cannot create Secret %s/%s: %v", ns, name, err)
	}
}

// GetSecret reads a Secret; nil when it does not exist.
func (h *Harness) GetSecret(t *testing.T, ns, name string) *corev1.Secret {
	t.Helper()
	s := &corev1.Secret{}
	if err := h.Kube.Get(context.Background(), types.NamespacedName{Namespace: ns, Name: name}, s); err != nil {
		return nil
	}
	return s
}

// TransportCA publishes a fresh CA as ECK publishes a cluster's transport
// CA, and returns it.
func (h *Harness) TransportCA(t *testing.T, ns, name string) []byte {
	t.Helper()
	ca := NewCA(t, name+" transport CA")
	h.Secret(t, ns, eckschema.TransportCAPublicSecret(name), map[string][]byte{eckschema.TransportCAKey: ca})
	return ca
}

// LocalAPI starts a fake Elasticsearch standing for the ECK cluster
// ns/name, publishes the Secrets ECK keeps for it, and creates a namespaced
// ECK-mode ProviderConfig named eck in ns that reaches it.
func (h *Harness) LocalAPI(t *testing.T, ns, name string, opts esfake.Options) *esfake.Server {
	t.Helper()
	opts.TLS = true
	srv := esfake.NewServer(t, opts)
	// ECK's Secret names spelled as ECK spells them, not through
	// internal/eckschema: the harness stands in for ECK here, so it
	// witnesses the provider's reading of those names instead of sharing it.
	h.Secret(t, ns, name+"-es-elastic-user", map[string][]byte{"elastic": []byte("changeme")})
	h.Secret(t, ns, name+"-es-http-certs-public", map[string][]byte{"ca.crt": srv.CACertPEM})
	pc := &v1alpha1.ProviderConfig{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "eck"},
		Spec:       v1alpha1.ProviderConfigSpec{ECK: &v1alpha1.ECKEndpoint{URLOverride: srv.URL}},
	}
	if err := h.Kube.Create(context.Background(), pc); err != nil {
		t.Fatalf("cannot create ProviderConfig %s/eck: %v", ns, err)
	}
	return srv
}
