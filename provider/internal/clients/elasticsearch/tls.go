package elasticsearch

import (
	"bytes"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	// Go's copy of the Mozilla root store, used only where the system has
	// no roots: the provider's image is the binary alone, and a remote with
	// a publicly trusted certificate (Elastic Cloud) must verify without a
	// CA Secret. Where the system has roots (SSL_CERT_FILE, a CA layer),
	// they are used instead.
	_ "golang.org/x/crypto/x509roots/fallback"
)

// The TLS policy of every connection the provider makes to Elasticsearch.
// go-elasticsearch's own CertificateFingerprint accepts a pin that matches
// any certificate the server presents, without checking that this
// certificate signed anything: a server can present its own leaf next to
// the genuine (public) CA certificate and pass. eslink never uses it and
// checks pins itself:
//   - a pin of the server's own certificate must match the leaf exactly;
//   - a pin of a CA certificate must match a certificate that signs a chain
//     to the leaf, verified for the URL's host;
//   - with a CA as well, the chain must verify against that CA, and the pin
//     must match a certificate of the verified chain: both apply.

// tlsConfig returns the client TLS configuration for cfg. serverName is the
// host of the URL, which the chain must be valid for.
func tlsConfig(cfg Config, serverName string) (*tls.Config, error) {
	pin, err := parseFingerprint(cfg.CertificateFingerprint)
	if err != nil {
		return nil, err
	}
	if cfg.InsecureSkipVerify && pin != nil {
		return nil, errors.New("tls.certificateFingerprint and tls.insecureSkipVerify are both set: a pinned certificate is always checked, so remove insecureSkipVerify")
	}
	var roots *x509.CertPool
	if len(cfg.CACert) > 0 {
		roots = x509.NewCertPool()
		if !roots.AppendCertsFromPEM(cfg.CACert) {
			return nil, errors.New("the CA certificate is not a PEM certificate: check the CA Secret (caSecretRef, or ECK's <name>-es-http-certs-public)")
		}
	}
	c := &tls.Config{MinVersion: tls.VersionTLS12, ServerName: serverName}
	switch {
	case cfg.InsecureSkipVerify:
		c.InsecureSkipVerify = true // Explicitly requested by the provider config.
	case pin == nil:
		c.RootCAs = roots // nil means the system roots, or the fallback roots above.
	default:
		// crypto/tls cannot verify against a pinned CA that is not in a
		// root pool, so verification moves into VerifyConnection, which
		// runs on every handshake, resumed ones included.
		c.InsecureSkipVerify = true // Verified in VerifyConnection, with the pin.
		p := &pinning{pin: pin, roots: roots, serverName: serverName}
		c.VerifyConnection = p.verify
	}
	return c, nil
}

// parseFingerprint reads a hex SHA-256, with or without colons.
func parseFingerprint(s string) ([]byte, error) {
	if s == "" {
		return nil, nil
	}
	b, err := hex.DecodeString(strings.ReplaceAll(s, ":", ""))
	if err != nil || len(b) != sha256.Size {
		return nil, errors.New("tls.certificateFingerprint is not a SHA-256 fingerprint: give 64 hex digits, optionally in colon-separated pairs")
	}
	return b, nil
}

type pinning struct {
	pin        []byte
	roots      *x509.CertPool
	serverName string
}

func fingerprint(c *x509.Certificate) []byte {
	sum := sha256.Sum256(c.Raw)
	return sum[:]
}

func (p *pinning) verify(cs tls.ConnectionState) error {
	certs := cs.PeerCertificates
	if len(certs) == 0 {
		return errors.New("tls: the server presented no certificate")
	}
	leaf := certs[0]
	intermediates := x509.NewCertPool()
	for _, c := range certs[1:] {
		intermediates.AddCert(c)
	}
	opts := x509.VerifyOptions{Intermediates: intermediates, DNSName: p.serverName, CurrentTime: time.Now()}

	if p.roots != nil {
		opts.Roots = p.roots
		chains, err := leaf.Verify(opts)
		if err != nil {
			return fmt.Errorf("tls: the server certificate does not verify against the CA: %w", err)
		}
		for _, chain := range chains {
			for _, c := range chain {
				if bytes.Equal(fingerprint(c), p.pin) {
					return nil
				}
			}
		}
		return errors.New("tls: the pinned certificate fingerprint matches no certificate of the verified chain")
	}

	if bytes.Equal(fingerprint(leaf), p.pin) {
		return nil
	}
	for _, c := range certs[1:] {
		if !c.IsCA || !bytes.Equal(fingerprint(c), p.pin) {
			continue
		}
		opts.Roots = x509.NewCertPool()
		opts.Roots.AddCert(c)
		if _, err := leaf.Verify(opts); err != nil {
			return fmt.Errorf("tls: the pinned CA certificate does not sign a valid chain for %s: %w", p.serverName, err)
		}
		return nil
	}
	return errors.New("tls: the pinned certificate fingerprint matches neither the server certificate nor a CA certificate that signs it")
}

// transport is the HTTP transport of one client: TLS as configured,
// credential values removed from every response body (see redact.go), and
// every request counted for the remote named cluster (see instrument.go).
func transport(cfg Config, serverName, cluster string) (http.RoundTripper, error) {
	tc, err := tlsConfig(cfg, serverName)
	if err != nil {
		return nil, err
	}
	base, ok := http.DefaultTransport.(*http.Transport)
	if !ok {
		return nil, errors.New("the default HTTP transport is not an *http.Transport")
	}
	tr := base.Clone()
	tr.TLSClientConfig = tc
	return &instrumentedTransport{base: &redactingTransport{base: tr, secrets: cfg.secrets()}, cluster: cluster}, nil
}
