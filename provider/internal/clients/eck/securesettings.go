package eck

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"

	"github.com/eslink/eslink/internal/linkrules"
)

// SecureSettings is spec.secureSettings of an ECK Elasticsearch object, keyed
// by secretName, with ownership in AnnotationSecureSettingsOwners. ECK's CRD
// declares the list atomic, as it does spec.remoteClusters.
var SecureSettings = OwnedList{
	Path:             []string{"spec", "secureSettings"},
	KeyField:         "secretName",
	OwnersAnnotation: linkrules.AnnotationSecureSettingsOwners,
	What:             "secure settings Secret",
}

// CredentialsSetting is the secure setting that holds an alias's
// cross-cluster API key.
func CredentialsSetting(alias string) string { return "cluster.remote." + alias + ".credentials" }

// CredentialsSecretName is the Secret in the local cluster's namespace that
// holds an alias's credentials. It depends on the alias alone, so that two
// resources delivering the same alias meet on the same secureSettings entry
// and the second is refused. The hash keeps aliases that differ only in
// case, in _ and -, or beyond the cut apart, as Secret names cannot hold
// either. It is the whole SHA-256: the alias is a tenant's input, and a
// short hash would let a team search for an alias whose name collides with
// another team's and take its Secret.
func CredentialsSecretName(alias string) string {
	s := strings.ToLower(strings.ReplaceAll(alias, "_", "-"))
	if len(s) > 40 {
		s = s[:40]
	}
	s = strings.Trim(s, "-")
	sum := sha256.Sum256([]byte(alias))
	return "eslink-remote-credentials-" + s + "-" + hex.EncodeToString(sum[:])
}

// RenderSecureSettingsEntry is the spec.secureSettings entry that maps the
// Secret's key keyID to the alias's credentials setting. Keying the Secret
// by key id makes every new key a change of the entry, hence of the
// object's generation, which is how ECK's status can tell when the key was
// rolled out: a change of the Secret's content alone would not show there.
func RenderSecureSettingsEntry(secretName, keyID, alias string) map[string]any {
	return map[string]any{
		"secretName": secretName,
		"entries":    []any{map[string]any{"key": keyID, "path": CredentialsSetting(alias)}},
	}
}

// EntryKeyID is the Secret key a secure settings entry rendered by
// RenderSecureSettingsEntry maps, "" for another shape.
func EntryKeyID(entry map[string]any) string {
	entries, _ := entry["entries"].([]any)
	if len(entries) != 1 {
		return ""
	}
	m, _ := entries[0].(map[string]any)
	k, _ := m["key"].(string)
	return k
}
