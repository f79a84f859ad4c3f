package crossclusterapikey

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/crossplane/crossplane-runtime/v2/pkg/meta"
	xpv2 "github.com/crossplane/crossplane/apis/v2/core/v2"

	"github.com/eslink/eslink/provider/internal/controller/controllertest"
	"github.com/eslink/eslink/provider/internal/faultpoint"
	e2eharness "github.com/eslink/eslink/test/e2e/harness"
	"github.com/eslink/eslink/test/fakeelasticsearch/esfake"
)

// crashWait bounds how long a provider process may take to reach a fault
// point, and the restarted one to recover.
const crashWait = 90 * time.Second

// TestCrashRecovery runs the provider binary, makes it die at each fault
// point of an owned key's create, rotation and delete, restarts it, and
// checks the end state: exactly one valid key, held whole by the connection
// Secret and recorded as external name, or after a delete no valid key and
// no Secret.
func TestCrashRecovery(t *testing.T) {
	started := time.Now()
	e := controlPlane(t)
	kube, err := client.New(e.Config, client.Options{Scheme: e.Scheme})
	if err != nil {
		t.Fatal(err)
	}
	c := &cluster{kube: kube, writes: &controllertest.WriteLog{}, logs: &syncBuffer{}}
	dir := t.TempDir()
	bin := filepath.Join(dir, "provider")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	if err := e2eharness.BuildBinary(ctx, "./provider/cmd/provider", bin, faultpoint.BuildTag); err != nil {
		t.Fatal(err)
	}
	t.Logf("built the provider in %s", time.Since(started).Round(time.Second))
	kc, err := e2eharness.Kubeconfig(e.Config)
	if err != nil {
		t.Fatal(err)
	}
	kcPath := filepath.Join(dir, "kubeconfig")
	if err := os.WriteFile(kcPath, kc, 0o600); err != nil {
		t.Fatal(err)
	}
	run := func(t *testing.T, name, fault string) *e2eharness.Process {
		t.Helper()
		var env []string
		if fault != "" {
			env = []string{faultpoint.EnvVar + "=" + fault}
		}
		p, err := e2eharness.StartProcess(context.Background(), dir, name, bin, env,
			"--kubeconfig", kcPath, "--poll", "1s", "--min-key-lifetime", "1m", "--debug",
			"--metrics-bind-address", "0", "--health-probe-bind-address", "0")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			p.Stop()
			if t.Failed() {
				t.Logf("%s log:\n%s", name, tail(p.Log(), 6000))
			}
		})
		return p
	}

	for i, step := range FaultPoints {
		t.Run(step, func(t *testing.T) {
			stepStart := time.Now()
			phase, _, _ := strings.Cut(step, "/")
			srv := newFakeES(t, esfake.Options{})
			ns := c.namespace(t, "crash")
			c.endpointConfig(t, ns, "es", srv, itUser, itPass)
			cr := ownedKey(ns, "orders", "es")
			cr.Spec.ForProvider.Expiration = ptr("1h")
			cr.Spec.ForProvider.RotateBefore = ptr("30m")
			if phase == "rotate" {
				// Keys made now expire in 15 minutes: due for rotation at once.
				srv.SetClock(func() time.Time { return time.Now().Add(-45 * time.Minute) })
			}

			crashing := run(t, fmt.Sprintf("provider-%d-crashing", i), step)
			c.create(t, cr)
			if phase == "delete" {
				c.waitReady(t, ns, "orders")
				if err := c.kube.Delete(context.Background(), c.get(t, ns, "orders")); err != nil {
					t.Fatal(err)
				}
			}
			code, exited := crashing.Wait(crashWait)
			if !exited || code != faultpoint.ExitCode {
				t.Fatalf("the provider did not die at %s: exited %v, status %d", step, exited, code)
			}
			srv.SetClock(time.Now)
			run(t, fmt.Sprintf("provider-%d-restarted", i), "")

			if phase == "delete" {
				c.waitGone(t, ns, "orders")
				if got := activeKeys(srv, time.Now()); len(got) != 0 {
					t.Errorf("valid keys after delete: %v, want none", got)
				}
				if id := c.secretKey(t, ns, "orders-key"); id != "" {
					t.Errorf("the connection Secret still holds key %s", id)
				}
				t.Logf("%s: recovered, %s in all", step, time.Since(stepStart).Round(time.Millisecond))
				return
			}
			var id string
			controllertest.WaitFor(t, "one valid key, held by the Secret and recorded, not due for rotation", func() (bool, string) {
				cr := c.get(t, ns, "orders")
				ready := controllertest.Condition(cr.Status.Conditions, xpv2.TypeReady).Status == corev1.ConditionTrue
				id = c.secretKey(t, ns, "orders-key")
				active := activeKeys(srv, time.Now())
				nr := cr.Status.AtProvider.NextRotation
				ok := ready && id != "" && meta.GetExternalName(cr) == id && len(active) == 1 && active[0] == id && nr != nil && nr.After(time.Now())
				return ok, fmt.Sprintf("ready %v, Secret %q, external name %q, active %v, next rotation %v", ready, id, meta.GetExternalName(cr), active, nr)
			})
			// Steady: nothing changes over further polls.
			before := len(srv.Keys())
			from := srv.Counts()["POST /_security/_query/api_key"]
			controllertest.WaitFor(t, "three more polls", func() (bool, string) {
				n := srv.Counts()["POST /_security/_query/api_key"] - from
				return n >= 3, fmt.Sprintf("%d polls", n)
			})
			if n := len(srv.Keys()); n != before || c.secretKey(t, ns, "orders-key") != id {
				t.Errorf("keys kept changing after recovery: %d keys, then %d", before, n)
			}
			t.Logf("%s: recovered to key %s (%d keys made in all), %s in all", step, id, len(srv.Keys()), time.Since(stepStart).Round(time.Millisecond))

			// Leave nothing for the next step's provider to reconcile.
			if err := c.kube.Delete(context.Background(), c.get(t, ns, "orders")); err != nil {
				t.Fatal(err)
			}
			c.waitGone(t, ns, "orders")
			if got := activeKeys(srv, time.Now()); len(got) != 0 {
				t.Errorf("valid keys after delete: %v, want none", got)
			}
			if err := c.kube.Get(context.Background(), types.NamespacedName{Namespace: ns, Name: "orders-key"}, &corev1.Secret{}); client.IgnoreNotFound(err) != nil || err == nil {
				t.Errorf("connection Secret after delete: %v, want not found", err)
			}
		})
	}
	t.Logf("%d fault points in %s", len(FaultPoints), time.Since(started).Round(time.Second))
}
