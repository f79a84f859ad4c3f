package esfake

import (
	"bytes"
	"fmt"
)

type invalidateRequest struct {
	ids                   []string
	hasIDs                bool
	id, name, user, realm string
	owner                 bool
}

func handleInvalidate(c *call) (reply, *esError) {
	const pn = "invalidate_api_key"
	d, fs, serr, err := c.bodyFields(pn)
	if err != nil {
		return reply{}, err
	}
	req := invalidateRequest{}
	hasID := false
	for _, f := range fs {
		tok := f.val.token()
		switch f.key {
		case "realm_name", "username", "id", "name":
			if tok == "VALUE_NULL" {
				continue
			}
			if tok != "VALUE_STRING" {
				return reply{}, unsupportedType(d, pn, f)
			}
			s, _ := f.val.str()
			switch f.key {
			case "realm_name":
				req.realm = s
			case "username":
				req.user = s
			case "id":
				req.id, hasID = s, true
			default:
				req.name = s
			}
		case "owner":
			if tok != "VALUE_BOOLEAN" {
				return reply{}, unsupportedType(d, pn, f)
			}
			req.owner = string(f.val.raw) == "true"
		case "ids":
			if tok != "START_ARRAY" {
				return reply{}, unsupportedType(d, pn, f)
			}
			items, eerr := d.elems(f.val)
			if eerr != nil {
				return reply{}, eerr
			}
			req.ids = []string{}
			for _, it := range items {
				s, okStr := it.str()
				if !okStr {
					return reply{}, xcontentErr(d.loc(it.off), fmt.Sprintf("[%s] ids doesn't support values of type: %s", pn, it.token()), nil)
				}
				req.ids = append(req.ids, s)
			}
			req.hasIDs = true
		default:
			return reply{}, unknownField(d, pn, f)
		}
	}
	if serr != nil {
		return reply{}, serr
	}
	if hasID && req.hasIDs {
		return reply{}, xcontentErr("", fmt.Sprintf("Failed to build [%s] after last required field arrived", pn),
			illegalArg("Must use either [id] or [ids], not both at the same time"))
	}
	if hasID {
		req.ids, req.hasIDs = []string{req.id}, true
	}
	if msgs := req.validate(); len(msgs) > 0 {
		return reply{}, validationErr(msgs)
	}
	ownScoped := req.owner || (req.user != "" && req.realm != "" && c.who.ownsFilter(req.user, req.realm))
	grants := []string{"manage_api_key", "manage_security", "all"}
	if ownScoped {
		grants = append([]string{"manage_own_api_key"}, grants...)
	}
	if err := c.who.authorize("cluster:admin/xpack/security/api_key/invalidate", grants...); err != nil {
		return reply{}, err
	}
	if req.owner {
		req.user, req.realm = c.who.user.Name, c.who.realm
	}
	return ok(c.st.invalidate(req, c.who.has("manage_security"))), nil
}

func (r *invalidateRequest) validate() []string {
	var msgs []string
	if !hasText(r.realm) && !hasText(r.user) && !r.hasIDs && !hasText(r.name) && !r.owner {
		msgs = append(msgs, "One of [api key id(s), api key name, username, realm name] must be specified if [owner] flag is false")
	}
	if (r.hasIDs || hasText(r.name)) && (hasText(r.realm) || hasText(r.user)) {
		msgs = append(msgs, "username or realm name must not be specified when the api key id(s) or api key name are specified")
	}
	if r.owner && (hasText(r.realm) || hasText(r.user)) {
		msgs = append(msgs, "neither username nor realm-name may be specified when invalidating owned API keys")
	}
	if r.hasIDs && hasText(r.name) {
		msgs = append(msgs, "only one of [api key id(s), api key name] can be specified")
	}
	if r.hasIDs {
		if len(r.ids) == 0 {
			msgs = append(msgs, "Field [ids] cannot be an empty array")
		}
		for i, id := range r.ids {
			if !hasText(id) {
				msgs = append(msgs, fmt.Sprintf("Field [ids] must not contain blank id, but got blank id at index position: [%d]", i))
				break
			}
		}
	}
	return msgs
}

// invalidate marks matching active keys invalidated. The search behind it
// skips keys that are already invalidated, so repeating it yields empty lists.
func (st *state) invalidate(req invalidateRequest, canCrossCluster bool) []byte {
	idSet := map[string]bool{}
	for _, id := range req.ids {
		idSet[id] = true
	}
	invalidated := []string{}
	var details [][]byte
	now := st.clock()
	for _, kid := range st.keyOrder {
		k := st.keys[kid]
		if k.invalidated || req.hasIDs && !idSet[k.id] || hasText(req.name) && !matchName(req.name, k.name) ||
			hasText(req.user) && k.username != req.user || hasText(req.realm) && k.realm != req.realm {
			continue
		}
		if k.typ == keyTypeCC && !canCrossCluster {
			e := securityErr(403, "Cannot invalidate cross-cluster API key [%s]. This requires [manage_security] cluster privilege or higher", k.id)
			var b bytes.Buffer
			b.WriteByte('{')
			e.writeFields(&b, false)
			b.WriteByte('}')
			details = append(details, b.Bytes())
			continue
		}
		k.invalidated = true
		t := now
		k.invalidation = &t
		invalidated = append(invalidated, k.id)
	}
	var b bytes.Buffer
	b.WriteString(`{"invalidated_api_keys":`)
	b.Write(mustJSON(invalidated))
	fmt.Fprintf(&b, `,"previously_invalidated_api_keys":[],"error_count":%d`, len(details))
	if len(details) > 0 {
		b.WriteString(`,"error_details":[`)
		b.Write(bytes.Join(details, []byte(",")))
		b.WriteByte(']')
	}
	b.WriteByte('}')
	return b.Bytes()
}
