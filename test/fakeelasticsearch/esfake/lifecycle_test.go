package esfake

import (
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"
)

// TestCrossClusterLifecycle mirrors x-pack's api_key/50_cross_cluster.yml.
func TestCrossClusterLifecycle(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		version   string
		ccs       string // generated search cluster privileges, JSON list items
		dlsReject bool   // search DLS/FLS together with replication is rejected
		realmType bool
	}{
		{"8.10.4", `"cross_cluster_search"`, false, false},
		{"8.13.4", `"cross_cluster_search"`, false, false},
		{"8.14.0", `"cross_cluster_search"`, true, true},
		{"8.15.0", `"cross_cluster_search","monitor_enrich"`, true, true},
		{"8.17.0", `"cross_cluster_search","monitor_enrich","monitor_stats"`, true, true},
		{"9.3.2", `"cross_cluster_search","monitor_enrich","monitor_stats"`, true, true},
	} {
		t.Run(tc.version, func(t *testing.T) {
			t.Parallel()
			s := NewServer(t, Options{Version: tc.version, Users: []User{{Name: "admin_user", Password: "x-pack-test-password", Privileges: []string{"manage_security"}, Roles: []string{"admin_role"}}}})
			admin := basic("admin_user", "x-pack-test-password")

			// Test create a cross-cluster API key.
			createBody := `{"name":"my-cc-api-key","expiration":"1d","access":{"search":[{"names":["logs*"],"query":{"term":{"category":"shared"}},"field_security":{"grant":["*"],"except":["private"]}}],"replication":[{"names":["archive"],"allow_restricted_indices":false}]},"metadata":{"answer":42,"tag":"dev"}}`
			r := do(t, s, "POST", "/_security/cross_cluster/api_key", createBody, admin)
			if tc.dlsReject {
				if r.status != 400 || !strings.Contains(string(r.body), "search does not support document or field level security if replication is assigned") {
					t.Fatalf("want DLS rejection, got %d %s", r.status, r.body)
				}
				// Carry on with the search part only, which is still valid.
				createBody = strings.Replace(createBody, `,"replication":[{"names":["archive"],"allow_restricted_indices":false}]`, "", 1)
				r = do(t, s, "POST", "/_security/cross_cluster/api_key", createBody, admin)
			}
			if r.status != 200 || r.obj["name"] != "my-cc-api-key" || r.obj["expiration"] == nil {
				t.Fatalf("create: %d %s", r.status, r.body)
			}
			id := r.obj["id"].(string)
			apiKey := r.obj["api_key"].(string)
			if len(id) != 20 || len(apiKey) != 22 {
				t.Fatalf("id %q / api_key %q have wrong lengths", id, apiKey)
			}
			creds := base64.StdEncoding.EncodeToString([]byte(id + ":" + apiKey))
			if r.obj["encoded"] != creds {
				t.Fatalf("encoded %v, want %s", r.obj["encoded"], creds)
			}
			auth := do(t, s, "GET", "/_security/_authenticate", "", "ApiKey "+creds)
			wantErr(t, auth, 401, "security_exception", "authentication expected API key type of [rest], but API key ["+id+"] has type [cross_cluster]")

			g := do(t, s, "GET", "/_security/api_key?id="+id+"&with_limited_by=true", "", admin)
			k := oneKey(t, g)
			if k["id"] != id || k["name"] != "my-cc-api-key" || k["type"] != "cross_cluster" || k["invalidated"] != false || k["limited_by"] != nil {
				t.Fatalf("get: %s", g.body)
			}
			if _, has := k["realm_type"]; has != tc.realmType {
				t.Fatalf("realm_type presence %v on %s", has, tc.version)
			}
			jsonEqText(t, raw(k["metadata"]), `{"answer":42,"tag":"dev"}`)
			cluster, replIdx, replAccess := tc.ccs+`,"cross_cluster_replication"`,
				`,{"names":["archive"],"privileges":["cross_cluster_replication","cross_cluster_replication_internal"],"allow_restricted_indices":false}`,
				`,"replication":[{"names":["archive"],"allow_restricted_indices":false}]`
			if tc.dlsReject {
				cluster, replIdx, replAccess = tc.ccs, "", ""
			}
			jsonEqText(t, raw(k["role_descriptors"]), `{"cross_cluster":{"cluster":[`+cluster+`],
				"indices":[{"names":["logs*"],"privileges":["read","read_cross_cluster","view_index_metadata"],"field_security":{"grant":["*"],"except":["private"]},"query":"{\"term\":{\"category\":\"shared\"}}","allow_restricted_indices":false}`+replIdx+`],
				"applications":[],"run_as":[],"metadata":{},"transient_metadata":{"enabled":true}}}`)
			jsonEqText(t, raw(k["access"]), `{"search":[{"names":["logs*"],"field_security":{"grant":["*"],"except":["private"]},"query":"{\"term\":{\"category\":\"shared\"}}","allow_restricted_indices":false}]`+replAccess+`}`)
			// Field order matters to ES clients diffing raw bodies.
			if !strings.Contains(string(g.body), `"access":{"search":[{"names":["logs*"],"field_security":{"grant":["*"],"except":["private"]},"query":"{\"term\":{\"category\":\"shared\"}}","allow_restricted_indices":false}]`) {
				t.Fatalf("access not in ES field order: %s", g.body)
			}
		})
	}
}

// TestCrossClusterUpdateAndInvalidate mirrors the update and invalidate
// tests of 50_cross_cluster.yml on every version.
func TestCrossClusterUpdateAndInvalidate(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ version, ccs string }{
		{"8.10.4", `"cross_cluster_search"`},
		{"8.15.0", `"cross_cluster_search","monitor_enrich"`},
		{"8.17.0", `"cross_cluster_search","monitor_enrich","monitor_stats"`},
		{"9.3.2", `"cross_cluster_search","monitor_enrich","monitor_stats"`},
	} {
		t.Run(tc.version, func(t *testing.T) {
			t.Parallel()
			clock := fixedClock()
			s := NewServer(t, Options{Version: tc.version, Clock: clock.Now, Users: []User{{Name: "admin_user", Password: "pw", Privileges: []string{"manage_security"}}}})
			admin := basic("admin_user", "pw")

			id := createAs(t, s, admin, `{"name":"my-cc-api-key","access":{"search":[{"names":["logs*"]}]},"metadata":{"tag":"dev"}}`)
			upd := `{"access":{"replication":[{"names":["archive"]}]},"metadata":{"tag":"prod"}}`
			r := do(t, s, "PUT", "/_security/cross_cluster/api_key/"+id, upd, admin)
			if r.status != 200 || r.obj["updated"] != true {
				t.Fatalf("update: %d %s", r.status, r.body)
			}
			k := oneKey(t, do(t, s, "GET", "/_security/api_key?id="+id+"&with_limited_by=true", "", admin))
			jsonEqText(t, raw(k["metadata"]), `{"tag":"prod"}`)
			jsonEqText(t, raw(k["role_descriptors"]), `{"cross_cluster":{"cluster":["cross_cluster_replication"],"indices":[{"names":["archive"],"privileges":["cross_cluster_replication","cross_cluster_replication_internal"],"allow_restricted_indices":false}],"applications":[],"run_as":[],"metadata":{},"transient_metadata":{"enabled":true}}}`)
			jsonEqText(t, raw(k["access"]), `{"replication":[{"names":["archive"],"allow_restricted_indices":false}]}`)
			if k["limited_by"] != nil {
				t.Fatal("limited_by must be absent for cross-cluster keys")
			}
			r = do(t, s, "PUT", "/_security/cross_cluster/api_key/"+id, upd, admin)
			if r.status != 200 || r.obj["updated"] != false {
				t.Fatalf("no-op update: %d %s", r.status, r.body)
			}
			// GET's access fed back into update is a no-op too.
			r = do(t, s, "PUT", "/_security/cross_cluster/api_key/"+id, `{"access":`+raw(k["access"])+`}`, admin)
			if r.obj["updated"] != false {
				t.Fatalf("round-tripped access was not a no-op: %s", r.body)
			}

			// Invalidate test.
			id2 := createAs(t, s, admin, `{"name":"my-cc-api-key","access":{"search":[{"names":["*"],"allow_restricted_indices":true}]}}`)
			k = oneKey(t, do(t, s, "GET", "/_security/api_key?id="+id2, "", admin))
			jsonEqText(t, raw(k["metadata"]), `{}`)
			jsonEqText(t, raw(k["role_descriptors"]), `{"cross_cluster":{"cluster":[`+tc.ccs+`],"indices":[{"names":["*"],"privileges":["read","read_cross_cluster","view_index_metadata"],"allow_restricted_indices":true}],"applications":[],"run_as":[],"metadata":{},"transient_metadata":{"enabled":true}}}`)
			jsonEqText(t, raw(k["access"]), `{"search":[{"names":["*"],"allow_restricted_indices":true}]}`)
			clock.Advance(5e9)
			r = do(t, s, "DELETE", "/_security/api_key", `{"ids":["`+id2+`"]}`, admin)
			jsonEqText(t, string(r.body), `{"invalidated_api_keys":["`+id2+`"],"previously_invalidated_api_keys":[],"error_count":0}`)
			k = oneKey(t, do(t, s, "GET", "/_security/api_key?id="+id2, "", admin))
			if k["invalidated"] != true {
				t.Fatalf("not invalidated: %v", k)
			}
			inv, has := k["invalidation"]
			if has != (tc.version != "8.10.4") || has && int64(inv.(float64)) != clock.Now().UnixMilli() {
				t.Fatalf("invalidation %v (present %v) on %s", inv, has, tc.version)
			}
			// Invalidating again finds nothing: the search skips invalidated keys.
			r = do(t, s, "DELETE", "/_security/api_key", `{"ids":["`+id2+`"]}`, admin)
			jsonEqText(t, string(r.body), `{"invalidated_api_keys":[],"previously_invalidated_api_keys":[],"error_count":0}`)
		})
	}
}

func createAs(t testing.TB, s *Server, auth, body string) string {
	t.Helper()
	r := do(t, s, "POST", "/_security/cross_cluster/api_key", body, auth)
	if r.status != 200 {
		t.Fatalf("create: %d %s", r.status, r.body)
	}
	return r.obj["id"].(string)
}

func oneKey(t testing.TB, r rawResp) map[string]any {
	t.Helper()
	keys, _ := r.obj["api_keys"].([]any)
	if r.status != 200 || len(keys) != 1 {
		t.Fatalf("want one key, got %d %s", r.status, r.body)
	}
	return keys[0].(map[string]any)
}

func raw(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}
