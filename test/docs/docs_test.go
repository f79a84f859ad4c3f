package docs

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestRepositoryDocs checks the repository's own Markdown: README.md,
// docs/ and every other page, against its files and its Makefile.
func TestRepositoryDocs(t *testing.T) {
	// go test runs in the package directory, test/docs.
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "Makefile")); err != nil {
		t.Fatalf("cannot find the repository root from test/docs: %v", err)
	}
	var pages []*Page
	err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && path != root && (strings.HasPrefix(d.Name(), ".") || d.Name() == "bin") {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(d.Name(), ".md") {
			return nil
		}
		rel, err := filepath.Rel(root, path)
		if err != nil {
			return err
		}
		p, err := ReadPage(root, filepath.ToSlash(rel))
		if err != nil {
			return err
		}
		pages = append(pages, p)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(pages) < 2 {
		t.Fatalf("found %d Markdown pages under %s, want README.md and docs/", len(pages), root)
	}
	for _, p := range problemsIn(t, root, pages) {
		t.Error(p)
	}

	// A newcomer's first screen: the two commands to run on a fresh clone.
	readme, err := os.ReadFile(filepath.Join(root, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	firstScreen := strings.Join(firstLines(string(readme), 20), "\n")
	for _, cmd := range []string{"make demo", "make test"} {
		if !strings.Contains(firstScreen, cmd) {
			t.Errorf("README.md: the first 20 lines do not show %q", cmd)
		}
	}
}

// problemsIn checks pages against the files and the Makefile under root.
func problemsIn(t *testing.T, root string, pages []*Page) []string {
	t.Helper()
	targets, err := MakeTargets(filepath.Join(root, "Makefile"))
	if err != nil {
		t.Fatal(err)
	}
	problems, err := Problems(root, pages, targets)
	if err != nil {
		t.Fatal(err)
	}
	return problems
}

func firstLines(s string, n int) []string {
	lines := strings.Split(s, "\n")
	if len(lines) > n {
		lines = lines[:n]
	}
	return lines
}

func TestSlug(t *testing.T) {
	cases := map[string]struct {
		headings []string
		want     []string
	}{
		"Punctuation": {
			headings: []string{"Keys the provider owns: expiry, rotation, recovery", "Reading a link's status", "The provider config's Elasticsearch user"},
			want:     []string{"keys-the-provider-owns-expiry-rotation-recovery", "reading-a-links-status", "the-provider-configs-elasticsearch-user"},
		},
		"CodeAndLinks": {
			headings: []string{"What `make demo` shows", "See [the flows](flows.md) now", "Flow 1: API key (`ECKAPIKey`)"},
			want:     []string{"what-make-demo-shows", "see-the-flows-now", "flow-1-api-key-eckapikey"},
		},
		"SpacesHyphensUnderscores": {
			headings: []string{"a  b", "snake_case and kebab-case", "A — B"},
			want:     []string{"a--b", "snake_case-and-kebab-case", "a--b-1"},
		},
		"Unicode": {
			headings: []string{"Café ÜBER", "数据 路径"},
			want:     []string{"café-über", "数据-路径"},
		},
		"Repeats": {
			headings: []string{"Usage", "Usage", "Usage-1", "Usage"},
			want:     []string{"usage", "usage-1", "usage-1-1", "usage-2"},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			s := newSlugger()
			var got []string
			for _, h := range tc.headings {
				got = append(got, s.slug(headingText(h)))
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("slugs of %q: -want +got:\n%s", tc.headings, diff)
			}
		})
	}
}

func TestParsePage(t *testing.T) {
	text := strings.Join([]string{
		"# Title", // 1
		"See [install](install.md#rbac) and ![a](img.png \"t\").",          // 2
		"Not a link: `[x](nowhere.md)`, but `make demo` is a command.",     // 3
		"Prose that says make sure is not one.",                            // 4
		"```sh",                                                            // 5
		"make xpkg-push XPKG_REGISTRY=r.example/eslink   # then [y](z.md)", // 6
		"make -C dir lint && make fuzz FUZZTIME=1s",                        // 7
		"```",                // 8
		"Setext heading",     // 9
		"--------------",     // 10
		"[ref]: docs/ref.md", // 11
		"<a id=\"custom\"></a><img src=\"pic.png\">", // 12
		"- [list](list.md) item `make <target>`",     // 13
		"   ~~~",                                     // 14
		"   [in fence](no.md)",                       // 15
		"   ~~~",                                     // 16
		"[external](https://example.com/x.md) [self](#title)", // 17
	}, "\n")
	p := ParsePage("docs/page.md", text)

	wantLinks := []Link{
		{Line: 2, Dest: "install.md#rbac"}, {Line: 2, Dest: "img.png"},
		{Line: 11, Dest: "docs/ref.md"}, {Line: 12, Dest: "pic.png"},
		{Line: 13, Dest: "list.md"},
		{Line: 17, Dest: "https://example.com/x.md"}, {Line: 17, Dest: "#title"},
	}
	if diff := cmp.Diff(wantLinks, p.Links); diff != "" {
		t.Errorf("Links: -want +got:\n%s", diff)
	}
	wantMake := []MakeCommand{{Line: 3, Target: "demo"}, {Line: 6, Target: "xpkg-push"}, {Line: 7, Target: "lint"}, {Line: 7, Target: "fuzz"}}
	if diff := cmp.Diff(wantMake, p.MakeCommands); diff != "" {
		t.Errorf("MakeCommands: -want +got:\n%s", diff)
	}
	wantAnchors := map[string]bool{"title": true, "setext-heading": true, "custom": true}
	if diff := cmp.Diff(wantAnchors, p.Anchors); diff != "" {
		t.Errorf("Anchors: -want +got:\n%s", diff)
	}
}

func TestMakeTargets(t *testing.T) {
	mk := filepath.Join(t.TempDir(), "Makefile")
	content := strings.Join([]string{
		"SHELL := /usr/bin/env bash",
		"GO ?= go",
		"export X ?= y",
		".PHONY: help",
		"help: ## Show the targets.",
		"\t@grep -E '^[a-z]+:' Makefile",
		"build test: deps",
		"deps:",
		"%.o: %.c",
		"lint:: ; @true",
	}, "\n")
	if err := os.WriteFile(mk, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	got, err := MakeTargets(mk)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]bool{"help": true, "build": true, "test": true, "deps": true, "lint": true}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("MakeTargets: -want +got:\n%s", diff)
	}
}

// TestProblems runs the check on a small tree with one of each mistake,
// and on the same tree repaired.
func TestProblems(t *testing.T) {
	files := map[string]string{
		"README.md": strings.Join([]string{
			"# Project",
			"Run `make demo`, then `make tset`.",
			"[install](docs/install.md#rbac), [gone](docs/gone.md), [anchor](docs/install.md#no-such-heading)",
			"[dir](examples/) [file](examples/a.yaml) [up](../outside.md) [abs](/docs/install.md)",
			"[self](#project) [self-missing](#nope) [escaped](docs/with%20space.md)",
		}, "\n"),
		"docs/install.md":      "# Install\n\n## RBAC\n\nBack to the [README](../README.md#project).\n",
		"docs/with space.md":   "# Spaced\n",
		"examples/a.yaml":      "kind: X\n",
		"Makefile":             "demo:\ntest:\n",
		"docs/sub/nested.md":   "[up two](../../README.md) [sibling](../install.md#install)\n",
		"docs/sub/bad-link.md": "[typo](../instal.md)\n",
	}
	root := t.TempDir()
	for name, content := range files {
		path := filepath.Join(root, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	var pages []*Page
	for _, name := range []string{"README.md", "docs/install.md", "docs/with space.md", "docs/sub/nested.md", "docs/sub/bad-link.md"} {
		p, err := ReadPage(root, name)
		if err != nil {
			t.Fatal(err)
		}
		pages = append(pages, p)
	}
	got := problemsIn(t, root, pages)
	want := []string{
		`README.md:2: make tset: the Makefile has no target "tset"`,
		`README.md:3: link "docs/gone.md": docs/gone.md does not exist`,
		`README.md:3: link "docs/install.md#no-such-heading": docs/install.md has no heading with anchor #no-such-heading`,
		`README.md:4: link "../outside.md" leaves the repository`,
		`README.md:4: link "/docs/install.md": use a path relative to README.md; an absolute path does not resolve on GitHub`,
		`README.md:5: link "#nope": README.md has no heading with anchor #nope`,
		`docs/sub/bad-link.md:1: link "../instal.md": docs/instal.md does not exist`,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Problems: -want +got:\n%s", diff)
	}
}
