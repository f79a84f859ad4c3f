package main

import (
	"bufio"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/eslink/eslink/test/fakeelasticsearch/esfake"
)

// TestStandaloneProgram builds the command, starts it on a free port with
// HTTPS, reads its ready line and queries it with the written CA.
func TestStandaloneProgram(t *testing.T) {
	dir := t.TempDir()
	bin := filepath.Join(dir, "fakeelasticsearch")
	build := exec.Command("go", "build", "-o", bin, ".")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	tlsDir := filepath.Join(dir, "tls")
	cmd := exec.Command(bin, "--listen", "127.0.0.1:0", "--version", "8.15.1", "--license", "trial",
		"--user", "elastic:changeme", "--user", "viewer:pw:monitor,read_security", "--tls-dir", tlsDir)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })

	lines := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		if sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	var line string
	select {
	case line = <-lines:
	case <-time.After(20 * time.Second):
		t.Fatal("no ready line")
	}
	const prefix = "fake elasticsearch listening on "
	if !strings.HasPrefix(line, prefix) || !strings.HasPrefix(line, prefix+"https://127.0.0.1:") {
		t.Fatalf("ready line %q", line)
	}
	url := strings.TrimPrefix(line, prefix)
	ca, err := os.ReadFile(filepath.Join(tlsDir, "ca.crt"))
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(ca) {
		t.Fatal("ca.crt is not PEM")
	}
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}}}

	get := func(path, user, pass string) (int, map[string]any) {
		req, _ := http.NewRequest(http.MethodGet, url+path, nil)
		req.SetBasicAuth(user, pass)
		res, err := client.Do(req)
		if err != nil {
			t.Fatalf("GET %s: %v", path, err)
		}
		defer res.Body.Close()
		if res.Header.Get("X-Elastic-Product") != "Elasticsearch" {
			t.Fatal("missing product header")
		}
		var out map[string]any
		_ = json.NewDecoder(res.Body).Decode(&out)
		return res.StatusCode, out
	}
	if st, body := get("/", "elastic", "changeme"); st != 200 || body["version"].(map[string]any)["number"] != "8.15.1" {
		t.Fatalf("GET /: %d %v", st, body)
	}
	if st, body := get("/_license", "elastic", "changeme"); st != 200 || body["license"].(map[string]any)["type"] != "trial" {
		t.Fatalf("license: %d %v", st, body)
	}
	if st, _ := get("/_security/api_key", "viewer", "pw"); st != 200 {
		t.Fatalf("viewer get keys: %d", st)
	}
	if st, _ := get("/_cluster/settings", "viewer", "pw"); st != 200 {
		t.Fatalf("viewer settings: %d", st)
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("exit after SIGTERM: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("did not exit on SIGTERM")
	}
}

// TestFromConfigDir starts a node from a directory laid out like
// Elasticsearch's config directory, as --config-dir does: cluster and
// node name from elasticsearch.yml, users from the file realm.
func TestFromConfigDir(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) {
		t.Helper()
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("elasticsearch.yml", "cluster:\n  name: from-dir\nnode.name: ${POD_NAME}\n")
	write("users", "admin:plain-secret\n")
	write("users_roles", "superuser:admin\n")
	var env envFlags
	if err := env.Set("POD_NAME=pod-0"); err != nil {
		t.Fatal(err)
	}
	opts := esfake.Options{Addr: "127.0.0.1:0", Version: "9.3.2"}
	if err := fromConfigDir(&opts, dir, env); err != nil {
		t.Fatal(err)
	}
	s, err := esfake.Start(opts)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	req, _ := http.NewRequest(http.MethodGet, s.URL+"/", nil)
	req.SetBasicAuth("admin", "plain-secret")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var info struct {
		Name        string `json:"name"`
		ClusterName string `json:"cluster_name"`
	}
	if err := json.NewDecoder(res.Body).Decode(&info); err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("GET /: %d %v", res.StatusCode, err)
	}
	if info.Name != "pod-0" || info.ClusterName != "from-dir" {
		t.Fatalf("GET / = %+v, want node pod-0 of cluster from-dir", info)
	}
	if err := env.Set("novalue"); err == nil {
		t.Fatal("--env without = accepted")
	}
}
