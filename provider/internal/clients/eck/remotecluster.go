package eck

import (
	"bytes"
	"encoding/json"
	"fmt"

	"k8s.io/apimachinery/pkg/types"

	eckv1alpha1 "github.com/eslink/eslink/apis/eck/v1alpha1"
	"github.com/eslink/eslink/internal/eckschema"
)

// RemoteClusters is spec.remoteClusters of an ECK Elasticsearch object,
// keyed by alias (name), with ownership in AnnotationRemoteClusterOwners.
var RemoteClusters = OwnedList{
	Path:             []string{"spec", "remoteClusters"},
	KeyField:         "name",
	OwnersAnnotation: eckschema.AnnotationRemoteClusterOwners,
	What:             "remote cluster alias",
}

// fieldQuery is where a RemoteClusterEntry holds the document level security
// query; errors name it so the user knows what to fix.
const fieldQuery = "spec.forProvider.apiKey.access.search.query"

// RenderRemoteCluster returns the spec.remoteClusters entry for p, in ECK's
// schema: snake_case access fields, the remote's namespace always explicit
// (ECK would otherwise default it to the local cluster's namespace, while
// eslink defaults it to the managed resource's), and the query as an object.
// ns is the managed resource's namespace.
func RenderRemoteCluster(p eckv1alpha1.RemoteClusterEntryParameters, ns string) (map[string]any, error) {
	remote := Ref(p.RemoteElasticsearchRef, ns)
	entry := map[string]any{
		"name":             p.Alias,
		"elasticsearchRef": map[string]any{"name": remote.Name, "namespace": remote.Namespace},
	}
	if p.APIKey == nil {
		return entry, nil
	}
	access := map[string]any{}
	if s := p.APIKey.Access.Search; s != nil && s.Query != nil && p.APIKey.Access.Replication != nil {
		// The CRD's CEL rule cannot see the schemaless query, so this half
		// of "no document level security with replication" is checked here.
		return nil, &InvalidSpecError{Msg: fieldQuery + " is not allowed together with spec.forProvider.apiKey.access.replication: Elasticsearch rejects document level security when replication is assigned; move replication to another entry"}
	}
	if s := p.APIKey.Access.Search; s != nil {
		search := map[string]any{"names": anyList(s.Names)}
		if s.FieldSecurity != nil {
			// ECK requires both lists.
			search["field_security"] = map[string]any{
				"grant":  anyList(s.FieldSecurity.Grant),
				"except": anyList(s.FieldSecurity.Except),
			}
		}
		if s.Query != nil && len(s.Query.Raw) > 0 {
			q, err := parseQuery(s.Query.Raw)
			if err != nil {
				return nil, err
			}
			search["query"] = q
		}
		if s.AllowRestrictedIndices != nil {
			search["allow_restricted_indices"] = *s.AllowRestrictedIndices
		}
		access["search"] = search
	}
	if r := p.APIKey.Access.Replication; r != nil {
		access["replication"] = map[string]any{"names": anyList(r.Names)}
	}
	if len(access) == 0 {
		return nil, &InvalidSpecError{Msg: "spec.forProvider.apiKey.access grants nothing: set search or replication, or remove apiKey to use the certificate model"}
	}
	entry["apiKey"] = map[string]any{"access": access}
	return entry, nil
}

// parseQuery returns the query DSL object ECK's schema holds. The CRD
// admits only objects; a JSON string holding one (the form Elasticsearch's
// role API also takes) is still read, so a resource written by an older
// schema cannot wedge the controller.
func parseQuery(raw []byte) (map[string]any, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) > 0 && raw[0] == '"' {
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return nil, &InvalidSpecError{Msg: fmt.Sprintf("%s is not a valid JSON string: %v", fieldQuery, err)}
		}
		raw = []byte(s)
	}
	var q map[string]any
	if err := json.Unmarshal(raw, &q); err != nil || q == nil {
		// The JSON error would quote the query back; the field is enough.
		return nil, &InvalidSpecError{Msg: fmt.Sprintf("%s must be a query DSL object, or a string holding one, such as {\"term\":{\"team\":\"a\"}}", fieldQuery)}
	}
	return q, nil
}

func anyList(in []string) []any {
	out := make([]any, len(in))
	for i, s := range in {
		out[i] = s
	}
	return out
}

// RemoteRef is the remote cluster a RemoteClusterEntry in ns points at.
func RemoteRef(p eckv1alpha1.RemoteClusterEntryParameters, ns string) types.NamespacedName {
	return Ref(p.RemoteElasticsearchRef, ns)
}
