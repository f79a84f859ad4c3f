package elasticsearch

import (
	"context"
	"crypto/x509"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/eslink/eslink/test/fakeelasticsearch/esfake"
)

// A child process of these tests reads its system roots from the
// environment its parent set (Go loads them once per process): it connects
// to rootsChildURL without a CA and prints what happened.
const (
	rootsChildURL = "ESLINK_TEST_ROOTS_URL"
	rootsChildOK  = "connected"
)

func TestMain(m *testing.M) {
	if url := os.Getenv(rootsChildURL); url != "" {
		os.Exit(rootsChild(url))
	}
	os.Exit(m.Run())
}

func rootsChild(url string) int {
	// The fallback bundle counts its roots in a pool this process cannot
	// see otherwise; the subjects tell whether it answered.
	pool, err := x509.SystemCertPool()
	if err != nil {
		fmt.Println("no system pool:", err)
		return 1
	}
	//nolint:staticcheck // Subjects is deprecated for pools the OS verifies with; on Linux it lists the roots Go loaded.
	subjects := pool.Subjects()
	fmt.Printf("roots: %d\n", len(subjects))
	c, err := New(Config{URL: url, Username: "elastic", Password: "changeme"})
	if err != nil {
		fmt.Println("cannot create client:", err)
		return 1
	}
	if _, err := c.Version(context.Background()); err != nil {
		fmt.Println("error:", err)
		return 0
	}
	fmt.Println(rootsChildOK)
	return 0
}

// runRootsChild runs this test binary as a child with env added, against
// srv, and returns what it printed.
func runRootsChild(t *testing.T, srv *esfake.Server, env ...string) string {
	t.Helper()
	cmd := exec.CommandContext(t.Context(), os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), append(env, rootsChildURL+"="+srv.URL)...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("child: %v\n%s", err, out)
	}
	return string(out)
}

// TestSystemRoots: with no CA configured, the client trusts the system's
// roots. A fresh root, the only one the child's system holds, stands in for
// a public CA that signed a remote's certificate (Elastic Cloud's): no CA
// Secret names it, and the connection verifies. With no system roots at
// all, as in the provider's image, Go's fallback bundle (Mozilla's roots)
// is used: it holds the public roots, and not the test's.
func TestSystemRoots(t *testing.T) {
	srv := esfake.NewServer(t, esfake.Options{TLS: true})
	dir := t.TempDir()
	root := filepath.Join(dir, "root.pem")
	if err := os.WriteFile(root, srv.CACertPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	empty := filepath.Join(dir, "empty")
	if err := os.Mkdir(empty, 0o700); err != nil {
		t.Fatal(err)
	}

	t.Run("InjectedRoot", func(t *testing.T) {
		out := runRootsChild(t, srv, "SSL_CERT_FILE="+root, "SSL_CERT_DIR="+empty)
		if !strings.Contains(out, "roots: 1\n") || !strings.Contains(out, rootsChildOK) {
			t.Errorf("with the root as the only system root, the child said:\n%s\nwant one root and %q", out, rootsChildOK)
		}
	})
	t.Run("NoSystemRoots", func(t *testing.T) {
		out := runRootsChild(t, srv, "SSL_CERT_FILE="+filepath.Join(dir, "none.pem"), "SSL_CERT_DIR="+empty)
		var n int
		if _, err := fmt.Sscanf(out, "roots: %d", &n); err != nil || n < 100 {
			t.Errorf("without system roots the child saw %d roots (%v), want Go's fallback bundle (over 100):\n%s", n, err, out)
		}
		if strings.Contains(out, rootsChildOK) || !strings.Contains(out, "certificate signed by unknown authority") {
			t.Errorf("without system roots the child said:\n%s\nwant the test's root, which the fallback bundle lacks, refused", out)
		}
	})
}
