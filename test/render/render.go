// Package render runs Crossplane's real composition engine (v2.4.0, built
// into bin/xprender by `make render-engine`) against composition functions
// served in-process by the test.
//
// The engine is a separate binary so eslink's module never depends on the
// crossplane/v2 core module; this package only writes YAML files, runs
// `xprender render` and parses the YAML stream it prints.
package render

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	fnv1 "github.com/crossplane/function-sdk-go/proto/v1"
	"google.golang.org/grpc"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	kyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/yaml"
)

const (
	// ExitFatal is xprender's (and the crossplane CLI's) exit code when a
	// function returned a fatal result. Render still parses the output.
	ExitFatal = 3

	// ResultAPIVersion is the apiVersion of function result documents.
	ResultAPIVersion = "render.crossplane.io/v1beta1"
	// ResultKind is the kind of function result documents.
	ResultKind = "Result"

	mainModule  = "github.com/eslink/eslink"
	makeBinHint = "run `make render-engine` (hack/build-render.sh) first"
)

// ServeFunction serves a composition function on a free loopback port without
// TLS, as the engine's Development runtime expects, and returns its address.
// The server stops when the test ends.
//
// A plain grpc.Server is used instead of function-sdk-go's function.Serve,
// which blocks and also starts a metrics server on :8080.
func ServeFunction(t testing.TB, srv fnv1.FunctionRunnerServiceServer) string {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("cannot listen for function: %v", err)
	}
	s := grpc.NewServer()
	fnv1.RegisterFunctionRunnerServiceServer(s, srv)
	done := make(chan error, 1)
	go func() { done <- s.Serve(lis) }()
	t.Cleanup(func() {
		s.Stop()
		if err := <-done; err != nil && !errors.Is(err, grpc.ErrServerStopped) {
			t.Errorf("function server: %v", err)
		}
	})
	return lis.Addr().String()
}

// Function is a function the Composition's pipeline refers to by Name,
// served at Address (e.g. from ServeFunction).
type Function struct {
	Name    string
	Address string
}

// Input is what to render. Every object may be a *unstructured.Unstructured,
// a map, a typed Kubernetes object, or YAML/JSON as []byte or string.
type Input struct {
	XR          any
	Composition any
	Functions   []Function
	// Observed are observed composed resources (the previous reconcile's
	// output, with status), fed back to the pipeline.
	Observed []any
	// Required are resources functions may request (extra resources).
	Required []any
	// XRD is optional; with it the engine applies schema defaults and
	// picks the Legacy or Modern XR schema.
	XRD            any
	IncludeResults bool
	// Timeout bounds the render; default one minute.
	Timeout time.Duration
}

// Output is the rendered result.
type Output struct {
	XR       *unstructured.Unstructured
	Composed []*unstructured.Unstructured
	// Results holds render.crossplane.io/v1beta1 Result documents
	// (severity, reason, message) when Input.IncludeResults is set.
	Results []*unstructured.Unstructured
	// ExitCode is 0, or ExitFatal when a function returned a fatal result.
	ExitCode int
	// Raw is the engine's YAML output, and Stderr its diagnostics.
	Raw    []byte
	Stderr string
}

// ComposedByName returns the composed resource with the given
// crossplane.io/composition-resource-name annotation, or nil.
func (o *Output) ComposedByName(name string) *unstructured.Unstructured {
	for _, u := range o.Composed {
		if u.GetAnnotations()["crossplane.io/composition-resource-name"] == name {
			return u
		}
	}
	return nil
}

// Render runs the engine on in. A fatal function result is not an error:
// the partial Output is returned with ExitCode ExitFatal.
func Render(ctx context.Context, in Input) (*Output, error) {
	bin, err := EnginePath()
	if err != nil {
		return nil, err
	}
	if in.XR == nil || in.Composition == nil {
		return nil, errors.New("render input needs an XR and a Composition")
	}

	dir, err := os.MkdirTemp("", "eslink-render-")
	if err != nil {
		return nil, fmt.Errorf("cannot create temp dir: %w", err)
	}
	defer func() { _ = os.RemoveAll(dir) }() // Best effort: a leftover temp dir is harmless.

	timeout := in.Timeout
	if timeout <= 0 {
		timeout = time.Minute
	}
	args := []string{"render", "--timeout", timeout.String()}
	write := func(flag, name string, objs ...any) error {
		p := filepath.Join(dir, name)
		if err := writeYAMLStream(p, objs); err != nil {
			return fmt.Errorf("cannot write %s: %w", name, err)
		}
		args = append(args, flag, p)
		return nil
	}
	if err := write("--xr", "xr.yaml", in.XR); err != nil {
		return nil, err
	}
	if err := write("--composition", "composition.yaml", in.Composition); err != nil {
		return nil, err
	}
	fns := make([]any, 0, len(in.Functions))
	for _, f := range in.Functions {
		fns = append(fns, developmentFunction(f))
	}
	if err := write("--functions", "functions.yaml", fns...); err != nil {
		return nil, err
	}
	if len(in.Observed) > 0 {
		if err := write("--observed-resources", "observed.yaml", in.Observed...); err != nil {
			return nil, err
		}
	}
	if len(in.Required) > 0 {
		if err := write("--required-resources", "required.yaml", in.Required...); err != nil {
			return nil, err
		}
	}
	if in.XRD != nil {
		if err := write("--xrd", "xrd.yaml", in.XRD); err != nil {
			return nil, err
		}
	}
	if in.IncludeResults {
		args = append(args, "--include-function-results")
	}

	cmd := exec.CommandContext(ctx, bin, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	runErr := cmd.Run()

	out := &Output{Raw: stdout.Bytes(), Stderr: stderr.String()}
	var ee *exec.ExitError
	switch {
	case runErr == nil:
	case errors.As(runErr, &ee) && ee.ExitCode() == ExitFatal:
		out.ExitCode = ExitFatal
	default:
		return nil, fmt.Errorf("xprender render failed: %w: %s", runErr, strings.TrimSpace(stderr.String()))
	}
	if err := out.parse(); err != nil {
		return nil, fmt.Errorf("cannot parse xprender output: %w", err)
	}
	return out, nil
}

// MustRender is Render for tests: it fails t on error.
func MustRender(t testing.TB, in Input) *Output {
	t.Helper()
	out, err := Render(t.Context(), in)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func (o *Output) parse() error {
	dec := kyaml.NewYAMLOrJSONDecoder(bytes.NewReader(o.Raw), 4096)
	for {
		obj := map[string]any{}
		if err := dec.Decode(&obj); err != nil {
			if errors.Is(err, io.EOF) {
				break
			}
			return err
		}
		if len(obj) == 0 {
			continue
		}
		u := &unstructured.Unstructured{Object: obj}
		switch {
		case o.XR == nil:
			o.XR = u // the engine always prints the XR first
		case u.GetAPIVersion() == ResultAPIVersion && u.GetKind() == ResultKind:
			o.Results = append(o.Results, u)
		default:
			o.Composed = append(o.Composed, u)
		}
	}
	if o.XR == nil {
		return errors.New("no composite resource in output")
	}
	return nil
}

// developmentFunction is a Function package the engine dials directly at
// f.Address instead of running its image.
func developmentFunction(f Function) map[string]any {
	return map[string]any{
		"apiVersion": "pkg.crossplane.io/v1",
		"kind":       "Function",
		"metadata": map[string]any{
			"name": f.Name,
			"annotations": map[string]any{
				"render.crossplane.io/runtime":                    "Development",
				"render.crossplane.io/runtime-development-target": f.Address,
			},
		},
		"spec": map[string]any{"package": "xpkg.crossplane.io/eslink/" + f.Name + ":v0.0.0-test"},
	}
}

func writeYAMLStream(path string, objs []any) error {
	var buf bytes.Buffer
	for _, o := range objs {
		var b []byte
		switch v := o.(type) {
		case []byte:
			b = v
		case string:
			b = []byte(v)
		default:
			var err error
			if b, err = yaml.Marshal(v); err != nil {
				return fmt.Errorf("cannot marshal %T: %w", o, err)
			}
		}
		buf.WriteString("---\n")
		buf.Write(b)
		if len(b) > 0 && b[len(b)-1] != '\n' {
			buf.WriteByte('\n')
		}
	}
	return os.WriteFile(path, buf.Bytes(), 0o600)
}

// EnginePath returns the xprender binary: $XPRENDER if set, else
// <repo>/bin/xprender.
func EnginePath() (string, error) {
	p := os.Getenv("XPRENDER")
	if p == "" {
		root, err := repoRoot()
		if err != nil {
			return "", err
		}
		p = filepath.Join(root, "bin", "xprender")
	}
	st, err := os.Stat(p)
	if err != nil || st.IsDir() || st.Mode()&0o111 == 0 {
		return "", fmt.Errorf("render engine %s not found or not executable: %s", p, makeBinHint)
	}
	return p, nil
}

// repoRoot returns the nearest ancestor of the working directory (a package
// directory under `go test`) whose go.mod declares eslink's main module.
func repoRoot() (string, error) {
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
