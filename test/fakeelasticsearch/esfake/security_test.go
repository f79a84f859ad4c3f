package esfake

import (
	"strings"
	"testing"
)

const ccKeyBody = `{"name":"k","access":{"search":[{"names":["logs-*"]}]}}`

// TestRolesAndUsers follows x-pack's roles/ and users/ YAML suites: a role
// and a user made through the API, then used.
func TestRolesAndUsers(t *testing.T) {
	t.Parallel()
	s := NewServer(t, Options{})

	r := do(t, s, "PUT", "/_security/role/eslink_provider", `{"cluster":["manage_security","monitor"],"metadata":{"owner":"platform"}}`, adminAuth)
	if r.status != 200 || string(r.body) != `{"role":{"created":true}}` {
		t.Fatalf("put role: %d %s", r.status, r.body)
	}
	r = do(t, s, "POST", "/_security/role/eslink_provider?refresh=wait_for", `{"cluster":["manage_security","monitor"]}`, adminAuth)
	if r.status != 200 || string(r.body) != `{"role":{"created":false}}` {
		t.Fatalf("update role: %d %s", r.status, r.body)
	}
	r = do(t, s, "GET", "/_security/role/eslink_provider", "", adminAuth)
	jsonEqText(t, string(r.body), `{"eslink_provider":{"cluster":["manage_security","monitor"],"indices":[],"applications":[],"run_as":[],"metadata":{},"transient_metadata":{"enabled":true}}}`)
	r = do(t, s, "GET", "/_security/role/superuser", "", adminAuth)
	if r.status != 200 || !strings.Contains(string(r.body), `"metadata":{"_reserved":true}`) {
		t.Fatalf("get reserved role: %d %s", r.status, r.body)
	}
	if r = do(t, s, "GET", "/_security/role/nobody", "", adminAuth); r.status != 404 || string(r.body) != "{}" {
		t.Fatalf("get missing role: %d %s", r.status, r.body)
	}

	r = do(t, s, "PUT", "/_security/user/eslink", `{"password":"eslink-password","roles":["eslink_provider"],"full_name":"eslink provider"}`, adminAuth)
	if r.status != 200 || string(r.body) != `{"created":true}` {
		t.Fatalf("put user: %d %s", r.status, r.body)
	}
	r = do(t, s, "GET", "/_security/user/eslink", "", adminAuth)
	jsonEqText(t, string(r.body), `{"eslink":{"username":"eslink","roles":["eslink_provider"],"full_name":"eslink provider","email":null,"metadata":{},"enabled":true}}`)
	// Updating without a password keeps it.
	if r = do(t, s, "PUT", "/_security/user/eslink", `{"roles":["eslink_provider"]}`, adminAuth); r.status != 200 || string(r.body) != `{"created":false}` {
		t.Fatalf("update user: %d %s", r.status, r.body)
	}
	user := basic("eslink", "eslink-password")
	r = do(t, s, "GET", "/_security/_authenticate", "", user)
	if r.status != 200 || raw(r.obj["roles"]) != `["eslink_provider"]` {
		t.Fatalf("authenticate: %d %s", r.status, r.body)
	}
	if r = do(t, s, "GET", "/", "", user); r.status != 200 {
		t.Fatalf("GET / with monitor: %d %s", r.status, r.body)
	}
	if r = do(t, s, "POST", "/_security/cross_cluster/api_key", ccKeyBody, user); r.status != 200 {
		t.Fatalf("create cross-cluster key with manage_security: %d %s", r.status, r.body)
	}

	// Deleting the role takes its privileges away at once.
	if r = do(t, s, "DELETE", "/_security/role/eslink_provider", "", adminAuth); r.status != 200 || string(r.body) != `{"found":true}` {
		t.Fatalf("delete role: %d %s", r.status, r.body)
	}
	r = do(t, s, "POST", "/_security/cross_cluster/api_key", ccKeyBody, user)
	wantErr(t, r, 403, "security_exception", "action [cluster:admin/xpack/security/cross_cluster/api_key/create] is unauthorized for user [eslink] with declared roles [eslink_provider] (none resolved), this action is granted by the cluster privileges [manage_security,all]")
	if r = do(t, s, "DELETE", "/_security/role/eslink_provider", "", adminAuth); r.status != 404 || string(r.body) != `{"found":false}` {
		t.Fatalf("delete missing role: %d %s", r.status, r.body)
	}

	// A disabled user cannot authenticate; a deleted one neither.
	if r = do(t, s, "PUT", "/_security/user/eslink", `{"roles":[],"enabled":false}`, adminAuth); r.status != 200 {
		t.Fatalf("disable user: %d %s", r.status, r.body)
	}
	wantErr(t, do(t, s, "GET", "/_security/_authenticate", "", user), 401, "security_exception", "unable to authenticate user [eslink] for REST request [/_security/_authenticate]")
	if r = do(t, s, "DELETE", "/_security/user/eslink", "", adminAuth); r.status != 200 || string(r.body) != `{"found":true}` {
		t.Fatalf("delete user: %d %s", r.status, r.body)
	}
	if r = do(t, s, "GET", "/_security/user/eslink", "", adminAuth); r.status != 404 || string(r.body) != "{}" {
		t.Fatalf("get deleted user: %d %s", r.status, r.body)
	}
	if r = do(t, s, "DELETE", "/_security/user/eslink", "", adminAuth); r.status != 404 || string(r.body) != `{"found":false}` {
		t.Fatalf("delete missing user: %d %s", r.status, r.body)
	}
}

// TestPrivilegesOnKeyAPIs: which cluster privilege each key API needs, as
// the reference's privilege table and ApiKeyRestIT state.
func TestPrivilegesOnKeyAPIs(t *testing.T) {
	t.Parallel()
	s := NewServer(t, Options{Users: []User{
		{Name: "elastic", Password: "changeme"},
		{Name: "own", Password: "own-password", Privileges: []string{"manage_own_api_key", "monitor"}, Roles: []string{"own_keys"}},
		{Name: "apikeys", Password: "apikeys-password", Privileges: []string{"manage_api_key"}},
		{Name: "admin_a", Password: "admin-a-password", Privileges: []string{"manage_security"}},
		{Name: "admin_b", Password: "admin-b-password", Privileges: []string{"manage_security"}},
		{Name: "pattern", Password: "pattern-password", Privileges: []string{"cluster:admin/xpack/security/*"}},
		{Name: "partial", Password: "partial-password", Privileges: []string{"monitor"}, Roles: []string{"partial_role", "gone"}},
	}})
	own, apikeys := basic("own", "own-password"), basic("apikeys", "apikeys-password")
	adminA, adminB := basic("admin_a", "admin-a-password"), basic("admin_b", "admin-b-password")

	wantErr(t, do(t, s, "POST", "/_security/cross_cluster/api_key", ccKeyBody, own), 403, "security_exception",
		"action [cluster:admin/xpack/security/cross_cluster/api_key/create] is unauthorized for user [own] with declared roles [own_keys] (all resolved), this action is granted by the cluster privileges [manage_security,all]")
	wantErr(t, do(t, s, "POST", "/_security/cross_cluster/api_key", ccKeyBody, apikeys), 403, "security_exception",
		"action [cluster:admin/xpack/security/cross_cluster/api_key/create] is unauthorized for user [apikeys] with declared roles [apikeys_role] (all resolved), this action is granted by the cluster privileges [manage_security,all]")
	wantErr(t, do(t, s, "GET", "/", "", adminA), 403, "security_exception",
		"action [cluster:monitor/main] is unauthorized for user [admin_a] with declared roles [admin_a_role] (all resolved), this action is granted by the cluster privileges [monitor,manage,all]")
	wantErr(t, do(t, s, "PUT", "/_security/role/x", `{"cluster":["all"]}`, basic("partial", "partial-password")), 403, "security_exception",
		"action [cluster:admin/xpack/security/role/put] is unauthorized for user [partial] with declared roles [partial_role,gone] (unresolved [gone]), this action is granted by the cluster privileges [manage_security,all]")
	if r := do(t, s, "POST", "/_security/cross_cluster/api_key", ccKeyBody, basic("pattern", "pattern-password")); r.status != 200 {
		t.Fatalf("a cluster action pattern over security actions creates keys: %d %s", r.status, r.body)
	}

	id, _ := mustCreateAs(t, s, adminA, ccKeyBody)
	// Only the creator may update; everyone else gets the 404 of a missing id.
	wantErr(t, do(t, s, "PUT", "/_security/cross_cluster/api_key/"+id, `{"metadata":{"x":1}}`, adminB), 404, "resource_not_found_exception",
		"no API key owned by requesting user found for ID ["+id+"]")
	if r := do(t, s, "PUT", "/_security/cross_cluster/api_key/"+id, `{"metadata":{"x":1}}`, adminA); r.status != 200 {
		t.Fatalf("owner update: %d %s", r.status, r.body)
	}
	// manage_own_api_key reads only its own keys, and may not invalidate by id.
	if r := do(t, s, "GET", "/_security/api_key?owner=true", "", own); r.status != 200 || raw(r.obj["api_keys"]) != "[]" {
		t.Fatalf("own keys of a user without keys: %d %s", r.status, r.body)
	}
	wantErr(t, do(t, s, "DELETE", "/_security/api_key", `{"ids":["`+id+`"]}`, own), 403, "security_exception",
		"action [cluster:admin/xpack/security/api_key/invalidate] is unauthorized for user [own] with declared roles [own_keys] (all resolved), this action is granted by the cluster privileges [manage_api_key,manage_security,all]")
	// manage_api_key skips cross-cluster keys and says why.
	r := do(t, s, "DELETE", "/_security/api_key", `{"ids":["`+id+`"]}`, apikeys)
	jsonEqText(t, string(r.body), `{"invalidated_api_keys":[],"previously_invalidated_api_keys":[],"error_count":1,"error_details":[{"type":"security_exception","reason":"Cannot invalidate cross-cluster API key [`+id+`]. This requires [manage_security] cluster privilege or higher"}]}`)
	// manage_security invalidates any user's cross-cluster key.
	r = do(t, s, "DELETE", "/_security/api_key", `{"ids":["`+id+`"]}`, adminB)
	jsonEqText(t, string(r.body), `{"invalidated_api_keys":["`+id+`"],"previously_invalidated_api_keys":[],"error_count":0}`)
}

func mustCreateAs(t testing.TB, s *Server, auth, body string) (string, string) {
	t.Helper()
	r := do(t, s, "POST", "/_security/cross_cluster/api_key", body, auth)
	if r.status != 200 {
		t.Fatalf("create: %d %s", r.status, r.body)
	}
	return r.obj["id"].(string), r.obj["encoded"].(string)
}

// TestRoleAndUserErrors: the validation and parse errors of the role and
// user APIs, as PutRoleRequest, PutUserRequestBuilder and the transport
// actions render them.
func TestRoleAndUserErrors(t *testing.T) {
	t.Parallel()
	s := NewServer(t, Options{Users: []User{
		{Name: "elastic", Password: "changeme"},
		{Name: "reader", Password: "reader-password", Privileges: []string{"read_security"}},
	}})
	cases := map[string]struct {
		method, path, body, auth string
		status                   int
		typ, reason              string
	}{
		"UnknownClusterPrivilege": {
			method: "PUT", path: "/_security/role/r", body: `{"cluster":["manage_everything"]}`, status: 400,
			typ:    "action_request_validation_exception",
			reason: "Validation Failed: 1: unknown cluster privilege [manage_everything]. a privilege must be either one of the predefined cluster privilege names [" + strings.Join(clusterPrivilegeNames, ",") + "] or a pattern over one of the available cluster actions;",
		},
		"RoleUnexpectedField": {
			method: "PUT", path: "/_security/role/r", body: `{"clusters":["all"]}`, status: 400,
			typ: "parse_exception", reason: "failed to parse role [r]. unexpected field [clusters]",
		},
		"RoleIndexWithoutPrivileges": {
			method: "PUT", path: "/_security/role/r", body: `{"indices":[{"names":["logs-*"]}]}`, status: 400,
			typ: "parse_exception", reason: "failed to parse indices privileges for role [r]. missing required [privileges] field",
		},
		"RoleReservedMetadata": {
			method: "PUT", path: "/_security/role/r", body: `{"metadata":{"_secret":1}}`, status: 400,
			typ: "action_request_validation_exception", reason: "Validation Failed: 1: metadata keys may not start with [_];",
		},
		"ReservedRolePut": {
			method: "PUT", path: "/_security/role/superuser", body: `{"cluster":["monitor"]}`, status: 400,
			typ: "illegal_argument_exception", reason: "role [superuser] is reserved and cannot be modified.",
		},
		"ReservedRoleDelete": {
			method: "DELETE", path: "/_security/role/superuser", status: 400,
			typ: "illegal_argument_exception", reason: "role [superuser] is reserved and cannot be deleted",
		},
		"RoleNoBody": {
			method: "PUT", path: "/_security/role/r", status: 400,
			typ: "parse_exception", reason: "request body is required",
		},
		"BadRefresh": {
			method: "PUT", path: "/_security/role/r?refresh=later", body: `{"cluster":["monitor"]}`, status: 400,
			typ: "illegal_argument_exception", reason: "Unknown value for refresh: [later].",
		},
		"ShortPassword": {
			method: "PUT", path: "/_security/user/u", body: `{"password":"short","roles":[]}`, status: 400,
			typ: "action_request_validation_exception", reason: "Validation Failed: 1: passwords must be at least [6] characters long;",
		},
		"RolesMissing": {
			method: "PUT", path: "/_security/user/u", body: `{"password":"long-enough"}`, status: 400,
			typ: "action_request_validation_exception", reason: "Validation Failed: 1: roles are missing;",
		},
		"NewUserWithoutPassword": {
			method: "PUT", path: "/_security/user/u", body: `{"roles":["r"]}`, status: 400,
			typ: "action_request_validation_exception", reason: "Validation Failed: 1: password must be specified unless you are updating an existing user;",
		},
		"ReservedUserPut": {
			method: "PUT", path: "/_security/user/elastic", body: `{"password":"long-enough","roles":["superuser"]}`, status: 400,
			typ: "action_request_validation_exception", reason: "Validation Failed: 1: user [elastic] is reserved and only the password can be changed;",
		},
		"ReservedUserDelete": {
			method: "DELETE", path: "/_security/user/elastic", status: 400,
			typ: "illegal_argument_exception", reason: "user [elastic] is reserved and cannot be deleted",
		},
		"UserUnexpectedField": {
			method: "PUT", path: "/_security/user/u", body: `{"password":"long-enough","roles":[],"groups":[]}`, status: 400,
			typ: "parse_exception", reason: "failed to parse add user request. unexpected field [groups]",
		},
		"UsernameMismatch": {
			method: "PUT", path: "/_security/user/u", body: `{"username":"v","password":"long-enough","roles":[]}`, status: 400,
			typ: "illegal_argument_exception", reason: "[username] in source does not match the username provided [u]",
		},
		"ReadSecurityCannotPutUsers": {
			method: "PUT", path: "/_security/user/u", body: `{"password":"long-enough","roles":[]}`, auth: basic("reader", "reader-password"), status: 403,
			typ:    "security_exception",
			reason: "action [cluster:admin/xpack/security/user/put] is unauthorized for user [reader] with declared roles [reader_role] (all resolved), this action is granted by the cluster privileges [manage_security,all]",
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			auth := tc.auth
			if auth == "" {
				auth = adminAuth
			}
			wantErr(t, do(t, s, tc.method, tc.path, tc.body, auth), tc.status, tc.typ, tc.reason)
		})
	}
	// read_security reads roles and users.
	if r := do(t, s, "GET", "/_security/user", "", basic("reader", "reader-password")); r.status != 200 || r.obj["elastic"] == nil || r.obj["reader"] == nil {
		t.Fatalf("get users with read_security: %d %s", r.status, r.body)
	}
}

// TestRESTKeyKeepsOwnersPrivilegesOfCreation: a REST key holds a snapshot
// of its owner's roles taken when it was created (its limited_by); taking a
// privilege from the owner's role afterwards does not reach the key.
func TestRESTKeyKeepsOwnersPrivilegesOfCreation(t *testing.T) {
	t.Parallel()
	s := NewServer(t, Options{})
	if r := do(t, s, "PUT", "/_security/role/platform", `{"cluster":["manage_own_api_key","monitor"]}`, adminAuth); r.status != 200 {
		t.Fatalf("put role: %d %s", r.status, r.body)
	}
	if r := do(t, s, "PUT", "/_security/user/platform", `{"password":"platform-password","roles":["platform"]}`, adminAuth); r.status != 200 {
		t.Fatalf("put user: %d %s", r.status, r.body)
	}
	user := basic("platform", "platform-password")
	r := do(t, s, "POST", "/_security/api_key", `{"name":"rest"}`, user)
	if r.status != 200 {
		t.Fatalf("create REST key: %d %s", r.status, r.body)
	}
	id, key := r.obj["id"].(string), "ApiKey "+r.obj["encoded"].(string)

	if r := do(t, s, "PUT", "/_security/role/platform", `{"cluster":["manage_own_api_key"]}`, adminAuth); r.status != 200 {
		t.Fatalf("update role: %d %s", r.status, r.body)
	}
	if r := do(t, s, "GET", "/", "", user); r.status != 403 {
		t.Errorf("GET / as the owner after monitor was taken away: %d, want 403", r.status)
	}
	if r := do(t, s, "GET", "/", "", key); r.status != 200 {
		t.Errorf("GET / with the key made while the owner had monitor: %d %s, want 200", r.status, r.body)
	}
	k := oneKey(t, do(t, s, "GET", "/_security/api_key?id="+id+"&with_limited_by=true", "", adminAuth))
	if got := raw(k["limited_by"]); !strings.Contains(got, `"monitor"`) {
		t.Errorf("limited_by = %s, want the owner's role as it was at creation, with monitor", got)
	}
}
