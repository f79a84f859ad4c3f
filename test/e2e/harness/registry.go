package harness

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/registry"
)

// ociRegistry is an in-memory OCI registry served over TLS on loopback: the
// "your registry" of docs/install.md's steps. Crossplane pulls eslink's
// packages from it, trusting its CA through core's --ca-bundle-path.
type ociRegistry struct {
	// Host is host:port, the registry part of a package reference.
	Host string
	// CAFile holds the PEM CA that signed the registry's certificate.
	CAFile string

	srv *http.Server
}

func startRegistry(dir string) (*ociRegistry, error) {
	ca, err := newCertAuthority("eslink e2e registry CA")
	if err != nil {
		return nil, err
	}
	certPEM, keyPEM, err := ca.issue("eslink e2e registry")
	if err != nil {
		return nil, err
	}
	cert, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return nil, fmt.Errorf("cannot load registry certificate: %w", err)
	}
	caFile := filepath.Join(dir, "registry-ca.pem")
	if err := os.WriteFile(caFile, ca.certPEM, 0o600); err != nil {
		return nil, fmt.Errorf("cannot write registry CA: %w", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("cannot listen for the registry: %w", err)
	}
	srv := &http.Server{
		Handler:           registry.New(registry.Logger(log.New(io.Discard, "", 0))),
		TLSConfig:         &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12},
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          log.New(io.Discard, "", 0),
	}
	go func() { _ = srv.ServeTLS(ln, "", "") }()
	return &ociRegistry{Host: ln.Addr().String(), CAFile: caFile, srv: srv}, nil
}

func (r *ociRegistry) Close() {
	if r == nil {
		return
	}
	_ = r.srv.Close()
}

// push pushes an xpkg file to the registry with the same tool and command
// `make xpkg-push` uses (hack/xpkg); a push that reports nothing failed.
func (r *ociRegistry) push(ctx context.Context, tool, file, ref string) error {
	cmd := exec.CommandContext(ctx, tool, "push", "--ca-bundle", r.CAFile, file, ref)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("cannot push %s to %s: %w: %s", filepath.Base(file), ref, err, out)
	}
	if strings.TrimSpace(string(out)) == "" {
		return errors.New("push reported nothing")
	}
	return nil
}
