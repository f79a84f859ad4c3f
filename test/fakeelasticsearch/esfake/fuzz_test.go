package esfake

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// FuzzHandler drives every endpoint with arbitrary method, path, query,
// headers and body. The handler must never panic (the recover middleware
// turns a panic into a 500 "esfake_panic", which fails here) and every
// response must carry X-Elastic-Product and a JSON body.
func FuzzHandler(f *testing.F) {
	seeds := []struct{ method, target, body, auth, accept string }{
		{"GET", "/", "", "b", ""},
		{"HEAD", "/", "", "b", ""},
		{"GET", "/_license", "", "b", ""},
		{"GET", "/_security/_authenticate", "", "k", ""},
		{"POST", "/_security/cross_cluster/api_key", `{"name":"k","expiration":"1d","access":{"search":[{"names":["logs*"],"query":{"term":{"a":1}},"field_security":{"grant":["*"],"except":["p"]}}],"replication":[{"names":"archive","allow_restricted_indices":true}]},"metadata":{"x":{"y":[1,2]}},"certificate_identity":"^CN=a$"}`, "b", ""},
		{"POST", "/_security/cross_cluster/api_key", `{"name":"k","access":{"search":{"names":["a"],"query":"{\"match_all\":{}}"}}}}`, "b", "application/vnd.elasticsearch+json;compatible-with=8"},
		{"PUT", "/_security/cross_cluster/api_key/ID", `{"access":{"replication":[{"names":["a"]}]},"metadata":{},"expiration":"2h","certificate_identity":null}`, "b", ""},
		{"PUT", "/_security/api_key/ID", `{}`, "b", ""},
		{"POST", "/_security/api_key", `{"name":"r","role_descriptors":{"a":{"cluster":["monitor"]}}}`, "b", ""},
		{"GET", "/_security/api_key?id=ID&with_limited_by=true&active_only=true", "", "b", ""},
		{"GET", "/_security/api_key?name=k*&owner=true", "", "b", ""},
		{"POST", "/_security/_query/api_key?with_limited_by", `{"query":{"bool":{"filter":[{"term":{"type":"cross_cluster"}}],"must":[{"terms":{"name":["k"]}}],"should":[{"prefix":{"name":"k"}},{"wildcard":{"metadata.x":"*"}}],"must_not":{"range":{"creation":{"gt":0}}}}},"from":0,"size":5,"sort":[{"creation":{"order":"desc"}},"name"],"search_after":[1,"a"]}`, "b", ""},
		{"DELETE", "/_security/api_key", `{"ids":["ID"],"owner":false}`, "b", ""},
		{"DELETE", "/_security/api_key", `{"name":"k*","realm_name":"x"}`, "b", ""},
		{"PUT", "/_cluster/settings", `{"persistent":{"cluster":{"remote":{"a":{"mode":"proxy","proxy_address":"h:9443","server_name":"h","skip_unavailable":true}}}},"transient":{"cluster.remote.b.seeds":["h:9300"],"cluster.remote.a.*":null}}`, "b", ""},
		{"GET", "/_cluster/settings?flat_settings=true&include_defaults=true", "", "b", ""},
		{"GET", "/_remote/info", "", "b", ""},
		{"POST", "/_nodes/reload_secure_settings", `{"secure_settings_password":""}`, "b", ""},
		{"POST", "/_nodes/_local/reload_secure_settings", "", "b", ""},
		{"POST", "/_security/cross_cluster/api_key", `{"name":`, "b", ""},
		{"POST", "/_security/cross_cluster/api_key", "[1,2]", "b", ""},
		{"PUT", "/_security/role/r?refresh=true", `{"cluster":["manage_security","cluster:admin/*"],"indices":[{"names":["a"],"privileges":["read"],"query":{"match_all":{}}}],"metadata":{"m":1},"description":"d"}`, "b", ""},
		{"GET", "/_security/role/r,superuser", "", "b", ""},
		{"DELETE", "/_security/role/r", "", "b", ""},
		{"PUT", "/_security/user/u", `{"password":"secret-1","roles":"r,s","full_name":null,"metadata":{"a":[1]},"enabled":false}`, "b", ""},
		{"GET", "/_security/user", "", "b", ""},
		{"DELETE", "/_security/user/u?refresh=wait_for", "", "b", ""},
		{"GET", "/nope?pretty", "", "", ""},
		{"GET", "/_cluster/health?wait_for_events=languid&timeout=0s", "", "b", ""},
		{"GET", "/_nodes/_all/no-metrics", "", "b", ""},
		{"GET", "/_nodes/_master", "", "b", ""},
		{"PUT", "/_nodes/NODE/shutdown", `{"type":"restart","reason":"r","allocation_delay":"5m"}`, "b", ""},
		{"GET", "/_nodes/shutdown", "", "b", ""},
		{"DELETE", "/_nodes/NODE/shutdown", "", "b", ""},
		{"POST", "/_cluster/voting_config_exclusions?node_names=node-0,x", "", "b", ""},
		{"DELETE", "/_cluster/voting_config_exclusions?wait_for_removal=false", "", "b", ""},
		{"GET", "/_cat/shards?format=json", "", "b", ""},
		{"POST", "/_license/start_trial?acknowledge=true", "", "b", ""},
		{"POST", "/_license/start_basic?acknowledge=true", "", "b", ""},
		{"PUT", "/_internal/desired_nodes/h/1", `{"nodes":[{"settings":{"node.name":"n"},"processors":1,"memory":"1gb","storage":"1gb"}]}`, "b", ""},
		{"GET", "/_internal/desired_nodes/_latest", "", "b", ""},
	}
	for _, sd := range seeds {
		f.Add(sd.method, sd.target, sd.body, sd.auth, sd.accept)
	}
	s, err := Start(Options{Users: []User{{Name: "elastic", Password: "changeme"}, {Name: "own", Password: "pw", Privileges: []string{"manage_own_api_key"}}}})
	if err != nil {
		f.Fatal(err)
	}
	defer s.Close()
	id, enc, err := s.CreateRESTKey("elastic", "seed")
	if err != nil {
		f.Fatal(err)
	}
	node := s.NodeID()
	h := s.Handler()
	f.Fuzz(func(t *testing.T, method, target, body, auth, accept string) {
		target = strings.ReplaceAll(strings.ReplaceAll(target, "ID", id), "NODE", node)
		if !strings.HasPrefix(target, "/") {
			target = "/" + target
		}
		// An answer that waits for the cluster (wait_for_removal,
		// wait_for_nodes) would wait its full timeout on this one-node
		// cluster; a client that gives up after a second bounds it, so
		// that no input looks like a hang to the fuzzer.
		ctx, cancel := context.WithTimeout(t.Context(), time.Second)
		defer cancel()
		req, err := http.NewRequestWithContext(ctx, method, "http://127.0.0.1"+target, strings.NewReader(body))
		if err != nil {
			return // not a request a client could send
		}
		if body != "" {
			req.Header.Set("Content-Type", "application/json")
		}
		if accept != "" {
			req.Header.Set("Accept", accept)
			req.Header.Set("Content-Type", accept)
		}
		switch auth {
		case "b":
			req.Header.Set("Authorization", adminAuth)
		case "k":
			req.Header.Set("Authorization", "ApiKey "+enc)
		case "":
		default:
			req.Header.Set("Authorization", auth)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Header().Get("X-Elastic-Product") != "Elasticsearch" {
			t.Fatalf("no product header for %s %s", method, target)
		}
		if strings.Contains(rec.Body.String(), "esfake_panic") {
			t.Fatalf("panic for %s %s %q: %s", method, target, body, rec.Body.String())
		}
		// Empty acknowledgements and cat tables are plain text; every
		// other answer is JSON.
		if strings.HasPrefix(rec.Header().Get("Content-Type"), "text/plain") {
			if rec.Body.Len() != 0 {
				t.Fatalf("plain-text answer with a body for %s %s: %q", method, target, rec.Body.String())
			}
		} else if method != http.MethodHead && !json.Valid(rec.Body.Bytes()) {
			t.Fatalf("invalid JSON for %s %s: %q", method, target, rec.Body.String())
		}
	})
}
