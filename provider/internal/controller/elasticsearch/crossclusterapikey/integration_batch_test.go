package crossclusterapikey

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	xpv2 "github.com/crossplane/crossplane/apis/v2/core/v2"

	esv1alpha1 "github.com/eslink/eslink/apis/elasticsearch/v1alpha1"
	"github.com/eslink/eslink/provider/internal/controller/controllertest"
	"github.com/eslink/eslink/test/fakeelasticsearch/esfake"
)

// batchKeys and batchPoll size TestIntegrationBatchedObservation: long
// enough a poll that every resource reconciles within one.
const (
	batchKeys = 50
	batchPoll = 3 * time.Second
)

// TestIntegrationBatchedObservation: with many keys on one remote, the
// provider reads them together, once per poll interval, and a remote that
// fails costs one request per interval, every resource saying why.
func TestIntegrationBatchedObservation(t *testing.T) {
	ctx := context.Background()
	c := startProviderPolling(t, batchPoll)
	srv := newFakeES(t, esfake.Options{})
	ns := c.namespace(t, "batch")
	c.endpointConfig(t, ns, "es", srv, itUser, itPass)
	for i := range batchKeys {
		c.create(t, ownedKey(ns, fmt.Sprintf("link-%02d", i), "es"))
	}
	list := func() []esv1alpha1.CrossClusterAPIKey {
		t.Helper()
		l := &esv1alpha1.CrossClusterAPIKeyList{}
		if err := c.kube.List(ctx, l, client.InNamespace(ns)); err != nil {
			t.Fatal(err)
		}
		return l.Items
	}
	// count returns how many resources have cond, and one that has not.
	count := func(cond func(r, s xpv2.Condition) bool) (int, string) {
		n, other := 0, ""
		for _, cr := range list() {
			r, s := controllertest.Condition(cr.Status.Conditions, xpv2.TypeReady), controllertest.Condition(cr.Status.Conditions, xpv2.TypeSynced)
			if cond(r, s) {
				n++
			} else {
				other = fmt.Sprintf("%s: Ready=%s %s, Synced=%s %s", cr.Name, r.Status, r.Reason, s.Status, s.Message)
			}
		}
		return n, other
	}
	controllertest.WaitFor(t, fmt.Sprintf("%d keys Ready and Synced", batchKeys), func() (bool, string) {
		n, other := count(func(r, s xpv2.Condition) bool {
			return r.Status == corev1.ConditionTrue && s.Status == corev1.ConditionTrue
		})
		return n == batchKeys, fmt.Sprintf("%d ready; %s", n, other)
	})

	t.Run("OneQueryPerPoll", func(t *testing.T) {
		// Settled: a whole poll with no write and nothing but queries.
		controllertest.WaitFor(t, "steady state", func() (bool, string) {
			srv.ResetRequests()
			before := len(c.writes.Snapshot())
			controllertest.WaitFor(t, "two queries", func() (bool, string) {
				n := srv.Counts()[queryEndpoint]
				return n >= 2, fmt.Sprintf("%d queries", n)
			})
			n := srv.Counts()[queryEndpoint]
			return len(srv.Requests()) == n && len(c.writes.Snapshot()) == before, fmt.Sprintf("requests %v", srv.Counts())
		})
		srv.ResetRequests()
		start := time.Now()
		controllertest.WaitFor(t, "four queries", func() (bool, string) {
			n := srv.Counts()[queryEndpoint]
			return n >= 4, fmt.Sprintf("%d queries", n)
		})
		elapsed := time.Since(start)
		reqs := srv.Requests()
		for _, r := range reqs {
			if r.Endpoint != queryEndpoint {
				t.Errorf("steady state sent %s %s, want only the query for the remote's keys", r.Method, r.Path)
			}
		}
		// Three whole intervals lie between the first and the fourth query;
		// any per-key read would make it dozens.
		if span := reqs[3].Time.Sub(reqs[0].Time); span < 3*batchPoll-batchPoll/2 {
			t.Errorf("4 queries within %s, want one per poll interval (%s)", span, batchPoll)
		}
		t.Logf("%d keys on one remote: %d requests in %s (poll %s), all %s", batchKeys, len(reqs), elapsed.Round(time.Millisecond), batchPoll, queryEndpoint)
	})

	t.Run("RemoteFails", func(t *testing.T) {
		srv.InjectFault(esfake.Fault{Method: http.MethodPost, PathPrefix: "/_security/_query/api_key", Status: http.StatusServiceUnavailable})
		srv.ResetRequests()
		controllertest.WaitFor(t, fmt.Sprintf("%d keys not Synced, saying the remote failed", batchKeys), func() (bool, string) {
			n, other := count(func(_, s xpv2.Condition) bool {
				return s.Status == corev1.ConditionFalse && strings.Contains(s.Message, "HTTP 503")
			})
			return n == batchKeys, fmt.Sprintf("%d not synced; %s", n, other)
		})
		allFailed := time.Now()
		reqs := srv.Requests()
		if len(reqs) == 0 {
			t.Fatal("no request reached the remote")
		}
		for _, r := range reqs {
			if r.Endpoint != queryEndpoint || r.Status != http.StatusServiceUnavailable {
				t.Errorf("while failing the provider sent %s %s (%d), want only the failing query", r.Method, r.Path, r.Status)
			}
		}
		// One failed request per interval since the first.
		polls := 1 + int(allFailed.Sub(reqs[0].Time)/batchPoll)
		if len(reqs) > polls {
			t.Errorf("%d failed requests within %d poll intervals, want at most one per interval", len(reqs), polls)
		}
		t.Logf("%d keys not Synced after %d failed request(s) in %s (poll %s)", batchKeys, len(reqs), allFailed.Sub(reqs[0].Time).Round(time.Millisecond), batchPoll)
		for _, cr := range list() {
			if s := controllertest.Condition(cr.Status.Conditions, xpv2.TypeSynced); strings.Contains(s.Message, itPass) {
				t.Errorf("%s: Synced message holds the password: %q", cr.Name, s.Message)
			}
		}
	})

	// Recovered, and cleaned up: every key is invalidated.
	srv.ClearFaults()
	for _, cr := range list() {
		if err := c.kube.Delete(ctx, &cr); err != nil {
			t.Fatal(err)
		}
	}
	controllertest.WaitFor(t, "every resource gone", func() (bool, string) {
		n := len(list())
		return n == 0, fmt.Sprintf("%d left", n)
	})
	for _, k := range srv.Keys() {
		if !k.Invalidated {
			t.Errorf("key %s (%s) is still valid after its resource was deleted", k.ID, k.Name)
		}
	}
}
