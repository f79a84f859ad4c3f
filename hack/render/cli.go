package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/structpb"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	kyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/yaml"

	renderv1alpha1 "github.com/crossplane/crossplane/v2/proto/render/v1alpha1"
)

// Function annotations understood by the crossplane CLI. Only the Development
// runtime is supported: there is no container engine to run function images.
const (
	annotationRuntime           = "render.crossplane.io/runtime"
	annotationDevelopmentTarget = "render.crossplane.io/runtime-development-target"
	runtimeDevelopment          = "Development"
	defaultDevelopmentTarget    = "localhost:9443"

	// annotationCompositionResourceName orders composed resources, as the CLI does.
	annotationCompositionResourceName = "crossplane.io/composition-resource-name"
)

// conditionTime is the fixed lastTransitionTime the crossplane CLI writes into
// rendered conditions so output is stable across runs.
const conditionTime = "2024-01-01T00:00:00Z"

type stringList []string

func (s *stringList) String() string     { return strings.Join(*s, ",") }
func (s *stringList) Set(v string) error { *s = append(*s, v); return nil }

type cliOptions struct {
	xr, composition, functions string
	observed                   string
	required                   stringList
	xrd                        string
	includeResults             bool
	timeout                    time.Duration
}

// runCLI implements `xprender render`, modelled on `crossplane composition
// render` (crossplane/cli cmd/crossplane/render/xr/cmd.go).
func runCLI(args []string) int {
	fs := flag.NewFlagSet("xprender render", flag.ContinueOnError)
	var o cliOptions
	fs.StringVar(&o.xr, "xr", "", "YAML file with the composite resource (XR) (required)")
	fs.StringVar(&o.composition, "composition", "", "YAML file with the Composition (required)")
	fs.StringVar(&o.functions, "functions", "", "YAML file or directory with pkg.crossplane.io Functions (required); each must use the Development runtime")
	fs.StringVar(&o.observed, "observed-resources", "", "YAML file or directory with observed composed resources")
	fs.Var(&o.required, "required-resources", "YAML file or directory with required (extra) resources; repeatable")
	fs.Var(&o.required, "extra-resources", "deprecated alias of --required-resources")
	fs.StringVar(&o.xrd, "xrd", "", "YAML file with the CompositeResourceDefinition; lets the engine apply defaults and pick the schema")
	fs.BoolVar(&o.includeResults, "include-function-results", false, "print function results as render.crossplane.io/v1beta1 Result documents")
	fs.DurationVar(&o.timeout, "timeout", time.Minute, "how long to wait for the render to finish")
	if err := fs.Parse(args); err != nil {
		return exitUsage
	}
	if o.xr == "" || o.composition == "" || o.functions == "" || fs.NArg() != 0 {
		fmt.Fprintln(os.Stderr, "xprender render: --xr, --composition and --functions are required and no positional arguments are accepted")
		fs.Usage()
		return exitUsage
	}

	req, err := buildRequest(o)
	if err != nil {
		fmt.Fprintf(os.Stderr, "xprender render: %v\n", err)
		return exitError
	}

	rsp, fatal, err := runSelf(req, o.timeout)
	if err != nil {
		fmt.Fprintf(os.Stderr, "xprender render: %v\n", err)
		return exitError
	}

	w := bufio.NewWriter(os.Stdout)
	if err := printOutput(w, rsp, o.includeResults); err != nil {
		fmt.Fprintf(os.Stderr, "xprender render: %v\n", err)
		return exitError
	}
	if err := w.Flush(); err != nil {
		fmt.Fprintf(os.Stderr, "xprender render: cannot write output: %v\n", err)
		return exitError
	}
	if fatal {
		return exitFatal
	}
	return 0
}

func buildRequest(o cliOptions) (*renderv1alpha1.RenderRequest, error) {
	xr, err := loadOne(o.xr)
	if err != nil {
		return nil, fmt.Errorf("cannot load composite resource from %q: %w", o.xr, err)
	}
	comp, err := loadOne(o.composition)
	if err != nil {
		return nil, fmt.Errorf("cannot load Composition from %q: %w", o.composition, err)
	}
	if err := checkComposition(xr, comp); err != nil {
		return nil, err
	}

	fns, err := loadStream(o.functions)
	if err != nil {
		return nil, fmt.Errorf("cannot load functions from %q: %w", o.functions, err)
	}
	fnInputs := make([]*renderv1alpha1.FunctionInput, 0, len(fns))
	for _, fn := range fns {
		addr, err := functionAddress(fn)
		if err != nil {
			return nil, err
		}
		fnInputs = append(fnInputs, &renderv1alpha1.FunctionInput{Name: fn.GetName(), Address: addr})
	}

	var xrd *unstructured.Unstructured
	if o.xrd != "" {
		if xrd, err = loadOne(o.xrd); err != nil {
			return nil, fmt.Errorf("cannot load XRD from %q: %w", o.xrd, err)
		}
		if err := applyXRDDefaults(xr, xrd); err != nil {
			return nil, fmt.Errorf("cannot apply XRD defaults to XR %q: %w", xr.GetName(), err)
		}
	}

	in := &renderv1alpha1.CompositeInput{Functions: fnInputs}
	if in.CompositeResource, err = toStruct(xr); err != nil {
		return nil, fmt.Errorf("cannot convert composite resource: %w", err)
	}
	if in.Composition, err = toStruct(comp); err != nil {
		return nil, fmt.Errorf("cannot convert Composition: %w", err)
	}
	if o.observed != "" {
		objs, err := loadStream(o.observed)
		if err != nil {
			return nil, fmt.Errorf("cannot load observed resources from %q: %w", o.observed, err)
		}
		if in.ObservedResources, err = toStructs(objs); err != nil {
			return nil, fmt.Errorf("cannot convert observed resources: %w", err)
		}
	}
	for _, p := range o.required {
		objs, err := loadStream(p)
		if err != nil {
			return nil, fmt.Errorf("cannot load required resources from %q: %w", p, err)
		}
		s, err := toStructs(objs)
		if err != nil {
			return nil, fmt.Errorf("cannot convert required resources: %w", err)
		}
		in.RequiredResources = append(in.RequiredResources, s...)
	}
	if xrd != nil {
		if in.CompositeResourceDefinition, err = toStruct(xrd); err != nil {
			return nil, fmt.Errorf("cannot convert XRD: %w", err)
		}
	}

	return &renderv1alpha1.RenderRequest{
		Meta:  &renderv1alpha1.RequestMeta{},
		Input: &renderv1alpha1.RenderRequest_Composite{Composite: in},
	}, nil
}

// checkComposition repeats the CLI's up-front checks, which give much clearer
// errors than the engine does when the wrong files are paired.
func checkComposition(xr, comp *unstructured.Unstructured) error {
	if comp.GetKind() != "Composition" {
		return fmt.Errorf("%q is a %s, not a Composition", comp.GetName(), comp.GetKind())
	}
	apiVersion, _, _ := unstructured.NestedString(comp.Object, "spec", "compositeTypeRef", "apiVersion")
	kind, _, _ := unstructured.NestedString(comp.Object, "spec", "compositeTypeRef", "kind")
	if kind != xr.GetKind() {
		return fmt.Errorf("composition's compositeTypeRef.kind (%s) does not match XR's kind (%s)", kind, xr.GetKind())
	}
	if apiVersion != xr.GetAPIVersion() {
		return fmt.Errorf("composition's compositeTypeRef.apiVersion (%s) does not match XR's apiVersion (%s)", apiVersion, xr.GetAPIVersion())
	}
	if mode, ok, _ := unstructured.NestedString(comp.Object, "spec", "mode"); ok && mode != "Pipeline" {
		return fmt.Errorf("render only supports Composition Function pipelines: Composition %q must use spec.mode: Pipeline", comp.GetName())
	}
	return nil
}

func functionAddress(fn *unstructured.Unstructured) (string, error) {
	if fn.GetKind() != "Function" {
		return "", fmt.Errorf("functions file contains a %s (%s), want pkg.crossplane.io Function", fn.GetKind(), fn.GetName())
	}
	ann := fn.GetAnnotations()
	if rt := ann[annotationRuntime]; rt != runtimeDevelopment {
		return "", fmt.Errorf("function %q: runtime %q is not supported, only %s=%s (no container engine); start the function with --insecure and set %s",
			fn.GetName(), rt, annotationRuntime, runtimeDevelopment, annotationDevelopmentTarget)
	}
	if t := ann[annotationDevelopmentTarget]; t != "" {
		return t, nil
	}
	return defaultDevelopmentTarget, nil
}

// runSelf pipes the request through `xprender internal render` in a child
// process. The engine reads os.Stdin and writes os.Stdout directly, so a child
// process is the simplest way to keep its I/O apart from ours.
func runSelf(req *renderv1alpha1.RenderRequest, timeout time.Duration) (rsp *renderv1alpha1.RenderResponse, fatal bool, err error) {
	in, err := proto.Marshal(req)
	if err != nil {
		return nil, false, fmt.Errorf("cannot marshal render request: %w", err)
	}
	self, err := os.Executable()
	if err != nil {
		return nil, false, fmt.Errorf("cannot locate own executable: %w", err)
	}

	// The engine enforces the timeout; the context only backs it up.
	ctx, cancel := context.WithTimeout(context.Background(), timeout+30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, self, "internal", "render", "--timeout", timeout.String())
	cmd.Stdin = bytes.NewReader(in)
	var stdout, stderr bytes.Buffer
	cmd.Stdout = &stdout
	cmd.Stderr = &stderr
	runErr := cmd.Run()

	var ee *exec.ExitError
	switch {
	case runErr == nil:
	case errors.As(runErr, &ee) && ee.ExitCode() == exitFatal && stdout.Len() > 0:
		// A function returned a fatal result; the engine still wrote the
		// partial output, which we print like the CLI does.
		fatal = true
		fmt.Fprint(os.Stderr, stderr.String())
	default:
		return nil, false, fmt.Errorf("render engine failed: %w: %s", runErr, strings.TrimSpace(stderr.String()))
	}

	rsp = &renderv1alpha1.RenderResponse{}
	if err := proto.Unmarshal(stdout.Bytes(), rsp); err != nil {
		return nil, false, fmt.Errorf("cannot unmarshal render response: %w", err)
	}
	return rsp, fatal, nil
}

func printOutput(w io.Writer, rsp *renderv1alpha1.RenderResponse, includeResults bool) error {
	out := rsp.GetComposite()
	if out == nil {
		return errors.New("render response does not contain a composite output")
	}

	xr := fromStruct(out.GetCompositeResource())
	replaceConditionTimestamps(xr)
	if err := writeDoc(w, xr.Object); err != nil {
		return fmt.Errorf("cannot write composite resource: %w", err)
	}

	composed := make([]*unstructured.Unstructured, 0, len(out.GetComposedResources()))
	for _, s := range out.GetComposedResources() {
		u := fromStruct(s)
		replaceConditionTimestamps(u)
		composed = append(composed, u)
	}
	// Stable order across runs, as in the CLI.
	slices.SortStableFunc(composed, func(a, b *unstructured.Unstructured) int {
		return strings.Compare(a.GetAnnotations()[annotationCompositionResourceName], b.GetAnnotations()[annotationCompositionResourceName])
	})
	for _, u := range composed {
		if err := writeDoc(w, u.Object); err != nil {
			return fmt.Errorf("cannot write composed resource %q: %w", u.GetName(), err)
		}
	}

	if includeResults {
		// The engine reports function results as events; the CLI prints them
		// as Result documents.
		for _, ev := range out.GetEvents() {
			if err := writeDoc(w, map[string]any{
				"apiVersion": "render.crossplane.io/v1beta1",
				"kind":       "Result",
				"severity":   ev.GetType(),
				"reason":     ev.GetReason(),
				"message":    ev.GetMessage(),
			}); err != nil {
				return fmt.Errorf("cannot write result: %w", err)
			}
		}
	}
	return nil
}

func writeDoc(w io.Writer, obj map[string]any) error {
	b, err := yaml.Marshal(obj)
	if err != nil {
		return err
	}
	if _, err := fmt.Fprintf(w, "---\n%s", b); err != nil {
		return err
	}
	return nil
}

func replaceConditionTimestamps(u *unstructured.Unstructured) {
	conds, ok, _ := unstructured.NestedSlice(u.Object, "status", "conditions")
	if !ok {
		return
	}
	for _, c := range conds {
		if m, ok := c.(map[string]any); ok {
			if _, has := m["lastTransitionTime"]; has {
				m["lastTransitionTime"] = conditionTime
			}
		}
	}
	_ = unstructured.SetNestedSlice(u.Object, conds, "status", "conditions")
}

func loadOne(path string) (*unstructured.Unstructured, error) {
	objs, err := loadStream(path)
	if err != nil {
		return nil, err
	}
	if len(objs) != 1 {
		return nil, fmt.Errorf("want exactly one object, found %d", len(objs))
	}
	return objs[0], nil
}

// loadStream reads every YAML/JSON document in a file, or in the .yaml, .yml
// and .json files of a directory (not recursive, sorted by name).
func loadStream(path string) ([]*unstructured.Unstructured, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	files := []string{path}
	if st.IsDir() {
		entries, err := os.ReadDir(path)
		if err != nil {
			return nil, err
		}
		files = files[:0]
		for _, e := range entries {
			switch filepath.Ext(e.Name()) {
			case ".yaml", ".yml", ".json":
				if !e.IsDir() {
					files = append(files, filepath.Join(path, e.Name()))
				}
			}
		}
		sort.Strings(files)
	}

	var out []*unstructured.Unstructured
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		dec := kyaml.NewYAMLOrJSONDecoder(bytes.NewReader(data), 4096)
		for {
			obj := map[string]any{}
			if err := dec.Decode(&obj); err != nil {
				if errors.Is(err, io.EOF) {
					break
				}
				return nil, fmt.Errorf("cannot decode %s: %w", f, err)
			}
			if len(obj) == 0 {
				continue // empty document, e.g. a leading "---"
			}
			out = append(out, &unstructured.Unstructured{Object: obj})
		}
	}
	return out, nil
}

func toStruct(u *unstructured.Unstructured) (*structpb.Struct, error) {
	// A JSON round trip normalises YAML-decoded values (int64 etc.) into the
	// types structpb accepts.
	b, err := u.MarshalJSON()
	if err != nil {
		return nil, err
	}
	s := &structpb.Struct{}
	if err := s.UnmarshalJSON(b); err != nil {
		return nil, err
	}
	return s, nil
}

func toStructs(us []*unstructured.Unstructured) ([]*structpb.Struct, error) {
	out := make([]*structpb.Struct, 0, len(us))
	for _, u := range us {
		s, err := toStruct(u)
		if err != nil {
			return nil, fmt.Errorf("%s %q: %w", u.GetKind(), u.GetName(), err)
		}
		out = append(out, s)
	}
	return out, nil
}

func fromStruct(s *structpb.Struct) *unstructured.Unstructured {
	if s == nil {
		return &unstructured.Unstructured{Object: map[string]any{}}
	}
	return &unstructured.Unstructured{Object: s.AsMap()}
}
