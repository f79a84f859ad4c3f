package remoteclusterentry

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/util/retry"

	"github.com/eslink/eslink/internal/eckschema"
	"github.com/eslink/eslink/provider/internal/clients/eck"
	"github.com/eslink/eslink/provider/internal/controller/conditions"
)

// maxCoalescedWrites is "a handful": the Updates 50 entries created at once
// may cost their shared object.
const maxCoalescedWrites = 6

// TestCoalescedEntries: 50 entries on one Elasticsearch object, created at
// once while someone else keeps writing the object, reach it in a handful
// of Updates; a conflict retries the batch on a fresh read, so no entry and
// no change of the other writer is lost, and each resource learns its own
// outcome (Ready, or the conflict it met).
func TestCoalescedEntries(t *testing.T) {
	const n = 50
	h := start(t, n)
	ns := h.Namespace(t, "team")
	h.Elasticsearch(t, ns, "c1", "9.3.2", nil, map[string]any{"remoteClusters": []any{handEntry(ns)}})
	h.Elasticsearch(t, ns, "c2", "9.3.2", nil, nil)
	name := func(i int) string { return fmt.Sprintf("link-%02d", i) }

	// Another writer of the object (ECK, a person) changes it now and
	// then, so that batches meet conflicts.
	ctx, stop := context.WithCancel(context.Background())
	var other sync.WaitGroup
	bumps := 0
	other.Go(func() {
		for ctx.Err() == nil {
			err := retry.RetryOnConflict(retry.DefaultBackoff, func() error {
				es := eckschema.NewElasticsearch()
				if err := h.Kube.Get(ctx, types.NamespacedName{Namespace: ns, Name: "c1"}, es); err != nil {
					return err
				}
				a := es.GetAnnotations()
				if a == nil {
					a = map[string]string{}
				}
				a["example.com/bumped"] = fmt.Sprint(bumps + 1)
				es.SetAnnotations(a)
				return h.Kube.Update(ctx, es)
			})
			if err == nil {
				bumps++
			}
			time.Sleep(250 * time.Millisecond)
		}
	})

	before := len(h.Log.Snapshot())
	var wg sync.WaitGroup
	for i := range n {
		alias := fmt.Sprintf("alias-%02d", i)
		if i == n-1 {
			// Taken by the entry written by hand: this one alone fails.
			alias = "by-hand"
		}
		wg.Go(func() {
			h.create(t, newEntry(ns, name(i), alias, ref(ns, "c1"), ref(ns, "c2"), search(fmt.Sprintf("logs-%02d-*", i))))
		})
	}
	wg.Wait()
	for i := range n - 1 {
		h.waitReady(t, ns, name(i), "")
	}
	h.waitReady(t, ns, name(n-1), conditions.ReasonEntryConflict)
	stop()
	other.Wait()

	writes := 0
	target := fmt.Sprintf("%s/c1", ns)
	for _, w := range h.Log.Snapshot()[before:] {
		if strings.HasPrefix(w, "update ") && strings.HasSuffix(w, " "+target) && strings.Contains(w, "Unstructured") {
			writes++
		}
	}
	t.Logf("%d entries reached Elasticsearch %s in %d Updates; %d writes by another writer, %d conflicts retried", n-1, target, writes, bumps, h.Log.Conflicts.Load())
	if writes > maxCoalescedWrites {
		t.Errorf("%d Updates of Elasticsearch %s for %d entries created at once, want at most %d", writes, target, n-1, maxCoalescedWrites)
	}

	es := h.GetES(t, ns, "c1")
	if got := es.GetAnnotations()["example.com/bumped"]; got != fmt.Sprint(bumps) {
		t.Errorf("the other writer's last change is lost: annotation %q, want %d", got, bumps)
	}
	entries, err := eckschema.RemoteClusters(es)
	if err != nil {
		t.Fatal(err)
	}
	owners, err := eck.RemoteClusters.Keys(es)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != n || len(owners) != n-1 {
		t.Errorf("%d entries with %d owners, want the hand-written one and %d owned", len(entries), len(owners), n-1)
	}
	for i := range n - 1 {
		mg := h.get(t, ns, name(i))
		if got := owners[fmt.Sprintf("alias-%02d", i)]; got != string(mg.UID) {
			t.Errorf("alias-%02d is owned by %q, want %s (%s)", i, got, mg.UID, types.NamespacedName{Namespace: ns, Name: name(i)})
		}
	}
}
