package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net/http"
	"os"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/tarball"

	"github.com/crossplane/crossplane-runtime/v2/pkg/xpkg"
)

// PushOptions say where a package goes.
type PushOptions struct {
	// File is an xpkg written by Build.
	File string
	// Ref is the tag to push to, e.g. registry.example.com/eslink/provider-eslink:v0.1.0.
	Ref string
	// CABundle is a PEM file of extra CAs to trust, for a private registry.
	CABundle string
}

// Push pushes a package as `crossplane xpkg push` does: an xpkg file keeps
// the package layer's annotation as an image config label (the tarball
// format has no layer annotations), so it is turned back into the manifest
// annotation Crossplane looks for before the image is written. Credentials
// come from the Docker config, as for any registry client. It returns the
// pushed digest.
func Push(ctx context.Context, o PushOptions) (v1.Hash, error) {
	ref, err := name.ParseReference(o.Ref, name.StrictValidation)
	if err != nil {
		return v1.Hash{}, fmt.Errorf("cannot parse reference %q: %w", o.Ref, err)
	}
	img, err := tarball.ImageFromPath(o.File, nil)
	if err != nil {
		return v1.Hash{}, fmt.Errorf("cannot read package %s: %w", o.File, err)
	}
	img, err = xpkg.AnnotateLayers(img)
	if err != nil {
		return v1.Hash{}, fmt.Errorf("cannot annotate package %s: %w", o.File, err)
	}
	t, ok := remote.DefaultTransport.(*http.Transport)
	if !ok {
		return v1.Hash{}, fmt.Errorf("unexpected default transport %T", remote.DefaultTransport)
	}
	t = t.Clone()
	if o.CABundle != "" {
		pem, err := os.ReadFile(o.CABundle) // A path given on the command line.
		if err != nil {
			return v1.Hash{}, fmt.Errorf("cannot read CA bundle: %w", err)
		}
		pool, err := x509.SystemCertPool()
		if err != nil {
			pool = x509.NewCertPool()
		}
		if !pool.AppendCertsFromPEM(pem) {
			return v1.Hash{}, fmt.Errorf("no certificates in CA bundle %s", o.CABundle)
		}
		t.TLSClientConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	}
	if err := remote.Write(ref, img,
		remote.WithContext(ctx), remote.WithTransport(t), remote.WithAuthFromKeychain(authn.DefaultKeychain)); err != nil {
		return v1.Hash{}, fmt.Errorf("cannot push %s to %s: %w", o.File, ref, err)
	}
	d, err := img.Digest()
	if err != nil {
		return v1.Hash{}, fmt.Errorf("cannot compute digest of %s: %w", o.File, err)
	}
	return d, nil
}
