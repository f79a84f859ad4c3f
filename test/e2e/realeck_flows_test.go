package e2e

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/eslink/eslink/test/e2e/harness"
)

// realECK is the installation the tests on ECK's real operator share:
// Crossplane core, eslink's packages and ECK 3.5.0 deploying the example
// clusters. Started by the first test that needs it, stopped by TestMain.
var realECK struct {
	once sync.Once
	h    *harness.Harness
	err  error
	log  logBuffer
}

// realECKHarness returns the shared installation on ECK's real operator.
func realECKHarness(t *testing.T) *harness.Harness {
	t.Helper()
	realECK.once.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
		defer cancel()
		realECK.h, realECK.err = harness.Start(ctx, harness.Options{
			RealECK:    true,
			Progress:   func(f string, a ...any) { t.Logf(f, a...) },
			Log:        realECK.log.Printf,
			FailureLog: func(logs string) { t.Log(logs) },
		})
	})
	if realECK.err != nil {
		t.Fatal(realECK.err)
	}
	h := realECK.h
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("provider log:\n%s", tail(h.ProviderLog(), 12000))
			t.Logf("Crossplane log:\n%s", tail(h.CrossplaneLog(), 6000))
			t.Logf("ECK operator and kubelet stand-in:\n%s\n%s", tail(h.ECKOperator.LogTails(), 12000), tail(realECK.log.String(), 6000))
		}
	})
	return h
}

// TestFlow1RealECK runs flow 1 through ECK's real operator: the team's
// link makes eslink enable cluster2's remote cluster server and write
// cluster1's remote cluster entry, and ECK itself creates the key
// eck-ns1-cluster1-logs on cluster2, writes cluster1-es-remote-api-keys,
// restarts cluster1's Pods and sets the seeds; the link becomes Ready.
func TestFlow1RealECK(t *testing.T) {
	h := realECKHarness(t)
	eck := h.ECKOperator
	link := harness.Link(harness.TeamNamespace, "orders-to-logs", false, flow1Spec("logs", "logs-*"))
	before := total(eck.Kubelet.Restarts())
	start := time.Now()
	create(t, h, link)
	got, err := h.WaitFor(t.Context(), link, 6*time.Minute, "Ready", harness.Ready)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("link Ready %s after it was applied; ECK restarted Pods %d times for it", time.Since(start).Round(100*time.Millisecond), total(eck.Kubelet.Restarts())-before)
	waitECKLink(t.Context(), t, eck, "logs", time.Minute)
	checkECKLink(t.Context(), t, eck, "logs")
	rcl, _ := eck.Nodes.Cluster(harness.RemoteNamespace, harness.RemoteName)
	var keyID string
	for _, k := range rcl.Nodes()[0].Keys() {
		if k.Name == eckKeyName("logs") && !k.Invalidated {
			keyID = k.ID
		}
	}
	if id := statusString(got, "apiKey", "id"); id != keyID {
		t.Errorf("link status.apiKey.id = %q, want the id %q of ECK's key on the remote", id, keyID)
	}
	if !statusConnected(got) {
		t.Error("link status.connected is not true")
	}
	deleteAndWait(t, h, link)
	noUnknownEndpoints(t, eck)
}
