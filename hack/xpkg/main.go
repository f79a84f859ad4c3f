// Command eslink-xpkg builds eslink's Crossplane packages and pushes them to
// an OCI registry, in pure Go: what `crossplane xpkg build
// --embed-runtime-image` and `crossplane xpkg push` do, without a container
// engine and without the crossplane CLI (its module is not on the Go module
// proxy). `make xpkg` and `make xpkg-push` run it (hack/build-xpkg.sh).
//
//	eslink-xpkg build --package-root DIR --tag REF --output FILE
//	                  [--runtime-binary FILE --entrypoint PATH [--os linux --arch amd64] [--expose 9443/tcp]]
//	eslink-xpkg push [--ca-bundle FILE] FILE[,FILE...] REF
//
// push with one file per platform (comma-separated) pushes them as one
// multi-platform index.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"k8s.io/apimachinery/pkg/api/meta"
)

func main() {
	if err := run(context.Background(), os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "eslink-xpkg:", err)
		os.Exit(1)
	}
}

const usage = `usage:
  eslink-xpkg build --package-root DIR --tag REF --output FILE [--runtime-binary FILE --entrypoint PATH ...]
  eslink-xpkg push [--ca-bundle FILE] FILE[,FILE...] REF`

func run(ctx context.Context, args []string) error {
	if len(args) == 0 {
		return errors.New(usage)
	}
	switch args[0] {
	case "build":
		return runBuild(ctx, args[1:])
	case "push":
		return runPush(ctx, args[1:])
	default:
		return fmt.Errorf("unknown command %q\n%s", args[0], usage)
	}
}

type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ",") }
func (l *listFlag) Set(v string) error { *l = append(*l, v); return nil }

func runBuild(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("build", flag.ContinueOnError)
	root := fs.String("package-root", "", "directory holding crossplane.yaml and the package's objects")
	tag := fs.String("tag", "", "image name recorded in the xpkg file, e.g. xpkg.crossplane.io/eslink/provider-eslink:v0.1.0")
	out := fs.String("output", "", "xpkg file to write")
	bin := fs.String("runtime-binary", "", "static Linux binary to embed as the package's runtime")
	entrypoint := fs.String("entrypoint", "", "absolute path of the runtime binary inside the image")
	goos := fs.String("os", "linux", "OS the runtime binary was built for")
	arch := fs.String("arch", runtime.GOARCH, "architecture the runtime binary was built for")
	var expose listFlag
	fs.Var(&expose, "expose", "port the runtime listens on, e.g. 9443/tcp (repeatable)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	switch {
	case *root == "" || *tag == "" || *out == "":
		return errors.New("build needs --package-root, --tag and --output")
	case (*bin == "") != (*entrypoint == ""):
		return errors.New("--runtime-binary and --entrypoint go together")
	case fs.NArg() != 0:
		return fmt.Errorf("unexpected arguments %v", fs.Args())
	}
	t, err := name.NewTag(*tag, name.StrictValidation)
	if err != nil {
		return fmt.Errorf("invalid --tag %q: %w", *tag, err)
	}
	o := BuildOptions{PackageRoot: *root}
	if *bin != "" {
		o.Runtime = &Runtime{Binary: *bin, Entrypoint: *entrypoint, OS: *goos, Architecture: *arch, ExposedPorts: expose}
	}
	img, pkgMeta, err := Build(ctx, o)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(*out), 0o750); err != nil {
		return fmt.Errorf("cannot create output directory: %w", err)
	}
	tmp := *out + ".tmp"
	if err := tarball.WriteToFile(tmp, t, img); err != nil {
		return fmt.Errorf("cannot write %s: %w", *out, err)
	}
	if err := os.Rename(tmp, *out); err != nil {
		return fmt.Errorf("cannot write %s: %w", *out, err)
	}
	d, err := img.Digest()
	if err != nil {
		return fmt.Errorf("cannot compute digest: %w", err)
	}
	pkgName := ""
	if m, err := meta.Accessor(pkgMeta); err == nil {
		pkgName = m.GetName()
	}
	fmt.Printf("%s %s: %s (%s)\n", pkgMeta.GetObjectKind().GroupVersionKind().Kind, pkgName, *out, d)
	return nil
}

func runPush(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("push", flag.ContinueOnError)
	ca := fs.String("ca-bundle", "", "PEM file of extra CAs to trust (a private registry)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 2 {
		return errors.New("push needs FILE[,FILE...] and REF")
	}
	d, err := Push(ctx, PushOptions{Files: strings.Split(fs.Arg(0), ","), Ref: fs.Arg(1), CABundle: *ca})
	if err != nil {
		return err
	}
	fmt.Printf("pushed %s to %s@%s\n", fs.Arg(0), fs.Arg(1), d)
	return nil
}
