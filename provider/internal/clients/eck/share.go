package eck

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/eslink/eslink/internal/eckschema"
)

// The bounds of one namespace's share of the records eslink keeps in the
// annotations of a shared Elasticsearch object. Kubernetes limits an
// object's annotations to 256 KiB in all: without a bound, one namespace
// creating aliases or claims by the hundred could fill them, and the
// record of every other namespace's next link would be refused. Sixteen
// namespaces at their full share stay under the limit; a namespace's
// hundred links to one cluster, with names of usual length, stay within
// its share.
const (
	MaxNamespaceRecords     = 128
	MaxNamespaceRecordBytes = 16 << 10
)

// aliasRecords are the records keyed by alias whose values (owner uids) do
// not name a namespace: each entry counts for the namespace that owns the
// alias in eckschema.AnnotationAliasOwners.
var aliasRecords = []string{
	eckschema.AnnotationRemoteClusterOwners,
	eckschema.AnnotationRemoteClusterSettingsOwners,
	eckschema.AnnotationRemoteClusterSigningOwners,
}

// A Share is what one namespace keeps in an object's records.
type Share struct{ Entries, Bytes int }

func (s Share) over() bool {
	return s.Entries > MaxNamespaceRecords || s.Bytes > MaxNamespaceRecordBytes
}

// Shares returns each namespace's share of the records on es: the aliases
// its links own and every piece's record of them, its remote cluster
// server claims, and its entry in eckschema.AnnotationKeyNamespaces. A
// record that does not parse counts for no one: the code that reads it
// reports it.
func Shares(es *unstructured.Unstructured) map[string]Share {
	a := es.GetAnnotations()
	out := map[string]Share{}
	bytes := func(ns, key, value string) {
		s := out[ns]
		s.Bytes += len(key) + len(value) + len(`"":"",`)
		out[ns] = s
	}
	add := func(ns, key, value string) {
		s := out[ns]
		s.Entries++
		out[ns] = s
		bytes(ns, key, value)
	}
	owners := record(a[eckschema.AnnotationAliasOwners])
	aliasNS := make(map[string]string, len(owners))
	for alias, owner := range owners {
		ns, _, _ := strings.Cut(owner, "/")
		aliasNS[alias] = ns
		add(ns, alias, owner)
	}
	// A piece's own entry adds bytes to an alias already counted.
	for _, ann := range aliasRecords {
		for alias, uid := range record(a[ann]) {
			if ns, ok := aliasNS[alias]; ok {
				bytes(ns, alias, uid)
			}
		}
	}
	secure := record(a[eckschema.AnnotationSecureSettingsOwners])
	for alias, ns := range aliasNS {
		if uid, ok := secure[CredentialsSecretName(alias)]; ok {
			bytes(ns, CredentialsSecretName(alias), uid)
		}
	}
	for uid, owner := range record(a[eckschema.AnnotationRemoteClusterServerClaims]) {
		ns, _, _ := strings.Cut(owner, "/")
		add(ns, uid, owner)
	}
	for _, ns := range strings.Split(a[eckschema.AnnotationKeyNamespaces], ",") {
		if ns = strings.TrimSpace(ns); ns != "" {
			s := out[ns]
			s.Entries++
			s.Bytes += len(ns) + 1
			out[ns] = s
		}
	}
	return out
}

func record(raw string) map[string]string {
	m := map[string]string{}
	if strings.TrimSpace(raw) != "" {
		_ = json.Unmarshal([]byte(raw), &m)
	}
	return m
}

// CheckShares refuses the change of an object from before to after when
// it grows a namespace's share past the bounds. A share already past them
// (the bounds came later) may shrink, never grow.
func CheckShares(before, after *unstructured.Unstructured) error {
	was, is := Shares(before), Shares(after)
	var over []string
	for ns, s := range is {
		if w := was[ns]; s.over() && (s.Entries > w.Entries || s.Bytes > w.Bytes) {
			over = append(over, ns)
		}
	}
	if len(over) == 0 {
		return nil
	}
	slices.Sort(over)
	return &ShareError{Namespace: over[0], Object: objectName(after), Share: is[over[0]]}
}

// A ShareError says that a change would take a namespace's share of the
// records on an Elasticsearch object past the bounds.
type ShareError struct {
	Namespace, Object string
	Share             Share
}

func (e *ShareError) Error() string {
	return fmt.Sprintf("namespace %s would keep %d entries (%d bytes) in eslink's records on Elasticsearch %s (annotation %s and the records of each alias's pieces, %s, %s), more than the %d entries or %d bytes one namespace may keep on a shared cluster, so that no namespace can fill the object's 256 KiB of annotations for the others: delete links (remote cluster aliases) or remote cluster server claims of namespace %s on this cluster that it no longer needs, or use another cluster",
		e.Namespace, e.Share.Entries, e.Share.Bytes, e.Object, eckschema.AnnotationAliasOwners, eckschema.AnnotationRemoteClusterServerClaims, eckschema.AnnotationKeyNamespaces,
		MaxNamespaceRecords, MaxNamespaceRecordBytes, e.Namespace)
}

// Fits returns the *ShareError the write of fn to obj would meet, nil when
// it fits or fails otherwise (the write reports that). Observe calls it
// for a change still to be written, so that the refusal shows in the
// resource's Ready condition, which a failed Create would reset to
// Creating.
func Fits(obj *unstructured.Unstructured, fn MutateFn) error {
	next := obj.DeepCopy()
	if changed, err := fn(next); err == nil && changed {
		return CheckShares(obj, next)
	}
	return nil
}
