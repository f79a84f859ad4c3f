package e2e

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/eslink/eslink/test/e2e/harness"
)

// timeline records, from when it starts, when a link's entry first appears
// on the local cluster and when the link first is Ready, polling faster than
// the waits do, so that the time a link takes to become Ready can be split
// into the simulated ECK's share and the rest.
type timeline struct {
	start                time.Time
	mu                   sync.Mutex
	entrySeen, readySeen time.Time
}

func startTimeline(t *testing.T, h *harness.Harness, link *unstructured.Unstructured, alias string) *timeline {
	t.Helper()
	tl := &timeline{start: time.Now()}
	ctx, cancel := context.WithTimeout(t.Context(), timeout)
	done := make(chan struct{})
	t.Cleanup(func() { cancel(); <-done })
	go func() {
		defer close(done)
		for ctx.Err() == nil {
			now := time.Now()
			tl.mu.Lock()
			needEntry, needReady := tl.entrySeen.IsZero(), tl.readySeen.IsZero()
			tl.mu.Unlock()
			if !needEntry && !needReady {
				return
			}
			if got, err := h.RemoteClusterAliases(ctx, harness.LocalNamespace, harness.LocalName); needEntry && err == nil && slices.Contains(got, alias) {
				tl.mu.Lock()
				tl.entrySeen = now
				tl.mu.Unlock()
			}
			if u, err := h.Get(ctx, link); needReady && err == nil && harness.Ready(u) {
				tl.mu.Lock()
				tl.readySeen = now
				tl.mu.Unlock()
			}
			time.Sleep(50 * time.Millisecond)
		}
	}()
	return tl
}

// report logs how long the link took to become Ready, and that time less
// the simulated ECK's own delay: from the entry appearing on the local
// cluster to ECK's key existing on the remote (created, epoch millis).
func (tl *timeline) report(t *testing.T, created int64) {
	t.Helper()
	tl.mu.Lock()
	defer tl.mu.Unlock()
	if tl.entrySeen.IsZero() || tl.readySeen.IsZero() {
		t.Logf("flow 1 link: Ready or entry not seen by the timeline (entry %v, ready %v)", tl.entrySeen, tl.readySeen)
		return
	}
	total := tl.readySeen.Sub(tl.start)
	eck := max(time.UnixMilli(created).Sub(tl.entrySeen), 0)
	t.Logf("flow 1 link: Ready %.2fs after apply; the simulated ECK took %.2fs of it, from the entry on the local cluster to the key on the remote; %.2fs without it",
		total.Seconds(), eck.Seconds(), (total - eck).Seconds())
}
