package hosts

import (
	"bytes"
	"context"
	"net"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// TestResolver checks that lookups through net.DefaultResolver, the way a
// zero net.Dialer resolves, answer from the hosts file and see its updates.
func TestResolver(t *testing.T) {
	hosts := filepath.Join(t.TempDir(), "hosts")
	write := func(s string) {
		t.Helper()
		if err := os.WriteFile(hosts, []byte(s), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	var logs bytes.Buffer
	Install(hosts, &logs)

	write("127.9.0.2 es1-es-default-0.es1-es-default.ns1 es1-es-internal-http.ns1.svc\n127.9.0.3 es1-es-internal-http.ns1.svc # two pods\n")
	got, err := net.DefaultResolver.LookupHost(context.Background(), "es1-es-internal-http.ns1.svc")
	if err != nil {
		t.Fatalf("LookupHost: %v", err)
	}
	slices.Sort(got)
	if want := []string{"127.9.0.2", "127.9.0.3"}; !slices.Equal(got, want) {
		t.Errorf("LookupHost = %v, want %v", got, want)
	}

	if _, err := net.DefaultResolver.LookupHost(context.Background(), "es1-es-default-1.es1-es-default.ns1"); err == nil {
		t.Errorf("LookupHost of an unknown pod succeeded, want an error")
	}
	if !bytes.Contains(logs.Bytes(), []byte("no address for es1-es-default-1.es1-es-default.ns1")) {
		t.Errorf("log %q does not name the unknown host", logs.String())
	}

	// A new pod: the stand-in rewrites the file.
	write("127.9.0.4 es1-es-default-1.es1-es-default.ns1\n")
	got, err = net.DefaultResolver.LookupHost(context.Background(), "es1-es-default-1.es1-es-default.ns1")
	if err != nil || !slices.Equal(got, []string{"127.9.0.4"}) {
		t.Errorf("LookupHost after the update = %v, %v; want [127.9.0.4]", got, err)
	}

	// A dial goes through the same resolver.
	ln, err := net.Listen("tcp", "127.9.0.4:0")
	if err != nil {
		t.Fatalf("cannot listen on 127.9.0.4: %v", err)
	}
	defer ln.Close() //nolint:errcheck // Test listener.
	go func() {
		if c, err := ln.Accept(); err == nil {
			_ = c.Close()
		}
	}()
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	c, err := (&net.Dialer{}).DialContext(context.Background(), "tcp", net.JoinHostPort("es1-es-default-1.es1-es-default.ns1", port))
	if err != nil {
		t.Fatalf("dial through the resolver: %v", err)
	}
	_ = c.Close()
}
