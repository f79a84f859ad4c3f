package eck

import (
	"bytes"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"sort"
	"strings"

	"github.com/eslink/eslink/apis/eck/v1alpha1"
)

// An eslink CA bundle is a Secret in an ECK cluster's namespace that every
// nodeSet mounts once (see Mount). Each RemoteClusterTrust owns one key of
// it, <uid>.crt; BundleFile concatenates them after the cluster's own
// transport CA, which keeps the file from ever being empty: Elasticsearch
// refuses to start with a certificate_authorities file without a
// certificate, as ECK's own remote CA bundle also falls back to it
// (certificates/remoteca/reconcile.go).
const (
	// BundleFile is the bundle's key the setting lists.
	BundleFile = "ca.crt"
	// BundleOwnCA holds the cluster's own transport CA.
	BundleOwnCA = "cluster-ca.pem"
	// bundleEntrySuffix ends the key of each owner's CA.
	bundleEntrySuffix = ".crt"
)

// BundleMount is the mount of a cluster's CA bundle for purpose.
func BundleMount(cluster string, purpose v1alpha1.TrustPurpose) Mount {
	name, setting := "eslink-remote-cluster-ca", "xpack.security.remote_cluster_client.ssl.certificate_authorities"
	if purpose == v1alpha1.TrustCrossClusterSigning {
		name, setting = "eslink-signing-ca", "cluster.remote.signing.certificate_authorities"
	}
	dir := "/usr/share/elasticsearch/config/" + name
	return Mount{
		Volume:     name,
		SecretName: cluster + "-" + name,
		MountPath:  dir,
		Setting:    setting,
		File:       dir + "/" + BundleFile,
	}
}

// BundleEntryKey is the bundle key of an owner's CA.
func BundleEntryKey(uid string) string { return uid + bundleEntrySuffix }

// BundleData returns the bundle's data with the owners' entries and their
// concatenation after own, the cluster's own CA.
func BundleData(own []byte, entries map[string][]byte) map[string][]byte {
	keys := make([]string, 0, len(entries))
	for k := range entries {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	data := map[string][]byte{}
	var all bytes.Buffer
	seen := map[string]bool{}
	add := func(pemBytes []byte) {
		for rest := pemBytes; ; {
			var b *pem.Block
			b, rest = pem.Decode(rest)
			if b == nil {
				return
			}
			if seen[string(b.Bytes)] {
				continue
			}
			seen[string(b.Bytes)] = true
			_ = pem.Encode(&all, &pem.Block{Type: b.Type, Bytes: b.Bytes}) // A bytes.Buffer never fails.
		}
	}
	data[BundleOwnCA] = own
	add(own)
	for _, k := range keys {
		data[k] = entries[k]
		add(entries[k])
	}
	data[BundleFile] = all.Bytes()
	return data
}

// BundleEntries returns the owners' entries of a bundle's data.
func BundleEntries(data map[string][]byte) map[string][]byte {
	out := map[string][]byte{}
	for k, v := range data {
		if k != BundleFile && strings.HasSuffix(k, bundleEntrySuffix) {
			out[k] = v
		}
	}
	return out
}

// ParseCAs checks that raw holds only PEM CA certificates and returns them
// re-encoded, with their SHA-256 fingerprints. Anything else is refused, so
// that no other secret can be copied into a bundle, and errors never quote
// raw.
func ParseCAs(raw []byte, source string) ([]byte, []string, error) {
	var out bytes.Buffer
	var fingerprints []string
	rest := bytes.TrimSpace(raw)
	for len(rest) > 0 {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			return nil, nil, &InvalidSpecError{Msg: fmt.Sprintf("%s holds something other than PEM certificates: give the PEM CA certificate(s) only", source)}
		}
		rest = bytes.TrimSpace(rest)
		if b.Type != "CERTIFICATE" {
			return nil, nil, &InvalidSpecError{Msg: fmt.Sprintf("%s holds a PEM %s block: give the PEM CA certificate(s) only", source, strings.ToLower(b.Type))}
		}
		c, err := x509.ParseCertificate(b.Bytes)
		if err != nil {
			return nil, nil, &InvalidSpecError{Msg: fmt.Sprintf("%s holds a certificate that does not parse", source)}
		}
		if !c.IsCA {
			return nil, nil, &InvalidSpecError{Msg: fmt.Sprintf("%s holds the certificate of %q, which is not a CA: give the CA that signed the server's certificate", source, c.Subject.String())}
		}
		sum := sha256.Sum256(b.Bytes)
		fingerprints = append(fingerprints, hex.EncodeToString(sum[:]))
		_ = pem.Encode(&out, b) // A bytes.Buffer never fails.
	}
	if len(fingerprints) == 0 {
		return nil, nil, &InvalidSpecError{Msg: fmt.Sprintf("%s holds no certificate", source)}
	}
	return out.Bytes(), fingerprints, nil
}
