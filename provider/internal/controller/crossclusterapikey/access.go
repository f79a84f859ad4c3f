package crossclusterapikey

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	commonv1alpha1 "github.com/eslink/eslink/apis/common/v1alpha1"
	esv1alpha1 "github.com/eslink/eslink/apis/elasticsearch/v1alpha1"
	"github.com/eslink/eslink/internal/linkrules"
	"github.com/eslink/eslink/provider/internal/clients/elasticsearch"
)

// desiredAccess converts spec access into the form Elasticsearch returns, so
// that it compares with a GET and round-trips through update as a noop.
func desiredAccess(in *esv1alpha1.CrossClusterAccess) (elasticsearch.Access, error) {
	if in == nil || (len(in.Search) == 0 && len(in.Replication) == 0) {
		return elasticsearch.Access{}, fmt.Errorf("spec.forProvider.access must grant search or replication: set spec.forProvider.access.search or .replication")
	}
	var out elasticsearch.Access
	for i, s := range in.Search {
		if len(s.Names) == 0 {
			return out, fmt.Errorf("spec.forProvider.access.search[%d].names is empty: list at least one index name or pattern", i)
		}
		e := elasticsearch.SearchAccess{
			Names:                  append([]string(nil), s.Names...),
			AllowRestrictedIndices: s.AllowRestrictedIndices != nil && *s.AllowRestrictedIndices,
		}
		if s.Query != nil && len(s.Query.Raw) > 0 {
			q, err := compactQuery(s.Query.Raw)
			if err != nil {
				return out, fmt.Errorf("spec.forProvider.access.search[%d].query %w", i, err)
			}
			e.Query = &q
		}
		if fs := s.FieldSecurity; fs != nil && (len(fs.Grant) > 0 || len(fs.Except) > 0) {
			e.FieldSecurity = &elasticsearch.FieldSecurity{Grant: append([]string(nil), fs.Grant...), Except: append([]string(nil), fs.Except...)}
		}
		out.Search = append(out.Search, e)
	}
	for i, r := range in.Replication {
		if len(r.Names) == 0 {
			return out, fmt.Errorf("spec.forProvider.access.replication[%d].names is empty: list at least one index name or pattern", i)
		}
		out.Replication = append(out.Replication, elasticsearch.ReplicationAccess{
			Names:                  append([]string(nil), r.Names...),
			AllowRestrictedIndices: r.AllowRestrictedIndices != nil && *r.AllowRestrictedIndices,
		})
	}
	return out, nil
}

// compactQuery returns a query object, given as an object or as a JSON
// string holding one, as the compact JSON string Elasticsearch stores.
func compactQuery(raw []byte) (string, error) {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		raw = []byte(s)
	}
	var obj map[string]any
	if err := json.Unmarshal(raw, &obj); err != nil {
		return "", fmt.Errorf("must be a query DSL object or a JSON string holding one: %w", err)
	}
	var buf bytes.Buffer
	if err := json.Compact(&buf, raw); err != nil {
		return "", fmt.Errorf("must be a query DSL object or a JSON string holding one: %w", err)
	}
	return buf.String(), nil
}

// accessEqual compares access as Elasticsearch sees it: queries by their
// JSON meaning, empty lists equal to absent ones.
func accessEqual(a, b elasticsearch.Access) bool {
	return cmp.Equal(a, b, cmpopts.EquateEmpty(), cmp.Comparer(func(x, y *string) bool {
		if x == nil || y == nil {
			return x == y
		}
		return jsonEqual([]byte(*x), []byte(*y))
	}))
}

func jsonEqual(a, b []byte) bool {
	var x, y any
	if json.Unmarshal(a, &x) != nil || json.Unmarshal(b, &y) != nil {
		return bytes.Equal(a, b)
	}
	return reflect.DeepEqual(x, y)
}

// accessHash identifies the requested access in the key's metadata.
func accessHash(a elasticsearch.Access) (string, error) {
	b, err := json.Marshal(a)
	if err != nil {
		return "", fmt.Errorf("cannot encode the requested access: %w", err)
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:8]), nil
}

// observedAccess is the access Elasticsearch reports, in the API's types.
func observedAccess(a *elasticsearch.Access) *esv1alpha1.CrossClusterAccess {
	if a == nil {
		return nil
	}
	out := &esv1alpha1.CrossClusterAccess{}
	for _, s := range a.Search {
		e := commonv1alpha1.SearchAccess{Names: s.Names, AllowRestrictedIndices: ptr(s.AllowRestrictedIndices)}
		// Elasticsearch reports the query as a JSON string; the API holds it
		// as the object it encodes.
		if s.Query != nil && json.Valid([]byte(*s.Query)) && strings.HasPrefix(strings.TrimSpace(*s.Query), "{") {
			e.Query = &apiextensionsv1.JSON{Raw: []byte(*s.Query)}
		}
		if s.FieldSecurity != nil {
			e.FieldSecurity = &commonv1alpha1.FieldSecurity{Grant: s.FieldSecurity.Grant, Except: s.FieldSecurity.Except}
		}
		out.Search = append(out.Search, e)
	}
	for _, r := range a.Replication {
		out.Replication = append(out.Replication, commonv1alpha1.ReplicationAccess{Names: r.Names, AllowRestrictedIndices: ptr(r.AllowRestrictedIndices)})
	}
	return out
}

// linkAccess maps key access onto the per-entry checks of the authorization
// annotations: every entry's kind, index names and restricted indices.
func linkAccess(in *esv1alpha1.CrossClusterAccess) []linkrules.AccessEntry {
	if in == nil {
		return nil
	}
	out := make([]linkrules.AccessEntry, 0, len(in.Search)+len(in.Replication))
	for i, s := range in.Search {
		out = append(out, linkrules.AccessEntry{
			Field: fmt.Sprintf("spec.forProvider.access.search[%d]", i), Kind: linkrules.AccessSearch, Names: s.Names,
			AllowRestrictedIndices: s.AllowRestrictedIndices != nil && *s.AllowRestrictedIndices,
		})
	}
	for i, r := range in.Replication {
		out = append(out, linkrules.AccessEntry{
			Field: fmt.Sprintf("spec.forProvider.access.replication[%d]", i), Kind: linkrules.AccessReplication, Names: r.Names,
			AllowRestrictedIndices: r.AllowRestrictedIndices != nil && *r.AllowRestrictedIndices,
		})
	}
	return out
}

// Metadata key prefixes the user may not set: the provider's own tags, and
// ECK's, which ECK acts on (it invalidates keys whose ECK metadata names a
// cluster it does not know) and which observing resources trust.
var reservedMetadataPrefixes = []string{"eslink.io/", "elasticsearch.k8s.elastic.co/"}

const metadataUID = esv1alpha1.MetadataUID

// desiredMetadata is the user's metadata under the provider's own tags:
// who owns the key, a hash of its access, the expiration it was set from
// and, during a handover, the key it replaces.
func desiredMetadata(cr *esv1alpha1.CrossClusterAPIKey, access elasticsearch.Access, replaces string) (map[string]json.RawMessage, error) {
	if err := checkMetadataSize(cr.Spec.ForProvider.Metadata); err != nil {
		return nil, err
	}
	out := make(map[string]json.RawMessage, len(cr.Spec.ForProvider.Metadata)+7)
	for k, v := range cr.Spec.ForProvider.Metadata {
		if len(k) > 0 && k[0] == '_' {
			return nil, fmt.Errorf("spec.forProvider.metadata key %q begins with an underscore, which Elasticsearch rejects: rename it", k)
		}
		for _, p := range reservedMetadataPrefixes {
			if strings.HasPrefix(k, p) {
				return nil, fmt.Errorf("spec.forProvider.metadata key %q is reserved (keys beginning with %s belong to the provider or to ECK): remove it", k, p)
			}
		}
		if !json.Valid(v.Raw) {
			return nil, fmt.Errorf("spec.forProvider.metadata[%q] is not valid JSON", k)
		}
		out[k] = append(json.RawMessage(nil), v.Raw...)
	}
	hash, err := accessHash(access)
	if err != nil {
		return nil, err
	}
	tags := map[string]string{
		esv1alpha1.MetadataManagedBy:  esv1alpha1.ManagedByValue,
		esv1alpha1.MetadataNamespace:  cr.GetNamespace(),
		esv1alpha1.MetadataName:       cr.GetName(),
		esv1alpha1.MetadataUID:        string(cr.GetUID()),
		esv1alpha1.MetadataAccessHash: hash,
	}
	if e := desiredExpiration(cr); e != "" {
		tags[esv1alpha1.MetadataExpiration] = e
	}
	if replaces != "" {
		tags[esv1alpha1.MetadataReplaces] = replaces
	}

	for k, v := range tags {
		b, err := json.Marshal(v)
		if err != nil {
			return nil, fmt.Errorf("cannot encode metadata key %q: %w", k, err)
		}
		out[k] = b
	}
	return out, nil
}

// Bounds of a key's user metadata. Every key eslink makes is read back
// with the others on its remote in one shared listing, which Elasticsearch
// answers in pages and the client reads up to 16 MiB each: a few keys with
// megabytes of metadata would push a page over and stop every key on that
// remote from being checked and rotated. The CRD bounds the number of
// entries; the size of a JSON value it cannot, hence this check.
const (
	maxMetadataEntries = 32
	maxMetadataBytes   = 4 << 10
)

// checkMetadataSize refuses user metadata beyond the bounds, naming the
// field: a resource may have been written against an older CRD.
func checkMetadataSize(md map[string]apiextensionsv1.JSON) error {
	if len(md) > maxMetadataEntries {
		return fmt.Errorf("spec.forProvider.metadata has %d entries, more than the %d a key may carry: keep it to labels that identify the key", len(md), maxMetadataEntries)
	}
	size := 0
	for k, v := range md {
		size += len(k) + len(v.Raw)
	}
	if size > maxMetadataBytes {
		return fmt.Errorf("spec.forProvider.metadata is %d bytes, more than the %d bytes a key may carry (keys and JSON values together): every key on the remote is read in one shared listing, so keep metadata to labels that identify the key", size, maxMetadataBytes)
	}
	return nil
}

// withForced records in md the spec.forProvider.forceReplaceBefore a key
// was made with: a new key takes the spec's value, an existing key keeps
// its own, so that an update never marks a key as made after a forced
// replacement it did not get.
func withForced(md map[string]json.RawMessage, value string) map[string]json.RawMessage {
	if value != "" {
		b, _ := json.Marshal(value) //nolint:errchkjson // A string always encodes.
		md[esv1alpha1.MetadataForceReplaceBefore] = b
	}
	return md
}

// metadataEqual compares metadata by JSON meaning.
func metadataEqual(want, got map[string]json.RawMessage) bool {
	if len(want) != len(got) {
		return false
	}
	for k, w := range want {
		g, ok := got[k]
		if !ok || !jsonEqual(w, g) {
			return false
		}
	}
	return true
}

func ptr[T any](v T) *T { return &v }
