package esfake

import (
	"encoding/json"
	"fmt"
	"net/http"
	"time"
)

// handleCreateREST is a minimal POST/PUT /_security/api_key: enough to own
// REST keys for type-mismatch tests and to authenticate with a key.
func handleCreateREST(c *call) (reply, *esError) {
	const pn = "api_key_request"
	d, fs, serr, err := c.bodyFields(pn)
	if err != nil {
		return reply{}, err
	}
	var (
		name        string
		expiration  *string
		meta        json.RawMessage
		descriptors json.RawMessage
	)
	for _, f := range fs {
		tok := f.val.token()
		switch f.key {
		case "name":
			if tok != "VALUE_STRING" {
				return reply{}, unsupportedType(d, pn, f)
			}
			name, _ = f.val.str()
		case "expiration":
			if tok != "VALUE_STRING" {
				return reply{}, unsupportedType(d, pn, f)
			}
			s, _ := f.val.str()
			expiration = &s
		case "metadata":
			if tok != "START_OBJECT" {
				return reply{}, unsupportedType(d, pn, f)
			}
			meta = json.RawMessage(compact(f.val.raw))
		case "role_descriptors":
			if tok != "START_OBJECT" {
				return reply{}, unsupportedType(d, pn, f)
			}
			if _, rerr := d.fields(f.val); rerr != nil {
				return reply{}, rerr
			}
			descriptors = json.RawMessage(compact(f.val.raw))
		default:
			return reply{}, unknownField(d, pn, f)
		}
	}
	if serr != nil {
		return reply{}, serr
	}
	if expiration != nil {
		if _, eerr := parseDuration(*expiration, "expiration"); eerr != nil {
			return reply{}, xcontentErr("", fmt.Sprintf("Failed to build [%s] after last required field arrived", pn), eerr)
		}
	}
	msgs := validateName(name)
	if meta != nil && hasReservedKey(meta) {
		msgs = append(msgs, "API key metadata keys may not start with [_]")
	}
	if len(msgs) > 0 {
		return reply{}, validationErr(msgs)
	}
	if err := c.who.authorize("cluster:admin/xpack/security/api_key/create", "manage_own_api_key", "manage_api_key", "manage_security", "all"); err != nil {
		return reply{}, err
	}
	privs, hasDesc, perr := descriptorClusterPrivileges(descriptors)
	if perr != nil {
		return reply{}, perr
	}
	if c.who.key != nil && (hasDesc || len(privs) > 0) {
		return reply{}, illegalArg("creating derived api keys requires an explicit role descriptor that is empty (has no privileges)")
	}
	var exp *time.Time
	if expiration != nil {
		exp = c.st.expiresAt(*expiration)
	}
	k, body := c.st.newKey(keyTypeREST, name, c.who, exp, meta)
	k.restDescriptors = descriptors
	k.restHasDescriptors = hasDesc
	k.restClusterPrivileges = privs
	return ok(body), nil
}

// descriptorClusterPrivileges collects the cluster privileges of the given
// role descriptors; hasDesc is false for {} (the key inherits its owner's).
func descriptorClusterPrivileges(raw json.RawMessage) ([]string, bool, *esError) {
	if len(raw) == 0 {
		return nil, false, nil
	}
	var m map[string]struct {
		Cluster []string `json:"cluster"`
	}
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, false, parseExc("failed to parse role descriptors: %v", err)
	}
	var out []string
	for _, rd := range m {
		out = append(out, rd.Cluster...)
	}
	if len(m) > 0 && len(out) == 0 {
		// Descriptors without cluster privileges grant none.
		out = []string{"none"}
	}
	return out, len(m) > 0, nil
}

// handleUpdateREST supports only what the type check needs: a
// cross-cluster key updated through the REST-key endpoint is rejected.
func handleUpdateREST(c *call) (reply, *esError) {
	if len(c.body) == 0 {
		c.body = []byte("{}")
	}
	if err := c.who.authorize("cluster:admin/xpack/security/api_key/update", "manage_own_api_key", "manage_api_key", "manage_security", "all"); err != nil {
		return reply{}, err
	}
	if c.who.key != nil {
		return reply{}, illegalArg("authentication via API key not supported: only the owner user can update an API key")
	}
	k, err := c.st.ownedKey(c.params["id"], c.who)
	if err != nil {
		return reply{}, err
	}
	if k.typ != keyTypeREST {
		return reply{}, illegalArg("cannot update API key of type [%s] while expected type is [%s]", k.typ, keyTypeREST)
	}
	if err := c.st.checkUpdatable(k); err != nil {
		return reply{}, err
	}
	return reply{}, newErr(http.StatusNotImplemented, "esfake_unsupported", "esfake: updating REST API keys is not implemented")
}

// CreateRESTKey creates a REST API key owned by a configured user, as
// POST /_security/api_key would, and returns its id and encoded credential.
func (s *Server) CreateRESTKey(owner, name string) (id, encoded string, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	u, found := s.st.users[owner]
	if !found {
		return "", "", fmt.Errorf("create REST key: unknown user %q", owner)
	}
	realm, typ := realmOf(u)
	k, body := s.st.newKey(keyTypeREST, name, &principal{user: u, realm: realm, realmType: typ}, nil, nil)
	var resp struct {
		Encoded string `json:"encoded"`
	}
	if err := json.Unmarshal(body, &resp); err != nil {
		return "", "", fmt.Errorf("create REST key: %w", err)
	}
	return k.id, resp.Encoded, nil
}
