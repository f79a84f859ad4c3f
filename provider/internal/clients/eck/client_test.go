package eck

import (
	"context"
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
	kerrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/wait"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"

	"github.com/eslink/eslink/internal/eckschema"
)

func TestMutate(t *testing.T) {
	name := types.NamespacedName{Namespace: "ns1", Name: "c1"}
	conflict := kerrors.NewConflict(schema.GroupResource{Group: "elasticsearch.k8s.elastic.co", Resource: "elasticsearches"}, "c1", errors.New("modified"))
	add := func(es *unstructured.Unstructured) (bool, error) {
		return RemoteClusters.Put(es, "logs", "u1", entry("logs", "c2"))
	}

	cases := map[string]struct {
		conflicts   int // updates that fail with a conflict before one succeeds
		updateErr   error
		missing     bool
		fn          MutateFn
		wantUpdates int
		wantErr     string
		wantEntries []map[string]any
	}{
		"WritesChange": {
			fn: add, wantUpdates: 1,
			wantEntries: []map[string]any{entry("hand", "c9"), entry("logs", "c2")},
		},
		"NoChangeNoWrite": {
			fn:          func(*unstructured.Unstructured) (bool, error) { return false, nil },
			wantEntries: []map[string]any{entry("hand", "c9")},
		},
		"RetriesConflicts": {
			conflicts: 3, fn: add, wantUpdates: 4,
			wantEntries: []map[string]any{entry("hand", "c9"), entry("logs", "c2")},
		},
		"GivesUpAfterBackoff": {
			conflicts: 100, fn: add, wantUpdates: 3,
			wantErr:     "cannot update Elasticsearch ns1/c1: Operation cannot be fulfilled on elasticsearches.elasticsearch.k8s.elastic.co \"c1\": modified",
			wantEntries: []map[string]any{entry("hand", "c9")},
		},
		"FnErrorWritesNothing": {
			fn:          func(*unstructured.Unstructured) (bool, error) { return true, errors.New("denied") },
			wantErr:     "denied",
			wantEntries: []map[string]any{entry("hand", "c9")},
		},
		"Missing": {
			missing: true, fn: add,
			wantErr: "Elasticsearch ns1/c1 (spec.forProvider.elasticsearchRef) not found: create it or fix the reference; eslink never creates Elasticsearch objects",
		},
	}
	for tn, tc := range cases {
		t.Run(tn, func(t *testing.T) {
			updates := 0
			b := fake.NewClientBuilder().WithInterceptorFuncs(interceptor.Funcs{
				Update: func(ctx context.Context, c client.WithWatch, obj client.Object, opts ...client.UpdateOption) error {
					updates++
					if updates <= tc.conflicts {
						return conflict
					}
					return c.Update(ctx, obj, opts...)
				},
			})
			if !tc.missing {
				b = b.WithObjects(object("", entry("hand", "c9")))
			}
			kube := b.Build()
			c := &Client{kube: kube, live: kube, backoff: wait.Backoff{Steps: 3}}
			if tc.conflicts < 100 {
				c.backoff = ConflictBackoff
			}

			_, err := c.Mutate(context.Background(), name, "spec.forProvider.elasticsearchRef", tc.fn)
			gotErr := ""
			if err != nil {
				gotErr = err.Error()
			}
			if gotErr != tc.wantErr {
				t.Fatalf("Mutate: err = %q, want %q", gotErr, tc.wantErr)
			}
			if updates != tc.wantUpdates {
				t.Errorf("Mutate: %d updates, want %d", updates, tc.wantUpdates)
			}
			if tc.missing {
				return
			}
			es := eckschema.NewElasticsearch()
			if err := kube.Get(context.Background(), name, es); err != nil {
				t.Fatal(err)
			}
			got, _ := eckschema.RemoteClusters(es)
			if diff := cmp.Diff(tc.wantEntries, got); diff != "" {
				t.Errorf("Mutate: entries -want +got:\n%s", diff)
			}
		})
	}
}

func TestRequireAPIKeyVersion(t *testing.T) {
	cases := map[string]struct {
		spec, status string
		wantErr      string
	}{
		"Minimum":   {spec: "8.10.0"},
		"Newer":     {spec: "9.3.2", status: "9.3.2"},
		"TooOld":    {spec: "8.9.3", wantErr: "Elasticsearch ns1/c1 runs 8.9.3, below 8.10.0, the minimum ECK's webhook accepts for spec.remoteClusterServer (Elastic's documentation states 8.14.0); upgrade the cluster first"},
		"Upgrading": {spec: "8.15.0", status: "8.9.0", wantErr: "Elasticsearch ns1/c1 runs 8.9.0, below 8.10.0, the minimum ECK's webhook accepts for spec.remoteClusterServer (Elastic's documentation states 8.14.0); upgrade the cluster first"},
		"NoVersion": {wantErr: "cannot determine the version of Elasticsearch ns1/c1: it has no spec.version"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			es := object("")
			if tc.spec != "" {
				_ = unstructured.SetNestedField(es.Object, tc.spec, "spec", "version")
			}
			if tc.status != "" {
				_ = unstructured.SetNestedField(es.Object, tc.status, "status", "version")
			}
			_, err := RequireAPIKeyVersion(es, "spec.remoteClusterServer")
			gotErr := ""
			if err != nil {
				gotErr = err.Error()
			}
			if gotErr != tc.wantErr {
				t.Errorf("RequireAPIKeyVersion: err = %q, want %q", gotErr, tc.wantErr)
			}
		})
	}
}
