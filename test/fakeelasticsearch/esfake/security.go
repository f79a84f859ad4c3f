package esfake

import (
	"bytes"
	"fmt"
	"net/http"
	"sort"
	"strings"
)

// role is a role descriptor of the native realm (or a reserved one). Only
// its cluster privileges take part in authorization; the rest is stored
// and rendered as given, so GET returns what PUT stored.
type role struct {
	name              string
	cluster           []string
	indices           []byte // JSON array
	applications      []byte // JSON array
	runAs             []byte // JSON array
	metadata          []byte // JSON object
	transientMetadata []byte // JSON object
	remoteIndices     []byte // JSON array, nil when never given
	remoteCluster     []byte // JSON array, nil when never given
	description       *string
	reserved          bool
}

// reservedRoles are the built-in roles the fake knows. Elasticsearch has
// many more; eslink's tests only need superuser.
func reservedRoles() map[string]*role {
	return map[string]*role{
		"superuser": {
			name: "superuser", cluster: []string{"all"}, reserved: true,
			indices:           []byte(`[{"names":["*"],"privileges":["all"],"allow_restricted_indices":true}]`),
			applications:      []byte(`[{"application":"*","privileges":["*"],"resources":["*"]}]`),
			runAs:             []byte(`["*"]`),
			metadata:          []byte(`{"_reserved":true}`),
			transientMetadata: []byte(`{"enabled":true}`),
		},
	}
}

// reservedUsers are the users of the reserved realm: only their password
// can change, and they cannot be deleted.
var reservedUsers = map[string]bool{
	"elastic": true, "kibana": true, "kibana_system": true, "logstash_system": true,
	"beats_system": true, "apm_system": true, "remote_monitoring_user": true,
}

// clusterPrivilegeNames are the named cluster privileges the fake accepts
// in roles. Elasticsearch's list is longer and varies by version; unknown
// names are rejected with its message.
var clusterPrivilegeNames = []string{
	"all", "cancel_task", "create_snapshot", "cross_cluster_replication", "cross_cluster_search",
	"grant_api_key", "manage", "manage_api_key", "manage_ccr", "manage_enrich", "manage_ilm",
	"manage_index_templates", "manage_ingest_pipelines", "manage_own_api_key", "manage_pipeline",
	"manage_security", "manage_service_account", "manage_token", "manage_user_profile", "monitor",
	"monitor_enrich", "monitor_stats", "none", "read_ccr", "read_ilm", "read_pipeline", "read_security",
}

// implied lists the cluster privileges each cluster privilege includes, as
// far as the APIs the fake serves tell them apart.
var implied = map[string][]string{
	"manage_security": {"manage_api_key", "manage_own_api_key", "read_security", "manage_service_account", "manage_user_profile", "grant_api_key", "manage_token"},
	"manage_api_key":  {"manage_own_api_key"},
	"manage":          {"monitor", "monitor_enrich", "monitor_stats", "manage_ilm", "manage_pipeline", "manage_index_templates", "manage_ingest_pipelines", "manage_enrich", "manage_ccr", "read_ccr", "read_ilm", "read_pipeline", "cancel_task"},
	"monitor":         {"monitor_enrich", "monitor_stats"},
}

func knownClusterPrivilege(p string) bool {
	if strings.HasPrefix(p, "cluster:") {
		return true // a raw action or action pattern
	}
	for _, n := range clusterPrivilegeNames {
		if p == n {
			return true
		}
	}
	return false
}

// grants reports whether any of privs grants the named privilege or, for a
// raw action pattern such as cluster:admin/xpack/security/*, the action.
func grants(privs []string, priv, action string) bool {
	for _, p := range privs {
		if p == "all" || p == priv {
			return true
		}
		for _, q := range implied[p] {
			if q == priv {
				return true
			}
		}
		if action != "" && strings.HasPrefix(p, "cluster:") && globMatch(p, action) {
			return true
		}
	}
	return false
}

// globMatch matches s against a pattern where * is any run of characters.
func globMatch(pattern, s string) bool {
	parts := strings.Split(pattern, "*")
	if len(parts) == 1 {
		return pattern == s
	}
	if !strings.HasPrefix(s, parts[0]) {
		return false
	}
	s = s[len(parts[0]):]
	for _, p := range parts[1 : len(parts)-1] {
		i := strings.Index(s, p)
		if i < 0 {
			return false
		}
		s = s[i+len(p):]
	}
	return strings.HasSuffix(s, parts[len(parts)-1])
}

// resolveRoles returns the cluster privileges of u's roles that exist and
// the names of those roles.
func (st *state) resolveRoles(u *User) (privs, resolved []string) {
	fileRoles := st.fileRoles()
	for _, name := range u.Roles {
		// Reserved roles, then the file roles, then native roles, as the
		// composite roles store looks them up.
		r, found := st.roles[name]
		if fr, inFile := fileRoles[name]; inFile && (!found || !r.reserved) {
			resolved = append(resolved, name)
			privs = append(privs, fr...)
			continue
		}
		if !found {
			continue
		}
		resolved = append(resolved, name)
		privs = append(privs, r.cluster...)
	}
	return privs, resolved
}

// rolesDescription is the part of a 403 message that describes a user's
// roles (AuthorizationDenialMessages, the "declared roles" wording).
func rolesDescription(u *User, resolved []string) string {
	if len(u.Roles) == 0 {
		return " with no declared roles"
	}
	var b strings.Builder
	b.WriteString(" with declared roles [" + strings.Join(u.Roles, ",") + "] (")
	var unresolved []string
	for _, r := range u.Roles {
		found := false
		for _, x := range resolved {
			found = found || x == r
		}
		if !found {
			unresolved = append(unresolved, r)
		}
	}
	switch {
	case len(unresolved) == 0:
		b.WriteString("all resolved")
	case len(unresolved) == len(u.Roles):
		b.WriteString("none resolved")
	default:
		sort.Strings(unresolved)
		b.WriteString("unresolved [" + strings.Join(unresolved, ",") + "]")
	}
	b.WriteByte(')')
	return b.String()
}

// seedSecurity turns the configured users into users and roles: each
// user's privileges become its first role (unless that role is reserved or
// already defined), so that Options stay a one-line way to get a user with
// given cluster privileges.
func (sh *shared) seedSecurity(users []User) error {
	sh.roles = reservedRoles()
	sh.users = make(map[string]*User, len(users))
	for _, u := range users {
		if u.Name == "" {
			return fmt.Errorf("options: user with empty name")
		}
		if len(u.Privileges) == 0 {
			u.Privileges = []string{"all"}
		}
		if len(u.Roles) == 0 {
			if u.Name == "elastic" {
				u.Roles = []string{"superuser"}
			} else {
				u.Roles = []string{u.Name + "_role"}
			}
		}
		for _, p := range u.Privileges {
			if !knownClusterPrivilege(p) {
				return fmt.Errorf("options: user %s: unknown cluster privilege %q", u.Name, p)
			}
		}
		if _, exists := sh.roles[u.Roles[0]]; !exists {
			sh.roles[u.Roles[0]] = &role{
				name: u.Roles[0], cluster: append([]string(nil), u.Privileges...),
				indices: []byte("[]"), applications: []byte("[]"), runAs: []byte("[]"),
				metadata: []byte("{}"), transientMetadata: []byte(`{"enabled":true}`),
			}
		}
		u.reserved = reservedUsers[u.Name]
		sh.users[u.Name] = &u
	}
	return nil
}

// writeRole renders a role descriptor as GET /_security/role does.
func (r *role) write(b *bytes.Buffer) {
	b.WriteString(`{"cluster":`)
	b.Write(mustJSON(nonNil(r.cluster)))
	b.WriteString(`,"indices":`)
	b.Write(r.indices)
	b.WriteString(`,"applications":`)
	b.Write(r.applications)
	b.WriteString(`,"run_as":`)
	b.Write(r.runAs)
	b.WriteString(`,"metadata":`)
	b.Write(r.metadata)
	b.WriteString(`,"transient_metadata":`)
	b.Write(r.transientMetadata)
	if r.remoteIndices != nil {
		b.WriteString(`,"remote_indices":`)
		b.Write(r.remoteIndices)
	}
	if r.remoteCluster != nil {
		b.WriteString(`,"remote_cluster":`)
		b.Write(r.remoteCluster)
	}
	if r.description != nil {
		b.WriteString(`,"description":`)
		b.Write(mustJSON(*r.description))
	}
	b.WriteByte('}')
}

// validName follows Validation.Roles/Users: 1 to 507 printable Basic Latin
// characters without leading or trailing whitespace.
func validName(s string) bool {
	if len(s) == 0 || len(s) > 507 || !javaTrimmed(s) {
		return false
	}
	for _, r := range s {
		if r < 0x20 || r > 0x7e {
			return false
		}
	}
	return true
}

const (
	roleNameRule = "Role names must be at least 1 and no more than 507 characters. They can contain alphanumeric characters (a-z, A-Z, 0-9), spaces, punctuation, and printable symbols in the Basic Latin (ASCII) block. Leading or trailing whitespace is not allowed."
	userNameRule = "Valid usernames must be at least 1 and no more than 507 characters. They can contain alphanumeric characters (a-z, A-Z, 0-9), spaces, punctuation, and printable symbols in the Basic Latin (ASCII) block. Leading or trailing whitespace is not allowed."
)

// handlePutRole is PUT/POST /_security/role/{name} (RestPutRoleAction).
func handlePutRole(c *call) (reply, *esError) {
	name := c.params["name"]
	if err := c.who.authorize("cluster:admin/xpack/security/role/put", "manage_security", "all"); err != nil {
		return reply{}, err
	}
	d, root, err := c.requireBody()
	if err != nil {
		return reply{}, err
	}
	if root.token() != "START_OBJECT" {
		return reply{}, parseExc("failed to parse role [%s]. expected an object but found [%s] instead", name, root.token())
	}
	fs, serr := d.fields(root)
	if serr != nil {
		return reply{}, serr
	}
	r := &role{name: name, cluster: []string{}, indices: []byte("[]"), applications: []byte("[]"), runAs: []byte("[]"),
		metadata: []byte("{}"), transientMetadata: []byte(`{"enabled":true}`)}
	for _, f := range fs {
		tok := f.val.token()
		switch f.key {
		case "cluster", "run_as":
			vals, _, rerr := readStrings(d, f.val, f.key, false)
			if rerr != nil {
				return reply{}, parseExc("failed to parse role [%s]. expected field [%s] value to be an array of strings, but found [%s] instead", name, f.key, tok)
			}
			if f.key == "cluster" {
				r.cluster = vals
			} else {
				r.runAs = mustJSON(vals)
			}
		case "indices":
			raw, ierr := parseRoleIndices(d, f.val, name)
			if ierr != nil {
				return reply{}, ierr
			}
			r.indices = raw
		case "applications", "remote_indices", "remote_cluster":
			if tok != "START_ARRAY" {
				return reply{}, parseExc("failed to parse role [%s]. expected field [%s] value to be an array, but found [%s] instead", name, f.key, tok)
			}
			raw := []byte(compact(f.val.raw))
			switch f.key {
			case "applications":
				r.applications = raw
			case "remote_indices":
				r.remoteIndices = raw
			default:
				r.remoteCluster = raw
			}
		case "metadata", "transient_metadata":
			if tok != "START_OBJECT" {
				return reply{}, parseExc("failed to parse role [%s]. expected field [%s] to be of type object, but found [%s] instead", name, f.key, tok)
			}
			if f.key == "metadata" {
				r.metadata = []byte(compact(f.val.raw))
			}
			// transient_metadata is accepted and ignored, as Elasticsearch does.
		case "description":
			if tok != "VALUE_STRING" {
				return reply{}, parseExc("failed to parse role [%s]. expected field [description] value to be a string, but found [%s] instead", name, tok)
			}
			s, _ := f.val.str()
			r.description = &s
		default:
			return reply{}, parseExc("failed to parse role [%s]. unexpected field [%s]", name, f.key)
		}
	}
	var msgs []string
	if !validName(name) {
		msgs = append(msgs, roleNameRule)
	}
	for _, p := range r.cluster {
		if !knownClusterPrivilege(p) {
			msgs = append(msgs, fmt.Sprintf("unknown cluster privilege [%s]. a privilege must be either one of the predefined cluster privilege names [%s] or a pattern over one of the available cluster actions",
				strings.ToLower(p), strings.Join(clusterPrivilegeNames, ",")))
		}
	}
	if hasReservedKey(r.metadata) {
		msgs = append(msgs, "metadata keys may not start with [_]")
	}
	if len(msgs) > 0 {
		return reply{}, validationErr(msgs)
	}
	if old, exists := c.st.roles[name]; exists && old.reserved {
		return reply{}, illegalArg("role [%s] is reserved and cannot be modified.", name)
	}
	_, existed := c.st.roles[name]
	c.st.roles[name] = r
	return ok([]byte(fmt.Sprintf(`{"role":{"created":%t}}`, !existed))), nil
}

// parseRoleIndices checks the indices entries as RoleDescriptor's parser
// does for the fields every entry needs, and keeps the entries as given.
func parseRoleIndices(d *doc, v jval, roleName string) ([]byte, *esError) {
	if v.token() != "START_ARRAY" {
		return nil, parseExc("failed to parse indices privileges for role [%s]. expected field [indices] value to be an array, but found [%s] instead", roleName, v.token())
	}
	items, err := d.elems(v)
	if err != nil {
		return nil, err
	}
	for _, it := range items {
		if it.token() != "START_OBJECT" {
			return nil, parseExc("failed to parse indices privileges for role [%s]. expected field [indices] value to be an array of objects, but found an array element of type [%s]", roleName, it.token())
		}
		fs, serr := d.fields(it)
		if serr != nil {
			return nil, serr
		}
		hasNames, hasPrivs := false, false
		for _, f := range fs {
			switch f.key {
			case "names":
				hasNames = true
			case "privileges":
				hasPrivs = true
			case "field_security", "query", "allow_restricted_indices":
			default:
				return nil, parseExc("failed to parse indices privileges for role [%s]. unexpected field [%s]", roleName, f.key)
			}
		}
		if !hasNames {
			return nil, parseExc("failed to parse indices privileges for role [%s]. missing required [names] field", roleName)
		}
		if !hasPrivs {
			return nil, parseExc("failed to parse indices privileges for role [%s]. missing required [privileges] field", roleName)
		}
	}
	return []byte(compact(v.raw)), nil
}

// handleGetRoles is GET /_security/role and /_security/role/{name}, where
// name may list several roles separated by commas.
func handleGetRoles(c *call) (reply, *esError) {
	if err := c.who.authorize("cluster:admin/xpack/security/role/get", "read_security", "manage_security", "all"); err != nil {
		return reply{}, err
	}
	var names []string
	if n := c.params["name"]; n != "" {
		names = strings.Split(n, ",")
	} else {
		for n := range c.st.roles {
			names = append(names, n)
		}
		sort.Strings(names)
	}
	var b bytes.Buffer
	b.WriteByte('{')
	found := 0
	for _, n := range names {
		r, exists := c.st.roles[n]
		if !exists {
			continue
		}
		if found > 0 {
			b.WriteByte(',')
		}
		b.Write(mustJSON(n))
		b.WriteByte(':')
		r.write(&b)
		found++
	}
	b.WriteByte('}')
	if found == 0 && c.params["name"] != "" {
		return reply{status: http.StatusNotFound, body: []byte("{}")}, nil
	}
	return ok(b.Bytes()), nil
}

// handleDeleteRole is DELETE /_security/role/{name}.
func handleDeleteRole(c *call) (reply, *esError) {
	name := c.params["name"]
	if err := c.who.authorize("cluster:admin/xpack/security/role/delete", "manage_security", "all"); err != nil {
		return reply{}, err
	}
	r, exists := c.st.roles[name]
	if exists && r.reserved {
		return reply{}, illegalArg("role [%s] is reserved and cannot be deleted", name)
	}
	if !exists {
		return reply{status: http.StatusNotFound, body: []byte(`{"found":false}`)}, nil
	}
	delete(c.st.roles, name)
	return ok([]byte(`{"found":true}`)), nil
}

// handlePutUser is PUT/POST /_security/user/{username} (PutUserRequestBuilder
// and TransportPutUserAction).
func handlePutUser(c *call) (reply, *esError) {
	name := c.params["username"]
	if err := c.who.authorize("cluster:admin/xpack/security/user/put", "manage_security", "all"); err != nil {
		return reply{}, err
	}
	d, root, err := c.requireBody()
	if err != nil {
		return reply{}, err
	}
	if root.token() != "START_OBJECT" {
		return reply{}, parseExc("failed to parse add user request. expected an object but found [%s] instead", root.token())
	}
	fs, serr := d.fields(root)
	if serr != nil {
		return reply{}, serr
	}
	var (
		password *string
		roles    []string
		hasRoles bool
		u        = User{Name: name}
		msgs     []string
	)
	enabled := true
	for _, f := range fs {
		tok := f.val.token()
		switch f.key {
		case "password":
			if tok != "VALUE_STRING" {
				return reply{}, parseExc("expected field [password] to be of type string, but found [%s] instead", tok)
			}
			s, _ := f.val.str()
			if len(s) < 6 {
				// The request builder validates the password while parsing.
				return reply{}, validationErr([]string{"passwords must be at least [6] characters long"})
			}
			password = &s
		case "password_hash":
			return reply{}, illegalArg("The provided password hash is not a hash or it could not be resolved to a supported hash algorithm. The supported password hash algorithms are [bcrypt, pbkdf2]")
		case "roles":
			switch tok {
			case "VALUE_STRING":
				s, _ := f.val.str()
				for _, r := range strings.Split(s, ",") {
					if r = strings.TrimSpace(r); r != "" {
						roles = append(roles, r)
					}
				}
			default:
				vals, _, rerr := readStrings(d, f.val, "roles", false)
				if rerr != nil {
					return reply{}, parseExc("expected field [roles] to be of type array of strings, but found [%s] instead", tok)
				}
				roles = vals
			}
			hasRoles = true
		case "full_name", "email":
			switch tok {
			case "VALUE_STRING":
				s, _ := f.val.str()
				if f.key == "full_name" {
					u.fullName = &s
				} else {
					u.email = &s
				}
			case "VALUE_NULL":
			default:
				return reply{}, parseExc("expected field [%s] to be of type string, but found [%s] instead", f.key, tok)
			}
		case "metadata":
			if tok != "START_OBJECT" {
				return reply{}, parseExc("expected field [metadata] to be of type object, but found [%s] instead", tok)
			}
			u.metadata = []byte(compact(f.val.raw))
		case "enabled":
			if tok != "VALUE_BOOLEAN" {
				return reply{}, parseExc("expected field [enabled] to be of type boolean, but found [%s] instead", tok)
			}
			enabled = string(f.val.raw) == "true"
		case "username":
			s, okStr := f.val.str()
			if !okStr {
				return reply{}, parseExc("expected field [username] to be of type string, but found [%s] instead", tok)
			}
			if s != name {
				return reply{}, illegalArg("[username] in source does not match the username provided [%s]", name)
			}
		default:
			return reply{}, parseExc("failed to parse add user request. unexpected field [%s]", f.key)
		}
	}
	// PutUserRequest.validate, then TransportPutUserAction's checks, then
	// the store's: each stage answers on its own.
	if !hasRoles {
		msgs = append(msgs, "roles are missing")
	}
	if u.metadata != nil && hasReservedKey(u.metadata) {
		msgs = append(msgs, "metadata keys may not start with [_]")
	}
	if len(msgs) > 0 {
		return reply{}, validationErr(msgs)
	}
	switch {
	case reservedUsers[name]:
		msgs = append(msgs, fmt.Sprintf("user [%s] is reserved and only the password can be changed", name))
	case !validName(name):
		msgs = append(msgs, userNameRule)
	}
	for _, r := range roles {
		if !validName(r) {
			msgs = append(msgs, roleNameRule)
			break
		}
	}
	if len(msgs) > 0 {
		return reply{}, validationErr(msgs)
	}
	existing, exists := c.st.users[name]
	if password == nil && !exists {
		return reply{}, validationErr([]string{"password must be specified unless you are updating an existing user"})
	}
	u.Roles = roles
	u.disabled = !enabled
	if password != nil {
		u.Password = *password
	} else {
		u.Password = existing.Password
	}
	c.st.users[name] = &u
	return ok([]byte(fmt.Sprintf(`{"created":%t}`, !exists))), nil
}

// writeUser renders a user as GET /_security/user does.
func (u *User) write(b *bytes.Buffer) {
	b.WriteString(`{"username":`)
	b.Write(mustJSON(u.Name))
	b.WriteString(`,"roles":`)
	b.Write(mustJSON(nonNil(u.Roles)))
	b.WriteString(`,"full_name":`)
	b.Write(mustJSON(u.fullName))
	b.WriteString(`,"email":`)
	b.Write(mustJSON(u.email))
	b.WriteString(`,"metadata":`)
	switch {
	case u.reserved:
		b.WriteString(`{"_reserved":true}`)
	case u.metadata != nil:
		b.Write(u.metadata)
	default:
		b.WriteString("{}")
	}
	fmt.Fprintf(b, `,"enabled":%t}`, !u.disabled)
}

// handleGetUsers is GET /_security/user and /_security/user/{username},
// where username may list several users separated by commas.
func handleGetUsers(c *call) (reply, *esError) {
	if err := c.who.authorize("cluster:admin/xpack/security/user/get", "read_security", "manage_security", "all"); err != nil {
		return reply{}, err
	}
	var names []string
	if n := c.params["username"]; n != "" {
		names = strings.Split(n, ",")
	} else {
		for n := range c.st.users {
			names = append(names, n)
		}
		sort.Strings(names)
	}
	var b bytes.Buffer
	b.WriteByte('{')
	found := 0
	for _, n := range names {
		u, exists := c.st.users[n]
		if !exists {
			continue
		}
		if found > 0 {
			b.WriteByte(',')
		}
		b.Write(mustJSON(n))
		b.WriteByte(':')
		u.write(&b)
		found++
	}
	b.WriteByte('}')
	if found == 0 && c.params["username"] != "" {
		return reply{status: http.StatusNotFound, body: []byte("{}")}, nil
	}
	return ok(b.Bytes()), nil
}

// handleDeleteUser is DELETE /_security/user/{username}.
func handleDeleteUser(c *call) (reply, *esError) {
	name := c.params["username"]
	if err := c.who.authorize("cluster:admin/xpack/security/user/delete", "manage_security", "all"); err != nil {
		return reply{}, err
	}
	if reservedUsers[name] {
		return reply{}, illegalArg("user [%s] is reserved and cannot be deleted", name)
	}
	if _, exists := c.st.users[name]; !exists {
		return reply{status: http.StatusNotFound, body: []byte(`{"found":false}`)}, nil
	}
	delete(c.st.users, name)
	return ok([]byte(`{"found":true}`)), nil
}
