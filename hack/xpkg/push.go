package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strings"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/crossplane/crossplane-runtime/v2/pkg/xpkg"
)

// PushOptions say where a package goes.
type PushOptions struct {
	// Files are xpkgs written by Build: one, or one per platform of a
	// package with a runtime, pushed as one multi-platform index.
	Files []string
	// Ref is the tag to push to, e.g. registry.example.com/eslink/provider-eslink:v0.1.0.
	Ref string
	// CABundle is a PEM file of extra CAs to trust, for a private registry.
	CABundle string
}

// Push pushes a package as `crossplane xpkg push` does: an xpkg file keeps
// the package layer's annotation as an image config label (the tarball
// format has no layer annotations), so it is turned back into the manifest
// annotation Crossplane looks for before the image is written. Several
// files, one per platform, are pushed as an OCI image index whose entries
// carry each image's platform, as `crossplane xpkg push
// --package-files a.xpkg,b.xpkg` does: Crossplane's package manager picks
// the image of its node's platform. Credentials come from the Docker
// config, as for any registry client. It returns the pushed digest.
func Push(ctx context.Context, o PushOptions) (v1.Hash, error) {
	ref, err := name.ParseReference(o.Ref, name.StrictValidation)
	if err != nil {
		return v1.Hash{}, fmt.Errorf("cannot parse reference %q: %w", o.Ref, err)
	}
	if len(o.Files) == 0 {
		return v1.Hash{}, errors.New("no package file to push")
	}
	t, err := pushTransport(o.CABundle)
	if err != nil {
		return v1.Hash{}, err
	}
	opts := []remote.Option{remote.WithContext(ctx), remote.WithTransport(t), remote.WithAuthFromKeychain(authn.DefaultKeychain)}
	if len(o.Files) == 1 {
		img, err := readPackage(o.Files[0])
		if err != nil {
			return v1.Hash{}, err
		}
		if err := remote.Write(ref, img, opts...); err != nil {
			return v1.Hash{}, fmt.Errorf("cannot push %s to %s: %w", o.Files[0], ref, err)
		}
		return digest(img, o.Files[0])
	}
	idx, err := index(o.Files)
	if err != nil {
		return v1.Hash{}, err
	}
	if err := remote.WriteIndex(ref, idx, opts...); err != nil {
		return v1.Hash{}, fmt.Errorf("cannot push %s to %s: %w", strings.Join(o.Files, ", "), ref, err)
	}
	return digest(idx, strings.Join(o.Files, ", "))
}

// index is the multi-platform index of the package images in files, one
// per platform.
func index(files []string) (v1.ImageIndex, error) {
	var adds []mutate.IndexAddendum
	seen := map[string]string{}
	for _, f := range files {
		img, err := readPackage(f)
		if err != nil {
			return nil, err
		}
		cfg, err := img.ConfigFile()
		if err != nil {
			return nil, fmt.Errorf("cannot read the image config of %s: %w", f, err)
		}
		p := v1.Platform{OS: cfg.OS, Architecture: cfg.Architecture, Variant: cfg.Variant}
		if p.OS == "" || p.Architecture == "" {
			return nil, fmt.Errorf("%s has no platform: only a package with a runtime is built per platform", f)
		}
		if other, ok := seen[p.String()]; ok {
			return nil, fmt.Errorf("%s and %s are both for %s", other, f, p.String())
		}
		seen[p.String()] = f
		adds = append(adds, mutate.IndexAddendum{Add: img, Descriptor: v1.Descriptor{Platform: &p}})
	}
	return mutate.AppendManifests(mutate.IndexMediaType(empty.Index, types.OCIImageIndex), adds...), nil
}

func readPackage(file string) (v1.Image, error) {
	img, err := tarball.ImageFromPath(file, nil)
	if err != nil {
		return nil, fmt.Errorf("cannot read package %s: %w", file, err)
	}
	img, err = xpkg.AnnotateLayers(img)
	if err != nil {
		return nil, fmt.Errorf("cannot annotate package %s: %w", file, err)
	}
	return img, nil
}

func digest(o interface{ Digest() (v1.Hash, error) }, what string) (v1.Hash, error) {
	d, err := o.Digest()
	if err != nil {
		return v1.Hash{}, fmt.Errorf("cannot compute digest of %s: %w", what, err)
	}
	return d, nil
}

// pushTransport is the registry client's transport, trusting caBundle's
// CAs besides the system's.
func pushTransport(caBundle string) (*http.Transport, error) {
	t, ok := remote.DefaultTransport.(*http.Transport)
	if !ok {
		return nil, fmt.Errorf("unexpected default transport %T", remote.DefaultTransport)
	}
	t = t.Clone()
	if caBundle == "" {
		return t, nil
	}
	pem, err := os.ReadFile(caBundle) // A path given on the command line.
	if err != nil {
		return nil, fmt.Errorf("cannot read CA bundle: %w", err)
	}
	pool, err := x509.SystemCertPool()
	if err != nil {
		pool = x509.NewCertPool()
	}
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("no certificates in CA bundle %s", caBundle)
	}
	t.TLSClientConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	return t, nil
}
