package kube

import (
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	xpv2 "github.com/crossplane/crossplane/apis/v2/core/v2"

	"github.com/eslink/eslink/apis"
	eckv1alpha1 "github.com/eslink/eslink/apis/eck/v1alpha1"
	"github.com/eslink/eslink/test/controlplane"
)

type countingTransport struct {
	http.RoundTripper
	statusWrites *atomic.Int64
}

func (t *countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Method == http.MethodPut && strings.HasSuffix(r.URL.Path, "/status") {
		t.statusWrites.Add(1)
	}
	return t.RoundTripper.RoundTrip(r)
}

func TestSkipUnchangedStatus(t *testing.T) {
	env := controlplane.New(t, controlplane.WithScheme(apis.AddToScheme))
	ctx := t.Context()
	var writes atomic.Int64
	cfg := rest.CopyConfig(env.Config)
	cfg.WrapTransport = func(rt http.RoundTripper) http.RoundTripper {
		return &countingTransport{RoundTripper: rt, statusWrites: &writes}
	}
	c, err := NewClient(cfg, client.Options{Scheme: env.Scheme})
	if err != nil {
		t.Fatal(err)
	}

	mg := &eckv1alpha1.RemoteClusterServer{}
	mg.SetNamespace("default")
	mg.SetName("skip-unchanged")
	mg.Spec.ForProvider.ElasticsearchRef.Name = "c2"
	if err := c.Create(ctx, mg); err != nil {
		t.Fatal(err)
	}
	mg.SetConditions(xpv2.Available())
	if err := c.Status().Update(ctx, mg); err != nil {
		t.Fatal(err)
	}
	if got := writes.Load(); got != 1 {
		t.Fatalf("a changed status: %d status writes, want 1", got)
	}

	// The reconciler sets the same condition again on every poll.
	mg.SetConditions(xpv2.Available())
	if err := c.Status().Update(ctx, mg); err != nil {
		t.Fatal(err)
	}
	if got := writes.Load(); got != 1 {
		t.Errorf("an unchanged status: %d status writes, want still 1", got)
	}

	// Read at an older resourceVersion: written, and the API server
	// answers with a conflict as it would without the wrapper.
	stale := mg.DeepCopy()
	mg.Status.AtProvider.Claims = 1
	if err := c.Status().Update(ctx, mg); err != nil {
		t.Fatal(err)
	}
	if err := c.Status().Update(ctx, stale); err == nil {
		t.Error("an update from a stale read: no conflict")
	}
	if got := writes.Load(); got != 3 {
		t.Errorf("a changed status and a stale one: %d status writes in all, want 3", got)
	}
}
