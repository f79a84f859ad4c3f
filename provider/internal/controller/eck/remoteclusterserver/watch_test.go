package remoteclusterserver

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	xpv2 "github.com/crossplane/crossplane/apis/v2/core/v2"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/eslink/eslink/internal/linkrules"
	"github.com/eslink/eslink/provider/internal/controller/eck/ecktest"
	"github.com/eslink/eslink/test/controlplane"
)

// TestWatchRestoresClaim: with a poll longer than the test, only the watch
// on the Elasticsearch object can notice that the server was turned off and
// the claim removed by hand, and restore both.
func TestWatchRestoresClaim(t *testing.T) {
	h := &harness{ecktest.StartPolling(t, 2, time.Hour, Setup)}
	ns := h.Namespace(t, "watch")
	h.Elasticsearch(t, ns, "c2", "9.3.2", nil, nil)
	h.create(t, newServer(ns, "srv", ref(ns, "c2"), false))
	mg := h.waitReady(t, ns, "srv", "")

	es := h.GetES(t, ns, "c2")
	if err := controlplane.Update(context.Background(), h.Kube, es, func() error {
		es.SetAnnotations(nil)
		return unstructured.SetNestedField(es.Object, false, "spec", "remoteClusterServer", "enabled")
	}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the claim restored", func() (bool, string) {
		es := h.GetES(t, ns, "c2")
		_, claimed := claims(t, es)[string(mg.UID)]
		return claimed && linkrules.RemoteClusterServerEnabled(es), fmt.Sprintf("%v %v", es.GetAnnotations(), serverSpec(es))
	})
}

// TestRepairReportedFromLaggingCache: the Elasticsearch event of eslink's
// own repair can start the next reconcile before the controllers' cache has
// seen the status the repairing reconcile wrote ("disabled: eslink enables
// it again"). That reconcile reads the older copy, computes Available as
// that copy says, and must still get Available to the API server before
// the next poll: a link's status never lags a repaired part by more than
// one poll. The poll here is longer than the test, so only the reconcile
// the repair triggers can do it.
func TestRepairReportedFromLaggingCache(t *testing.T) {
	h := &harness{ecktest.StartPolling(t, 1, time.Hour, Setup)}
	ns := h.Namespace(t, "lag")
	h.Elasticsearch(t, ns, "c2", "9.3.2", nil, nil)
	h.create(t, newServer(ns, "srv", ref(ns, "c2"), false))
	mg := h.waitReady(t, ns, "srv", "")

	// From here on the controller reads the server as it is now: Available.
	release := h.Lag(t, mg)
	sent := len(h.Log.StatusUpdates(ns, "srv"))
	es := h.GetES(t, ns, "c2")
	if err := controlplane.Update(context.Background(), h.Kube, es, func() error {
		return unstructured.SetNestedField(es.Object, false, "spec", "remoteClusterServer", "enabled")
	}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the repair reported and then reconciled from the lagging copy", func() (bool, string) {
		updates := h.Log.StatusUpdates(ns, "srv")[sent:]
		repairing := slices.IndexFunc(updates, func(u ecktest.StatusUpdate) bool { return u.Applied && u.Ready == corev1.ConditionFalse })
		return repairing >= 0 && slices.ContainsFunc(updates[repairing+1:], func(u ecktest.StatusUpdate) bool { return u.Ready == corev1.ConditionTrue }),
			fmt.Sprintf("status updates since the server was disabled: %+v; server enabled: %v", updates, linkrules.RemoteClusterServerEnabled(h.GetES(t, ns, "c2")))
	})
	if c := condition(h.get(t, ns, "srv").Status.Conditions, xpv2.TypeReady); c.Status != corev1.ConditionFalse || !strings.Contains(c.Message, "eslink enables it again") {
		t.Fatalf("Ready after the repair, before the cache caught up: %+v, want False saying eslink enables the server again", c)
	}

	// The cache catches up; a change of status alone triggers no
	// reconcile, so what the lagging reconcile did decides.
	release()
	h.waitReady(t, ns, "srv", "")
}
