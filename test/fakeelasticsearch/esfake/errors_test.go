package esfake

import (
	"strings"
	"testing"
)

var testUsers = []User{
	{Name: "elastic", Password: "changeme"},
	{Name: "sec", Password: "pw", Privileges: []string{"manage_security"}},
	{Name: "apim", Password: "pw", Privileges: []string{"manage_api_key"}},
	{Name: "own", Password: "pw", Privileges: []string{"manage_own_api_key"}, Roles: []string{"user_role"}},
	{Name: "mon", Password: "pw", Privileges: []string{"monitor"}},
}

const validAccess = `{"search":[{"names":["logs*"]}]}`

type errCase struct {
	name           string
	version        string
	license        string
	method, path   string
	body           string
	auth           string // default admin
	status         int
	typ            string
	reason         string // exact top-level reason; "" skips
	contains       string // must appear somewhere in the body
	rootType       string // expected root_cause[0].type; "" skips
	prepareKeyPath bool   // replace {id} in path with an existing key id
}

func TestErrorsFromReference(t *testing.T) {
	t.Parallel()
	own := basic("own", "pw")
	cases := []errCase{
		// §1 create: parse-time errors.
		{name: "create no body", method: "POST", path: "/_security/cross_cluster/api_key", status: 400, typ: "parse_exception", reason: "request body is required"},
		{name: "create missing name", method: "POST", path: "/_security/cross_cluster/api_key", body: `{"access":` + validAccess + `}`, status: 400, typ: "illegal_argument_exception", reason: "Required [name]"},
		{name: "create missing access", method: "POST", path: "/_security/cross_cluster/api_key", body: `{"name": "my-key"}`, status: 400, typ: "illegal_argument_exception", reason: "Required [access]"},
		{name: "create access null", method: "POST", path: "/_security/cross_cluster/api_key", body: `{"name": "my-key", "access": null}`, status: 400, typ: "x_content_parse_exception", reason: "[1:30] [cross_cluster_api_key_request] access doesn't support values of type: VALUE_NULL"},
		{name: "create unknown field", method: "POST", path: "/_security/cross_cluster/api_key", body: `{"name":"k","access":` + validAccess + `,"bogus":1}`, status: 400, typ: "x_content_parse_exception", contains: "[cross_cluster_api_key_request] unknown field [bogus]"},
		{name: "certificate_identity before 9.3", version: "9.2.0", method: "POST", path: "/_security/cross_cluster/api_key", body: `{"name":"k","access":` + validAccess + `,"certificate_identity":"CN=x"}`, status: 400, typ: "x_content_parse_exception", contains: "unknown field [certificate_identity]"},
		{name: "create empty access", method: "POST", path: "/_security/cross_cluster/api_key", body: `{"name": "my-key", "access": {}}}`, status: 400, typ: "x_content_parse_exception", reason: "Failed to build [cross_cluster_api_key_request] after last required field arrived", contains: "must specify non-empty access for either [search] or [replication]", rootType: "x_content_parse_exception"},
		{name: "create empty search", method: "POST", path: "/_security/cross_cluster/api_key", body: `{"name": "my-key", "access": {"search":[]}}}`, status: 400, typ: "x_content_parse_exception", contains: "must specify non-empty access for either [search] or [replication]"},
		{name: "create empty replication", method: "POST", path: "/_security/cross_cluster/api_key", body: `{"name": "my-key", "access": {"replication":[]}}}`, status: 400, typ: "x_content_parse_exception", contains: "must specify non-empty access for either [search] or [replication]"},
		{name: "privileges in entry", method: "POST", path: "/_security/cross_cluster/api_key", body: `{"name":"k","access":{"search":[{"names":["a"],"privileges":["read"]}]}}`, status: 400, typ: "x_content_parse_exception", contains: "failed to parse indices privileges for role [cross_cluster]. field [privileges] must not present", rootType: "parse_exception"},
		{name: "replication query", method: "POST", path: "/_security/cross_cluster/api_key", body: `{"name":"k","access":{"replication":[{"names":["a"],"query":{"match_all":{}}}]}}`, status: 400, contains: "replication does not support document or field level security"},
		{name: "replication fls", method: "POST", path: "/_security/cross_cluster/api_key", body: `{"name":"k","access":{"replication":[{"names":["a"],"field_security":{"grant":["a"]}}]}}`, status: 400, contains: "replication does not support document or field level security"},
		{name: "search dls with replication", version: "9.3.2", method: "POST", path: "/_security/cross_cluster/api_key", body: `{"name":"k","access":{"search":[{"names":["logs"],"query":{"term":{"tag":42}}}],"replication":[{"names":["logs"]}]}}`, status: 400, contains: "search does not support document or field level security if replication is assigned"},
		{name: "missing names", method: "POST", path: "/_security/cross_cluster/api_key", body: `{"name":"k","access":{"search":[{"query":"{}"}]}}`, status: 400, contains: "failed to parse indices privileges for role [cross_cluster]. missing required [names] field"},
		{name: "empty names", method: "POST", path: "/_security/cross_cluster/api_key", body: `{"name":"k","access":{"search":[{"names":[]}]}}`, status: 400, contains: "failed to parse indices privileges for role [cross_cluster]. [names] cannot be an empty array"},
		{name: "bad expiration", method: "POST", path: "/_security/cross_cluster/api_key", body: `{"name":"k","expiration":"abc","access":` + validAccess + `}`, status: 400, typ: "x_content_parse_exception", contains: "failed to parse setting [expiration] with value [abc] as a time value: unit is missing or unrecognized", rootType: "parse_exception"},
		{name: "invalid certificate_identity", method: "POST", path: "/_security/cross_cluster/api_key", body: `{"name":"k","access":` + validAccess + `,"certificate_identity":"CN=(x"}`, status: 400, contains: "Invalid certificate_identity format: [CN=(x]. Must be a valid regex."},
		// §1 request validation.
		{name: "empty name", method: "POST", path: "/_security/cross_cluster/api_key", body: `{"name":"","access":` + validAccess + `}`, status: 400, typ: "action_request_validation_exception", reason: "Validation Failed: 1: api key name is required;"},
		{name: "long name", method: "POST", path: "/_security/cross_cluster/api_key", body: `{"name":"` + strings.Repeat("a", 257) + `","access":` + validAccess + `}`, status: 400, typ: "action_request_validation_exception", reason: "Validation Failed: 1: api key name may not be more than 256 characters long;"},
		{name: "whitespace name", method: "POST", path: "/_security/cross_cluster/api_key", body: `{"name":" k","access":` + validAccess + `}`, status: 400, typ: "action_request_validation_exception", reason: "Validation Failed: 1: api key name may not begin or end with whitespace;"},
		{name: "underscore name", method: "POST", path: "/_security/cross_cluster/api_key", body: `{"name":"_k","access":` + validAccess + `}`, status: 400, typ: "action_request_validation_exception", reason: "Validation Failed: 1: api key name may not begin with an underscore;"},
		{name: "reserved metadata", method: "POST", path: "/_security/cross_cluster/api_key", body: `{"name":"k","access":` + validAccess + `,"metadata":{"_x":1}}`, status: 400, typ: "action_request_validation_exception", reason: "Validation Failed: 1: API key metadata keys may not start with [_];"},
		{name: "create without manage_security", method: "POST", path: "/_security/cross_cluster/api_key", body: `{"name":"k","access":` + validAccess + `}`, auth: basic("apim", "pw"), status: 403, typ: "security_exception",
			reason: "action [cluster:admin/xpack/security/cross_cluster/api_key/create] is unauthorized for user [apim] with declared roles [apim_role] (all resolved), this action is granted by the cluster privileges [manage_security,all]"},
		{name: "create basic license", license: "basic", method: "POST", path: "/_security/cross_cluster/api_key", body: `{"name":"k","access":` + validAccess + `}`, status: 403, typ: "security_exception", reason: "current license is non-compliant for [advanced-remote-cluster-security]", contains: `"license.expired.feature":"advanced-remote-cluster-security"`},
		{name: "create below 8.10", version: "8.9.2", method: "POST", path: "/_security/cross_cluster/api_key", body: `{"name":"k","access":` + validAccess + `}`, status: 400, contains: "no handler found for uri [/_security/cross_cluster/api_key] and method [POST]"},
		// §2 update.
		{name: "update no body", method: "PUT", path: "/_security/cross_cluster/api_key/{id}", prepareKeyPath: true, status: 400, typ: "parse_exception", reason: "request body is required"},
		{name: "update empty object", method: "PUT", path: "/_security/cross_cluster/api_key/{id}", prepareKeyPath: true, body: `{}`, status: 400, typ: "action_request_validation_exception", reason: "Validation Failed: 1: must update either [access] or [metadata] for cross-cluster API keys;"},
		{name: "update empty access", method: "PUT", path: "/_security/cross_cluster/api_key/{id}", prepareKeyPath: true, body: `{"access":{}}`, status: 400, typ: "illegal_argument_exception", reason: "must specify non-empty access for either [search] or [replication]"},
		{name: "update name", method: "PUT", path: "/_security/cross_cluster/api_key/{id}", prepareKeyPath: true, body: `{"name":"x"}`, status: 400, typ: "x_content_parse_exception", contains: "unknown field [name]"},
		{name: "update expiration null", method: "PUT", path: "/_security/cross_cluster/api_key/{id}", prepareKeyPath: true, body: `{"expiration":null}`, status: 400, typ: "x_content_parse_exception", contains: "expiration doesn't support values of type: VALUE_NULL"},
		{name: "update expiration before 8.13", version: "8.12.2", method: "PUT", path: "/_security/cross_cluster/api_key/{id}", prepareKeyPath: true, body: `{"access":` + validAccess + `,"expiration":"1d"}`, status: 400, contains: "unknown field [expiration]"},
		{name: "update missing id", method: "PUT", path: "/_security/cross_cluster/api_key/nope", body: `{"access":` + validAccess + `}`, status: 404, typ: "resource_not_found_exception", reason: "no API key owned by requesting user found for ID [nope]"},
		{name: "update other owner", method: "PUT", path: "/_security/cross_cluster/api_key/{id}", prepareKeyPath: true, auth: basic("sec", "pw"), body: `{"access":` + validAccess + `}`, status: 404, typ: "resource_not_found_exception", contains: "no API key owned by requesting user found for ID ["},
		{name: "update manage_api_key", method: "PUT", path: "/_security/cross_cluster/api_key/{id}", prepareKeyPath: true, auth: basic("apim", "pw"), body: `{"access":` + validAccess + `}`, status: 403, typ: "security_exception", contains: "action [cluster:admin/xpack/security/cross_cluster/api_key/update] is unauthorized for user [apim]"},
		{name: "update manage_own_api_key", method: "PUT", path: "/_security/cross_cluster/api_key/{id}", prepareKeyPath: true, auth: own, body: `{"access":` + validAccess + `}`, status: 403, typ: "security_exception", contains: "action [cluster:admin/xpack/security/cross_cluster/api_key/update] is unauthorized for user [own]"},
		{name: "update basic license random id", license: "basic", method: "PUT", path: "/_security/cross_cluster/api_key/random", body: `{"access":` + validAccess + `}`, status: 403, typ: "security_exception", reason: "current license is non-compliant for [advanced-remote-cluster-security]"},
		{name: "cc key via REST update", method: "PUT", path: "/_security/api_key/{id}", prepareKeyPath: true, body: `{}`, status: 400, typ: "illegal_argument_exception", reason: "cannot update API key of type [cross_cluster] while expected type is [rest]"},
		// §3 get.
		{name: "get user with id", method: "GET", path: "/_security/api_key?id=x&username=u", status: 400, typ: "action_request_validation_exception", reason: "Validation Failed: 1: username or realm name must not be specified when the api key id or api key name is specified;"},
		{name: "get owner with user", method: "GET", path: "/_security/api_key?owner=true&realm_name=r", status: 400, typ: "action_request_validation_exception", reason: "Validation Failed: 1: neither username nor realm-name may be specified when retrieving owned API keys;"},
		{name: "get id and name", method: "GET", path: "/_security/api_key?id=x&name=y", status: 400, typ: "action_request_validation_exception", reason: "Validation Failed: 1: only one of [api key id, api key name] can be specified;"},
		{name: "get missing id", method: "GET", path: "/_security/api_key?id=missing", status: 404, contains: `{"api_keys":[]}`},
		{name: "get active_only before 8.10", version: "8.9.0", method: "GET", path: "/_security/api_key?active_only=true", status: 400, typ: "illegal_argument_exception", reason: "request [/_security/api_key] contains unrecognized parameter: [active_only]"},
		// §4 invalidate.
		{name: "invalidate nothing", method: "DELETE", path: "/_security/api_key", body: `{}`, status: 400, typ: "action_request_validation_exception", reason: "Validation Failed: 1: One of [api key id(s), api key name, username, realm name] must be specified if [owner] flag is false;"},
		{name: "invalidate ids with user", method: "DELETE", path: "/_security/api_key", body: `{"ids":["a"],"username":"u"}`, status: 400, typ: "action_request_validation_exception", reason: "Validation Failed: 1: username or realm name must not be specified when the api key id(s) or api key name are specified;"},
		{name: "invalidate owner with realm", method: "DELETE", path: "/_security/api_key", body: `{"owner":true,"realm_name":"r"}`, status: 400, typ: "action_request_validation_exception", reason: "Validation Failed: 1: neither username nor realm-name may be specified when invalidating owned API keys;"},
		{name: "invalidate ids and name", method: "DELETE", path: "/_security/api_key", body: `{"ids":["a"],"name":"n"}`, status: 400, typ: "action_request_validation_exception", reason: "Validation Failed: 1: only one of [api key id(s), api key name] can be specified;"},
		{name: "invalidate empty ids", method: "DELETE", path: "/_security/api_key", body: `{"ids":[]}`, status: 400, typ: "action_request_validation_exception", reason: "Validation Failed: 1: Field [ids] cannot be an empty array;"},
		{name: "invalidate blank id", method: "DELETE", path: "/_security/api_key", body: `{"ids":[""]}`, status: 400, typ: "action_request_validation_exception", reason: "Validation Failed: 1: Field [ids] must not contain blank id, but got blank id at index position: [0];"},
		{name: "invalidate other user's keys with manage_own", method: "DELETE", path: "/_security/api_key", body: `{"username":"elastic"}`, auth: own, status: 403, typ: "security_exception",
			reason: "action [cluster:admin/xpack/security/api_key/invalidate] is unauthorized for user [own] with declared roles [user_role] (all resolved), this action is granted by the cluster privileges [manage_api_key,manage_security,all]"},
		// Auth.
		{name: "no credentials", method: "GET", path: "/_security/_authenticate", auth: "-", status: 401, typ: "security_exception", reason: "missing authentication credentials for REST request [/_security/_authenticate]"},
		{name: "wrong password", method: "GET", path: "/_security/_authenticate", auth: basic("elastic", "nope"), status: 401, typ: "security_exception", reason: "unable to authenticate user [elastic] for REST request [/_security/_authenticate]"},
		{name: "remote info needs monitor", method: "GET", path: "/_remote/info", auth: own, status: 403, typ: "security_exception", contains: "this action is granted by the cluster privileges [monitor,manage,all]"},
		// Media types.
		{name: "compat mismatch", method: "GET", path: "/_security/api_key", body: `{}`, status: 400, typ: "status_exception", contains: "A compatible version is required on both Content-Type and Accept headers if either one has requested a compatible version and the compatible versions must match."},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := NewServer(t, Options{Version: tc.version, License: tc.license, Users: testUsers})
			path := tc.path
			if tc.prepareKeyPath {
				s.SetLicense("enterprise")
				id, _ := mustCreate(t, s, `{"name":"k","access":`+validAccess+`}`)
				s.SetLicense(orDefault(tc.license, "enterprise"))
				path = strings.Replace(path, "{id}", id, 1)
			}
			auth := tc.auth
			switch auth {
			case "":
				auth = adminAuth
			case "-":
				auth = ""
			}
			var hdr []string
			if tc.name == "compat mismatch" {
				hdr = []string{"Accept", "application/vnd.elasticsearch+json;compatible-with=8"}
			}
			r := do(t, s, tc.method, path, tc.body, auth, hdr...)
			if r.status != tc.status {
				t.Fatalf("status %d, want %d: %s", r.status, tc.status, r.body)
			}
			typ, reason := errInfo(r)
			if tc.typ != "" && typ != tc.typ {
				t.Errorf("type %q, want %q: %s", typ, tc.typ, r.body)
			}
			if tc.reason != "" && reason != tc.reason {
				t.Errorf("reason %q\nwant %q", reason, tc.reason)
			}
			if tc.contains != "" && !strings.Contains(string(r.body), tc.contains) {
				t.Errorf("body %s\ndoes not contain %q", r.body, tc.contains)
			}
			if tc.rootType != "" {
				rc := r.obj["error"].(map[string]any)["root_cause"].([]any)[0].(map[string]any)
				if rc["type"] != tc.rootType {
					t.Errorf("root_cause type %v, want %s", rc["type"], tc.rootType)
				}
			}
			if r.obj["status"] != nil && int(r.obj["status"].(float64)) != tc.status {
				t.Errorf("body status %v, want %d", r.obj["status"], tc.status)
			}
		})
	}
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// TestUpdateStateErrors covers errors that need a key in a given state.
func TestUpdateStateErrors(t *testing.T) {
	t.Parallel()
	now := fixedClock()
	s := NewServer(t, Options{Users: testUsers, Clock: now.Now})
	body := `{"access":` + validAccess + `}`

	id, _ := mustCreate(t, s, `{"name":"k","access":`+validAccess+`}`)
	do(t, s, "DELETE", "/_security/api_key", `{"ids":["`+id+`"]}`, adminAuth)
	r := do(t, s, "PUT", "/_security/cross_cluster/api_key/"+id, body, adminAuth)
	wantErr(t, r, 400, "illegal_argument_exception", "cannot update invalidated API key ["+id+"]")

	id2, _ := mustCreate(t, s, `{"name":"k2","expiration":"1h","access":`+validAccess+`}`)
	now.Advance(2 * 3600e9)
	r = do(t, s, "PUT", "/_security/cross_cluster/api_key/"+id2, body, adminAuth)
	wantErr(t, r, 400, "illegal_argument_exception", "cannot update expired API key ["+id2+"]")

	restID, enc, err := s.CreateRESTKey("elastic", "rest-key")
	if err != nil {
		t.Fatal(err)
	}
	r = do(t, s, "PUT", "/_security/cross_cluster/api_key/"+restID, body, adminAuth)
	wantErr(t, r, 400, "illegal_argument_exception", "cannot update API key of type [rest] while expected type is [cross_cluster]")

	r = do(t, s, "PUT", "/_security/cross_cluster/api_key/"+restID, body, "ApiKey "+enc)
	wantErr(t, r, 400, "illegal_argument_exception", "authentication via API key not supported: only the owner user can update an API key")
	r = do(t, s, "POST", "/_security/cross_cluster/api_key", `{"name":"k","access":`+validAccess+`}`, "APIKEY "+enc)
	wantErr(t, r, 400, "illegal_argument_exception", "authentication via API key not supported: An API key cannot be used to create a cross-cluster API key")
}

func wantErr(t testing.TB, r rawResp, status int, typ, reason string) {
	t.Helper()
	gt, gr := errInfo(r)
	if r.status != status || gt != typ || gr != reason {
		t.Fatalf("got %d %s %q, want %d %s %q", r.status, gt, gr, status, typ, reason)
	}
}
