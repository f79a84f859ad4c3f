package esfake

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"reflect"
	"regexp"
	"strings"
	"time"
	"unicode/utf16"
)

const (
	keyTypeREST = "rest"
	keyTypeCC   = "cross_cluster"
)

// apiKey is a stored API key document.
type apiKey struct {
	id, name, typ         string
	secretHash            [32]byte
	creation              time.Time
	expiration            *time.Time
	invalidated           bool
	invalidation          *time.Time
	username, realm       string
	realmType             string
	metadata              json.RawMessage // nil means the doc holds null
	access                *ccAccess       // cross-cluster keys
	clusterPrivs          []string        // generated when the key was last written
	certIdentity          *string
	docVersion            string // server version that last wrote the doc
	restDescriptors       json.RawMessage
	restHasDescriptors    bool
	restClusterPrivileges []string
	// limitedBy and limitedPrivs are the owner's role descriptors and
	// their cluster privileges when a REST key was created: Elasticsearch
	// keeps that snapshot, so later changes to the owner's roles do not
	// reach the key.
	limitedBy    []byte
	limitedPrivs []string
}

func (k *apiKey) expiredAt(now time.Time) bool {
	return k.expiration != nil && !now.Before(*k.expiration)
}

func (k *apiKey) roleDescriptorJSON() []byte {
	if k.typ == keyTypeCC {
		var b bytes.Buffer
		b.WriteString(`{"cross_cluster":`)
		b.Write(k.access.roleDescriptorJSON(k.clusterPrivs))
		b.WriteByte('}')
		return b.Bytes()
	}
	if len(k.restDescriptors) == 0 {
		return []byte("{}")
	}
	return k.restDescriptors
}

// newKey creates the key, its secret and the create response.
func (st *state) newKey(typ, name string, who *principal, exp *time.Time, meta json.RawMessage) (*apiKey, []byte) {
	id := randomID(15)
	secret := randomID(16)
	k := &apiKey{
		id: id, name: name, typ: typ, secretHash: sha256.Sum256([]byte(secret)),
		creation: st.clock(), expiration: exp,
		username: who.user.Name, realm: who.realm, realmType: who.realmType,
		metadata: meta, docVersion: st.ver.raw,
	}
	if typ == keyTypeREST {
		var b bytes.Buffer
		st.writeOwnerDescriptors(&b, who.user)
		k.limitedBy = b.Bytes()
		k.limitedPrivs, _ = st.resolveRoles(who.user)
	}
	st.keys[id] = k
	st.keyOrder = append(st.keyOrder, id)
	encoded := base64.StdEncoding.EncodeToString([]byte(id + ":" + secret))
	var b bytes.Buffer
	b.WriteString(`{"id":`)
	b.Write(mustJSON(id))
	b.WriteString(`,"name":`)
	b.Write(mustJSON(name))
	if exp != nil {
		fmt.Fprintf(&b, `,"expiration":%d`, exp.UnixMilli())
	}
	b.WriteString(`,"api_key":`)
	b.Write(mustJSON(secret))
	b.WriteString(`,"encoded":`)
	b.Write(mustJSON(encoded))
	b.WriteByte('}')
	return k, b.Bytes()
}

// requireBody returns the document of a body-required endpoint.
func (c *call) requireBody() (*doc, jval, *esError) {
	if len(c.body) == 0 {
		return nil, jval{}, parseExc("request body is required")
	}
	d := &doc{data: c.body}
	root, err := d.root()
	if err != nil {
		return nil, jval{}, err
	}
	return d, root, nil
}

// bodyFields reads the required body of an endpoint whose body is one
// object for parser pn: the document, its fields, and a syntax error met
// after them (reported only when no field before it is wrong).
func (c *call) bodyFields(pn string) (*doc, []jfield, *esError, *esError) {
	d, root, err := c.requireBody()
	if err != nil {
		return nil, nil, nil, err
	}
	fs, serr, err := objectFields(d, root, pn)
	if err != nil {
		return nil, nil, nil, err
	}
	return d, fs, serr, nil
}

// objectFields reads a top-level object for parser pn, reporting a non-object
// like ObjectParser does.
func objectFields(d *doc, root jval, pn string) ([]jfield, *esError, *esError) {
	if root.token() != "START_OBJECT" {
		return nil, nil, xcontentErr(d.loc(root.off), fmt.Sprintf("[%s] Expected START_OBJECT but was: %s", pn, root.token()), nil)
	}
	fs, serr := d.fields(root)
	return fs, serr, nil
}

func unsupportedType(d *doc, pn string, f jfield) *esError {
	return xcontentErr(d.loc(f.val.off), fmt.Sprintf("[%s] %s doesn't support values of type: %s", pn, f.key, f.val.token()), nil)
}

func unknownField(d *doc, pn string, f jfield) *esError {
	return xcontentErr(d.loc(f.keyOff), fmt.Sprintf("[%s] unknown field [%s]", pn, f.key), nil)
}

// ccRequest is a parsed create or update body.
type ccRequest struct {
	name         *string
	access       *ccAccess
	expiration   *string
	metadata     json.RawMessage
	hasMetadata  bool
	certIdentity *string
	hasCertID    bool
}

// parseCCBody parses create (update=false) or update bodies with the
// strictness of the ConstructingObjectParsers behind the REST handlers.
func (c *call) parseCCBody(update bool) (*ccRequest, *esError) {
	pn := "cross_cluster_api_key_request"
	if update {
		pn = "update_cross_cluster_api_key_request_payload"
	}
	d, root, err := c.requireBody()
	if err != nil {
		return nil, err
	}
	fs, serr, err := objectFields(d, root, pn)
	if err != nil {
		return nil, err
	}
	v := c.st.ver
	req := &ccRequest{}
	for _, f := range fs {
		tok := f.val.token()
		switch {
		case f.key == "name" && !update:
			if tok != "VALUE_STRING" {
				return nil, unsupportedType(d, pn, f)
			}
			s, _ := f.val.str()
			req.name = &s
		case f.key == "access":
			if tok != "START_OBJECT" {
				return nil, unsupportedType(d, pn, f)
			}
			acc, aerr := parseAccess(d, f.val)
			if aerr != nil {
				return nil, xcontentErr(d.loc(f.val.off), fmt.Sprintf("[%s] failed to parse field [access]", pn), aerr)
			}
			req.access = acc
		case f.key == "expiration" && (!update || v.updateExpiration()):
			if tok != "VALUE_STRING" {
				return nil, unsupportedType(d, pn, f)
			}
			s, _ := f.val.str()
			req.expiration = &s
		case f.key == "metadata":
			if tok != "START_OBJECT" {
				return nil, unsupportedType(d, pn, f)
			}
			if _, merr := d.fields(f.val); merr != nil {
				return nil, merr
			}
			req.metadata = json.RawMessage(compact(f.val.raw))
			req.hasMetadata = true
		case f.key == "certificate_identity" && v.certificateIdentity():
			switch tok {
			case "VALUE_STRING":
				s, _ := f.val.str()
				req.certIdentity = &s
			case "VALUE_NULL":
				req.certIdentity = nil
			default:
				return nil, unsupportedType(d, pn, f)
			}
			req.hasCertID = true
		default:
			return nil, unknownField(d, pn, f)
		}
	}
	if serr != nil {
		return nil, serr
	}
	if !update {
		var missing []string
		if req.name == nil {
			missing = append(missing, "name")
		}
		if req.access == nil {
			missing = append(missing, "access")
		}
		if len(missing) > 0 {
			return nil, illegalArg("Required [%s]", strings.Join(missing, ", "))
		}
	}
	// The constructing parser's builder parses the expiration and builds
	// the role descriptor; on create its failures are wrapped.
	wrap := func(e *esError) *esError {
		if update && e.Type == "illegal_argument_exception" {
			return e
		}
		return xcontentErr("", fmt.Sprintf("Failed to build [%s] after last required field arrived", pn), e)
	}
	if req.expiration != nil {
		if _, eerr := parseDuration(*req.expiration, "expiration"); eerr != nil {
			return nil, wrap(eerr)
		}
	}
	if req.access != nil {
		if berr := req.access.build(v); berr != nil {
			return nil, wrap(berr)
		}
	}
	return req, nil
}

// validateCommon runs the request validation shared by create and update.
func validateCommon(req *ccRequest, msgs []string) []string {
	if req.hasMetadata && hasReservedKey(req.metadata) {
		msgs = append(msgs, "API key metadata keys may not start with [_]")
	}
	if req.certIdentity != nil {
		if _, err := regexp.Compile(*req.certIdentity); err != nil {
			msgs = append(msgs, fmt.Sprintf("Invalid certificate_identity format: [%s]. Must be a valid regex.", *req.certIdentity))
		}
	}
	return msgs
}

func hasReservedKey(meta json.RawMessage) bool {
	var m map[string]json.RawMessage
	if json.Unmarshal(meta, &m) != nil {
		return false
	}
	for k := range m {
		if strings.HasPrefix(k, "_") {
			return true
		}
	}
	return false
}

// javaTrimmed reports whether s equals Java's String.trim() of itself,
// which strips every char <= U+0020.
func javaTrimmed(s string) bool {
	return s == strings.TrimFunc(s, func(r rune) bool { return r <= ' ' })
}

func validateName(name string) []string {
	var msgs []string
	if name == "" {
		return []string{"api key name is required"}
	}
	if len(utf16.Encode([]rune(name))) > 256 {
		msgs = append(msgs, "api key name may not be more than 256 characters long")
	}
	if !javaTrimmed(name) {
		msgs = append(msgs, "api key name may not begin or end with whitespace")
	}
	if strings.HasPrefix(name, "_") {
		msgs = append(msgs, "api key name may not begin with an underscore")
	}
	return msgs
}

func handleCreateCrossCluster(c *call) (reply, *esError) {
	if err := c.st.licenseAllowsRCS(); err != nil {
		return reply{}, err
	}
	req, err := c.parseCCBody(false)
	if err != nil {
		return reply{}, err
	}
	if msgs := validateCommon(req, validateName(*req.name)); len(msgs) > 0 {
		return reply{}, validationErr(msgs)
	}
	if err := c.who.authorize("cluster:admin/xpack/security/cross_cluster/api_key/create", "manage_security", "all"); err != nil {
		return reply{}, err
	}
	if c.who.key != nil {
		return reply{}, illegalArg("authentication via API key not supported: An API key cannot be used to create a cross-cluster API key")
	}
	var exp *time.Time
	if req.expiration != nil {
		exp = c.st.expiresAt(*req.expiration)
	}
	k, body := c.st.newKey(keyTypeCC, *req.name, c.who, exp, req.metadata)
	k.access = req.access
	k.clusterPrivs = c.st.ver.clusterPrivileges(len(req.access.search) > 0, len(req.access.replication) > 0)
	if req.hasCertID {
		k.certIdentity = req.certIdentity
	}
	return ok(body), nil
}

// expiresAt turns an already validated duration into an absolute time;
// "-1" means no expiration.
func (st *state) expiresAt(s string) *time.Time {
	d, err := parseDuration(s, "expiration")
	if err != nil || d < 0 {
		return nil
	}
	t := st.clock().Add(d)
	return &t
}

func handleUpdateCrossCluster(c *call) (reply, *esError) {
	// ES checks the license in the REST layer, before parsing or lookup.
	if err := c.st.licenseAllowsRCS(); err != nil {
		return reply{}, err
	}
	req, err := c.parseCCBody(true)
	if err != nil {
		return reply{}, err
	}
	var msgs []string
	if req.access == nil && !req.hasMetadata && !req.hasCertID {
		msgs = append(msgs, "must update either [access] or [metadata] for cross-cluster API keys")
	}
	if msgs = validateCommon(req, msgs); len(msgs) > 0 {
		return reply{}, validationErr(msgs)
	}
	if err := c.who.authorize("cluster:admin/xpack/security/cross_cluster/api_key/update", "manage_security", "all"); err != nil {
		return reply{}, err
	}
	if c.who.key != nil {
		return reply{}, illegalArg("authentication via API key not supported: only the owner user can update an API key")
	}
	k, err := c.st.ownedKey(c.params["id"], c.who)
	if err != nil {
		return reply{}, err
	}
	if k.typ != keyTypeCC {
		return reply{}, illegalArg("cannot update API key of type [%s] while expected type is [%s]", k.typ, keyTypeCC)
	}
	if err := c.st.checkUpdatable(k); err != nil {
		return reply{}, err
	}
	newPrivs := k.clusterPrivs
	newAccess := k.access
	if req.access != nil {
		newAccess = req.access
		newPrivs = c.st.ver.clusterPrivileges(len(req.access.search) > 0, len(req.access.replication) > 0)
	}
	noop := k.docVersion == c.st.ver.raw && req.expiration == nil
	if noop && req.access != nil {
		noop = bytes.Equal(k.access.roleDescriptorJSON(k.clusterPrivs), newAccess.roleDescriptorJSON(newPrivs))
	}
	if noop && req.hasMetadata {
		noop = k.metadata != nil && jsonEqual(k.metadata, req.metadata)
	}
	if noop && req.hasCertID {
		noop = equalStrPtr(k.certIdentity, req.certIdentity)
	}
	if noop {
		return ok([]byte(`{"updated":false}`)), nil
	}
	k.access, k.clusterPrivs = newAccess, newPrivs
	if req.hasMetadata {
		k.metadata = req.metadata
	}
	if req.expiration != nil {
		k.expiration = c.st.expiresAt(*req.expiration)
	}
	if req.hasCertID {
		k.certIdentity = req.certIdentity
	}
	k.docVersion = c.st.ver.raw
	return ok([]byte(`{"updated":true}`)), nil
}

func equalStrPtr(a, b *string) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	return *a == *b
}

// jsonEqual compares two JSON values as maps, like Java's Map.equals:
// key order does not matter, number spelling does.
func jsonEqual(a, b []byte) bool {
	var x, y any
	da := json.NewDecoder(bytes.NewReader(a))
	da.UseNumber()
	db := json.NewDecoder(bytes.NewReader(b))
	db.UseNumber()
	if da.Decode(&x) != nil || db.Decode(&y) != nil {
		return false
	}
	return reflect.DeepEqual(x, y)
}

// ownedKey finds a key that the caller (user and realm) created; anything
// else is the same 404 as a missing id, so ids do not leak.
func (st *state) ownedKey(id string, who *principal) (*apiKey, *esError) {
	k, found := st.keys[id]
	if !found || k.username != who.user.Name || k.realm != who.realm {
		return nil, errf(http.StatusNotFound, "resource_not_found_exception", "no API key owned by requesting user found for ID [%s]", id)
	}
	return k, nil
}

func (st *state) checkUpdatable(k *apiKey) *esError {
	if k.invalidated {
		return illegalArg("cannot update invalidated API key [%s]", k.id)
	}
	if k.expiredAt(st.clock()) {
		return illegalArg("cannot update expired API key [%s]", k.id)
	}
	return nil
}
