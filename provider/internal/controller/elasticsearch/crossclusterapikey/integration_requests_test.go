package crossclusterapikey

import (
	"fmt"
	"sort"
	"strings"
	"testing"

	xpv2 "github.com/crossplane/crossplane/apis/v2/core/v2"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	commonv1alpha1 "github.com/eslink/eslink/apis/common/v1alpha1"
	esv1alpha1 "github.com/eslink/eslink/apis/elasticsearch/v1alpha1"
	v1alpha1 "github.com/eslink/eslink/apis/v1alpha1"
	"github.com/eslink/eslink/provider/internal/controller/controllertest"
	"github.com/eslink/eslink/test/fakeelasticsearch/esfake"
)

// maxOwnedKeyRequests bounds the API requests of one owned key's life up to
// Ready: the managed reconciler's own (finalizer, create-pending and
// create-succeeded annotations, a status write per reconcile, and its
// publisher's read and creation of the still empty connection Secret after
// the first observation), the provider config usage, one live read of the
// connection Secret before the key exists, the one patch that publishes
// the key into it, and the external name recorded before the reconciler
// records the create: 11, and one more for a status write the reconciler
// retries. It is the budget for a whole link. Events are counted
// apart, and so is the config's count of its users, one write for all the
// usages that came within config.UsageDelay.
const maxOwnedKeyRequests = 12

// TestIntegrationOwnedKeyRequests counts, on the real API server, the
// requests of one owned key's life (create, publish, record, first observe)
// through the provider's own client, and checks that a settled key costs
// the API server no request at all per poll: its connection Secret is read
// from the cache of the provider's Secrets, and the ECK Secrets its client
// is built from are reused.
func TestIntegrationOwnedKeyRequests(t *testing.T) {
	c := startProvider(t)
	const elasticPass = "eck-elastic-pw-9"
	srv := newFakeES(t, esfake.Options{Users: []esfake.User{{Name: "elastic", Password: elasticPass}}})
	ns := c.namespace(t, "requests")
	c.eckCluster(t, ns, "cluster2", nil)
	config := "eck-" + ns
	c.create(t,
		&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "cluster2-es-elastic-user"}, Data: map[string][]byte{"elastic": []byte(elasticPass)}},
		&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "cluster2-es-http-certs-public"}, Data: map[string][]byte{"ca.crt": srv.CACertPEM}},
		&v1alpha1.ClusterProviderConfig{ObjectMeta: metav1.ObjectMeta{Name: config},
			Spec: v1alpha1.ClusterProviderConfigSpec{AllowedNamespaces: []string{"*"}, ECK: &v1alpha1.ECKEndpoint{URLOverride: srv.URL}}},
	)
	key := func(name string) *esv1alpha1.CrossClusterAPIKey {
		cr := ownedKey(ns, name, config)
		cr.Spec.ProviderConfigReference = &xpv2.ProviderConfigReference{Kind: v1alpha1.ClusterProviderConfigKind, Name: config}
		cr.Spec.ForProvider.ElasticsearchRef = &commonv1alpha1.ElasticsearchReference{Name: "cluster2"}
		return cr
	}
	// The config counts its users a while after a usage came: a key's
	// life ends once the config counts it too.
	waitUsers := func(n int64) {
		c.waitUsers(t, &v1alpha1.ClusterProviderConfig{ObjectMeta: metav1.ObjectMeta{Name: config}}, n)
	}
	// The first key starts the informers the others share.
	c.create(t, key("warm-up"))
	c.waitReady(t, ns, "warm-up")
	waitUsers(1)

	before := c.requests.Snapshot()
	c.create(t, key("orders"))
	c.waitReady(t, ns, "orders")
	waitUsers(2)
	life := since(before, c.requests.Snapshot())
	const count = "PUT clusterproviderconfigs/status"
	total, events := 0, 0
	for k, n := range life {
		switch {
		case strings.HasSuffix(k, " events"):
			events += n
		case k != count:
			total += n
		}
	}
	t.Logf("one owned key's life: %d API requests, %d for events and %d for the config's count (shared): %s", total, events, life[count], render(life))
	if life[count] > 1 {
		t.Errorf("the config's count of its users was written %d times for one key, want once", life[count])
	}
	if total > maxOwnedKeyRequests {
		t.Errorf("one owned key's life took %d API requests, want at most %d: %s", total, maxOwnedKeyRequests, render(life))
	}
	if n := life["GET secrets"]; n > 2 {
		t.Errorf("the connection Secret was read %d times from the API server, want at most twice (by Observe before the key exists, and by the reconciler's publisher)", n)
	}

	// Settled: each poll reads the keys from Elasticsearch, and nothing
	// from the API server.
	from := c.requests.Snapshot()
	queries := srv.Counts()[queryEndpoint]
	controllertest.WaitFor(t, "three more polls", func() (bool, string) {
		n := srv.Counts()[queryEndpoint] - queries
		return n >= 3, fmt.Sprintf("%d queries", n)
	})
	if d := since(from, c.requests.Snapshot()); len(d) != 0 {
		t.Errorf("settled keys sent API requests over three polls: %s", render(d))
	}
}

// since returns the counts of after that exceed before.
func since(before, after map[string]int) map[string]int {
	out := map[string]int{}
	for k, n := range after {
		if d := n - before[k]; d > 0 {
			out[k] = d
		}
	}
	return out
}

func render(m map[string]int) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, 0, len(keys))
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%s=%d", k, m[k]))
	}
	return strings.Join(parts, ", ")
}
