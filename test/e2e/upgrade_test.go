package e2e

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/eslink/eslink/test/controlplane"
	"github.com/eslink/eslink/test/e2e/harness"
)

// previousVersion is the commit of this repository the upgrade test
// installs first: a landed stop, fixed so that the test upgrades from the
// same version on every run.
const previousVersion = "7576c5b"

// TestUpgrade installs eslink as built from previousVersion, creates links
// of every flow, then upgrades the Provider, the Function and the
// Configuration through Crossplane to the packages of this tree: every
// link stays Ready throughout, no key is created or invalidated, no
// Secret or Elasticsearch spec is written, no cluster restarts.
func TestUpgrade(t *testing.T) {
	root, err := controlplane.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	prev := previousTree(t, root, previousVersion)
	h := startHarnessWith(t, harness.Options{PackageRoot: prev})
	links := everyFlow(t, h)

	before := snapshot(t, h)
	w := watchReady(t, h, links)
	ctx, cancel := context.WithTimeout(t.Context(), 8*time.Minute)
	defer cancel()
	if err := h.Upgrade(ctx, "v0.2.0", t.Logf); err != nil {
		t.Fatal(err)
	}
	// The new provider reads every managed resource and polls each once per
	// --poll: a few polls later, anything it would redo has been redone.
	waitPolls(t)
	w.check(t, "during the upgrade")
	before.unchanged(t, snapshot(t, h), "during the upgrade")
}

// previousTree extracts commit of the repository at root into a temporary
// directory with `git archive`, and stamps its packages' metadata with the
// commit, so that Crossplane sees other packages (other digests, hence new
// revisions) even where the source did not change since.
func previousTree(t *testing.T, root, commit string) string {
	t.Helper()
	if err := exec.CommandContext(t.Context(), "git", "-C", root, "cat-file", "-e", commit+"^{commit}").Run(); err != nil {
		t.Fatalf("commit %s, the version TestUpgrade upgrades from, is not in the clone at %s (a shallow clone?): fetch the history (git fetch --unshallow) to run this test", commit, root)
	}
	var archive bytes.Buffer
	cmd := exec.CommandContext(t.Context(), "git", "-C", root, "archive", "--format=tar", commit)
	cmd.Stdout = &archive
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("git archive %s: %v\n%s", commit, err, stderr.String())
	}
	dir := filepath.Join(t.TempDir(), "eslink-"+commit)
	if err := untar(&archive, dir); err != nil {
		t.Fatalf("cannot extract %s: %v", commit, err)
	}
	for _, p := range []string{"provider", "function", "configuration/namespaced", "configuration/legacy"} {
		f := filepath.Join(dir, "package", p, "crossplane.yaml")
		b, err := os.ReadFile(f) // A file of the extracted tree.
		if err != nil {
			t.Fatal(err)
		}
		const anchor = "\n  annotations:\n"
		if !bytes.Contains(b, []byte(anchor)) {
			t.Fatalf("%s of %s has no metadata.annotations to stamp", f, commit)
		}
		b = bytes.Replace(b, []byte(anchor), []byte(anchor+"    eslink.io/built-from: "+commit+"\n"), 1)
		if err := os.WriteFile(f, b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// untar writes the files of a tar stream under dir.
func untar(r io.Reader, dir string) error {
	tr := tar.NewReader(r)
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		p := filepath.Join(dir, filepath.FromSlash(hdr.Name))
		if !strings.HasPrefix(p, dir+string(filepath.Separator)) {
			return fmt.Errorf("%s leaves the archive", hdr.Name)
		}
		switch hdr.Typeflag {
		case tar.TypeDir:
			if err := os.MkdirAll(p, 0o750); err != nil {
				return err
			}
		case tar.TypeReg:
			if err := os.MkdirAll(filepath.Dir(p), 0o750); err != nil {
				return err
			}
			f, err := os.OpenFile(p, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, os.FileMode(hdr.Mode)&0o755) // A path checked to be under dir.
			if err != nil {
				return err
			}
			_, err = io.Copy(f, tr)
			if cerr := f.Close(); err == nil {
				err = cerr
			}
			if err != nil {
				return err
			}
		case tar.TypeSymlink:
			if err := os.Symlink(hdr.Linkname, p); err != nil {
				return err
			}
		}
	}
}
