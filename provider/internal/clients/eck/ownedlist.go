package eck

import (
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"sort"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// An OwnedList is a list in an ECK object whose entries are keyed by a string
// field, plus an annotation on the same object that maps each key eslink wrote
// to the uid of the managed resource that owns it. ECK declares such lists
// (spec.remoteClusters, spec.secureSettings) atomic, so a patch per owner
// would overwrite the others; an OwnedList lets each owner rewrite only its
// own entry inside a read-modify-write of the whole object.
//
// Entries are kept in a stable order: entries eslink does not own keep their
// relative order and come first, then owned entries sorted by key. Only
// writes normalise the order, so an object that already holds the desired
// entry is never rewritten just to reorder it.
type OwnedList struct {
	// Path of the list in the object, e.g. spec, remoteClusters.
	Path []string
	// KeyField names the entry field that identifies it, e.g. name.
	KeyField string
	// OwnersAnnotation holds a JSON object of key to owner uid.
	OwnersAnnotation string
	// What names an entry in messages, e.g. "remote cluster alias".
	What string
}

// Ownership of a key on an object.
type Ownership int

// Ownership states.
const (
	// Absent: no entry has the key and nobody claims it.
	Absent Ownership = iota
	// Owned: the annotation maps the key to this owner. The entry itself may
	// be missing, for example when a person removed it by hand.
	Owned
	// Foreign: the key belongs to someone else, either another owner in the
	// annotation or an entry written by hand.
	Foreign
)

func (o Ownership) String() string {
	switch o {
	case Owned:
		return "Owned"
	case Foreign:
		return "Foreign"
	default:
		return "Absent"
	}
}

// A ConflictError says that a key is taken by an entry this owner does not
// own. It is never resolved by overwriting. Its message never quotes
// another owner's uid: a team learns that the key is taken, not by whom in
// another namespace.
type ConflictError struct {
	What   string
	Key    string
	Object string
	// OtherOwner is the uid of the owning resource, empty for a hand-written
	// entry. It is kept for callers, never shown.
	OtherOwner string
	// Owner describes the owner to the refused resource, when it may know
	// (linkrules.DescribeAliasOwner).
	Owner string
}

func (e *ConflictError) Error() string {
	switch {
	case e.Owner != "":
		return fmt.Sprintf("%s %q already exists on Elasticsearch %s and is owned by another resource (%s): pick another %s, or delete that link's resources",
			e.What, e.Key, e.Object, e.Owner, e.What)
	case e.OtherOwner != "":
		return fmt.Sprintf("%s %q already exists on Elasticsearch %s and is owned by another resource: pick another %s, or delete that resource",
			e.What, e.Key, e.Object, e.What)
	}
	return fmt.Sprintf("%s %q already exists on Elasticsearch %s and is not owned by this resource: pick another %s or remove the hand-written entry",
		e.What, e.Key, e.Object, e.What)
}

// Lookup returns the entry with key, if any, and who owns the key.
func (l OwnedList) Lookup(obj *unstructured.Unstructured, key, uid string) (map[string]any, Ownership, error) {
	entries, err := l.entries(obj)
	if err != nil {
		return nil, Absent, err
	}
	owners, err := l.owners(obj)
	if err != nil {
		return nil, Absent, err
	}
	var entry map[string]any
	if i := l.index(entries, key); i >= 0 {
		entry = entries[i]
	}
	switch owner, claimed := owners[key]; {
	case claimed && owner == uid:
		return entry, Owned, nil
	case claimed || entry != nil:
		return entry, Foreign, nil
	default:
		return nil, Absent, nil
	}
}

// Put makes entry the owner's entry for key. It refuses with a
// *ConflictError when the key is Foreign. It reports whether obj changed;
// an entry that is already there and semantically equal changes nothing.
func (l OwnedList) Put(obj *unstructured.Unstructured, key, uid string, entry map[string]any) (bool, error) {
	if uid == "" {
		return false, fmt.Errorf("cannot own %s %q on Elasticsearch %s without an owner uid", l.What, key, objectName(obj))
	}
	current, own, err := l.Lookup(obj, key, uid)
	if err != nil {
		return false, err
	}
	if own == Foreign {
		return false, l.conflict(obj, key, uid)
	}
	if own == Owned && current != nil && l.count(obj, key) == 1 && l.ownsOnly(obj, key, uid) && SemanticEqual(current, entry) {
		return false, nil
	}
	entries, _ := l.entries(obj)
	owners, _ := l.owners(obj)
	// An owner holds one entry: one it wrote under a previous key (the
	// alias was changed) goes, or it would be left behind for good.
	mine := func(k string) bool { return k == key || owners[k] == uid }
	entries = slices.DeleteFunc(entries, func(e map[string]any) bool { return mine(l.key(e)) })
	for k := range owners {
		if mine(k) {
			delete(owners, k)
		}
	}
	entries = append(entries, entry)
	owners[key] = uid
	return true, l.write(obj, entries, owners)
}

// Remove deletes every entry the owner holds, and its ownership records.
// Keys that are Foreign are left alone. It reports whether obj changed.
func (l OwnedList) Remove(obj *unstructured.Unstructured, uid string) (bool, error) {
	if _, err := l.entries(obj); err != nil {
		return false, err
	}
	owners, err := l.owners(obj)
	if err != nil {
		return false, err
	}
	var keys []string
	for k, o := range owners {
		if o == uid {
			keys = append(keys, k)
		}
	}
	if len(keys) == 0 {
		return false, nil
	}
	entries, _ := l.entries(obj)
	entries = slices.DeleteFunc(entries, func(e map[string]any) bool { return slices.Contains(keys, l.key(e)) })
	for _, k := range keys {
		delete(owners, k)
	}
	return true, l.write(obj, entries, owners)
}

// Owns reports whether the owner holds any key in obj.
func (l OwnedList) Owns(obj *unstructured.Unstructured, uid string) (bool, error) {
	owners, err := l.owners(obj)
	if err != nil {
		return false, err
	}
	for _, o := range owners {
		if o == uid {
			return true, nil
		}
	}
	return false, nil
}

// ownsOnly reports whether key is the only key the owner holds.
func (l OwnedList) ownsOnly(obj *unstructured.Unstructured, key, uid string) bool {
	owners, _ := l.owners(obj)
	for k, o := range owners {
		if o == uid && k != key {
			return false
		}
	}
	return true
}

// Holds reports whether the owner's entry for key is in obj exactly once and
// semantically equal to entry, that is, whether Put would change nothing.
func (l OwnedList) Holds(obj *unstructured.Unstructured, key, uid string, entry map[string]any) (bool, error) {
	current, own, err := l.Lookup(obj, key, uid)
	if err != nil {
		return false, err
	}
	return own == Owned && current != nil && l.count(obj, key) == 1 && l.ownsOnly(obj, key, uid) && SemanticEqual(current, entry), nil
}

// Conflict returns the *ConflictError for a key that Lookup found Foreign.
func (l OwnedList) Conflict(obj *unstructured.Unstructured, key, uid string) error {
	return l.conflict(obj, key, uid)
}

// Keys returns the keys this list's annotation records as owned, by owner.
func (l OwnedList) Keys(obj *unstructured.Unstructured) (map[string]string, error) {
	return l.owners(obj)
}

func (l OwnedList) conflict(obj *unstructured.Unstructured, key, uid string) error {
	owners, _ := l.owners(obj)
	other := owners[key]
	if other == uid {
		other = ""
	}
	return &ConflictError{What: l.What, Key: key, Object: objectName(obj), OtherOwner: other}
}

func (l OwnedList) count(obj *unstructured.Unstructured, key string) int {
	entries, _ := l.entries(obj)
	n := 0
	for _, e := range entries {
		if l.key(e) == key {
			n++
		}
	}
	return n
}

func (l OwnedList) key(e map[string]any) string {
	s, _ := e[l.KeyField].(string)
	return s
}

func (l OwnedList) index(entries []map[string]any, key string) int {
	return slices.IndexFunc(entries, func(e map[string]any) bool { return l.key(e) == key })
}

func (l OwnedList) entries(obj *unstructured.Unstructured) ([]map[string]any, error) {
	raw, found, err := unstructured.NestedSlice(obj.Object, l.Path...)
	if err != nil {
		return nil, fmt.Errorf("cannot read %s of Elasticsearch %s: %w", strings.Join(l.Path, "."), objectName(obj), err)
	}
	if !found {
		return nil, nil
	}
	out := make([]map[string]any, 0, len(raw))
	for i, r := range raw {
		m, ok := r.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("%s[%d] of Elasticsearch %s is not an object: fix the object by hand", strings.Join(l.Path, "."), i, objectName(obj))
		}
		out = append(out, m)
	}
	return out, nil
}

func (l OwnedList) owners(obj *unstructured.Unstructured) (map[string]string, error) {
	owners := map[string]string{}
	raw, ok := obj.GetAnnotations()[l.OwnersAnnotation]
	if !ok || strings.TrimSpace(raw) == "" {
		return owners, nil
	}
	if err := json.Unmarshal([]byte(raw), &owners); err != nil {
		// Never guess: rewriting a damaged record could hand entries to
		// the wrong owner or orphan them.
		return nil, fmt.Errorf("annotation %s on Elasticsearch %s is not a JSON object of %s to owner uid: repair or remove it by hand", l.OwnersAnnotation, objectName(obj), l.What)
	}
	return owners, nil
}

// write stores entries in the stable order and the owners annotation,
// dropping both when empty so an object eslink no longer uses looks as it
// did before.
func (l OwnedList) write(obj *unstructured.Unstructured, entries []map[string]any, owners map[string]string) error {
	var foreign, owned []map[string]any
	for _, e := range entries {
		if _, ok := owners[l.key(e)]; ok {
			owned = append(owned, e)
		} else {
			foreign = append(foreign, e)
		}
	}
	sort.SliceStable(owned, func(i, j int) bool { return l.key(owned[i]) < l.key(owned[j]) })
	// Entries eslink does not own keep their order, ahead of its own.
	ordered := slices.Concat(foreign, owned)

	if len(ordered) == 0 {
		unstructured.RemoveNestedField(obj.Object, l.Path...)
	} else {
		raw := make([]any, len(ordered))
		for i := range ordered {
			raw[i] = ordered[i]
		}
		if err := unstructured.SetNestedSlice(obj.Object, raw, l.Path...); err != nil {
			return fmt.Errorf("cannot set %s of Elasticsearch %s: %w", strings.Join(l.Path, "."), objectName(obj), err)
		}
	}

	annotations := obj.GetAnnotations()
	if len(owners) == 0 {
		delete(annotations, l.OwnersAnnotation)
	} else {
		b, err := json.Marshal(owners) // Sorted keys: the same owners always give the same bytes.
		if err != nil {
			return fmt.Errorf("cannot encode annotation %s: %w", l.OwnersAnnotation, err)
		}
		if annotations == nil {
			annotations = map[string]string{}
		}
		annotations[l.OwnersAnnotation] = string(b)
	}
	obj.SetAnnotations(annotations)
	return nil
}

// SemanticEqual compares two JSON-like values as the API server stores them:
// numbers compare by value whatever their Go type (the decoder yields int64
// where a rendered entry holds float64), everything else exactly.
func SemanticEqual(a, b any) bool {
	na, err := normalise(a)
	if err != nil {
		return false
	}
	nb, err := normalise(b)
	if err != nil {
		return false
	}
	return reflect.DeepEqual(na, nb)
}

func normalise(v any) (any, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	var out any
	if err := json.Unmarshal(b, &out); err != nil {
		return nil, err
	}
	return out, nil
}

func objectName(obj *unstructured.Unstructured) string {
	return obj.GetNamespace() + "/" + obj.GetName()
}
