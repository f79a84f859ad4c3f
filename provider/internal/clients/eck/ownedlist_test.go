package eck

import (
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/eslink/eslink/internal/eckschema"
)

const ownersKey = eckschema.AnnotationRemoteClusterOwners

func entry(name, remote string) map[string]any {
	return map[string]any{"name": name, "elasticsearchRef": map[string]any{"name": remote, "namespace": "ns2"}}
}

// object builds an Elasticsearch object holding entries and, when owners is
// not empty, the ownership annotation as given.
func object(owners string, entries ...map[string]any) *unstructured.Unstructured {
	es := eckschema.NewElasticsearch()
	es.SetNamespace("ns1")
	es.SetName("c1")
	if owners != "" {
		es.SetAnnotations(map[string]string{ownersKey: owners})
	}
	if err := eckschema.SetRemoteClusters(es, entries); err != nil {
		panic(err)
	}
	return es
}

type listState struct {
	Entries []map[string]any
	Owners  string
}

func stateOf(t *testing.T, es *unstructured.Unstructured) listState {
	t.Helper()
	entries, err := eckschema.RemoteClusters(es)
	if err != nil {
		t.Fatal(err)
	}
	return listState{Entries: entries, Owners: es.GetAnnotations()[ownersKey]}
}

func TestOwnedListLookup(t *testing.T) {
	cases := map[string]struct {
		es        *unstructured.Unstructured
		key       string
		wantEntry map[string]any
		wantOwn   Ownership
		wantErr   bool
	}{
		"Absent":            {es: object("", entry("hand", "c9")), key: "logs", wantOwn: Absent},
		"Owned":             {es: object(`{"logs":"u1"}`, entry("logs", "c2")), key: "logs", wantEntry: entry("logs", "c2"), wantOwn: Owned},
		"OwnedButRemoved":   {es: object(`{"logs":"u1"}`), key: "logs", wantOwn: Owned},
		"HandWritten":       {es: object("", entry("logs", "c9")), key: "logs", wantEntry: entry("logs", "c9"), wantOwn: Foreign},
		"OtherOwner":        {es: object(`{"logs":"u2"}`, entry("logs", "c2")), key: "logs", wantEntry: entry("logs", "c2"), wantOwn: Foreign},
		"OtherOwnerRemoved": {es: object(`{"logs":"u2"}`), key: "logs", wantOwn: Foreign},
		"DamagedAnnotation": {es: object(`not json`, entry("logs", "c2")), key: "logs", wantErr: true},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got, own, err := RemoteClusters.Lookup(tc.es, tc.key, "u1")
			if (err != nil) != tc.wantErr {
				t.Fatalf("Lookup: err = %v, wantErr %v", err, tc.wantErr)
			}
			if diff := cmp.Diff(tc.wantEntry, got); diff != "" {
				t.Errorf("Lookup entry: -want +got:\n%s", diff)
			}
			if own != tc.wantOwn {
				t.Errorf("Lookup ownership = %v, want %v", own, tc.wantOwn)
			}
		})
	}
}

func TestOwnedListPut(t *testing.T) {
	withQuery := func(v any) map[string]any {
		e := entry("logs", "c2")
		e["apiKey"] = map[string]any{"access": map[string]any{"search": map[string]any{"names": []any{"logs-*"}, "query": map[string]any{"size": v}}}}
		return e
	}
	cases := map[string]struct {
		es          *unstructured.Unstructured
		key         string
		put         map[string]any
		want        listState
		wantChanged bool
		wantErr     error
	}{
		"AddAfterHandWritten": {
			es:  object("", entry("zeta", "c9"), entry("alpha", "c8")),
			key: "logs", put: entry("logs", "c2"), wantChanged: true,
			want: listState{Entries: []map[string]any{entry("zeta", "c9"), entry("alpha", "c8"), entry("logs", "c2")}, Owners: `{"logs":"u1"}`},
		},
		"OwnedSortedByAlias": {
			es:  object(`{"b":"u2","d":"u3"}`, entry("hand", "c9"), entry("b", "c2"), entry("d", "c2")),
			key: "c", put: entry("c", "c2"), wantChanged: true,
			want: listState{Entries: []map[string]any{entry("hand", "c9"), entry("b", "c2"), entry("c", "c2"), entry("d", "c2")}, Owners: `{"b":"u2","c":"u1","d":"u3"}`},
		},
		"UpdateOwnRewritesOnlyIt": {
			es:  object(`{"a":"u2","logs":"u1"}`, entry("hand", "c9"), entry("a", "c2"), entry("logs", "old")),
			key: "logs", put: entry("logs", "c2"), wantChanged: true,
			want: listState{Entries: []map[string]any{entry("hand", "c9"), entry("a", "c2"), entry("logs", "c2")}, Owners: `{"a":"u2","logs":"u1"}`},
		},
		"UnchangedKeepsOrder": {
			// An owned entry out of the normal order is not rewritten when
			// it already holds the desired value: no write without change.
			es:  object(`{"logs":"u1"}`, entry("logs", "c2"), entry("hand", "c9")),
			key: "logs", put: entry("logs", "c2"),
			want: listState{Entries: []map[string]any{entry("logs", "c2"), entry("hand", "c9")}, Owners: `{"logs":"u1"}`},
		},
		"NumbersCompareByValue": {
			es:  object(`{"logs":"u1"}`, withQuery(int64(10))),
			key: "logs", put: withQuery(float64(10)),
			want: listState{Entries: []map[string]any{withQuery(int64(10))}, Owners: `{"logs":"u1"}`},
		},
		"ReAddRemovedByHand": {
			es:  object(`{"logs":"u1"}`, entry("hand", "c9")),
			key: "logs", put: entry("logs", "c2"), wantChanged: true,
			want: listState{Entries: []map[string]any{entry("hand", "c9"), entry("logs", "c2")}, Owners: `{"logs":"u1"}`},
		},
		"OwnedDuplicatesCollapse": {
			es:  object(`{"logs":"u1"}`, entry("logs", "c2"), entry("hand", "c9"), entry("logs", "c2")),
			key: "logs", put: entry("logs", "c2"), wantChanged: true,
			want: listState{Entries: []map[string]any{entry("hand", "c9"), entry("logs", "c2")}, Owners: `{"logs":"u1"}`},
		},
		"AliasChangeMovesEntry": {
			es:  object(`{"old":"u1","z":"u2"}`, entry("hand", "c9"), entry("old", "c2"), entry("z", "c2")),
			key: "logs", put: entry("logs", "c2"), wantChanged: true,
			want: listState{Entries: []map[string]any{entry("hand", "c9"), entry("logs", "c2"), entry("z", "c2")}, Owners: `{"logs":"u1","z":"u2"}`},
		},
		"HandWrittenConflict": {
			es:  object("", entry("logs", "c9")),
			key: "logs", put: entry("logs", "c2"),
			want:    listState{Entries: []map[string]any{entry("logs", "c9")}},
			wantErr: &ConflictError{What: "remote cluster alias", Key: "logs", Object: "ns1/c1"},
		},
		"OtherOwnerConflict": {
			es:  object(`{"logs":"u2"}`, entry("logs", "c3")),
			key: "logs", put: entry("logs", "c2"),
			want:    listState{Entries: []map[string]any{entry("logs", "c3")}, Owners: `{"logs":"u2"}`},
			wantErr: &ConflictError{What: "remote cluster alias", Key: "logs", Object: "ns1/c1", OtherOwner: "u2"},
		},
		"DamagedAnnotationUntouched": {
			es:  object(`{"logs":`, entry("logs", "c3")),
			key: "logs", put: entry("logs", "c2"),
			want:    listState{Entries: []map[string]any{entry("logs", "c3")}, Owners: `{"logs":`},
			wantErr: errDamaged,
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			changed, err := RemoteClusters.Put(tc.es, tc.key, "u1", tc.put)
			checkErr(t, err, tc.wantErr)
			if changed != tc.wantChanged {
				t.Errorf("Put changed = %v, want %v", changed, tc.wantChanged)
			}
			if diff := cmp.Diff(tc.want, stateOf(t, tc.es)); diff != "" {
				t.Errorf("Put: -want +got:\n%s", diff)
			}
		})
	}
}

func TestOwnedListRemove(t *testing.T) {
	cases := map[string]struct {
		es          *unstructured.Unstructured
		want        listState
		wantChanged bool
		wantErr     error
	}{
		"OnlyOwn": {
			es:          object(`{"a":"u2","logs":"u1"}`, entry("hand", "c9"), entry("a", "c2"), entry("logs", "c2")),
			wantChanged: true,
			want:        listState{Entries: []map[string]any{entry("hand", "c9"), entry("a", "c2")}, Owners: `{"a":"u2"}`},
		},
		"LastOwnedDropsAnnotation": {
			es:          object(`{"logs":"u1"}`, entry("hand", "c9"), entry("logs", "c2")),
			wantChanged: true,
			want:        listState{Entries: []map[string]any{entry("hand", "c9")}},
		},
		"LastEntryDropsList": {
			es:          object(`{"logs":"u1"}`, entry("logs", "c2")),
			wantChanged: true,
			want:        listState{},
		},
		"StaleOwnershipOnly": {
			es:          object(`{"logs":"u1"}`, entry("hand", "c9")),
			wantChanged: true,
			want:        listState{Entries: []map[string]any{entry("hand", "c9")}},
		},
		"AfterAliasChange": {
			es:          object(`{"a":"u2","old":"u1"}`, entry("hand", "c9"), entry("a", "c2"), entry("old", "c2")),
			wantChanged: true,
			want:        listState{Entries: []map[string]any{entry("hand", "c9"), entry("a", "c2")}, Owners: `{"a":"u2"}`},
		},
		"HandWrittenSameAliasKept": {
			es:   object("", entry("logs", "c9")),
			want: listState{Entries: []map[string]any{entry("logs", "c9")}},
		},
		"OtherOwnerKept": {
			es:   object(`{"logs":"u2"}`, entry("logs", "c2")),
			want: listState{Entries: []map[string]any{entry("logs", "c2")}, Owners: `{"logs":"u2"}`},
		},
		"DamagedAnnotation": {
			es:      object(`[]`, entry("logs", "c2")),
			want:    listState{Entries: []map[string]any{entry("logs", "c2")}, Owners: `[]`},
			wantErr: errDamaged,
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			changed, err := RemoteClusters.Remove(tc.es, "u1")
			checkErr(t, err, tc.wantErr)
			if changed != tc.wantChanged {
				t.Errorf("Remove changed = %v, want %v", changed, tc.wantChanged)
			}
			if diff := cmp.Diff(tc.want, stateOf(t, tc.es)); diff != "" {
				t.Errorf("Remove: -want +got:\n%s", diff)
			}
		})
	}
}

func TestOwnedListHolds(t *testing.T) {
	cases := map[string]struct {
		es   *unstructured.Unstructured
		want bool
	}{
		"Equal":       {es: object(`{"logs":"u1"}`, entry("logs", "c2")), want: true},
		"Different":   {es: object(`{"logs":"u1"}`, entry("logs", "c3"))},
		"Missing":     {es: object(`{"logs":"u1"}`)},
		"NotOwned":    {es: object("", entry("logs", "c2"))},
		"AlsoOwnsOld": {es: object(`{"logs":"u1","old":"u1"}`, entry("logs", "c2"), entry("old", "c2"))},
		"Duplicated":  {es: object(`{"logs":"u1"}`, entry("logs", "c2"), entry("logs", "c2"))},
		"ExtraFields": {es: object(`{"logs":"u1"}`, map[string]any{"name": "logs", "elasticsearchRef": map[string]any{"name": "c2", "namespace": "ns2"}, "apiKey": map[string]any{}})},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got, err := RemoteClusters.Holds(tc.es, "logs", "u1", entry("logs", "c2"))
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Errorf("Holds = %v, want %v", got, tc.want)
			}
		})
	}
}

// errDamaged stands for the error about a damaged ownership annotation,
// which has no type of its own.
var errDamaged = errors.New("damaged annotation")

func checkErr(t *testing.T, got, want error) {
	t.Helper()
	switch {
	case want == nil && got != nil:
		t.Fatalf("unexpected error: %v", got)
	case want != nil && got == nil:
		t.Fatalf("want error %v, got none", want)
	case want == errDamaged: //nolint:errorlint // Sentinel of this test.
		if !cmp.Equal(got.Error(), "annotation "+ownersKey+" on Elasticsearch ns1/c1 is not a JSON object of remote cluster alias to owner uid: repair or remove it by hand") {
			t.Errorf("error = %q, want the damaged-annotation message", got)
		}
	case want != nil:
		if diff := cmp.Diff(want.Error(), got.Error()); diff != "" {
			t.Errorf("error: -want +got:\n%s", diff)
		}
	}
}
