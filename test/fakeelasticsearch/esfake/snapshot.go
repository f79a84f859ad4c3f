package esfake

import (
	"encoding/json"
	"time"
)

// KeySnapshot is a stored API key as seen by test assertions.
type KeySnapshot struct {
	ID, Name, Type string
	Owner, Realm   string
	Creation       time.Time
	Expiration     *time.Time
	Invalidated    bool
	Invalidation   *time.Time
	// Access is the "access" JSON exactly as GET renders it (cross-cluster keys).
	Access json.RawMessage
	// RoleDescriptors is the "role_descriptors" JSON as GET renders it.
	RoleDescriptors json.RawMessage
	// Metadata is nil when the key was stored without metadata.
	Metadata            json.RawMessage
	CertificateIdentity *string
}

// Keys returns snapshots of all stored keys in creation order.
func (s *Server) Keys() []KeySnapshot {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]KeySnapshot, 0, len(s.st.keyOrder))
	for _, id := range s.st.keyOrder {
		k := s.st.keys[id]
		ks := KeySnapshot{
			ID: k.id, Name: k.name, Type: k.typ, Owner: k.username, Realm: k.realm,
			Creation: k.creation, Expiration: k.expiration, Invalidated: k.invalidated, Invalidation: k.invalidation,
			RoleDescriptors: append(json.RawMessage(nil), k.roleDescriptorJSON()...),
			Metadata:        append(json.RawMessage(nil), k.metadata...),
		}
		if k.metadata == nil {
			ks.Metadata = nil
		}
		if k.access != nil {
			ks.Access = k.access.accessJSON()
		}
		if k.certIdentity != nil {
			ci := *k.certIdentity
			ks.CertificateIdentity = &ci
		}
		out = append(out, ks)
	}
	return out
}
