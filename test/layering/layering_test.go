// Package layering checks the rules of where knowledge lives that the
// linter's depguard cannot see, because they are about what a package
// spells rather than what it imports.
package layering

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/eslink/eslink/test/controlplane"
)

// productionFiles parses every non-test Go file under the given top-level
// directories of the repository. Test-support packages (named *test, such
// as controller/controllertest) are left out: they stand in for ECK and
// spell its names on their own, as witnesses.
func productionFiles(t *testing.T, dirs ...string) map[string]*ast.File {
	t.Helper()
	root, err := controlplane.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	files := map[string]*ast.File{}
	for _, d := range dirs {
		err := filepath.WalkDir(filepath.Join(root, d), func(path string, e fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if e.IsDir() {
				if strings.HasSuffix(e.Name(), "test") {
					return filepath.SkipDir
				}
				return nil
			}
			if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
				return nil
			}
			f, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
			if err != nil {
				return err
			}
			rel, _ := filepath.Rel(root, path)
			files[filepath.ToSlash(rel)] = f
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	return files
}

// TestECKNamesLiveInEckschema: every name ECK derives from a cluster's
// (<name>-es-http, <name>-es-elastic-user, ...) is spelled in
// internal/eckschema only, so that the function and the provider, and each
// controller, derive it the same way.
func TestECKNamesLiveInEckschema(t *testing.T) {
	for path, f := range productionFiles(t, "apis", "internal", "provider", "function") {
		if strings.HasPrefix(path, "internal/eckschema/") {
			continue
		}
		ast.Inspect(f, func(n ast.Node) bool {
			lit, ok := n.(*ast.BasicLit)
			if !ok || lit.Kind != token.STRING {
				return true
			}
			if s, err := strconv.Unquote(lit.Value); err == nil && strings.Contains(s, "-es-") {
				t.Errorf("%s spells one of ECK's names (%q): derive it with a function of internal/eckschema", path, s)
			}
			return true
		})
	}
}

// TestConditionReasonsLiveInConditions: the controllers' condition reasons
// are declared in provider/internal/controller/conditions only, each once,
// so that no reason is spelled twice or two ways.
func TestConditionReasonsLiveInConditions(t *testing.T) {
	const home = "provider/internal/controller/conditions/"
	isReason := func(e ast.Expr) bool {
		sel, ok := e.(*ast.SelectorExpr)
		return ok && sel.Sel.Name == "ConditionReason"
	}
	seen := map[string]string{}
	for path, f := range productionFiles(t, "provider") {
		ast.Inspect(f, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.ValueSpec:
				if n.Type == nil || !isReason(n.Type) {
					return true
				}
				if !strings.HasPrefix(path, home) {
					t.Errorf("%s declares condition reason %s: declare it in %s", path, n.Names[0].Name, home)
				}
				for _, v := range n.Values {
					lit, ok := v.(*ast.BasicLit)
					if !ok {
						continue
					}
					if other, dup := seen[lit.Value]; dup {
						t.Errorf("condition reason %s is declared twice: %s and %s", lit.Value, other, n.Names[0].Name)
					}
					seen[lit.Value] = n.Names[0].Name
				}
			case *ast.CallExpr:
				if len(n.Args) == 1 && isReason(n.Fun) {
					if lit, ok := n.Args[0].(*ast.BasicLit); ok {
						t.Errorf("%s spells condition reason %s in place: use a constant of %s", path, lit.Value, home)
					}
				}
			}
			return true
		})
	}
	if len(seen) == 0 {
		t.Fatalf("found no condition reasons in %s: the check reads the wrong files", home)
	}
}

// TestOneErrorToConditionPath: a controller turns an error into its Ready
// condition with controller/conditions (Blocked, SetBlocked, SetNotReady,
// Ready) only, so that the same refusal reads the same on every kind. A
// function of its own that takes an error and sets conditions, or that
// builds a condition by hand, is a second path.
func TestOneErrorToConditionPath(t *testing.T) {
	const home = "provider/internal/controller/conditions/"
	isError := func(e ast.Expr) bool {
		id, ok := e.(*ast.Ident)
		return ok && id.Name == "error"
	}
	files := productionFiles(t, "provider")
	for path, f := range files {
		if strings.HasPrefix(path, home) {
			continue
		}
		for _, d := range f.Decls {
			fn, ok := d.(*ast.FuncDecl)
			if !ok || fn.Body == nil {
				continue
			}
			takesError := false
			for _, p := range fn.Type.Params.List {
				takesError = takesError || isError(p.Type)
			}
			ast.Inspect(fn.Body, func(n ast.Node) bool {
				switch n := n.(type) {
				case *ast.CallExpr:
					if sel, ok := n.Fun.(*ast.SelectorExpr); ok && takesError && sel.Sel.Name == "SetConditions" {
						t.Errorf("%s: %s takes an error and sets conditions: use conditions.Blocked, SetBlocked or SetNotReady of %s", path, fn.Name.Name, home)
					}
				case *ast.CompositeLit:
					if sel, ok := n.Type.(*ast.SelectorExpr); ok && sel.Sel.Name == "Condition" {
						t.Errorf("%s: %s builds a condition by hand: use conditions.Ready of %s", path, fn.Name.Name, home)
					}
				}
				return true
			})
		}
	}
	if len(files) == 0 {
		t.Fatal("found no production files under provider/: the check reads the wrong files")
	}
}
