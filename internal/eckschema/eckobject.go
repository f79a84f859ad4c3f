package eckschema

import (
	"fmt"
	"strconv"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// ElasticsearchGVK of ECK's Elasticsearch.
var ElasticsearchGVK = schema.GroupVersionKind{Group: "elasticsearch.k8s.elastic.co", Version: "v1", Kind: "Elasticsearch"}

// MinAPIKeyVersion is the minimum Elasticsearch version ECK's webhook accepts
// for remoteClusterServer and remoteClusters[].apiKey (ECK's
// RemoteClusterAPIKeysMinVersion). Elastic's documentation says 8.14; ECK and
// Elasticsearch enforce 8.10, so eslink enforces 8.10 and warns below 8.14.
var MinAPIKeyVersion = Version{Major: 8, Minor: 10}

// DocumentedAPIKeyVersion is the minimum the Elastic documentation states for
// API-key remote clusters on ECK.
var DocumentedAPIKeyVersion = Version{Major: 8, Minor: 14}

// CertificateIdentityVersion is the first version with certificate_identity.
var CertificateIdentityVersion = Version{Major: 9, Minor: 3}

// CertificateModelDeprecatedVersion is the version that deprecated the
// certificate security model.
var CertificateModelDeprecatedVersion = Version{Major: 9}

// UpdateExpirationVersion is the first version whose cross-cluster API key
// update accepts expiration (8.13). Before it a changed expiration can only
// be applied by replacing the key.
var UpdateExpirationVersion = Version{Major: 8, Minor: 13}

// NewElasticsearch returns an empty Elasticsearch object with its GVK set.
func NewElasticsearch() *unstructured.Unstructured {
	u := &unstructured.Unstructured{}
	u.SetGroupVersionKind(ElasticsearchGVK)
	return u
}

// Version is an Elasticsearch version.
type Version struct {
	Major, Minor, Patch int
}

func (v Version) String() string { return fmt.Sprintf("%d.%d.%d", v.Major, v.Minor, v.Patch) }

// Less reports whether v is older than o.
func (v Version) Less(o Version) bool {
	if v.Major != o.Major {
		return v.Major < o.Major
	}
	if v.Minor != o.Minor {
		return v.Minor < o.Minor
	}
	return v.Patch < o.Patch
}

// ParseVersion parses X.Y.Z with an optional -prerelease suffix.
func ParseVersion(s string) (Version, error) {
	core, _, _ := strings.Cut(s, "-")
	parts := strings.Split(core, ".")
	if len(parts) != 3 {
		return Version{}, fmt.Errorf("version %q is not of the form X.Y.Z", s)
	}
	var v Version
	for i, p := range parts {
		n, err := strconv.Atoi(p)
		if err != nil || n < 0 {
			return Version{}, fmt.Errorf("version %q is not of the form X.Y.Z", s)
		}
		switch i {
		case 0:
			v.Major = n
		case 1:
			v.Minor = n
		default:
			v.Patch = n
		}
	}
	return v, nil
}

// RunningVersion is the version the cluster runs: status.version as ECK
// writes it, else spec.version while ECK has not reported one. The lower of
// the two counts during an upgrade, as ECK's webhook checks spec.version.
func RunningVersion(es *unstructured.Unstructured) (Version, error) {
	spec, _, _ := unstructured.NestedString(es.Object, "spec", "version")
	status, _, _ := unstructured.NestedString(es.Object, "status", "version")
	if spec == "" && status == "" {
		return Version{}, fmt.Errorf("cannot determine the version of Elasticsearch %s/%s: it has no spec.version", es.GetNamespace(), es.GetName())
	}
	var out *Version
	for _, s := range []string{spec, status} {
		if s == "" {
			continue
		}
		v, err := ParseVersion(s)
		if err != nil {
			return Version{}, fmt.Errorf("cannot determine the version of Elasticsearch %s/%s: %w", es.GetNamespace(), es.GetName(), err)
		}
		if out == nil || v.Less(*out) {
			out = &v
		}
	}
	return *out, nil
}

// RemoteClusterServerEnabled reports spec.remoteClusterServer.enabled.
func RemoteClusterServerEnabled(es *unstructured.Unstructured) bool {
	b, _, _ := unstructured.NestedBool(es.Object, "spec", "remoteClusterServer", "enabled")
	return b
}

// RemoteClusters returns spec.remoteClusters as raw entries, keeping fields
// eslink does not model.
func RemoteClusters(es *unstructured.Unstructured) ([]map[string]any, error) {
	raw, found, err := unstructured.NestedSlice(es.Object, "spec", "remoteClusters")
	if err != nil {
		return nil, fmt.Errorf("cannot read spec.remoteClusters of Elasticsearch %s/%s: %w", es.GetNamespace(), es.GetName(), err)
	}
	if !found {
		return nil, nil
	}
	out := make([]map[string]any, 0, len(raw))
	for i, r := range raw {
		m, ok := r.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("spec.remoteClusters[%d] of Elasticsearch %s/%s is not an object", i, es.GetNamespace(), es.GetName())
		}
		out = append(out, m)
	}
	return out, nil
}

// EntryName is the name (alias) of a raw remoteClusters entry.
func EntryName(entry map[string]any) string {
	s, _ := entry["name"].(string)
	return s
}

// SetRemoteClusters replaces spec.remoteClusters, removing the field when
// no entry is left so an object with no links looks as it did before eslink.
func SetRemoteClusters(es *unstructured.Unstructured, entries []map[string]any) error {
	if len(entries) == 0 {
		unstructured.RemoveNestedField(es.Object, "spec", "remoteClusters")
		return nil
	}
	raw := make([]any, len(entries))
	for i := range entries {
		raw[i] = entries[i]
	}
	if err := unstructured.SetNestedSlice(es.Object, raw, "spec", "remoteClusters"); err != nil {
		return fmt.Errorf("cannot set spec.remoteClusters of Elasticsearch %s/%s: %w", es.GetNamespace(), es.GetName(), err)
	}
	return nil
}
