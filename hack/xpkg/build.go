package main

import (
	"archive/tar"
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/spf13/afero"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/crossplane/crossplane-runtime/v2/pkg/xpkg"
	"github.com/crossplane/crossplane-runtime/v2/pkg/xpkg/parser"
	"github.com/crossplane/crossplane-runtime/v2/pkg/xpkg/parser/examples"
	yamlparser "github.com/crossplane/crossplane-runtime/v2/pkg/xpkg/parser/yaml"
)

// nonroot is the uid and gid the runtime runs as, as in the distroless
// nonroot images Crossplane's templates build on.
const nonroot = 65532

// Runtime is the binary a Provider or Function package runs.
type Runtime struct {
	// Binary is a static Linux executable on the build host.
	Binary string
	// Entrypoint is its absolute path inside the image.
	Entrypoint string
	// OS and Architecture it was built for (GOOS, GOARCH).
	OS, Architecture string
	// ExposedPorts, e.g. 9443/tcp for a function's gRPC server.
	ExposedPorts []string
}

// BuildOptions say what to package.
type BuildOptions struct {
	// PackageRoot holds crossplane.yaml and the package's objects (CRDs,
	// XRDs, Compositions, ...), in any YAML file below it.
	PackageRoot string
	// Runtime, when set, becomes the base image the package layer is added
	// to: an xpkg with an embedded runtime, as `crossplane xpkg build
	// --embed-runtime-image` makes it. Configurations have none.
	Runtime *Runtime
}

// Build returns the package image. Everything in it is derived from its
// inputs only (no timestamps), so the same inputs give the same digest.
func Build(ctx context.Context, o BuildOptions) (v1.Image, runtime.Object, error) {
	base := empty.Image
	if o.Runtime != nil {
		var err error
		if base, err = runtimeImage(o.Runtime); err != nil {
			return nil, nil, err
		}
	}
	root, err := filepath.Abs(o.PackageRoot)
	if err != nil {
		return nil, nil, fmt.Errorf("cannot resolve package root %s: %w", o.PackageRoot, err)
	}
	if _, err := os.Stat(filepath.Join(root, "crossplane.yaml")); err != nil {
		return nil, nil, fmt.Errorf("package root %s has no crossplane.yaml: %w", root, err)
	}
	pp, err := yamlparser.New()
	if err != nil {
		return nil, nil, fmt.Errorf("cannot create package parser: %w", err)
	}
	fs := afero.NewOsFs()
	filters := parser.FsFilters(parser.SkipDirs(), parser.SkipNotYAML(), parser.SkipEmpty())
	// The crossplane CLI reads examples from <root>/examples; eslink's
	// examples live at the top of the repository and are not packaged, so
	// this directory does not exist and no examples layer is written.
	b := xpkg.New(
		parser.NewFsBackend(fs, parser.FsDir(root), filters),
		parser.NewFsBackend(fs, parser.FsDir(filepath.Join(root, "examples")), filters),
		pp, examples.New())
	img, meta, err := b.Build(ctx, xpkg.WithBase(base))
	if err != nil {
		return nil, nil, fmt.Errorf("cannot build package from %s: %w", root, err)
	}
	return img, meta, nil
}

// runtimeImage is a one-layer image holding the binary at its entrypoint,
// owned by and run as the nonroot user.
func runtimeImage(r *Runtime) (v1.Image, error) {
	if !path.IsAbs(r.Entrypoint) {
		return nil, fmt.Errorf("entrypoint %q must be an absolute path", r.Entrypoint)
	}
	bin, err := os.ReadFile(r.Binary) // A path given on the command line.
	if err != nil {
		return nil, fmt.Errorf("cannot read runtime binary: %w", err)
	}
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	// Parent directories first, as an image builder writes them.
	dir := path.Dir(r.Entrypoint)
	var parents []string
	for d := dir; d != "/"; d = path.Dir(d) {
		parents = append([]string{d}, parents...)
	}
	epoch := time.Unix(0, 0).UTC()
	for _, d := range parents {
		if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: d[1:] + "/", Mode: 0o755, ModTime: epoch}); err != nil {
			return nil, fmt.Errorf("cannot write runtime layer: %w", err)
		}
	}
	if err := tw.WriteHeader(&tar.Header{
		Typeflag: tar.TypeReg, Name: r.Entrypoint[1:], Mode: 0o755, Size: int64(len(bin)),
		Uid: nonroot, Gid: nonroot, ModTime: epoch,
	}); err != nil {
		return nil, fmt.Errorf("cannot write runtime layer: %w", err)
	}
	if _, err := tw.Write(bin); err != nil {
		return nil, fmt.Errorf("cannot write runtime layer: %w", err)
	}
	if err := tw.Close(); err != nil {
		return nil, fmt.Errorf("cannot write runtime layer: %w", err)
	}
	layer, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(buf.Bytes())), nil
	})
	if err != nil {
		return nil, fmt.Errorf("cannot create runtime layer: %w", err)
	}
	img, err := mutate.AppendLayers(empty.Image, layer)
	if err != nil {
		return nil, fmt.Errorf("cannot create runtime image: %w", err)
	}
	cfg, err := img.ConfigFile()
	if err != nil {
		return nil, fmt.Errorf("cannot read runtime image config: %w", err)
	}
	cfg = cfg.DeepCopy()
	cfg.OS, cfg.Architecture = r.OS, r.Architecture
	cfg.Config.Entrypoint = []string{r.Entrypoint}
	cfg.Config.User = fmt.Sprintf("%d:%d", nonroot, nonroot)
	cfg.Config.WorkingDir = "/"
	if len(r.ExposedPorts) > 0 {
		cfg.Config.ExposedPorts = map[string]struct{}{}
		for _, p := range r.ExposedPorts {
			cfg.Config.ExposedPorts[p] = struct{}{}
		}
	}
	img, err = mutate.ConfigFile(img, cfg)
	if err != nil {
		return nil, fmt.Errorf("cannot configure runtime image: %w", err)
	}
	return img, nil
}
