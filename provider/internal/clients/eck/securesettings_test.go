package eck

import (
	"strings"
	"testing"
)

func TestCredentialsSecretName(t *testing.T) {
	long := strings.Repeat("a", 40)
	cases := map[string]struct {
		a, b string
	}{
		"CaseOnly":            {a: "logs", b: "LOGS"},
		"UnderscoreAndDash":   {a: "logs_eu", b: "logs-eu"},
		"DifferBeyondTheCut":  {a: long + "-orders", b: long + "-billing"},
		"DifferInTheLastByte": {a: long + "x", b: long + "y"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			a, b := CredentialsSecretName(tc.a), CredentialsSecretName(tc.b)
			if a == b {
				t.Errorf("aliases %q and %q share the Secret name %s", tc.a, tc.b, a)
			}
			for _, n := range []string{a, b} {
				// The whole SHA-256 (64 hex digits) ends the name, and
				// the name stays a valid Secret name.
				i := strings.LastIndex(n, "-")
				if len(n[i+1:]) != 64 {
					t.Errorf("Secret name %s ends with a %d-digit hash, want the whole SHA-256 (64 hex digits)", n, len(n[i+1:]))
				}
				if len(n) > 253 || n != strings.ToLower(n) {
					t.Errorf("Secret name %s is not a valid Secret name", n)
				}
			}
		})
	}
}
