package eck

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"

	commonv1alpha1 "github.com/eslink/eslink/apis/common/v1alpha1"
	eckv1alpha1 "github.com/eslink/eslink/apis/eck/v1alpha1"
)

func TestRenderRemoteCluster(t *testing.T) {
	yes := true
	no := false
	params := func(access *commonv1alpha1.LinkAccess) eckv1alpha1.RemoteClusterEntryParameters {
		p := eckv1alpha1.RemoteClusterEntryParameters{
			ElasticsearchRef:       commonv1alpha1.ElasticsearchReference{Name: "c1", Namespace: "ns1"},
			Alias:                  "logs",
			RemoteElasticsearchRef: commonv1alpha1.ElasticsearchReference{Name: "c2", Namespace: "ns2"},
		}
		if access != nil {
			p.APIKey = &eckv1alpha1.RemoteClusterAPIKey{Access: *access}
		}
		return p
	}
	ref := map[string]any{"name": "c2", "namespace": "ns2"}
	query := func(raw string) *apiextensionsv1.JSON { return &apiextensionsv1.JSON{Raw: []byte(raw)} }

	cases := map[string]struct {
		p       eckv1alpha1.RemoteClusterEntryParameters
		ns      string
		want    map[string]any
		wantErr string
	}{
		"CertificateModel": {
			p:    params(nil),
			want: map[string]any{"name": "logs", "elasticsearchRef": ref},
		},
		"RemoteNamespaceDefaultsToResource": {
			p: func() eckv1alpha1.RemoteClusterEntryParameters {
				p := params(nil)
				p.RemoteElasticsearchRef.Namespace = ""
				return p
			}(),
			ns:   "team-a",
			want: map[string]any{"name": "logs", "elasticsearchRef": map[string]any{"name": "c2", "namespace": "team-a"}},
		},
		"FullSearchSnakeCase": {
			p: params(&commonv1alpha1.LinkAccess{Search: &commonv1alpha1.SearchAccess{
				Names:                  []string{"logs-*", "metrics-*"},
				Query:                  query(`{"term":{"team":"a"}}`),
				FieldSecurity:          &commonv1alpha1.FieldSecurity{Grant: []string{"*"}, Except: []string{"secret"}},
				AllowRestrictedIndices: &yes,
			}}),
			want: map[string]any{"name": "logs", "elasticsearchRef": ref, "apiKey": map[string]any{"access": map[string]any{
				"search": map[string]any{
					"names":                    []any{"logs-*", "metrics-*"},
					"query":                    map[string]any{"term": map[string]any{"team": "a"}},
					"field_security":           map[string]any{"grant": []any{"*"}, "except": []any{"secret"}},
					"allow_restricted_indices": true,
				},
			}}},
		},
		"FieldSecurityBothListsRequired": {
			p: params(&commonv1alpha1.LinkAccess{Search: &commonv1alpha1.SearchAccess{
				Names: []string{"logs-*"}, FieldSecurity: &commonv1alpha1.FieldSecurity{Grant: []string{"a"}}, AllowRestrictedIndices: &no,
			}}),
			want: map[string]any{"name": "logs", "elasticsearchRef": ref, "apiKey": map[string]any{"access": map[string]any{
				"search": map[string]any{
					"names":                    []any{"logs-*"},
					"field_security":           map[string]any{"grant": []any{"a"}, "except": []any{}},
					"allow_restricted_indices": false,
				},
			}}},
		},
		"QueryAsString": {
			p: params(&commonv1alpha1.LinkAccess{Search: &commonv1alpha1.SearchAccess{
				Names: []string{"logs-*"}, Query: query(`"{\"match_all\":{}}"`),
			}}),
			want: map[string]any{"name": "logs", "elasticsearchRef": ref, "apiKey": map[string]any{"access": map[string]any{
				"search": map[string]any{"names": []any{"logs-*"}, "query": map[string]any{"match_all": map[string]any{}}},
			}}},
		},
		"Replication": {
			p: params(&commonv1alpha1.LinkAccess{Replication: &commonv1alpha1.ECKReplicationAccess{Names: []string{"archive-*"}}}),
			want: map[string]any{"name": "logs", "elasticsearchRef": ref, "apiKey": map[string]any{"access": map[string]any{
				"replication": map[string]any{"names": []any{"archive-*"}},
			}}},
		},
		"InvalidQueryString": {
			p: params(&commonv1alpha1.LinkAccess{Search: &commonv1alpha1.SearchAccess{
				Names: []string{"logs-*"}, Query: query(`"{\"term\": secret-value"`),
			}}),
			wantErr: "spec.forProvider.apiKey.access.search.query must be a query DSL object",
		},
		"QueryNotAnObject": {
			p: params(&commonv1alpha1.LinkAccess{Search: &commonv1alpha1.SearchAccess{
				Names: []string{"logs-*"}, Query: query(`[1,2]`),
			}}),
			wantErr: "spec.forProvider.apiKey.access.search.query must be a query DSL object",
		},
		"QueryWithReplication": {
			p: params(&commonv1alpha1.LinkAccess{
				Search:      &commonv1alpha1.SearchAccess{Names: []string{"logs-*"}, Query: query(`{"match_all":{}}`)},
				Replication: &commonv1alpha1.ECKReplicationAccess{Names: []string{"archive-*"}},
			}),
			wantErr: "spec.forProvider.apiKey.access.search.query is not allowed together with spec.forProvider.apiKey.access.replication",
		},
		"EmptyAccess": {
			p:       params(&commonv1alpha1.LinkAccess{}),
			wantErr: "spec.forProvider.apiKey.access grants nothing",
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got, err := RenderRemoteCluster(tc.p, tc.ns)
			if tc.wantErr != "" {
				if err == nil || !strings.HasPrefix(err.Error(), tc.wantErr) {
					t.Fatalf("RenderRemoteCluster: err = %v, want prefix %q", err, tc.wantErr)
				}
				if strings.Contains(err.Error(), "secret-value") {
					t.Errorf("RenderRemoteCluster: error quotes the query: %v", err)
				}
				// An InvalidSpecError blocks the resource with reason
				// InvalidSpec (controller/conditions.BlockedCondition).
				if ise := (*InvalidSpecError)(nil); !errors.As(err, &ise) {
					t.Errorf("RenderRemoteCluster: error %T is no InvalidSpecError, so it gives no blocked condition", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("RenderRemoteCluster: %v", err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("RenderRemoteCluster: -want +got:\n%s", diff)
			}
		})
	}
}
