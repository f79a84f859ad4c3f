package grants

import (
	"math/rand/v2"
	"regexp"
	"strings"
	"testing"
)

func TestPatternWithin(t *testing.T) {
	cases := []struct {
		name, grant string
		want        bool
	}{
		{"logs-*", "logs-*", true},
		{"logs-app-*", "logs-*", true},
		{"logs-2026", "logs-*", true},
		{"logs", "logs", true},
		{"*", "logs-*", false},
		{"log*", "logs-*", false},
		{"logs-*", "logs", false},
		{"anything", "*", true},
		{"*", "*", true},
		{"axxbyyc", "a*b*c", true},
		{"axxbyy", "a*b*c", false},
		{"abc", "a*bc", true},
		{"abc", "ab*bc", false},
		// The regex attack: read as a wildcard pattern it does lie within
		// *logs*, while Elasticsearch reads it as a regular expression that
		// matches every index. That is why Authorize classifies names
		// before it compares them (see TestAuthorizeNames).
		{"/.*logs.*|.*/", "*logs*", true},
		// ? is one character: within * and ?-patterns of the same
		// length, never within a literal, and * is not within ?.
		{"logs-?", "logs-*", true},
		{"logs-?", "logs-?", true},
		{"logs-*", "logs-?", false},
		{"logs-?", "logs-x", false},
		{"logs-??", "logs-?", false},
		{"logs-?", "logs-??", false},
		// The order of wildcards in a run does not matter.
		{"a?*", "a*?", true},
		{"a*?", "a?*", true},
		{"a*", "a?*", false},
		{"a??*", "a?*?", true},
		// Escapes: \* is a literal star, which a grant's * matches but a
		// literal grant only matches as the same literal.
		{`logs\*`, "logs*", true},
		{`logs*`, `logs\*`, false},
		{`logs\*`, `logs\*`, true},
		{`logs\?`, "logs-?", false},
		{`a\\b`, `a\\b`, true},
		{`a\\b`, `a*b`, true},
		{`a\b`, "ab", true},
		// A trailing backslash is itself literal.
		{`logs\`, `logs\`, true},
		{`logs\`, `logs\\`, true},
		{`logs\`, `logs`, false},
		// Empty: only the empty grant or * contain it.
		{"", "", true},
		{"", "*", true},
		{"", "logs-*", false},
		{"x", "", false},
		{strings.Repeat("a", maxPatternRunes+1), "*", false},
	}
	for _, tc := range cases {
		if got := PatternWithin(tc.name, tc.grant); got != tc.want {
			t.Errorf("PatternWithin(%q, %q) = %v, want %v", tc.name, tc.grant, got, tc.want)
		}
	}
}

// wildcardRegexp is Elasticsearch's reading of a wildcard pattern, as a Go
// regular expression: the reference PatternWithin is checked against.
func wildcardRegexp(p string) *regexp.Regexp {
	var b strings.Builder
	b.WriteString(`^(?s:`)
	rs := []rune(p)
	for i := 0; i < len(rs); i++ {
		switch rs[i] {
		case '*':
			b.WriteString(`.*`)
		case '?':
			b.WriteString(`.`)
		case '\\':
			if i+1 < len(rs) {
				i++
			}
			b.WriteString(regexp.QuoteMeta(string(rs[i])))
		default:
			b.WriteString(regexp.QuoteMeta(string(rs[i])))
		}
	}
	b.WriteString(`)$`)
	return regexp.MustCompile(b.String())
}

// TestPatternWithinSound checks random pattern pairs against every string
// up to a length over an alphabet that includes the wildcard and escape
// characters themselves: whenever PatternWithin says yes, no string matched
// by the name may escape the grant.
func TestPatternWithinSound(t *testing.T) {
	const alphabet = `ab*?\`
	gen := rand.New(rand.NewPCG(1, 2))
	randomPattern := func() string {
		n := gen.IntN(5)
		b := make([]byte, n)
		for i := range b {
			b[i] = alphabet[gen.IntN(len(alphabet))]
		}
		return string(b)
	}
	var words []string
	var extend func(prefix string, depth int)
	extend = func(prefix string, depth int) {
		words = append(words, prefix)
		if depth == 0 {
			return
		}
		for _, c := range "ab*?\\c" {
			extend(prefix+string(c), depth-1)
		}
	}
	extend("", 5)

	proven := 0
	for range 3000 {
		name, grant := randomPattern(), randomPattern()
		if !PatternWithin(name, grant) {
			continue
		}
		proven++
		nr, gr := wildcardRegexp(name), wildcardRegexp(grant)
		for _, w := range words {
			if nr.MatchString(w) && !gr.MatchString(w) {
				t.Fatalf("PatternWithin(%q, %q) = true, but %q matches the name and not the grant", name, grant, w)
			}
		}
	}
	if proven < 100 {
		t.Fatalf("only %d random pairs were proven within; the generator no longer exercises the check", proven)
	}
}

func TestClassifyName(t *testing.T) {
	cases := map[string]nameKind{
		"logs-*":          nameWildcard,
		"/.*logs.*|.*/":   nameRegex,
		"//":              nameRegex,
		"/":               nameInvalid,
		"/logs-*":         nameInvalid,
		"":                nameInvalid,
		"logs-\U0001F600": nameInvalid,
		"logs-é":          nameWildcard,
		"\xff":            nameInvalid,
		"logs/":           nameWildcard,
	}
	for name, want := range cases {
		if got, _ := classifyName(name); got != want {
			t.Errorf("classifyName(%q) = %v, want %v", name, got, want)
		}
	}
}
