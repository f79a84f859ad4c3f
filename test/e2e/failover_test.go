package e2e

import (
	"testing"
	"time"

	"github.com/eslink/eslink/test/e2e/harness"
)

// TestFailover runs the provider as two replicas with leader election, as
// a Deployment with two replicas does, and kills the leader with SIGKILL
// while links of every flow are Ready: the other replica takes the Lease
// once it expires and carries on, every link stays Ready, and nothing is
// written again: no key created or invalidated, no Secret rewritten, no
// Elasticsearch spec written.
func TestFailover(t *testing.T) {
	h := startHarnessWith(t, harness.Options{LeaderElection: true})
	links := everyFlow(t, h)

	leader := h.InstalledProvider()
	if !leader.Leading() {
		t.Fatalf("the installed provider did not acquire the Lease %s (log %s)", harness.ProviderLeaseName, leader.LogPath())
	}
	standby, err := h.StartProviderReplica(t.Context(), "provider-standby")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("standby provider log:\n%s", tail(standby.Log(), 12000))
		}
		standby.Stop()
	})
	lease, err := h.ProviderLease(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	holder := *lease.Spec.HolderIdentity
	// The standby is ready but waits: it must not reconcile while the
	// leader renews.
	time.Sleep(2 * time.Duration(*lease.Spec.LeaseDurationSeconds) * time.Second / 3)
	if standby.Leading() {
		t.Fatalf("the standby acquired the Lease while the leader %s held it", holder)
	}
	before := snapshot(t, h)
	w := watchReady(t, h, links)

	killed := time.Now()
	if err := leader.Kill(); err != nil {
		t.Fatal(err)
	}
	var took time.Duration
	for {
		l, err := h.ProviderLease(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		if l.Spec.HolderIdentity != nil && *l.Spec.HolderIdentity != holder && standby.Leading() {
			took = time.Since(killed)
			break
		}
		if time.Since(killed) > 2*time.Minute {
			t.Fatalf("no replica took the Lease within 2m of killing its holder %s (holder now %v)", holder, l.Spec.HolderIdentity)
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Logf("the standby took over %s after the leader was killed (lease duration %ds)", took.Round(100*time.Millisecond), *lease.Spec.LeaseDurationSeconds)

	if err := h.AwaitControllers(t.Context(), standby); err != nil {
		t.Fatal(err)
	}
	// The new leader reads every managed resource and polls each once per
	// --poll: a few polls later, anything it would redo has been redone.
	waitPolls(t)
	w.check(t, "while the leader was killed and the standby took over")
	before.unchanged(t, snapshot(t, h), "when the standby took over")
}
