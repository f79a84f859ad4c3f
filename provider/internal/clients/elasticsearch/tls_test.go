package elasticsearch

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/pem"
	"io"
	"log"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/eslink/eslink/test/fakeelasticsearch/esfake"
)

// impostor serves GET / like Elasticsearch, with a certificate chain of its
// own leaf (valid for 127.0.0.1, signed by its own CA) followed by
// genuineCA: the certificate a real cluster's clients pin. A client that
// accepts a pin found anywhere in the chain talks to it.
func impostor(t *testing.T, genuineCA []byte) *httptest.Server {
	t.Helper()
	block, _ := pem.Decode(genuineCA)
	if block == nil {
		t.Fatal("genuine CA is not PEM")
	}
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	caTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "impostor-ca"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	caCert, err := x509.ParseCertificate(caDER)
	if err != nil {
		t.Fatal(err)
	}
	leafKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	leafTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "impostor"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)},
	}
	leafDER, err := x509.CreateCertificate(rand.Reader, leafTmpl, caCert, &leafKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("X-Elastic-Product", "Elasticsearch")
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"version":{"number":"9.3.2"},"tagline":"You Know, for Search"}`))
	}))
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // Refused handshakes are the point.
	srv.TLS = &tls.Config{MinVersion: tls.VersionTLS12, Certificates: []tls.Certificate{{
		Certificate: [][]byte{leafDER, block.Bytes}, PrivateKey: leafKey,
	}}}
	srv.StartTLS()
	t.Cleanup(srv.Close)
	return srv
}

func TestTLSPinning(t *testing.T) {
	ctx := context.Background()
	srv := esfake.NewServer(t, esfake.Options{TLS: true})
	other := esfake.NewServer(t, esfake.Options{TLS: true})
	// The same fake certificate is valid for 127.0.0.1 only: reached as
	// 127.0.0.2 its host name does not verify.
	elsewhere := esfake.NewServer(t, esfake.Options{TLS: true, Addr: "127.0.0.2:0"})
	fake := impostor(t, srv.CACertPEM)

	cases := map[string]struct {
		url  string
		cfg  Config
		want Reason
		// err is a substring of New's error, when New must refuse.
		err string
	}{
		"LeafPinned":             {cfg: Config{CertificateFingerprint: srv.LeafFingerprint}},
		"LeafPinnedWithColons":   {cfg: Config{CertificateFingerprint: colons(srv.LeafFingerprint)}},
		"CAPinned":               {cfg: Config{CertificateFingerprint: srv.CertFingerprint}},
		"CAAndPinOfCA":           {cfg: Config{CACert: srv.CACertPEM, CertificateFingerprint: srv.CertFingerprint}},
		"CAAndPinOfLeaf":         {cfg: Config{CACert: srv.CACertPEM, CertificateFingerprint: srv.LeafFingerprint}},
		"CAAndWrongPin":          {cfg: Config{CACert: srv.CACertPEM, CertificateFingerprint: other.LeafFingerprint}, want: ReasonTLS},
		"PinAndWrongCA":          {cfg: Config{CACert: other.CACertPEM, CertificateFingerprint: srv.CertFingerprint}, want: ReasonTLS},
		"WrongLeafPin":           {cfg: Config{CertificateFingerprint: other.LeafFingerprint}, want: ReasonTLS},
		"ImpostorPresentsPinned": {url: fake.URL, cfg: Config{CertificateFingerprint: srv.CertFingerprint}, want: ReasonTLS},
		"ImpostorWithCA":         {url: fake.URL, cfg: Config{CACert: srv.CACertPEM, CertificateFingerprint: srv.CertFingerprint}, want: ReasonTLS},
		"CAPinnedWrongHost":      {url: elsewhere.URL, cfg: Config{CertificateFingerprint: elsewhere.CertFingerprint}, want: ReasonTLS},
		"LeafPinnedAnyHost":      {url: elsewhere.URL, cfg: Config{CertificateFingerprint: elsewhere.LeafFingerprint}},
		"CAWrongHost":            {url: elsewhere.URL, cfg: Config{CACert: elsewhere.CACertPEM}, want: ReasonTLS},
		"BadFingerprint":         {cfg: Config{CertificateFingerprint: "zz"}, err: "not a SHA-256 fingerprint"},
		"PinAndSkip":             {cfg: Config{CertificateFingerprint: srv.LeafFingerprint, InsecureSkipVerify: true}, err: "both set"},
		"BadCA":                  {cfg: Config{CACert: []byte("not pem")}, err: "not a PEM certificate"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			tc.cfg.URL, tc.cfg.Username, tc.cfg.Password = srv.URL, "elastic", "changeme"
			if tc.url != "" {
				tc.cfg.URL = tc.url
			}
			c, err := New(tc.cfg)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("New() error = %v, want one containing %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			_, err = c.Version(ctx)
			if got := ReasonOf(err); got != tc.want {
				t.Errorf("Version() error = %v, reason %q, want reason %q", err, got, tc.want)
			}
		})
	}
}

func colons(hexFP string) string {
	var parts []string
	for i := 0; i < len(hexFP); i += 2 {
		parts = append(parts, hexFP[i:i+2])
	}
	return strings.Join(parts, ":")
}

func TestFakeFingerprints(t *testing.T) {
	srv := esfake.NewServer(t, esfake.Options{TLS: true})
	block, _ := pem.Decode(srv.CACertPEM)
	sum := sha256.Sum256(block.Bytes)
	if hex.EncodeToString(sum[:]) != srv.CertFingerprint {
		t.Errorf("CertFingerprint is not the CA's")
	}
	if srv.LeafFingerprint == "" || srv.LeafFingerprint == srv.CertFingerprint {
		t.Errorf("LeafFingerprint = %q, want the server certificate's own", srv.LeafFingerprint)
	}
}

func TestNewRefusesUnsafeURLs(t *testing.T) {
	const password = "url-pass-Zq81"
	cases := map[string]struct {
		cfg Config
		err string
	}{
		"Empty":            {cfg: Config{}, err: "the URL is empty"},
		"Userinfo":         {cfg: Config{URL: "https://elastic:" + password + "@127.0.0.1:9200"}, err: "holds credentials"},
		"Unparsable":       {cfg: Config{URL: "https://elastic:" + password + "%zz@127.0.0.1:9200"}, err: "not a valid URL"},
		"NotHTTP":          {cfg: Config{URL: "ftp://127.0.0.1"}, err: "not an http(s) URL"},
		"PlainHTTP":        {cfg: Config{URL: "http://127.0.0.1:9200", Password: password}, err: "http:// would send the credentials in clear"},
		"PlainHTTPAllowed": {cfg: Config{URL: "http://127.0.0.1:9200", Password: password, AllowInsecureHTTP: true}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			c, err := New(tc.cfg)
			if tc.err == "" {
				if err != nil {
					t.Fatal(err)
				}
				if !c.PlaintextHTTP() {
					t.Error("PlaintextHTTP() = false for an http:// URL")
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Fatalf("New() error = %v, want one containing %q", err, tc.err)
			}
			if strings.Contains(err.Error(), password) {
				t.Errorf("New() error %q leaks the password", err)
			}
		})
	}
}
