package crossclusterapikey

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	commonv1alpha1 "github.com/eslink/eslink/apis/common/v1alpha1"
	esv1alpha1 "github.com/eslink/eslink/apis/elasticsearch/v1alpha1"
	"github.com/eslink/eslink/provider/internal/clients/elasticsearch"
)

func raw(s string) *apiextensionsv1.JSON { return &apiextensionsv1.JSON{Raw: []byte(s)} }

func TestDesiredAccess(t *testing.T) {
	cases := map[string]struct {
		in      *esv1alpha1.CrossClusterAccess
		want    elasticsearch.Access
		wantErr string
	}{
		"QueryObjectBecomesCompactString": {
			in: &esv1alpha1.CrossClusterAccess{Search: []commonv1alpha1.SearchAccess{{
				Names: []string{"logs-*"}, Query: raw(`{ "term" : { "category": "shared" } }`),
			}}},
			want: elasticsearch.Access{Search: []elasticsearch.SearchAccess{{
				Names: []string{"logs-*"}, Query: ptr(`{"term":{"category":"shared"}}`),
			}}},
		},
		"QueryStringIsUnquotedAndCompacted": {
			in: &esv1alpha1.CrossClusterAccess{Search: []commonv1alpha1.SearchAccess{{
				Names: []string{"logs-*"}, Query: raw(`"{\"term\": {\"category\": \"shared\"}}"`),
			}}},
			want: elasticsearch.Access{Search: []elasticsearch.SearchAccess{{
				Names: []string{"logs-*"}, Query: ptr(`{"term":{"category":"shared"}}`),
			}}},
		},
		"AllowRestrictedIndicesDefaultsFalseAndEmptyFieldSecurityDrops": {
			in: &esv1alpha1.CrossClusterAccess{
				Search:      []commonv1alpha1.SearchAccess{{Names: []string{"a"}, FieldSecurity: &commonv1alpha1.FieldSecurity{}}},
				Replication: []commonv1alpha1.ReplicationAccess{{Names: []string{"b"}, AllowRestrictedIndices: ptr(true)}},
			},
			want: elasticsearch.Access{
				Search:      []elasticsearch.SearchAccess{{Names: []string{"a"}}},
				Replication: []elasticsearch.ReplicationAccess{{Names: []string{"b"}, AllowRestrictedIndices: true}},
			},
		},
		"FieldSecurityKept": {
			in: &esv1alpha1.CrossClusterAccess{Search: []commonv1alpha1.SearchAccess{{
				Names: []string{"a"}, FieldSecurity: &commonv1alpha1.FieldSecurity{Grant: []string{"*"}, Except: []string{"secret"}},
			}}},
			want: elasticsearch.Access{Search: []elasticsearch.SearchAccess{{
				Names: []string{"a"}, FieldSecurity: &elasticsearch.FieldSecurity{Grant: []string{"*"}, Except: []string{"secret"}},
			}}},
		},
		"Nil":            {in: nil, wantErr: "spec.forProvider.access must grant search or replication"},
		"Empty":          {in: &esv1alpha1.CrossClusterAccess{}, wantErr: "spec.forProvider.access must grant search or replication"},
		"EmptyNames":     {in: &esv1alpha1.CrossClusterAccess{Replication: []commonv1alpha1.ReplicationAccess{{}}}, wantErr: "spec.forProvider.access.replication[0].names is empty"},
		"QueryNotJSON":   {in: &esv1alpha1.CrossClusterAccess{Search: []commonv1alpha1.SearchAccess{{Names: []string{"a"}, Query: raw(`"not json"`)}}}, wantErr: "spec.forProvider.access.search[0].query must be a query DSL object"},
		"QueryNotObject": {in: &esv1alpha1.CrossClusterAccess{Search: []commonv1alpha1.SearchAccess{{Names: []string{"a"}, Query: raw(`[1]`)}}}, wantErr: "spec.forProvider.access.search[0].query"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got, err := desiredAccess(tc.in)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("desiredAccess() error = %v, want one containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("desiredAccess(): -want +got:\n%s", diff)
			}
		})
	}
}

func TestAccessEqual(t *testing.T) {
	base := elasticsearch.Access{Search: []elasticsearch.SearchAccess{{Names: []string{"logs-*"}, Query: ptr(`{"term":{"a":1}}`)}}}
	cases := map[string]struct {
		a, b elasticsearch.Access
		want bool
	}{
		"Same":                 {a: base, b: base, want: true},
		"QueryWhitespace":      {a: base, b: elasticsearch.Access{Search: []elasticsearch.SearchAccess{{Names: []string{"logs-*"}, Query: ptr(`{ "term": {"a": 1} }`)}}}, want: true},
		"QueryDiffers":         {a: base, b: elasticsearch.Access{Search: []elasticsearch.SearchAccess{{Names: []string{"logs-*"}, Query: ptr(`{"term":{"a":2}}`)}}}},
		"QueryMissing":         {a: base, b: elasticsearch.Access{Search: []elasticsearch.SearchAccess{{Names: []string{"logs-*"}}}}},
		"NamesDiffer":          {a: base, b: elasticsearch.Access{Search: []elasticsearch.SearchAccess{{Names: []string{"logs-a"}, Query: ptr(`{"term":{"a":1}}`)}}}},
		"RestrictedDiffers":    {a: base, b: elasticsearch.Access{Search: []elasticsearch.SearchAccess{{Names: []string{"logs-*"}, Query: ptr(`{"term":{"a":1}}`), AllowRestrictedIndices: true}}}},
		"ExtraReplication":     {a: base, b: elasticsearch.Access{Search: base.Search, Replication: []elasticsearch.ReplicationAccess{{Names: []string{"x"}}}}},
		"EmptyFieldSecurityEq": {a: elasticsearch.Access{Search: []elasticsearch.SearchAccess{{Names: []string{"a"}, FieldSecurity: &elasticsearch.FieldSecurity{Grant: []string{}}}}}, b: elasticsearch.Access{Search: []elasticsearch.SearchAccess{{Names: []string{"a"}, FieldSecurity: &elasticsearch.FieldSecurity{}}}}, want: true},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if got := accessEqual(tc.a, tc.b); got != tc.want {
				t.Errorf("accessEqual() = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestDesiredMetadata(t *testing.T) {
	cr := &esv1alpha1.CrossClusterAPIKey{ObjectMeta: metav1.ObjectMeta{Namespace: "team-a", Name: "orders", UID: "uid-1"}}
	access := elasticsearch.Access{Replication: []elasticsearch.ReplicationAccess{{Names: []string{"x"}}}}
	cr.Spec.ForProvider.Metadata = map[string]apiextensionsv1.JSON{"team": {Raw: []byte(`"a"`)}}
	cr.Spec.ForProvider.Expiration = ptr("30d")
	got, err := desiredMetadata(cr, access, "old-key-id")
	if err != nil {
		t.Fatal(err)
	}
	hash, err := accessHash(access)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]json.RawMessage{
		"team":                        json.RawMessage(`"a"`),
		esv1alpha1.MetadataManagedBy:  json.RawMessage(`"eslink"`),
		esv1alpha1.MetadataNamespace:  json.RawMessage(`"team-a"`),
		esv1alpha1.MetadataName:       json.RawMessage(`"orders"`),
		esv1alpha1.MetadataUID:        json.RawMessage(`"uid-1"`),
		esv1alpha1.MetadataAccessHash: json.RawMessage(`"` + hash + `"`),
		esv1alpha1.MetadataExpiration: json.RawMessage(`"30d"`),
		esv1alpha1.MetadataReplaces:   json.RawMessage(`"old-key-id"`),
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("desiredMetadata(): -want +got:\n%s", diff)
	}
	if !metadataEqual(want, map[string]json.RawMessage{
		"team": json.RawMessage(` "a" `), esv1alpha1.MetadataManagedBy: json.RawMessage(`"eslink"`), esv1alpha1.MetadataNamespace: json.RawMessage(`"team-a"`),
		esv1alpha1.MetadataName: json.RawMessage(`"orders"`), esv1alpha1.MetadataUID: json.RawMessage(`"uid-1"`), esv1alpha1.MetadataAccessHash: want[esv1alpha1.MetadataAccessHash],
		esv1alpha1.MetadataExpiration: json.RawMessage(`"30d"`), esv1alpha1.MetadataReplaces: json.RawMessage(` "old-key-id"`),
	}) {
		t.Error("metadataEqual() = false for the same metadata with other whitespace")
	}
	if metadataEqual(want, map[string]json.RawMessage{"team": json.RawMessage(`"a"`)}) {
		t.Error("metadataEqual() = true for metadata missing the provider's tags")
	}

	for _, k := range []string{esv1alpha1.MetadataUID, "eslink.io/anything", "elasticsearch.k8s.elastic.co/namespace"} {
		cr.Spec.ForProvider.Metadata = map[string]apiextensionsv1.JSON{k: {Raw: []byte(`"spoof"`)}}
		if _, err := desiredMetadata(cr, access, ""); err == nil || !strings.Contains(err.Error(), "is reserved") || !strings.Contains(err.Error(), k) {
			t.Errorf("desiredMetadata(%s) error = %v, want one saying the key is reserved", k, err)
		}
	}
	cr.Spec.ForProvider.Metadata = map[string]apiextensionsv1.JSON{"_x": {Raw: []byte(`1`)}}
	if _, err := desiredMetadata(cr, access, ""); err == nil || !strings.Contains(err.Error(), "underscore") {
		t.Errorf("desiredMetadata(_x) error = %v, want one naming the underscore", err)
	}
}

func TestCheckMetadataSize(t *testing.T) {
	entries := func(n, size int) map[string]apiextensionsv1.JSON {
		md := map[string]apiextensionsv1.JSON{}
		for i := range n {
			md[fmt.Sprintf("k%02d", i)] = apiextensionsv1.JSON{Raw: []byte(`"` + strings.Repeat("x", size) + `"`)}
		}
		return md
	}
	cases := map[string]struct {
		md   map[string]apiextensionsv1.JSON
		want string
	}{
		"None":         {},
		"AtTheBounds":  {md: entries(maxMetadataEntries, maxMetadataBytes/maxMetadataEntries-5)},
		"TooManyKeys":  {md: entries(maxMetadataEntries+1, 1), want: "spec.forProvider.metadata has 33 entries"},
		"TooManyBytes": {md: entries(2, maxMetadataBytes), want: "more than the 4096 bytes a key may carry"},
		"OneHugeValue": {md: entries(1, 1<<20), want: "more than the 4096 bytes"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			err := checkMetadataSize(tc.md)
			if (err != nil) != (tc.want != "") || (err != nil && !strings.Contains(err.Error(), tc.want)) {
				t.Errorf("checkMetadataSize() = %v, want an error saying %q", err, tc.want)
			}
		})
	}
}
