package ecksim

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestMergeConfig(t *testing.T) {
	eck := map[string]any{
		"xpack.security.remote_cluster_client.ssl.certificate_authorities": []any{"a", "b"},
		"xpack.security.transport.ssl.verification_mode":                   "certificate",
		"node.attr.k8s_node_name":                                          "${NODE_NAME}",
	}
	cases := map[string]struct {
		user map[string]any
		want map[string]any
	}{
		"NoUserConfig": {user: nil, want: eck},
		"DottedListIsAppended": {
			user: map[string]any{"xpack.security.remote_cluster_client.ssl.certificate_authorities": []any{"c"}},
			want: map[string]any{
				"xpack.security.remote_cluster_client.ssl.certificate_authorities": []any{"a", "b", "c"},
				"xpack.security.transport.ssl.verification_mode":                   "certificate",
				"node.attr.k8s_node_name":                                          "${NODE_NAME}",
			},
		},
		"NestedListIsAppended": {
			user: map[string]any{"xpack": map[string]any{"security": map[string]any{"remote_cluster_client": map[string]any{"ssl": map[string]any{"certificate_authorities": []any{"c"}}}}}},
			want: map[string]any{
				"xpack.security.remote_cluster_client.ssl.certificate_authorities": []any{"a", "b", "c"},
				"xpack.security.transport.ssl.verification_mode":                   "certificate",
				"node.attr.k8s_node_name":                                          "${NODE_NAME}",
			},
		},
		"ScalarReplaces": {
			user: map[string]any{"xpack.security.transport.ssl.verification_mode": "full", "x.y": true},
			want: map[string]any{
				"xpack.security.remote_cluster_client.ssl.certificate_authorities": []any{"a", "b"},
				"xpack.security.transport.ssl.verification_mode":                   "full",
				"node.attr.k8s_node_name":                                          "${NODE_NAME}",
				"x.y":                                                              true,
			},
		},
		"ScalarReplacesASubtree": {
			user: map[string]any{"node.attr": "flat"},
			want: map[string]any{
				"xpack.security.remote_cluster_client.ssl.certificate_authorities": []any{"a", "b"},
				"xpack.security.transport.ssl.verification_mode":                   "certificate",
				"node.attr": "flat",
			},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got, err := mergeConfig(eck, tc.user)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("mergeConfig (-want +got):\n%s", diff)
			}
		})
	}
}
