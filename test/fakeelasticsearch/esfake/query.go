package esfake

import (
	"bytes"
	"encoding/json"
	"fmt"
	"path"
	"sort"
	"strconv"
	"strings"
	"time"
)

// keyFilter is a compiled query over API key documents.
type keyFilter func(k *apiKey) bool

func fieldNotAllowed(f string) *esError {
	return illegalArg("Field [%s] is not allowed for querying or aggregation", f)
}

// keyField returns the value of a queryable field as ES's index sees it
// (keywords as strings, dates as epoch millis, booleans).
func keyField(k *apiKey, field string) (any, bool) {
	switch field {
	case "id", "_id":
		return k.id, true
	case "type":
		return k.typ, true
	case "name":
		return k.name, true
	case "invalidated", "api_key_invalidated":
		return k.invalidated, true
	case "username":
		return k.username, true
	case "realm", "realm_name":
		return k.realm, true
	case "creation":
		return k.creation.UnixMilli(), true
	case "expiration":
		if k.expiration == nil {
			return nil, true
		}
		return k.expiration.UnixMilli(), true
	case "invalidation":
		if k.invalidation == nil {
			return nil, true
		}
		return k.invalidation.UnixMilli(), true
	}
	if strings.HasPrefix(field, "metadata.") || strings.HasPrefix(field, "metadata_flattened.") {
		_, sub, _ := strings.Cut(field, ".")
		return metadataValue(k.metadata, sub), true
	}
	return nil, false
}

func allowedField(f string) bool {
	_, ok := keyField(&apiKey{}, f)
	return ok
}

func metadataValue(meta json.RawMessage, dotted string) any {
	if meta == nil {
		return nil
	}
	var cur any
	dec := json.NewDecoder(bytes.NewReader(meta))
	dec.UseNumber()
	if dec.Decode(&cur) != nil {
		return nil
	}
	return flattenedLookup(cur, dotted)
}

// flattenedLookup resolves a dotted path the way Elasticsearch's flattened
// metadata field does: a key that itself contains dots (eslink.io/uid) and a
// nested object path are the same path, so every split is tried.
func flattenedLookup(cur any, dotted string) any {
	m, ok := cur.(map[string]any)
	if !ok {
		return nil
	}
	if v, ok := m[dotted]; ok {
		return v
	}
	for i := 0; i < len(dotted); i++ {
		if dotted[i] != '.' {
			continue
		}
		if next, ok := m[dotted[:i]]; ok {
			if v := flattenedLookup(next, dotted[i+1:]); v != nil {
				return v
			}
		}
	}
	return nil
}

// scalarString renders a document or query value the way a keyword field
// would hold it.
func scalarString(v any) (string, bool) {
	switch x := v.(type) {
	case string:
		return x, true
	case bool:
		return strconv.FormatBool(x), true
	case int64:
		return strconv.FormatInt(x, 10), true
	case json.Number:
		return x.String(), true
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64), true
	}
	return "", false
}

func valuesOf(v any) []string {
	if arr, ok := v.([]any); ok {
		var out []string
		for _, e := range arr {
			if s, ok := scalarString(e); ok {
				out = append(out, s)
			}
		}
		return out
	}
	if s, ok := scalarString(v); ok {
		return []string{s}
	}
	return nil
}

func decodeAny(raw []byte) any {
	var v any
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if dec.Decode(&v) != nil {
		return nil
	}
	return v
}

// singleField reads {"field": value-or-{"value":...}} clauses.
func singleField(kind string, body any) (string, any, *esError) {
	m, ok := body.(map[string]any)
	if !ok || len(m) != 1 {
		return "", nil, parseExc("[%s] query malformed, no start_object after query name", kind)
	}
	for f, v := range m {
		if inner, ok := v.(map[string]any); ok {
			if val, ok := inner["value"]; ok {
				return f, val, nil
			}
			if kind == "terms" {
				return "", nil, parseExc("[terms] query does not support [%s]", f)
			}
			return "", nil, parseExc("[%s] query does not support [%s]", kind, f)
		}
		return f, v, nil
	}
	return "", nil, nil
}

// compileQuery builds a filter from the subset of the query DSL that the
// API key query endpoint supports.
func compileQuery(q any) (keyFilter, *esError) {
	m, ok := q.(map[string]any)
	if !ok || len(m) != 1 {
		return nil, parseExc("query malformed, must start with start_object")
	}
	for kind, body := range m {
		switch kind {
		case "match_all":
			return func(*apiKey) bool { return true }, nil
		case "bool":
			return compileBool(body)
		case "term", "match", "prefix", "wildcard":
			f, val, err := singleField(kind, body)
			if err != nil {
				return nil, err
			}
			if !allowedField(f) {
				return nil, fieldNotAllowed(f)
			}
			want, _ := scalarString(val)
			return func(k *apiKey) bool {
				v, _ := keyField(k, f)
				for _, have := range valuesOf(v) {
					switch kind {
					case "prefix":
						if strings.HasPrefix(have, want) {
							return true
						}
					case "wildcard":
						if okm, _ := path.Match(want, have); okm {
							return true
						}
					default:
						if have == want {
							return true
						}
					}
				}
				return false
			}, nil
		case "terms":
			bm, ok := body.(map[string]any)
			if !ok {
				return nil, parseExc("[terms] query malformed, no start_object after query name")
			}
			var field string
			var list []any
			for f, v := range bm {
				if f == "boost" {
					continue
				}
				arr, ok := v.([]any)
				if !ok {
					return nil, parseExc("[terms] query does not support [%s]", f)
				}
				field, list = f, arr
			}
			if !allowedField(field) {
				return nil, fieldNotAllowed(field)
			}
			want := map[string]bool{}
			for _, e := range list {
				if s, ok := scalarString(e); ok {
					want[s] = true
				}
			}
			return func(k *apiKey) bool {
				v, _ := keyField(k, field)
				for _, have := range valuesOf(v) {
					if want[have] {
						return true
					}
				}
				return false
			}, nil
		case "ids":
			bm, _ := body.(map[string]any)
			want := map[string]bool{}
			for _, s := range valuesOf(bm["values"]) {
				want[s] = true
			}
			return func(k *apiKey) bool { return want[k.id] }, nil
		case "exists":
			bm, _ := body.(map[string]any)
			f, _ := bm["field"].(string)
			if !allowedField(f) {
				return nil, fieldNotAllowed(f)
			}
			return func(k *apiKey) bool { v, _ := keyField(k, f); return len(valuesOf(v)) > 0 }, nil
		case "range":
			return compileRange(body)
		default:
			return nil, illegalArg("Query type [%s] is not supported for API Key query", kind)
		}
	}
	return nil, parseExc("query malformed")
}

func compileBool(body any) (keyFilter, *esError) {
	bm, ok := body.(map[string]any)
	if !ok {
		return nil, parseExc("[bool] query malformed, no start_object after query name")
	}
	clauses := map[string][]keyFilter{}
	minShould := -1
	for occur, v := range bm {
		switch occur {
		case "must", "filter", "should", "must_not":
			items, isArr := v.([]any)
			if !isArr {
				items = []any{v}
			}
			for _, it := range items {
				f, err := compileQuery(it)
				if err != nil {
					return nil, err
				}
				clauses[occur] = append(clauses[occur], f)
			}
		case "minimum_should_match":
			s, _ := scalarString(v)
			n, err := strconv.Atoi(s)
			if err != nil {
				return nil, parseExc("[bool] failed to parse minimum_should_match [%s]", s)
			}
			minShould = n
		case "boost", "_name":
		default:
			return nil, parseExc("[bool] query does not support [%s]", occur)
		}
	}
	if minShould < 0 {
		minShould = 0
		if len(clauses["must"]) == 0 && len(clauses["filter"]) == 0 && len(clauses["should"]) > 0 {
			minShould = 1
		}
	}
	return func(k *apiKey) bool {
		for _, f := range append(clauses["must"], clauses["filter"]...) {
			if !f(k) {
				return false
			}
		}
		for _, f := range clauses["must_not"] {
			if f(k) {
				return false
			}
		}
		n := 0
		for _, f := range clauses["should"] {
			if f(k) {
				n++
			}
		}
		return n >= minShould
	}, nil
}

func compileRange(body any) (keyFilter, *esError) {
	bm, ok := body.(map[string]any)
	if !ok || len(bm) != 1 {
		return nil, parseExc("[range] query malformed, no start_object after query name")
	}
	for f, spec := range bm {
		if !allowedField(f) {
			return nil, fieldNotAllowed(f)
		}
		sm, ok := spec.(map[string]any)
		if !ok {
			return nil, parseExc("[range] query malformed, after field missing start object")
		}
		bounds := map[string]int64{}
		for op, v := range sm {
			switch op {
			case "gt", "gte", "lt", "lte":
				n, err := toMillis(v)
				if err != nil {
					return nil, parseExc("failed to parse date field [%v]", v)
				}
				bounds[op] = n
			case "format", "boost", "time_zone":
			default:
				return nil, parseExc("[range] query does not support [%s]", op)
			}
		}
		return func(k *apiKey) bool {
			v, _ := keyField(k, f)
			n, isNum := v.(int64)
			if !isNum {
				return false
			}
			for op, b := range bounds {
				if op == "gt" && !(n > b) || op == "gte" && !(n >= b) || op == "lt" && !(n < b) || op == "lte" && !(n <= b) {
					return false
				}
			}
			return true
		}, nil
	}
	return nil, parseExc("[range] query malformed")
}

func toMillis(v any) (int64, error) {
	s, _ := scalarString(v)
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		return n, nil
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return 0, fmt.Errorf("parse date %q: %w", s, err)
	}
	return t.UnixMilli(), nil
}

type sortSpec struct {
	field string
	desc  bool
}

func parseSort(v any) ([]sortSpec, *esError) {
	items, isArr := v.([]any)
	if !isArr {
		items = []any{v}
	}
	var out []sortSpec
	for _, it := range items {
		switch x := it.(type) {
		case string:
			out = append(out, sortSpec{field: x})
		case map[string]any:
			for f, o := range x {
				order, _ := o.(string)
				if om, ok := o.(map[string]any); ok {
					order, _ = om["order"].(string)
				}
				if order != "" && order != "asc" && order != "desc" {
					return nil, illegalArg("Unknown SortOrder [%s]", order)
				}
				out = append(out, sortSpec{field: f, desc: order == "desc"})
			}
		default:
			return nil, parseExc("malformed sort format")
		}
	}
	for _, s := range out {
		if !allowedField(s.field) {
			return nil, fieldNotAllowed(s.field)
		}
	}
	return out, nil
}

// compareValues orders sort values; missing values sort last as in ES.
func compareValues(a, b any) int {
	if a == nil || b == nil {
		switch {
		case a == nil && b == nil:
			return 0
		case a == nil:
			return 1
		}
		return -1
	}
	switch x := a.(type) {
	case int64:
		y, _ := b.(int64)
		switch {
		case x < y:
			return -1
		case x > y:
			return 1
		}
		return 0
	case bool:
		y, _ := b.(bool)
		switch {
		case x == y:
			return 0
		case !x:
			return -1
		}
		return 1
	}
	as, _ := scalarString(a)
	bs, _ := scalarString(b)
	return strings.Compare(as, bs)
}

func handleQueryKeys(c *call) (reply, *esError) {
	const pn = "query_api_keys_request_payload"
	withLimitedBy, err := c.boolParam("with_limited_by", false)
	if err != nil {
		return reply{}, err
	}
	if _, err := c.boolParam("with_profile_uid", false); err != nil {
		return reply{}, err
	}
	filter := keyFilter(func(*apiKey) bool { return true })
	from, size := 0, 10
	var sorts []sortSpec
	var searchAfter []any
	if len(c.body) > 0 {
		d := &doc{data: c.body}
		root, rerr := d.root()
		if rerr != nil {
			return reply{}, rerr
		}
		fs, serr, oerr := objectFields(d, root, pn)
		if oerr != nil {
			return reply{}, oerr
		}
		for _, f := range fs {
			v := decodeAny(f.val.raw)
			switch f.key {
			case "query":
				if f.val.token() != "START_OBJECT" {
					return reply{}, unsupportedType(d, pn, f)
				}
				qf, qerr := compileQuery(v)
				if qerr != nil {
					return reply{}, xcontentErr(d.loc(f.val.off), fmt.Sprintf("[%s] failed to parse field [query]", pn), qerr)
				}
				filter = qf
			case "from", "size":
				if f.val.token() != "VALUE_NUMBER" {
					return reply{}, unsupportedType(d, pn, f)
				}
				n, perr := strconv.Atoi(string(f.val.raw))
				if perr != nil {
					return reply{}, xcontentErr(d.loc(f.val.off), fmt.Sprintf("[%s] failed to parse field [%s]", pn, f.key), illegalArg("Value [%s] is out of range for an integer", string(f.val.raw)))
				}
				if f.key == "from" {
					from = n
				} else {
					size = n
				}
			case "sort":
				s, serr2 := parseSort(v)
				if serr2 != nil {
					return reply{}, serr2
				}
				sorts = s
			case "search_after":
				arr, ok := v.([]any)
				if !ok {
					return reply{}, unsupportedType(d, pn, f)
				}
				searchAfter = arr
			default:
				// aggs/aggregations are real ES fields the fake does not
				// implement; say so instead of silently ignoring them.
				if f.key == "aggs" || f.key == "aggregations" {
					return reply{}, newErr(501, "esfake_unsupported", "esfake: aggregations are not implemented")
				}
				return reply{}, unknownField(d, pn, f)
			}
		}
		if serr != nil {
			return reply{}, serr
		}
	}
	if from < 0 {
		return reply{}, validationErr([]string{fmt.Sprintf("[from] parameter cannot be negative but was [%d]", from)})
	}
	if size < 0 {
		return reply{}, validationErr([]string{fmt.Sprintf("[size] parameter cannot be negative but was [%d]", size)})
	}
	if searchAfter != nil && len(sorts) == 0 {
		return reply{}, illegalArg("search_after requires a sort")
	}
	grants := []string{"manage_own_api_key", "read_security", "manage_api_key", "manage_security", "all"}
	if err := c.who.authorize("cluster:admin/xpack/security/api_key/query", grants...); err != nil {
		return reply{}, err
	}
	// manage_own_api_key alone restricts the query to the caller's keys.
	ownOnly := !c.who.has("read_security") && !c.who.has("manage_api_key")
	var hits []*apiKey
	for _, kid := range c.st.keyOrder {
		k := c.st.keys[kid]
		if ownOnly && (k.username != c.who.user.Name || k.realm != c.who.realm) {
			continue
		}
		if filter(k) {
			hits = append(hits, k)
		}
	}
	sortVals := func(k *apiKey) []any {
		out := make([]any, len(sorts))
		for i, s := range sorts {
			out[i], _ = keyField(k, s.field)
		}
		return out
	}
	cmp := func(a, b []any) int {
		for i, s := range sorts {
			if i >= len(a) || i >= len(b) {
				break
			}
			r := compareValues(a[i], b[i])
			if s.desc {
				r = -r
			}
			if r != 0 {
				return r
			}
		}
		return 0
	}
	if len(sorts) > 0 {
		sort.SliceStable(hits, func(i, j int) bool { return cmp(sortVals(hits[i]), sortVals(hits[j])) < 0 })
	}
	total := len(hits)
	if searchAfter != nil {
		after := make([]any, len(searchAfter))
		for i, v := range searchAfter {
			if i < len(sorts) {
				switch sorts[i].field {
				case "creation", "expiration", "invalidation":
					if n, err := toMillis(v); err == nil {
						v = n
					}
				case "invalidated", "api_key_invalidated":
					s, _ := scalarString(v)
					v = s == "true"
				}
			}
			after[i] = v
		}
		var rest []*apiKey
		for _, k := range hits {
			if cmp(sortVals(k), after) > 0 {
				rest = append(rest, k)
			}
		}
		hits = rest
	}
	if from > len(hits) {
		from = len(hits)
	}
	hits = hits[from:]
	if size < len(hits) {
		hits = hits[:size]
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, `{"total":%d,"count":%d,"api_keys":[`, total, len(hits))
	for i, k := range hits {
		if i > 0 {
			b.WriteByte(',')
		}
		o := renderOpts{withLimitedBy: withLimitedBy}
		if len(sorts) > 0 {
			o.sortValues = mustJSON(sortVals(k))
		}
		c.st.writeKey(&b, k, o)
	}
	b.WriteString(`]}`)
	return ok(b.Bytes()), nil
}
