package esfake

import (
	"bytes"
	"fmt"
)

const roleCC = "cross_cluster"

var (
	ccsIndexPrivileges = []string{"read", "read_cross_cluster", "view_index_metadata"}
	ccrIndexPrivileges = []string{"cross_cluster_replication", "cross_cluster_replication_internal"}
)

// indexAccess is one search or replication entry, stored the way ES stores
// the generated role descriptor's indices entry.
type indexAccess struct {
	names           []string
	grant           []string
	hasGrant        bool
	except          []string
	hasExcept       bool
	query           *string
	allowRestricted bool
}

// usesDLSFLS mirrors IndicesPrivileges.isUsingDocumentOrFieldLevelSecurity:
// granting exactly ["*"] without exceptions is not field level security.
func (a *indexAccess) usesDLSFLS() bool {
	if a.query != nil {
		return true
	}
	if a.hasExcept && len(a.except) > 0 {
		return true
	}
	return a.hasGrant && !(len(a.grant) == 1 && a.grant[0] == "*")
}

type ccAccess struct {
	search      []indexAccess
	replication []indexAccess
}

// parseAccess parses the "access" object with the semantics of
// CrossClusterApiKeyRoleDescriptorBuilder.PARSER. Errors are returned the
// way ObjectParser produces them, for the caller to wrap.
func parseAccess(d *doc, v jval) (*ccAccess, *esError) {
	const pn = "cross_cluster_api_key_request_access"
	fs, serr := d.fields(v)
	acc := &ccAccess{}
	for _, f := range fs {
		var target *[]indexAccess
		switch f.key {
		case "search":
			target = &acc.search
		case "replication":
			target = &acc.replication
		default:
			return nil, xcontentErr(d.loc(f.keyOff), fmt.Sprintf("[%s] unknown field [%s]", pn, f.key), nil)
		}
		tok := f.val.token()
		if tok != "START_ARRAY" && tok != "START_OBJECT" {
			return nil, xcontentErr(d.loc(f.val.off), fmt.Sprintf("[%s] %s doesn't support values of type: %s", pn, f.key, tok), nil)
		}
		items := []jval{f.val}
		if tok == "START_ARRAY" {
			var err *esError
			if items, err = d.elems(f.val); err != nil {
				return nil, err
			}
		}
		for _, it := range items {
			ia, err := parseIndexEntry(d, it, f.key)
			if err != nil {
				return nil, xcontentErr(d.loc(f.val.off), fmt.Sprintf("[%s] failed to parse field [%s]", pn, f.key), err)
			}
			*target = append(*target, *ia)
		}
	}
	if serr != nil {
		return nil, serr
	}
	return acc, nil
}

func rdParseErr(format string, args ...any) *esError {
	return parseExc("failed to parse indices privileges for role [%s]. "+format, append([]any{roleCC}, args...)...)
}

// readStrings reads a string array (XContentUtils.readStringArray).
func readStrings(d *doc, v jval, field string, allowNull bool) ([]string, bool, *esError) {
	if allowNull && v.isNull() {
		return nil, false, nil
	}
	if v.token() != "START_ARRAY" {
		return nil, false, rdParseErr("could not parse [%s] field. expected a string array but found [%s] value instead", field, v.token())
	}
	items, err := d.elems(v)
	if err != nil {
		return nil, false, err
	}
	out := make([]string, 0, len(items))
	for _, it := range items {
		s, okStr := it.str()
		if !okStr {
			return nil, false, rdParseErr("could not parse [%s] field. expected a string array but found [%s] value instead", field, it.token())
		}
		out = append(out, s)
	}
	return out, true, nil
}

// parseIndexEntry follows RoleDescriptor's index privileges parser with
// predefined privileges: "privileges" must not be given.
func parseIndexEntry(d *doc, v jval, arrayField string) (*indexAccess, *esError) {
	if v.token() != "START_OBJECT" {
		return nil, rdParseErr("expected field [%s] value to be an array of objects, but found an array element of type [%s]", arrayField, v.token())
	}
	fs, serr := d.fields(v)
	ia := &indexAccess{}
	hasNames := false
	for _, f := range fs {
		tok := f.val.token()
		switch f.key {
		case "names":
			switch tok {
			case "VALUE_STRING":
				s, _ := f.val.str()
				ia.names = []string{s}
			case "START_ARRAY":
				names, _, err := readStrings(d, f.val, "names", false)
				if err != nil {
					return nil, err
				}
				if len(names) == 0 {
					return nil, rdParseErr("[names] cannot be an empty array")
				}
				ia.names = names
			default:
				return nil, rdParseErr("expected field [names] value to be a string or an array of strings, but found [%s] instead", tok)
			}
			hasNames = true
		case "allow_restricted_indices":
			if tok != "VALUE_BOOLEAN" {
				return nil, rdParseErr("expected field [allow_restricted_indices] value to be a boolean, but found [%s] instead", tok)
			}
			ia.allowRestricted = string(f.val.raw) == "true"
		case "query":
			switch tok {
			case "START_OBJECT":
				q := compact(f.val.raw)
				ia.query = &q
			case "VALUE_STRING":
				if s, _ := f.val.str(); s != "" {
					ia.query = &s
				}
			case "VALUE_NULL":
			default:
				return nil, rdParseErr("expected field [query] value to be null, a string, an array, or an object, but found [%s] instead", tok)
			}
		case "field_security":
			if err := parseFieldSecurity(d, f.val, ia); err != nil {
				return nil, err
			}
		case "privileges":
			return nil, rdParseErr("field [privileges] must not present")
		case "fields":
			return nil, parseExc(`["fields": [...]] format has changed for field permissions in role [%s], use ["field_security": {"grant":[...],"except":[...]}] instead`, roleCC)
		case "transient_metadata":
			if tok != "START_OBJECT" {
				return nil, parseExc(`failed to parse transient metadata for role [%s]. expected START_OBJECT but got %s in "transient_metadata".`, roleCC, tok)
			}
		default:
			return nil, rdParseErr("unexpected field [%s]", f.key)
		}
	}
	if serr != nil {
		return nil, serr
	}
	if !hasNames {
		return nil, rdParseErr("missing required [names] field")
	}
	if ia.hasExcept && !ia.hasGrant {
		return nil, rdParseErr("field_security requires grant if except is given")
	}
	return ia, nil
}

func parseFieldSecurity(d *doc, v jval, ia *indexAccess) *esError {
	if v.token() != "START_OBJECT" {
		return rdParseErr(`expected START_OBJECT but got %s in "field_security".`, v.token())
	}
	fs, serr := d.fields(v)
	if serr == nil && len(fs) == 0 {
		return rdParseErr(`"field_security" must not be empty.`)
	}
	for _, f := range fs {
		switch f.key {
		case "grant", "except":
			vals, present, err := readStrings(d, f.val, f.key, true)
			if err != nil {
				return err
			}
			if !present {
				return rdParseErr("%s must not be null.", f.key)
			}
			if f.key == "grant" {
				ia.grant, ia.hasGrant = vals, true
			} else {
				ia.except, ia.hasExcept = vals, true
			}
		default:
			return rdParseErr(`"field_security" only accepts options grant and except, but got: %s`, f.key)
		}
	}
	return serr
}

// build validates the access the way CrossClusterApiKeyRoleDescriptorBuilder.build does.
func (a *ccAccess) build(v version) *esError {
	if len(a.search) == 0 && len(a.replication) == 0 {
		return illegalArg("must specify non-empty access for either [search] or [replication]")
	}
	if len(a.search) > 0 && len(a.replication) > 0 && v.searchDLSWithReplication() {
		for i := range a.search {
			if a.search[i].usesDLSFLS() {
				return illegalArg("search does not support document or field level security if replication is assigned")
			}
		}
	}
	for i := range a.replication {
		if a.replication[i].usesDLSFLS() {
			return illegalArg("replication does not support document or field level security")
		}
	}
	return nil
}

// writeEntry renders one indices entry; privileges are included for the
// role descriptor and omitted for "access".
func (a *indexAccess) writeEntry(b *bytes.Buffer, privileges []string) {
	b.WriteString(`{"names":`)
	b.Write(mustJSON(nonNil(a.names)))
	if privileges != nil {
		b.WriteString(`,"privileges":`)
		b.Write(mustJSON(privileges))
	}
	if a.hasGrant || a.hasExcept {
		b.WriteString(`,"field_security":{`)
		if a.hasGrant {
			b.WriteString(`"grant":`)
			b.Write(mustJSON(nonNil(a.grant)))
		}
		if a.hasExcept {
			if a.hasGrant {
				b.WriteByte(',')
			}
			b.WriteString(`"except":`)
			b.Write(mustJSON(nonNil(a.except)))
		}
		b.WriteByte('}')
	}
	if a.query != nil {
		b.WriteString(`,"query":`)
		b.Write(mustJSON(*a.query))
	}
	fmt.Fprintf(b, `,"allow_restricted_indices":%t}`, a.allowRestricted)
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// accessJSON renders the "access" object of GET/query responses.
func (a *ccAccess) accessJSON() []byte {
	var b bytes.Buffer
	b.WriteByte('{')
	writeList := func(name string, list []indexAccess) {
		if len(list) == 0 {
			return
		}
		if b.Len() > 1 {
			b.WriteByte(',')
		}
		b.WriteString(`"` + name + `":[`)
		for i := range list {
			if i > 0 {
				b.WriteByte(',')
			}
			list[i].writeEntry(&b, nil)
		}
		b.WriteByte(']')
	}
	writeList("search", a.search)
	writeList("replication", a.replication)
	b.WriteByte('}')
	return b.Bytes()
}

// roleDescriptorJSON renders the generated "cross_cluster" role descriptor
// body with the cluster privileges fixed when the key was written.
func (a *ccAccess) roleDescriptorJSON(cluster []string) []byte {
	var b bytes.Buffer
	b.WriteString(`{"cluster":`)
	b.Write(mustJSON(nonNil(cluster)))
	b.WriteString(`,"indices":[`)
	n := 0
	for i := range a.search {
		if n > 0 {
			b.WriteByte(',')
		}
		a.search[i].writeEntry(&b, ccsIndexPrivileges)
		n++
	}
	for i := range a.replication {
		if n > 0 {
			b.WriteByte(',')
		}
		a.replication[i].writeEntry(&b, ccrIndexPrivileges)
		n++
	}
	b.WriteString(`],"applications":[],"run_as":[],"metadata":{},"transient_metadata":{"enabled":true}}`)
	return b.Bytes()
}
