package main

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/Masterminds/semver/v3"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	extv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	kruntime "k8s.io/apimachinery/pkg/runtime"

	"github.com/crossplane/crossplane-runtime/v2/pkg/xpkg"
	"github.com/crossplane/crossplane-runtime/v2/pkg/xpkg/parser"
	yamlparser "github.com/crossplane/crossplane-runtime/v2/pkg/xpkg/parser/yaml"

	pkgmetav1 "github.com/crossplane/crossplane/apis/v2/pkg/meta/v1"
)

const (
	canonical = "xpkg.crossplane.io/eslink/"
	// crossplaneVersion is the core the harness runs (hack/crossplane).
	crossplaneVersion = "v2.4.0"
)

// pkgCase is one of the packages `make xpkg` writes, with the arguments
// hack/build-xpkg.sh passes.
type pkgCase struct {
	name, root string
	// cmd is the main package of the runtime binary, "" for configurations.
	cmd, entrypoint string
	expose          []string
	kind            string
	objects         []string // kinds of the package's objects, sorted
}

var cases = []pkgCase{
	{name: "function-eslink", root: "package/function", cmd: "./function", entrypoint: "/usr/local/bin/function-eslink",
		expose: []string{"9443/tcp"}, kind: pkgmetav1.FunctionKind, objects: []string{"CustomResourceDefinition"}},
	{name: "provider-eslink", root: "package/provider", cmd: "./provider/cmd/provider", entrypoint: "/usr/local/bin/provider-eslink",
		// Eight managed kinds, and the provider configs and their usages,
		// namespaced and cluster-scoped.
		kind: pkgmetav1.ProviderKind, objects: slices.Repeat([]string{"CustomResourceDefinition"}, 12)},
	{name: "configuration-eslink-namespaced", root: "package/configuration/namespaced", kind: pkgmetav1.ConfigurationKind,
		objects: []string{"CompositeResourceDefinition", "Composition", "ManagedResourceActivationPolicy"}},
	{name: "configuration-eslink-legacy", root: "package/configuration/legacy", kind: pkgmetav1.ConfigurationKind,
		objects: []string{"CompositeResourceDefinition", "Composition", "ManagedResourceActivationPolicy"}},
}

// TestPackages builds every package the way `make xpkg` does, pushes it to a
// registry as `make xpkg-push` does, pulls it back as Crossplane's package
// manager does, and checks it with crossplane-runtime's parser and linters.
// For packages with a runtime it checks that the image's entrypoint is the
// binary and that it starts.
func TestPackages(t *testing.T) {
	repo, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	reg, caFile := startRegistry(t)
	dir := t.TempDir()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ctx := t.Context()
			args := []string{"build", "--package-root", filepath.Join(repo, c.root),
				"--tag", canonical + c.name + ":v0.1.0", "--output", filepath.Join(dir, c.name+".xpkg")}
			if c.cmd != "" {
				bin := buildBinary(t, repo, c.cmd, filepath.Join(dir, c.name+"-bin"))
				args = append(args, "--runtime-binary", bin, "--entrypoint", c.entrypoint, "--os", "linux", "--arch", runtime.GOARCH)
				for _, p := range c.expose {
					args = append(args, "--expose", p)
				}
			}
			if err := run(ctx, args); err != nil {
				t.Fatal(err)
			}

			ref := reg + "/eslink/" + c.name + ":v0.1.0"
			if err := run(ctx, []string{"push", "--ca-bundle", caFile, filepath.Join(dir, c.name+".xpkg"), ref}); err != nil {
				t.Fatal(err)
			}
			img := pull(t, ref, caFile)

			pkg := parsePackage(t, img)
			checkPackage(t, c, pkg)
			if c.cmd != "" {
				checkRuntime(t, c, img, dir)
			}
		})
	}
}

func buildBinary(t *testing.T, repo, pkg, out string) string {
	t.Helper()
	// The flags of hack/build-xpkg.sh, so the build cache makes this cheap
	// after `make xpkg`.
	cmd := exec.CommandContext(t.Context(), "go", "build", "-trimpath", "-buildvcs=false", "-ldflags", "-s -w", "-o", out, pkg)
	cmd.Dir = repo
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH="+runtime.GOARCH, "GOWORK=off")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("cannot build %s: %v\n%s", pkg, err, b)
	}
	return out
}

// startRegistry serves an in-memory OCI registry over TLS on loopback and
// returns its host:port and a CA bundle that trusts it.
func startRegistry(t *testing.T) (string, string) {
	t.Helper()
	srv := httptest.NewTLSServer(registry.New(registry.Logger(log.New(io.Discard, "", 0))))
	t.Cleanup(srv.Close)
	ca := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}), 0o600); err != nil {
		t.Fatal(err)
	}
	return strings.TrimPrefix(srv.URL, "https://"), ca
}

func pull(t *testing.T, ref, caFile string) v1.Image {
	t.Helper()
	b, err := os.ReadFile(caFile)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(b)
	r, err := name.ParseReference(ref)
	if err != nil {
		t.Fatal(err)
	}
	img, err := remote.Image(r, remote.WithContext(t.Context()),
		remote.WithTransport(&http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}}))
	if err != nil {
		t.Fatalf("cannot pull %s: %v", ref, err)
	}
	return img
}

// parsePackage reads the package stream as Crossplane's package manager
// does: from the one layer annotated io.crossplane.xpkg: base.
func parsePackage(t *testing.T, img v1.Image) *parser.Package {
	t.Helper()
	m, err := img.Manifest()
	if err != nil {
		t.Fatal(err)
	}
	annotated := 0
	for _, l := range m.Layers {
		if l.Annotations[xpkg.AnnotationKey] == xpkg.PackageAnnotation {
			annotated++
		}
	}
	if annotated != 1 {
		t.Fatalf("want exactly one layer annotated %s: %s, got %d of %d layers", xpkg.AnnotationKey, xpkg.PackageAnnotation, annotated, len(m.Layers))
	}
	rc, err := xpkg.ExtractPackageYAML(img)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	pp, err := yamlparser.New()
	if err != nil {
		t.Fatal(err)
	}
	pkg, err := pp.Parse(t.Context(), rc)
	if err != nil {
		t.Fatalf("cannot parse package: %v", err)
	}
	return pkg
}

func checkPackage(t *testing.T, c pkgCase, pkg *parser.Package) {
	t.Helper()
	var linter parser.Linter
	switch c.kind {
	case pkgmetav1.FunctionKind:
		linter = xpkg.NewFunctionLinter()
	case pkgmetav1.ProviderKind:
		linter = xpkg.NewProviderLinter()
	default:
		linter = xpkg.NewConfigurationLinter()
	}
	if err := linter.Lint(pkg); err != nil {
		t.Errorf("%s linter: %v", c.kind, err)
	}
	if len(pkg.GetMeta()) != 1 {
		t.Fatalf("want one meta object, got %d", len(pkg.GetMeta()))
	}
	meta, ok := xpkg.TryConvertToPkg(pkg.GetMeta()[0], &pkgmetav1.Provider{}, &pkgmetav1.Configuration{}, &pkgmetav1.Function{})
	if !ok {
		t.Fatalf("meta object %T is not a package", pkg.GetMeta()[0])
	}
	if got := pkg.GetMeta()[0].GetObjectKind().GroupVersionKind().Kind; got != c.kind {
		t.Errorf("meta kind = %s, want %s", got, c.kind)
	}
	if got := metaName(t, pkg.GetMeta()[0]); got != c.name {
		t.Errorf("meta name = %q, want %q", got, c.name)
	}
	// The core the harness runs must accept the package.
	constraint := meta.GetCrossplaneConstraints()
	if constraint == nil {
		t.Errorf("package declares no Crossplane version constraint")
	} else if cs, err := semver.NewConstraint(constraint.Version); err != nil {
		t.Errorf("Crossplane constraint %q: %v", constraint.Version, err)
	} else if !cs.Check(semver.MustParse(crossplaneVersion)) {
		t.Errorf("Crossplane constraint %q excludes %s", constraint.Version, crossplaneVersion)
	}

	var kinds []string
	for _, o := range pkg.GetObjects() {
		kinds = append(kinds, o.GetObjectKind().GroupVersionKind().Kind)
		if crd, ok := o.(*extv1.CustomResourceDefinition); ok && !strings.HasSuffix(crd.Spec.Group, "eslink.io") {
			t.Errorf("CRD %s is not in an eslink.io group", crd.Name)
		}
	}
	slices.Sort(kinds)
	if !slices.Equal(kinds, c.objects) {
		t.Errorf("objects = %v, want %v", kinds, c.objects)
	}

	if c.kind == pkgmetav1.ConfigurationKind {
		var deps []string
		for _, d := range meta.GetDependencies() {
			if d.APIVersion == nil || d.Kind == nil || d.Package == nil {
				t.Errorf("dependency %+v does not name apiVersion, kind and package", d)
				continue
			}
			deps = append(deps, *d.APIVersion+" "+*d.Kind+" "+*d.Package)
		}
		slices.Sort(deps)
		want := []string{"pkg.crossplane.io/v1 Function " + canonical + "function-eslink", "pkg.crossplane.io/v1 Provider " + canonical + "provider-eslink"}
		if !slices.Equal(deps, want) {
			t.Errorf("dependsOn = %v, want %v", deps, want)
		}
	}
}

func metaName(t *testing.T, o kruntime.Object) string {
	t.Helper()
	u, err := kruntime.DefaultUnstructuredConverter.ToUnstructured(o)
	if err != nil {
		t.Fatal(err)
	}
	return (&unstructured.Unstructured{Object: u}).GetName()
}

// checkRuntime checks that the image runs the binary: its entrypoint is an
// executable file of the image, owned by the user the image runs as, and it
// starts.
func checkRuntime(t *testing.T, c pkgCase, img v1.Image, dir string) {
	t.Helper()
	cfg, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(cfg.Config.Entrypoint, []string{c.entrypoint}) {
		t.Fatalf("entrypoint = %v, want [%s]", cfg.Config.Entrypoint, c.entrypoint)
	}
	if cfg.OS != "linux" || cfg.Architecture != runtime.GOARCH {
		t.Errorf("platform = %s/%s, want linux/%s", cfg.OS, cfg.Architecture, runtime.GOARCH)
	}
	if cfg.Config.User != "65532:65532" {
		t.Errorf("user = %q, want 65532:65532 (nonroot)", cfg.Config.User)
	}
	for _, p := range c.expose {
		if _, ok := cfg.Config.ExposedPorts[p]; !ok {
			t.Errorf("the image does not expose %s: %v", p, cfg.Config.ExposedPorts)
		}
	}

	bin := filepath.Join(dir, c.name+"-entrypoint")
	extractFile(t, img, c.entrypoint, bin)
	checkNoFaultPoints(t, bin)

	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	switch c.kind {
	case pkgmetav1.FunctionKind:
		// Start the function as its runtime would, and wait for it to serve.
		addr := freeAddr(t)
		cmd := exec.CommandContext(ctx, bin, "--insecure", "--address", addr)
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Start(); err != nil {
			t.Fatalf("cannot start the image's entrypoint: %v", err)
		}
		defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
		for {
			conn, err := net.DialTimeout("tcp", addr, time.Second)
			if err == nil {
				_ = conn.Close()
				break
			}
			if ctx.Err() != nil {
				t.Fatalf("the image's entrypoint does not serve on %s:\n%s", addr, out.String())
			}
			time.Sleep(100 * time.Millisecond)
		}
	case pkgmetav1.ProviderKind:
		// The provider needs an API server to run; its usage proves the
		// binary is the provider and starts.
		out, _ := exec.CommandContext(ctx, bin, "-h").CombinedOutput()
		for _, flag := range []string{"-poll", "-max-reconcile-rate", "-leader-election"} {
			if !strings.Contains(string(out), flag) {
				t.Errorf("the image's entrypoint does not take %s:\n%s", flag, out)
			}
		}
	}
}

// faultPointHooks are strings only a binary with the crash tests' fault
// points contains (eslink's provider/internal/faultpoint, built with the
// tag eslink_faultpoints): the variable that names the step to die at, and
// the message printed there.
var faultPointHooks = []string{"ESLINK_FAULT_POINT", "fault point %s reached"}

// checkNoFaultPoints fails when the shipped binary at bin could be made to
// exit by an environment variable.
func checkNoFaultPoints(t *testing.T, bin string) {
	t.Helper()
	b, err := os.ReadFile(bin)
	if err != nil {
		t.Fatal(err)
	}
	for _, hook := range faultPointHooks {
		if bytes.Contains(b, []byte(hook)) {
			t.Errorf("the shipped binary contains the fault point hook %q: it was built with the crash tests' build tag", hook)
		}
	}
}

// extractFile copies path from the image's filesystem to out.
func extractFile(t *testing.T, img v1.Image, path, out string) {
	t.Helper()
	rc := mutate.Extract(img)
	defer rc.Close()
	tr := tar.NewReader(rc)
	want := strings.TrimPrefix(path, "/")
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			t.Fatalf("the image has no file %s", path)
		}
		if err != nil {
			t.Fatal(err)
		}
		if strings.TrimPrefix(h.Name, "./") != want {
			continue
		}
		if h.Typeflag != tar.TypeReg || h.Mode&0o111 == 0 {
			t.Fatalf("%s in the image is not an executable file (type %c, mode %o)", path, h.Typeflag, h.Mode)
		}
		if h.Uid != nonroot || h.Gid != nonroot {
			t.Errorf("%s is owned by %d:%d, want %d:%d", path, h.Uid, h.Gid, nonroot, nonroot)
		}
		f, err := os.OpenFile(out, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o700) // A file in the test's temp dir.
		if err != nil {
			t.Fatal(err)
		}
		if _, err := io.Copy(f, tr); err != nil {
			t.Fatal(err)
		}
		if err := f.Close(); err != nil {
			t.Fatal(err)
		}
		return
	}
}

func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return "127.0.0.1:" + strconv.Itoa(l.Addr().(*net.TCPAddr).Port)
}

// TestReproducible checks that the same inputs give the same digest, so a
// rebuilt package is the same package.
func TestReproducible(t *testing.T) {
	repo, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	var digests []v1.Hash
	for range 2 {
		img, _, err := Build(t.Context(), BuildOptions{PackageRoot: filepath.Join(repo, "package", "configuration", "namespaced")})
		if err != nil {
			t.Fatal(err)
		}
		d, err := img.Digest()
		if err != nil {
			t.Fatal(err)
		}
		digests = append(digests, d)
	}
	if digests[0] != digests[1] {
		t.Errorf("two builds of the same package differ: %s, %s", digests[0], digests[1])
	}
}

// TestTarballRoundTrip checks that what build writes is an image tarball
// that names the canonical tag.
func TestTarballRoundTrip(t *testing.T) {
	repo, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "c.xpkg")
	tag := canonical + "configuration-eslink-legacy:v0.1.0"
	if err := run(t.Context(), []string{"build", "--package-root", filepath.Join(repo, "package", "configuration", "legacy"), "--tag", tag, "--output", out}); err != nil {
		t.Fatal(err)
	}
	tg, err := name.NewTag(tag)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tarball.ImageFromPath(out, &tg); err != nil {
		t.Errorf("the xpkg does not hold an image tagged %s: %v", tag, err)
	}
}
