package grants

import (
	"strings"
	"unicode/utf8"
)

// Index names in a role descriptor, and so in a cross-cluster API key's
// access, are read by Elasticsearch's Automatons (x-pack core
// security/support/Automatons.java):
//   - a name that starts with / is a Lucene regular expression and must also
//     end with /; "/" alone is rejected;
//   - any other name is a wildcard pattern: * matches any string, ? any one
//     character, and \ makes the next character literal (a trailing \ is
//     itself literal).
//
// eslink decides whether a requested name lies within a granted pattern as
// sets of index names. Regular expressions are never compared: they are
// allowed only verbatim, by an explicit grant.

// maxPatternRunes bounds the names compared, so that the quadratic subset
// check stays cheap whatever a tenant writes. Elasticsearch index names are
// at most 255 bytes; patterns longer than this are refused.
const maxPatternRunes = 1024

type tokenKind uint8

const (
	tokenLiteral   tokenKind = iota
	tokenAnyChar             // ?
	tokenAnyString           // *
)

type token struct {
	kind tokenKind
	r    rune
}

// wildcardTokens reads a wildcard pattern as Automatons.wildcard does, then
// puts every run of * and ? into the form ?…?* (the same set of strings:
// "*?" and "?*" both mean "at least one character"), so that the subset
// check is not defeated by the order of wildcards.
func wildcardTokens(p string) []token {
	var raw []token
	for i := 0; i < len(p); {
		r, n := utf8.DecodeRuneInString(p[i:])
		i += n
		switch r {
		case '*':
			raw = append(raw, token{kind: tokenAnyString})
		case '?':
			raw = append(raw, token{kind: tokenAnyChar})
		case '\\':
			if i < len(p) {
				r, n = utf8.DecodeRuneInString(p[i:])
				i += n
			}
			raw = append(raw, token{kind: tokenLiteral, r: r})
		default:
			raw = append(raw, token{kind: tokenLiteral, r: r})
		}
	}
	out := make([]token, 0, len(raw))
	for i := 0; i < len(raw); {
		if raw[i].kind == tokenLiteral {
			out = append(out, raw[i])
			i++
			continue
		}
		star := false
		for ; i < len(raw) && raw[i].kind != tokenLiteral; i++ {
			if raw[i].kind == tokenAnyString {
				star = true
			} else {
				out = append(out, raw[i])
			}
		}
		if star {
			out = append(out, token{kind: tokenAnyString})
		}
	}
	return out
}

// PatternWithin reports whether every index name that the wildcard pattern
// name matches is also matched by the wildcard pattern grant, as
// Elasticsearch reads both. It is sound: true only when that is proven. It
// may answer false for a few equivalent forms it does not recognise, which
// then ask for a grant a person can read. Regular expressions (/…/) are not
// wildcard patterns: callers reject or allow them before calling this.
//
// The proof is a match of name against grant in which each ? of name is one
// character that only a ? or * of grant may take, and each * of name is a
// string that only a * of grant may take: whatever the wildcards of name
// stand for, the same tokens of grant then match it.
func PatternWithin(name, grant string) bool {
	if utf8.RuneCountInString(name) > maxPatternRunes || utf8.RuneCountInString(grant) > maxPatternRunes {
		return false
	}
	if grant == "*" {
		return true
	}
	p, g := wildcardTokens(name), wildcardTokens(grant)
	// within[i][j]: p[i:] lies within g[j:]. Filled from the end.
	within := make([][]bool, len(p)+1)
	for i := range within {
		within[i] = make([]bool, len(g)+1)
	}
	within[len(p)][len(g)] = true
	for i := len(p); i >= 0; i-- {
		for j := len(g) - 1; j >= 0; j-- {
			switch g[j].kind {
			case tokenAnyString:
				// The grant's * takes nothing, or takes p[i] and stays.
				within[i][j] = within[i][j+1] || (i < len(p) && within[i+1][j])
			case tokenAnyChar:
				within[i][j] = i < len(p) && p[i].kind != tokenAnyString && within[i+1][j+1]
			default:
				within[i][j] = i < len(p) && p[i].kind == tokenLiteral && p[i].r == g[j].r && within[i+1][j+1]
			}
		}
	}
	return within[0][0]
}

// nameKind is how Elasticsearch reads a requested index name.
type nameKind int

const (
	nameWildcard nameKind = iota
	nameRegex
	nameInvalid
)

// classifyName says how Elasticsearch reads name, and for an invalid one why
// it is refused.
func classifyName(name string) (nameKind, string) {
	switch {
	case name == "":
		return nameInvalid, "is empty"
	case strings.HasPrefix(name, "/"):
		if len(name) > 1 && strings.HasSuffix(name, "/") {
			return nameRegex, ""
		}
		return nameInvalid, "starts with / but is not a /regular expression/, which Elasticsearch rejects"
	case utf8.RuneCountInString(name) > maxPatternRunes:
		return nameInvalid, "is longer than 1024 characters"
	case !utf8.ValidString(name):
		return nameInvalid, "is not valid UTF-8"
	}
	for _, r := range name {
		// Elasticsearch reads patterns as UTF-16 code units: a character
		// outside the Basic Multilingual Plane becomes two, which the
		// comparison here would not model.
		if r > 0xFFFF {
			return nameInvalid, "holds a character outside the Basic Multilingual Plane, which index patterns cannot match"
		}
	}
	return nameWildcard, ""
}

// usesAnyChar reports whether a wildcard pattern holds an unescaped ?.
func usesAnyChar(name string) bool {
	for _, t := range wildcardTokens(name) {
		if t.kind == tokenAnyChar {
			return true
		}
	}
	return false
}
