package remoteclusterentry

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/eslink/eslink/internal/eckschema"
	"github.com/eslink/eslink/provider/internal/controller/controllertest"
	"github.com/eslink/eslink/test/controlplane"
)

// TestWatchRestoresEntry: with a poll longer than the test, only the watch
// on the local Elasticsearch object can notice that its entry was removed
// by hand, and put it back.
func TestWatchRestoresEntry(t *testing.T) {
	h := &harness{controllertest.StartPolling(t, 2, time.Hour, Setup)}
	ns := h.Namespace(t, "watch")
	h.Elasticsearch(t, ns, "c1", "9.3.2", nil, nil)
	h.Elasticsearch(t, ns, "c2", "9.3.2", nil, nil)
	h.create(t, newEntry(ns, "logs", "logs", ref(ns, "c1"), ref(ns, "c2"), search("logs-*")))
	h.waitReady(t, ns, "logs", "")

	es := h.GetES(t, ns, "c1")
	if err := controlplane.Update(context.Background(), h.Kube, es, func() error {
		return eckschema.SetRemoteClusters(es, nil)
	}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the entry put back", func() (bool, string) {
		entries := h.remoteClusters(t, ns, "c1")
		return len(entries) == 1 && eckschema.EntryName(entries[0]) == "logs", fmt.Sprintf("%v", entries)
	})
}
