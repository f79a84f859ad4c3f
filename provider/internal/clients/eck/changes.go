package eck

import (
	"reflect"
	"slices"
	"sort"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/eslink/eslink/internal/linkrules"
)

// Parts of an Elasticsearch object that one managed resource owns. A change
// to a part concerns its owner only, so that the provider writing one
// resource's entry does not wake the hundreds of others on the same object.

// RemoteClusterPart is the spec.remoteClusters entry named alias, with its
// record in the owners annotation.
func RemoteClusterPart(alias string) string { return "remote-cluster/" + alias }

// ServerClaimPart is the remote cluster server claim of the resource with
// uid.
func ServerClaimPart(uid string) string { return "server-claim/" + uid }

// Changes compares two versions of one Elasticsearch object. shared reports
// a change that every resource reading the object depends on: an eslink.io
// annotation that grants access, the version, the remote cluster server
// settings, or bookkeeping that cannot be parsed (every owner then reports
// it). parts lists the owned parts that changed, sorted.
func Changes(old, cur *unstructured.Unstructured) (shared bool, parts []string) {
	if sharedChanged(old, cur) {
		return true, nil
	}
	entries, err := RemoteClusters.changedKeys(old, cur)
	if err != nil {
		return true, nil
	}
	// An entry refuses an alias whose connection settings flow 3 owns.
	oldSettings, err := SettingsOwners.Owners(old)
	if err != nil {
		return true, nil
	}
	curSettings, err := SettingsOwners.Owners(cur)
	if err != nil {
		return true, nil
	}
	entries = append(entries, changedValues(oldSettings, curSettings)...)
	// An entry refuses an alias another link owns.
	oldAliases, err := AliasOwners.Owners(old)
	if err != nil {
		return true, nil
	}
	curAliases, err := AliasOwners.Owners(cur)
	if err != nil {
		return true, nil
	}
	entries = append(entries, changedValues(oldAliases, curAliases)...)
	for _, alias := range entries {
		parts = append(parts, RemoteClusterPart(alias))
	}
	oldClaims, err := ServerClaims(old)
	if err != nil {
		return true, nil
	}
	curClaims, err := ServerClaims(cur)
	if err != nil {
		return true, nil
	}
	for _, uid := range changedValues(oldClaims, curClaims) {
		parts = append(parts, ServerClaimPart(uid))
	}
	sort.Strings(parts)
	return false, slices.Compact(parts)
}

// bookkeeping are the annotations whose changes are owned parts, not
// shared. The secure settings and signing records concern only their
// owners, which poll the object rather than watch it.
var bookkeeping = map[string]bool{
	linkrules.AnnotationRemoteClusterOwners:         true,
	linkrules.AnnotationRemoteClusterServerClaims:   true,
	linkrules.AnnotationRemoteClusterSettingsOwners: true,
	linkrules.AnnotationSecureSettingsOwners:        true,
	linkrules.AnnotationRemoteClusterSigningOwners:  true,
	linkrules.AnnotationAliasOwners:                 true,
}

func sharedChanged(old, cur *unstructured.Unstructured) bool {
	grants := func(u *unstructured.Unstructured) map[string]string {
		out := map[string]string{}
		for k, v := range u.GetAnnotations() {
			if strings.HasPrefix(k, "eslink.io/") && !bookkeeping[k] {
				out[k] = v
			}
		}
		return out
	}
	if !reflect.DeepEqual(grants(old), grants(cur)) {
		return true
	}
	for _, path := range [][]string{{"spec", "version"}, {"status", "version"}, {"spec", "remoteClusterServer"}} {
		a, _, _ := unstructured.NestedFieldNoCopy(old.Object, path...)
		b, _, _ := unstructured.NestedFieldNoCopy(cur.Object, path...)
		if !reflect.DeepEqual(a, b) {
			return true
		}
	}
	return false
}

// changedKeys returns the keys whose entry or owner differs between old and
// cur, sorted.
func (l OwnedList) changedKeys(old, cur *unstructured.Unstructured) ([]string, error) {
	entries := func(u *unstructured.Unstructured) (map[string]any, error) {
		list, err := l.entries(u)
		if err != nil {
			return nil, err
		}
		out := make(map[string]any, len(list))
		for _, e := range list {
			k := l.key(e)
			if prev, dup := out[k]; dup {
				// Duplicates are a conflict every owner of the key reports.
				out[k] = []any{prev, e}
				continue
			}
			out[k] = e
		}
		return out, nil
	}
	oldEntries, err := entries(old)
	if err != nil {
		return nil, err
	}
	curEntries, err := entries(cur)
	if err != nil {
		return nil, err
	}
	oldOwners, err := l.owners(old)
	if err != nil {
		return nil, err
	}
	curOwners, err := l.owners(cur)
	if err != nil {
		return nil, err
	}
	changed := map[string]bool{}
	for _, k := range changedValues(oldEntries, curEntries) {
		changed[k] = true
	}
	for _, k := range changedValues(oldOwners, curOwners) {
		changed[k] = true
	}
	out := make([]string, 0, len(changed))
	for k := range changed {
		out = append(out, k)
	}
	sort.Strings(out)
	return out, nil
}

// changedValues returns the keys present in only one of a and b, or with
// different values.
func changedValues[V any](a, b map[string]V) []string {
	var out []string
	for k, va := range a {
		if vb, ok := b[k]; !ok || !reflect.DeepEqual(va, vb) {
			out = append(out, k)
		}
	}
	for k := range b {
		if _, ok := a[k]; !ok {
			out = append(out, k)
		}
	}
	return out
}
