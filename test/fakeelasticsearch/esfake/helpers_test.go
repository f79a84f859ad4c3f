package esfake

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
)

// rawResp is a decoded response for assertions.
type rawResp struct {
	status int
	header http.Header
	body   []byte
	obj    map[string]any
}

func basic(user, pass string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+pass))
}

var adminAuth = basic("elastic", "changeme")

// do sends one request; body "" means none. It fails the test on transport
// errors and on responses without the product header or with invalid JSON.
func do(t testing.TB, s *Server, method, path, body, auth string, hdr ...string) rawResp {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, s.URL+path, rd)
	if err != nil {
		t.Fatalf("new request: %v", err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	res, err := s.client().Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatalf("read body: %v", err)
	}
	if res.Header.Get("X-Elastic-Product") != "Elasticsearch" {
		t.Fatalf("%s %s: missing X-Elastic-Product header", method, path)
	}
	r := rawResp{status: res.StatusCode, header: res.Header, body: b}
	if method != http.MethodHead && len(b) > 0 {
		if !json.Valid(b) {
			t.Fatalf("%s %s: invalid JSON %q", method, path, b)
		}
		// Objects are decoded for assertions; a cat API answers an array.
		if b[0] == '{' {
			if err := json.Unmarshal(b, &r.obj); err != nil {
				t.Fatalf("%s %s: %q: %v", method, path, b, err)
			}
		}
	}
	return r
}

// client returns an HTTP client trusting the server's CA.
func (s *Server) client() *http.Client {
	if s.CACertPEM == nil {
		return http.DefaultClient
	}
	return tlsClient(s.CACertPEM)
}

// errInfo extracts status, error.type and error.reason.
func errInfo(r rawResp) (string, string) {
	e, _ := r.obj["error"].(map[string]any)
	typ, _ := e["type"].(string)
	reason, _ := e["reason"].(string)
	return typ, reason
}

// mustCreate creates a cross-cluster key and returns id and encoded.
func mustCreate(t testing.TB, s *Server, body string) (string, string) {
	t.Helper()
	r := do(t, s, "POST", "/_security/cross_cluster/api_key", body, adminAuth)
	if r.status != 200 {
		t.Fatalf("create: %d %s", r.status, r.body)
	}
	return r.obj["id"].(string), r.obj["encoded"].(string)
}

// jsonEq compares JSON texts structurally, ignoring key order.
func jsonEqText(t testing.TB, got, want string) {
	t.Helper()
	var g, w any
	if err := json.Unmarshal([]byte(got), &g); err != nil {
		t.Fatalf("bad got JSON %s: %v", got, err)
	}
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		t.Fatalf("bad want JSON %s: %v", want, err)
	}
	gb, _ := json.Marshal(g)
	wb, _ := json.Marshal(w)
	if !bytes.Equal(gb, wb) {
		t.Fatalf("JSON mismatch\n got: %s\nwant: %s", got, want)
	}
}
