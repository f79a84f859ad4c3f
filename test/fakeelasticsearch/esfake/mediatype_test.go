package esfake

import (
	"net/http"
	"strings"
	"testing"
)

// TestMediaTypes checks unknown routes, 405s, compatible-with echoing and
// the compatible version rules.
func TestMediaTypes(t *testing.T) {
	t.Parallel()
	s := NewServer(t, Options{})
	r := do(t, s, "GET", "/nope", "", "")
	if r.status != 400 || r.obj["error"] != "no handler found for uri [/nope] and method [GET]" {
		t.Fatalf("unknown route: %d %s", r.status, r.body)
	}
	vnd8 := "application/vnd.elasticsearch+json;compatible-with=8"
	r = do(t, s, "GET", "/_security/api_key", "", adminAuth, "Accept", vnd8)
	if r.status != 200 || r.header.Get("Content-Type") != vnd8 {
		t.Fatalf("compat accept: %d %v", r.status, r.header)
	}
	r = do(t, s, "GET", "/_security/api_key", "", adminAuth, "Accept", "application/vnd.elasticsearch+json;compatible-with=7")
	if r.status != 400 || !strings.Contains(string(r.body), "Accept version must be either version 9 or 8, but found 7") {
		t.Fatalf("compat 7 on 9.x: %d %s", r.status, r.body)
	}
	r = do(t, s, "DELETE", "/_security/api_key", `{"owner":true}`, adminAuth, "Accept", vnd8, "Content-Type", "application/vnd.elasticsearch+json; compatible-with=9")
	if r.status != 400 || !strings.Contains(string(r.body), "the compatible versions must match") {
		t.Fatalf("mismatch: %d %s", r.status, r.body)
	}
	r = do(t, s, "DELETE", "/_security/api_key", `{"owner":true}`, adminAuth, "Content-Type", "text/plain")
	if r.status != http.StatusNotAcceptable {
		t.Fatalf("text/plain: %d %s", r.status, r.body)
	}
	r = do(t, s, "POST", "/_cluster/health", "", adminAuth)
	if r.status != 405 || r.header.Get("Allow") != "GET" {
		t.Fatalf("405: %d %v", r.status, r.header)
	}
}
