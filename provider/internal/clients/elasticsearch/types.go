package elasticsearch

import (
	"encoding/json"
	"time"
)

// Access is a cross-cluster API key's access in the form Elasticsearch
// returns it: queries as compact JSON strings, names as arrays and
// allow_restricted_indices always present.
type Access struct {
	Search      []SearchAccess      `json:"search,omitempty"`
	Replication []ReplicationAccess `json:"replication,omitempty"`
}

// SearchAccess is one search entry.
type SearchAccess struct {
	Names                  []string       `json:"names"`
	FieldSecurity          *FieldSecurity `json:"field_security,omitempty"`
	Query                  *string        `json:"query,omitempty"`
	AllowRestrictedIndices bool           `json:"allow_restricted_indices"`
}

// FieldSecurity is field level security.
type FieldSecurity struct {
	Grant  []string `json:"grant,omitempty"`
	Except []string `json:"except,omitempty"`
}

// ReplicationAccess is one replication entry.
type ReplicationAccess struct {
	Names                  []string `json:"names"`
	AllowRestrictedIndices bool     `json:"allow_restricted_indices"`
}

// APIKey is a key as GET and the query API report it.
type APIKey struct {
	ID                  string                     `json:"id"`
	Name                string                     `json:"name"`
	Type                string                     `json:"type"`
	Creation            int64                      `json:"creation"`
	Expiration          *int64                     `json:"expiration,omitempty"`
	Invalidated         bool                       `json:"invalidated"`
	Invalidation        *int64                     `json:"invalidation,omitempty"`
	Username            string                     `json:"username"`
	Realm               string                     `json:"realm"`
	Metadata            map[string]json.RawMessage `json:"metadata"`
	Access              *Access                    `json:"access,omitempty"`
	CertificateIdentity *string                    `json:"certificate_identity,omitempty"`
}

// Expired reports whether the key's expiration has passed at now.
func (k *APIKey) Expired(now time.Time) bool {
	return k.Expiration != nil && !now.Before(time.UnixMilli(*k.Expiration))
}

// Active reports whether the key can still be used at now.
func (k *APIKey) Active(now time.Time) bool { return !k.Invalidated && !k.Expired(now) }

// MetadataString returns the string value of a top-level metadata key, or
// "" when it is missing or not a string.
func (k *APIKey) MetadataString(key string) string {
	var s string
	if raw, ok := k.Metadata[key]; !ok || json.Unmarshal(raw, &s) != nil {
		return ""
	}
	return s
}

// CreateRequest is the body of POST /_security/cross_cluster/api_key.
type CreateRequest struct {
	Name       string                     `json:"name"`
	Access     Access                     `json:"access"`
	Expiration string                     `json:"expiration,omitempty"`
	Metadata   map[string]json.RawMessage `json:"metadata,omitempty"`
	// CertificateIdentity is only sent when set (Elasticsearch 9.3+).
	CertificateIdentity *string `json:"certificate_identity,omitempty"`
}

// CreatedKey is the create response. APIKey and Encoded are secrets.
type CreatedKey struct {
	ID         string `json:"id"`
	Name       string `json:"name"`
	Expiration *int64 `json:"expiration,omitempty"`
	APIKey     string `json:"api_key"`
	Encoded    string `json:"encoded"`
}

// UpdateRequest is the body of PUT /_security/cross_cluster/api_key/{id}.
// Access is always sent in full, as Elasticsearch replaces it.
type UpdateRequest struct {
	Access   Access
	Metadata map[string]json.RawMessage
	// Expiration, when set, makes the key expire that long from now. Only
	// 8.13+ accepts it; it always makes the update count as a change.
	Expiration string
	// SetCertificateIdentity sends certificate_identity: the value, or null
	// to clear it when CertificateIdentity is nil. Only for 9.3+.
	SetCertificateIdentity bool
	CertificateIdentity    *string
}

func (r UpdateRequest) body() ([]byte, error) {
	m := map[string]any{"access": r.Access}
	if r.Metadata != nil {
		m["metadata"] = r.Metadata
	} else {
		m["metadata"] = map[string]any{}
	}
	if r.SetCertificateIdentity {
		m["certificate_identity"] = r.CertificateIdentity
	}
	if r.Expiration != "" {
		m["expiration"] = r.Expiration
	}
	return json.Marshal(m)
}
