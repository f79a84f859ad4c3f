package crossclusterapikey

import (
	"context"
	"sort"
	"testing"

	xpv2 "github.com/crossplane/crossplane/apis/v2/core/v2"
	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/util/workqueue"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"github.com/crossplane/crossplane-runtime/v2/pkg/logging"

	"github.com/eslink/eslink/apis"
	commonv1alpha1 "github.com/eslink/eslink/apis/common/v1alpha1"
	esv1alpha1 "github.com/eslink/eslink/apis/elasticsearch/v1alpha1"
	v1alpha1 "github.com/eslink/eslink/apis/v1alpha1"
	"github.com/eslink/eslink/internal/eckschema"
)

// TestWatchesMapChanges: a change reaches the keys it concerns through the
// indexes, and no others.
func TestWatchesMapChanges(t *testing.T) {
	s := runtime.NewScheme()
	if err := apis.AddToScheme(s); err != nil {
		t.Fatal(err)
	}
	key := func(ns, name, keyName string, target *commonv1alpha1.ElasticsearchReference, pc string) *esv1alpha1.CrossClusterAPIKey {
		k := &esv1alpha1.CrossClusterAPIKey{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}}
		k.Spec.ForProvider.Name = keyName
		k.Spec.ForProvider.ElasticsearchRef = target
		k.Spec.ProviderConfigReference = &xpv2.ProviderConfigReference{Kind: v1alpha1.ClusterProviderConfigKind, Name: pc}
		return k
	}
	remote := &commonv1alpha1.ElasticsearchReference{Namespace: "ns2", Name: "cluster2"}
	fixed := &v1alpha1.ClusterProviderConfig{ObjectMeta: metav1.ObjectMeta{Name: "fixed"}}
	fixed.Spec.ECK = &v1alpha1.ECKEndpoint{ElasticsearchRef: &commonv1alpha1.ElasticsearchReference{Namespace: "ns2", Name: "cluster2"}}
	b := fake.NewClientBuilder().WithScheme(s).WithObjects(
		key("team-a", "logs", "eck-ns1-cluster1-logs", remote, "eck"),
		key("team-a", "metrics", "eck-ns1-cluster1-metrics", remote, "eck"),
		key("team-b", "by-config", "eslink-team-b-x-x", nil, "fixed"),
		key("team-b", "elsewhere", "eck-ns1-cluster1-other", &commonv1alpha1.ElasticsearchReference{Name: "cluster3"}, "eck"),
		fixed,
	)
	for _, i := range indexes {
		b = b.WithIndex(i.obj, i.field, i.fn)
	}
	d := &dependents{cache: b.Build(), log: logging.NewNopLogger()}

	cases := map[string]struct {
		run  func(context.Context, queue)
		want []string
	}{
		"ElasticsearchObject": {
			run: func(ctx context.Context, q queue) {
				es := eckschema.NewElasticsearch()
				es.SetNamespace("ns2")
				es.SetName("cluster2")
				d.target(ctx, q, es)
			},
			want: []string{"team-a/logs", "team-a/metrics", "team-b/by-config"},
		},
		"ECKRecordsAKey": {
			run: func(ctx context.Context, q queue) {
				d.eckKeys(ctx, q, keystore(`{"metrics":{"namespace":"ns2","name":"cluster2","id":"k1"}}`),
					keystore(`{"metrics":{"namespace":"ns2","name":"cluster2","id":"k1"},"logs":{"namespace":"ns2","name":"cluster2","id":"k2"}}`))
			},
			want: []string{"team-a/logs"},
		},
		"ECKRemovesAKey": {
			run: func(ctx context.Context, q queue) {
				d.eckKeys(ctx, q, keystore(`{"metrics":{"namespace":"ns2","name":"cluster2","id":"k1"}}`), nil)
			},
			want: []string{"team-a/metrics"},
		},
		"DamagedRecord": {
			run:  func(ctx context.Context, q queue) { d.eckKeys(ctx, q, nil, keystore(`{`)) },
			want: nil,
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			q := workqueue.NewTypedRateLimitingQueue(workqueue.DefaultTypedControllerRateLimiter[reconcile.Request]())
			defer q.ShutDown()
			tc.run(context.Background(), q)
			var got []string
			for q.Len() > 0 {
				r, _ := q.Get()
				got = append(got, r.String())
				q.Done(r)
			}
			sort.Strings(got)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("enqueued: -want +got:\n%s", diff)
			}
		})
	}
}

// keystore is ECK's keystore Secret of ns1/cluster1 as the metadata watch
// sees it.
func keystore(records string) client.Object {
	return &metav1.PartialObjectMetadata{ObjectMeta: metav1.ObjectMeta{
		Namespace: "ns1", Name: "cluster1" + eckschema.ECKRemoteAPIKeysSecretSuffix,
		Labels:      map[string]string{eckschema.LabelECKType: eckschema.ECKTypeRemoteAPIKeys, eckschema.LabelECKClusterName: "cluster1"},
		Annotations: map[string]string{eckschema.AnnotationECKRemoteAPIKeys: records},
	}}
}
