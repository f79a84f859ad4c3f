package eck

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/eslink/eslink/internal/eckschema"
)

// records returns an object whose namespace ns owns n aliases named
// prefix-<i> (each with an entry in the remote cluster owners too) and has
// claims server claims.
func records(owners map[string]int, claims map[string]int) *unstructured.Unstructured {
	aliases, entries, servers := map[string]string{}, map[string]string{}, map[string]string{}
	for ns, n := range owners {
		for i := range n {
			alias := fmt.Sprintf("%s-%d", ns, i)
			aliases[alias] = ns + "/link-" + alias
			entries[alias] = "uid-" + alias
		}
	}
	for ns, n := range claims {
		for i := range n {
			servers[fmt.Sprintf("uid-%s-server-%d", ns, i)] = fmt.Sprintf("%s/server-%d", ns, i)
		}
	}
	es := eckschema.NewElasticsearch()
	es.SetNamespace("platform")
	es.SetName("shared")
	a := map[string]string{eckschema.AnnotationKeyNamespaces: "team-a,team-b"}
	for ann, m := range map[string]map[string]string{
		eckschema.AnnotationAliasOwners: aliases, eckschema.AnnotationRemoteClusterOwners: entries, eckschema.AnnotationRemoteClusterServerClaims: servers,
	} {
		b, _ := json.Marshal(m)
		a[ann] = string(b)
	}
	es.SetAnnotations(a)
	return es
}

func TestShares(t *testing.T) {
	es := records(map[string]int{"team-a": 2}, map[string]int{"team-b": 1})
	got := Shares(es)
	// team-a: 2 aliases (alias-owners and remote-cluster-owners entries),
	// one key namespace; team-b: one server claim, one key namespace.
	aliasBytes := func(alias string) int {
		return len(alias) + len("team-a/link-"+alias) + 6 + len(alias) + len("uid-"+alias) + 6
	}
	want := map[string]Share{
		"team-a": {Entries: 3, Bytes: aliasBytes("team-a-0") + aliasBytes("team-a-1") + len("team-a") + 1},
		"team-b": {Entries: 2, Bytes: len("uid-team-b-server-0") + len("team-b/server-0") + 6 + len("team-b") + 1},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Shares(): -want +got:\n%s", diff)
	}
}

func TestCheckShares(t *testing.T) {
	long := strings.Repeat("x", 600)
	withLongOwner := func(es *unstructured.Unstructured) *unstructured.Unstructured {
		es = es.DeepCopy()
		owners, _ := AliasOwners.Owners(es)
		for i := range 30 {
			owners[fmt.Sprintf("long-%d", i)] = "team-a/" + long
		}
		_ = AliasOwners.write(es, owners)
		return es
	}
	cases := map[string]struct {
		before, after *unstructured.Unstructured
		wantNS        string
	}{
		"WithinTheBound": {
			before: records(map[string]int{"team-a": 126}, nil),
			after:  records(map[string]int{"team-a": 127}, nil),
		},
		"OneEntryTooMany": {
			before: records(map[string]int{"team-a": 127}, nil),
			after:  records(map[string]int{"team-a": 128}, nil),
			wantNS: "team-a",
		},
		"ClaimsCountToo": {
			before: records(map[string]int{"team-a": 100}, map[string]int{"team-a": 27}),
			after:  records(map[string]int{"team-a": 100}, map[string]int{"team-a": 28}),
			wantNS: "team-a",
		},
		"TooManyBytes": {
			before: records(nil, nil),
			after:  withLongOwner(records(nil, nil)),
			wantNS: "team-a",
		},
		"OtherNamespacesDoNotCount": {
			before: records(map[string]int{"team-a": 127, "team-b": 127}, nil),
			after:  records(map[string]int{"team-a": 127, "team-b": 127, "team-c": 127}, nil),
		},
		"AShareOverTheBoundMayShrink": {
			before: records(map[string]int{"team-a": 140}, nil),
			after:  records(map[string]int{"team-a": 139}, nil),
		},
		"AndNeverGrow": {
			before: records(map[string]int{"team-a": 140}, nil),
			after:  records(map[string]int{"team-a": 141}, nil),
			wantNS: "team-a",
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			err := CheckShares(tc.before, tc.after)
			var se *ShareError
			switch {
			case tc.wantNS == "" && err != nil:
				t.Errorf("CheckShares() = %v, want nil", err)
			case tc.wantNS != "" && (!errors.As(err, &se) || se.Namespace != tc.wantNS):
				t.Errorf("CheckShares() = %v, want a ShareError for namespace %s", err, tc.wantNS)
			case tc.wantNS != "":
				for _, want := range []string{"namespace " + tc.wantNS, "platform/shared", fmt.Sprint(MaxNamespaceRecords), fmt.Sprint(MaxNamespaceRecordBytes), eckschema.AnnotationAliasOwners} {
					if !strings.Contains(err.Error(), want) {
						t.Errorf("CheckShares() = %q, want it to name %q", err, want)
					}
				}
			}
		})
	}
}
