// Package controlplane starts a real Kubernetes API server (kube-apiserver +
// etcd, built from Go modules by `make controlplane`) for tests, with ECK's
// Elasticsearch CRD, Crossplane's CRDs and eslink's own CRDs installed.
//
// Typical use:
//
//	func TestX(t *testing.T) {
//		env := controlplane.New(t) // stopped by t.Cleanup
//		_ = env.Client.Create(ctx, obj)
//	}
//
// To share one control plane across a test binary, call controlplane.Main
// from TestMain; New then returns the shared instance.
package controlplane

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/util/retry"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
)

// Versions of the upstream pieces. They must match the tool modules under
// hack/controlplane, which hack/build-controlplane.sh builds from.
const (
	KubernetesVersion = "1.34.3"
	ECKModule         = "github.com/elastic/cloud-on-k8s/v3"
	ECKVersion        = "v3.5.0"
	CrossplaneModule  = "github.com/crossplane/crossplane/v2"
	CrossplaneVersion = "v2.4.0"

	// ECKElasticsearchCRDFile is the Elasticsearch CRD's file name in both
	// the ECK module (config/crds/v1/resources/) and bin/crds/eck/.
	ECKElasticsearchCRDFile = "elasticsearch.k8s.elastic.co_elasticsearches.yaml"

	mainModule  = "github.com/eslink/eslink"
	makeBinHint = "run `make controlplane` (hack/build-controlplane.sh) first"
)

// ProjectCRDDirs are eslink's own CRD directories, relative to the repo root.
// Missing ones are skipped, so tests work before they are generated.
var ProjectCRDDirs = []string{"package/provider/crds", "package/function/input"}

// Env is a running control plane.
type Env struct {
	// Config connects to the API server as an administrator.
	Config *rest.Config
	// Client uses Scheme, which holds the client-go built-in types and
	// apiextensions/v1. Add your own types to Scheme (or use WithScheme); the
	// client looks types up in it on every call.
	Client client.Client
	Scheme *runtime.Scheme
	// CRDs are the CRDs that were installed.
	CRDs []*apiextensionsv1.CustomResourceDefinition

	env      *envtest.Environment
	stopOnce sync.Once
	stopErr  error
}

// Stop stops the API server and etcd. It is safe to call more than once.
func (e *Env) Stop() error {
	e.stopOnce.Do(func() {
		if err := e.env.Stop(); err != nil {
			e.stopErr = fmt.Errorf("cannot stop control plane: %w", err)
		}
	})
	return e.stopErr
}

// Option configures Start.
type Option func(*options)

type options struct {
	crdPaths     []string
	addToSchemes []func(*runtime.Scheme) error
	noProject    bool
	eckCRDs      string
}

// WithECKCRDs installs all of ECK's CRDs from file (all-crds.yaml, as ECK's
// operator needs them and its users install them) instead of the
// Elasticsearch CRD alone. The two schemas differ: all-crds.yaml keeps a
// nodeSet's podTemplate open, while the Elasticsearch CRD of
// config/crds/v1/resources validates it as a full PodTemplateSpec, which
// rejects the objects ECK's operator writes back.
func WithECKCRDs(file string) Option {
	return func(o *options) { o.eckCRDs = file }
}

// WithCRDPaths installs more CRDs: files or directories of YAML/JSON.
func WithCRDPaths(paths ...string) Option {
	return func(o *options) { o.crdPaths = append(o.crdPaths, paths...) }
}

// WithScheme adds types to the client's scheme, e.g. a generated AddToScheme.
func WithScheme(addToScheme ...func(*runtime.Scheme) error) Option {
	return func(o *options) { o.addToSchemes = append(o.addToSchemes, addToScheme...) }
}

// WithoutProjectCRDs skips eslink's own CRDs, e.g. while they do not compile
// into valid CRDs yet.
func WithoutProjectCRDs() Option {
	return func(o *options) { o.noProject = true }
}

// Start starts a control plane and installs the CRDs. The caller must Stop it.
func Start(ctx context.Context, opts ...Option) (*Env, error) {
	o := &options{}
	for _, fn := range opts {
		fn(o)
	}

	assets, err := AssetsDir()
	if err != nil {
		return nil, err
	}
	crdPaths, err := crdPaths(o)
	if err != nil {
		return nil, err
	}

	scheme := runtime.NewScheme()
	adds := append([]func(*runtime.Scheme) error{clientgoscheme.AddToScheme, apiextensionsv1.AddToScheme}, o.addToSchemes...)
	for _, add := range adds {
		if err := add(scheme); err != nil {
			return nil, fmt.Errorf("cannot build scheme: %w", err)
		}
	}

	env := &envtest.Environment{
		BinaryAssetsDirectory: assets,
		CRDDirectoryPaths:     crdPaths,
		// crdPaths only holds paths that exist.
		ErrorIfCRDPathMissing: true,
		Scheme:                scheme,
		// Starting takes a few seconds; on a loaded 2-core CI box the default
		// 20s per component is too tight.
		ControlPlaneStartTimeout: time.Minute,
		ControlPlaneStopTimeout:  time.Minute,
	}

	// envtest.Start has no context; honour cancellation by giving up waiting
	// (the processes are then stopped when Start returns).
	type result struct {
		cfg *rest.Config
		err error
	}
	done := make(chan result, 1)
	go func() {
		cfg, err := env.Start()
		done <- result{cfg, err}
	}()
	var res result
	select {
	case res = <-done:
	case <-ctx.Done():
		go func() {
			if r := <-done; r.err == nil {
				_ = env.Stop()
			}
		}()
		return nil, fmt.Errorf("cannot start control plane: %w", ctx.Err())
	}
	if res.err != nil {
		_ = env.Stop()
		return nil, fmt.Errorf("cannot start control plane (binaries in %s): %w", assets, res.err)
	}

	c, err := client.New(res.cfg, client.Options{Scheme: scheme})
	if err != nil {
		_ = env.Stop()
		return nil, fmt.Errorf("cannot create client: %w", err)
	}
	return &Env{Config: res.cfg, Client: c, Scheme: scheme, CRDs: env.CRDs, env: env}, nil
}

var shared *Env

// Main runs a test binary's tests against one shared control plane. Call it
// from TestMain; New then returns the shared Env instead of starting one.
func Main(m *testing.M, opts ...Option) {
	env, err := Start(context.Background(), opts...)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	shared = env
	code := m.Run()
	if err := env.Stop(); err != nil {
		fmt.Fprintln(os.Stderr, err)
	}
	os.Exit(code)
}

// New returns the shared control plane when Main is in use, else starts one
// that t.Cleanup stops. Options are ignored for the shared instance.
func New(t testing.TB, opts ...Option) *Env {
	t.Helper()
	if shared != nil {
		return shared
	}
	env, err := Start(context.Background(), opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := env.Stop(); err != nil {
			t.Error(err)
		}
	})
	return env
}

func crdPaths(o *options) ([]string, error) {
	eck := o.eckCRDs
	if eck == "" {
		var err error
		if eck, err = ECKCRDPath(); err != nil {
			return nil, err
		}
	}
	xp, err := CrossplaneCRDDir()
	if err != nil {
		return nil, err
	}
	paths := []string{eck, xp}
	if !o.noProject {
		dirs, err := ProjectCRDPaths()
		if err != nil {
			return nil, err
		}
		paths = append(paths, dirs...)
	}
	for _, p := range o.crdPaths {
		if _, err := os.Stat(p); err != nil {
			return nil, fmt.Errorf("cannot use extra CRD path: %w", err)
		}
	}
	return append(paths, o.crdPaths...), nil
}

// ProjectCRDPaths returns the eslink CRD directories that exist.
func ProjectCRDPaths() ([]string, error) {
	root, err := RepoRoot()
	if err != nil {
		return nil, err
	}
	var out []string
	for _, d := range ProjectCRDDirs {
		p := filepath.Join(root, d)
		if st, err := os.Stat(p); err == nil && st.IsDir() {
			out = append(out, p)
		}
	}
	return out, nil
}

// AssetsDir returns the directory holding kube-apiserver and etcd:
// $KUBEBUILDER_ASSETS if set, else <repo>/bin/k8s/<KubernetesVersion>.
func AssetsDir() (string, error) {
	dir := os.Getenv("KUBEBUILDER_ASSETS")
	if dir == "" {
		root, err := RepoRoot()
		if err != nil {
			return "", err
		}
		dir = filepath.Join(root, "bin", "k8s", KubernetesVersion)
	}
	for _, name := range []string{"kube-apiserver", "etcd"} {
		p := filepath.Join(dir, name)
		st, err := os.Stat(p)
		if err != nil || st.IsDir() || st.Mode()&0o111 == 0 {
			return "", fmt.Errorf("control plane binary %s not found or not executable: %s", p, makeBinHint)
		}
	}
	return dir, nil
}

// ECKCRDPath returns the path of ECK's Elasticsearch CRD file.
func ECKCRDPath() (string, error) {
	p, err := crdFile("eck", ECKElasticsearchCRDFile, ECKModule, ECKVersion, filepath.Join("config", "crds", "v1", "resources"))
	if err != nil {
		return "", err
	}
	return p, nil
}

// CrossplaneCRDDir returns the directory holding Crossplane's CRDs.
func CrossplaneCRDDir() (string, error) {
	return crdFile("crossplane", "", CrossplaneModule, CrossplaneVersion, filepath.Join("cluster", "crds"))
}

// crdFile returns bin/crds/<cacheDir>[/<file>] as cached by
// hack/build-controlplane.sh. When that cache is absent it falls back to the
// module cache (one `go mod download` per test binary), so a fresh checkout
// still works, only slower.
func crdFile(cacheDir, file, module, version, modSubdir string) (string, error) {
	root, err := RepoRoot()
	if err != nil {
		return "", err
	}
	cached := filepath.Join(root, "bin", "crds", cacheDir, file)
	if _, err := os.Stat(cached); err == nil {
		return cached, nil
	}
	dir, err := moduleDir(root, module, version)
	if err != nil {
		return "", fmt.Errorf("CRDs not cached in %s and cannot resolve them (%w): %s", filepath.Dir(cached), err, makeBinHint)
	}
	p := filepath.Join(dir, modSubdir, file)
	if _, err := os.Stat(p); err != nil {
		return "", fmt.Errorf("CRD path missing from %s@%s: %w", module, version, err)
	}
	return p, nil
}

var (
	modDirsMu sync.Mutex
	modDirs   = map[string]string{}
)

// moduleDir downloads module@version (verified by the go.sum of the
// hack/controlplane/crds tool module, so eslink's go.mod never requires it)
// and returns its directory in the module cache.
func moduleDir(root, module, version string) (string, error) {
	key := module + "@" + version
	modDirsMu.Lock()
	defer modDirsMu.Unlock()
	if d, ok := modDirs[key]; ok {
		return d, nil
	}
	cmd := exec.Command("go", "mod", "download", "-json", key)
	cmd.Dir = filepath.Join(root, "hack", "controlplane", "crds")
	cmd.Env = append(os.Environ(), "GOWORK=off")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("go mod download %s: %w: %s", key, err, strings.TrimSpace(stderr.String()))
	}
	var info struct{ Dir, Error string }
	if err := json.Unmarshal(out, &info); err != nil {
		return "", fmt.Errorf("cannot parse go mod download output for %s: %w", key, err)
	}
	if info.Error != "" || info.Dir == "" {
		return "", fmt.Errorf("go mod download %s: %s", key, info.Error)
	}
	modDirs[key] = info.Dir
	return info.Dir, nil
}

// RepoRoot returns the eslink repository root: the nearest ancestor of the
// working directory (a package directory under `go test`) whose go.mod
// declares the main module.
func RepoRoot() (string, error) {
	wd, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("cannot get working directory: %w", err)
	}
	for dir := wd; ; dir = filepath.Dir(dir) {
		if isMainModule(filepath.Join(dir, "go.mod")) {
			return dir, nil
		}
		if filepath.Dir(dir) == dir {
			return "", fmt.Errorf("cannot find the %s repository root above %s", mainModule, wd)
		}
	}
}

func isMainModule(gomod string) bool {
	f, err := os.Open(gomod)
	if err != nil {
		return false
	}
	defer func() { _ = f.Close() }() // Read-only.
	s := bufio.NewScanner(f)
	for s.Scan() {
		if fields := strings.Fields(s.Text()); len(fields) == 2 && fields[0] == "module" {
			return fields[1] == mainModule
		}
	}
	return false
}

// Update applies mutate to a fresh copy of obj and writes it, again on a
// newer copy while the API server reports a conflict. Tests edit objects that
// a running controller writes too (status, spec entries), as people do; the
// optimistic concurrency the controller is built for must not fail the test.
func Update(ctx context.Context, c client.Client, obj client.Object, mutate func() error) error {
	return update(ctx, c, obj, mutate, func() error { return c.Update(ctx, obj) })
}

// UpdateStatus is Update for the status subresource.
func UpdateStatus(ctx context.Context, c client.Client, obj client.Object, mutate func() error) error {
	return update(ctx, c, obj, mutate, func() error { return c.Status().Update(ctx, obj) })
}

func update(ctx context.Context, c client.Client, obj client.Object, mutate, write func() error) error {
	key := client.ObjectKeyFromObject(obj)
	return retry.RetryOnConflict(retry.DefaultRetry, func() error {
		if err := c.Get(ctx, key, obj); err != nil {
			return err
		}
		if err := mutate(); err != nil {
			return err
		}
		return write()
	})
}
