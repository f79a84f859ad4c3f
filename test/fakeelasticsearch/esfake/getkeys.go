package esfake

import (
	"bytes"
	"fmt"
	"net/http"
	"strings"
)

// renderOpts are the GET/query switches that change the key object.
type renderOpts struct {
	withLimitedBy bool
	sortValues    []byte // JSON array for "_sort", nil when unsorted
}

// writeKey renders a key with ES's field order (ApiKey.toXContent).
func (st *state) writeKey(b *bytes.Buffer, k *apiKey, o renderOpts) {
	v := st.ver
	b.WriteString(`{"id":`)
	b.Write(mustJSON(k.id))
	b.WriteString(`,"name":`)
	b.Write(mustJSON(k.name))
	b.WriteString(`,"type":`)
	b.Write(mustJSON(k.typ))
	fmt.Fprintf(b, `,"creation":%d`, k.creation.UnixMilli())
	if k.expiration != nil {
		fmt.Fprintf(b, `,"expiration":%d`, k.expiration.UnixMilli())
	}
	fmt.Fprintf(b, `,"invalidated":%t`, k.invalidated)
	if k.invalidation != nil && v.invalidationField() {
		fmt.Fprintf(b, `,"invalidation":%d`, k.invalidation.UnixMilli())
	}
	b.WriteString(`,"username":`)
	b.Write(mustJSON(k.username))
	b.WriteString(`,"realm":`)
	b.Write(mustJSON(k.realm))
	if v.realmTypeField() {
		b.WriteString(`,"realm_type":`)
		b.Write(mustJSON(k.realmType))
	}
	b.WriteString(`,"metadata":`)
	if k.metadata == nil {
		b.WriteString("{}")
	} else {
		b.Write(k.metadata)
	}
	b.WriteString(`,"role_descriptors":`)
	b.Write(k.roleDescriptorJSON())
	if o.withLimitedBy && k.typ == keyTypeREST {
		b.WriteString(`,"limited_by":[`)
		b.Write(k.limitedBy)
		b.WriteByte(']')
	}
	if k.typ == keyTypeCC {
		b.WriteString(`,"access":`)
		b.Write(k.access.accessJSON())
	}
	if k.certIdentity != nil && v.certificateIdentity() {
		b.WriteString(`,"certificate_identity":`)
		b.Write(mustJSON(*k.certIdentity))
	}
	if o.sortValues != nil {
		b.WriteString(`,"_sort":`)
		b.Write(o.sortValues)
	}
	b.WriteByte('}')
}

// writeOwnerDescriptors renders the roles of a key's owner that exist, as
// limited_by holds them.
func (st *state) writeOwnerDescriptors(b *bytes.Buffer, u *User) {
	b.WriteByte('{')
	if u != nil {
		n := 0
		for _, name := range u.Roles {
			r, found := st.roles[name]
			if !found {
				continue
			}
			if n > 0 {
				b.WriteByte(',')
			}
			b.Write(mustJSON(name))
			b.WriteByte(':')
			r.write(b)
			n++
		}
	}
	b.WriteByte('}')
}

func matchName(pattern, name string) bool {
	switch {
	case pattern == "" || pattern == "*":
		return true
	case strings.HasSuffix(pattern, "*"):
		return strings.HasPrefix(name, strings.TrimSuffix(pattern, "*"))
	}
	return pattern == name
}

func hasText(s string) bool { return strings.TrimSpace(s) != "" }

func handleGetKeys(c *call) (reply, *esError) {
	id, name := c.param("id"), c.param("name")
	username, realm := c.param("username"), c.param("realm_name")
	owner, err := c.boolParam("owner", false)
	if err != nil {
		return reply{}, err
	}
	withLimitedBy, err := c.boolParam("with_limited_by", false)
	if err != nil {
		return reply{}, err
	}
	activeOnly, err := c.boolParam("active_only", false)
	if err != nil {
		return reply{}, err
	}
	if _, err := c.boolParam("with_profile_uid", false); err != nil {
		return reply{}, err
	}
	var msgs []string
	if (hasText(realm) || hasText(username)) && (hasText(id) || hasText(name)) {
		msgs = append(msgs, "username or realm name must not be specified when the api key id or api key name is specified")
	}
	if owner && (hasText(realm) || hasText(username)) {
		msgs = append(msgs, "neither username nor realm-name may be specified when retrieving owned API keys")
	}
	if hasText(id) && hasText(name) {
		msgs = append(msgs, "only one of [api key id, api key name] can be specified")
	}
	if len(msgs) > 0 {
		return reply{}, validationErr(msgs)
	}
	// An API key may always read itself; otherwise owner-scoped requests
	// need manage_own_api_key and the rest read_security or more.
	ownScoped := owner || (username != "" && realm != "" && c.who.ownsFilter(username, realm)) ||
		(c.who.key != nil && id == c.who.key.id)
	grants := []string{"read_security", "manage_api_key", "manage_security", "all"}
	if ownScoped {
		grants = append([]string{"manage_own_api_key"}, grants...)
	}
	if err := c.who.authorize("cluster:admin/xpack/security/api_key/get", grants...); err != nil {
		return reply{}, err
	}
	if owner {
		username, realm = c.who.user.Name, c.who.realm
	}
	now := c.st.clock()
	var b bytes.Buffer
	b.WriteString(`{"api_keys":[`)
	n := 0
	for _, kid := range c.st.keyOrder {
		k := c.st.keys[kid]
		if hasText(id) && k.id != id || hasText(name) && !matchName(name, k.name) ||
			hasText(username) && k.username != username || hasText(realm) && k.realm != realm {
			continue
		}
		if activeOnly && (k.invalidated || k.expiredAt(now)) {
			continue
		}
		if n > 0 {
			b.WriteByte(',')
		}
		c.st.writeKey(&b, k, renderOpts{withLimitedBy: withLimitedBy})
		n++
	}
	b.WriteString(`]}`)
	status := http.StatusOK
	if hasText(id) && n == 0 {
		// RestGetApiKeyAction answers 404 with the normal (empty) body.
		status = http.StatusNotFound
	}
	return reply{status: status, body: b.Bytes()}, nil
}
