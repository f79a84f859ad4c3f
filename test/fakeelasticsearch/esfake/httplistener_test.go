package esfake

import (
	"crypto/tls"
	"crypto/x509"
	"net"
	"strings"
	"testing"
)

// TestHTTPListener reaches a server's REST API by a Service name: the
// network resolves it to the server's own listener, whose certificate
// carries the name, and no cluster connects to it as a remote.
func TestHTTPListener(t *testing.T) {
	t.Parallel()
	const service = "cluster2-es-http.ns2.svc:9200"
	w := newWorld(t)
	api := NewServer(t, Options{ClusterName: "cluster3", TLS: true, DNSNames: []string{"cluster2-es-http.ns2.svc"}})
	if _, ok := w.n.HTTPAddress(service); ok {
		t.Fatal("an unregistered address resolves")
	}
	if err := w.n.Register(service, api, HTTPListener); err != nil {
		t.Fatal(err)
	}
	if _, ok := w.n.HTTPAddress(rcsAddr); ok {
		t.Fatal("a remote cluster server address resolves as an HTTP port")
	}
	addr, ok := w.n.HTTPAddress(service)
	if !ok || !strings.Contains(api.URL, addr) {
		t.Fatalf("HTTPAddress(%s) = %q, %v; want the listener of %s", service, addr, ok, api.URL)
	}

	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(api.CACertPEM)
	conn, err := tls.Dial("tcp", addr, &tls.Config{RootCAs: roots, ServerName: "cluster2-es-http.ns2.svc", MinVersion: tls.VersionTLS12})
	if err != nil {
		t.Fatalf("TLS to %s as %s: %v", addr, service, err)
	}
	_ = conn.Close()
	host, _, _ := net.SplitHostPort(service)
	if _, err := tls.Dial("tcp", addr, &tls.Config{RootCAs: roots, ServerName: "other-" + host, MinVersion: tls.VersionTLS12}); err == nil {
		t.Error("the certificate is valid for a name it was not issued for")
	}

	w.settings(t, `{"persistent":{"cluster.remote.logs.proxy_address":"`+service+`","cluster.remote.logs.server_name":"cluster2-es-http.ns2.svc"}}`)
	if c := w.l.RemoteConnection("logs"); c.Connected || !strings.Contains(c.Reason, "HTTP port") {
		t.Errorf("an alias pointing at an HTTP port: %+v, want not connected because it is the HTTP port", c)
	}

	api.Close()
	if _, ok := w.n.HTTPAddress(service); ok {
		t.Error("the address of a closed server resolves")
	}
}
