package e2e

import (
	"context"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/eslink/eslink/test/e2e/harness"
)

// TestRealECKClusters runs ECK's real operator (3.5.0) against the API
// server: it creates two Elasticsearch clusters, and ECK brings both to
// phase Ready through kube-controller-manager's StatefulSet controller,
// the kubelet stand-in and one fake Elasticsearch node per Pod, after
// starting its enterprise trial on them.
func TestRealECKClusters(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	start := time.Now()
	eck, err := harness.StartRealECK(ctx, harness.RealECKOptions{
		Namespaces: []string{harness.LocalNamespace, harness.RemoteNamespace},
		Progress:   t.Logf, Log: t.Logf,
	})
	if err != nil {
		t.Fatal(err)
	}
	defer eck.Stop()
	clusters := []struct{ ns, name string }{{harness.LocalNamespace, harness.LocalName}, {harness.RemoteNamespace, harness.RemoteName}}
	t.Logf("started in %s", time.Since(start).Round(100*time.Millisecond))
	defer func() {
		if t.Failed() {
			t.Logf("operator and controller manager logs:\n%s", eck.LogTails())
			for _, c := range clusters {
				t.Logf("requests to %s/%s:\n%s", c.ns, c.name, eck.RequestSummary(c.ns, c.name))
			}
		}
	}()

	for _, c := range clusters {
		if err := eck.CreateElasticsearch(ctx, c.ns, c.name, harness.Version, 1, nil); err != nil {
			t.Fatal(err)
		}
	}
	created := time.Now()
	for _, c := range clusters {
		if err := eck.WaitPhase(ctx, c.ns, c.name, "Ready", 4*time.Minute); err != nil {
			t.Fatal(err)
		}
		t.Logf("Elasticsearch %s/%s Ready %s after creation", c.ns, c.name, time.Since(created).Round(100*time.Millisecond))
	}

	for _, c := range clusters {
		st, err := eck.Elasticsearch(ctx, c.ns, c.name)
		if err != nil {
			t.Fatal(err)
		}
		if st.Health != "green" {
			t.Errorf("%s/%s health %q, want green", c.ns, c.name, st.Health)
		}
		// ECK's own objects, from the operator.
		var sset appsv1.StatefulSet
		if err := eck.Kube.Get(ctx, client.ObjectKey{Namespace: c.ns, Name: c.name + "-es-default"}, &sset); err != nil {
			t.Errorf("ECK's StatefulSet: %v", err)
		}
		var lic corev1.Secret
		if err := eck.Kube.Get(ctx, client.ObjectKey{Namespace: c.ns, Name: c.name + "-es-license"}, &lic); err != nil {
			t.Errorf("ECK's license Secret for the enterprise trial: %v", err)
		}
		pod := c.name + "-es-default-0"
		node, ok := eck.Nodes.Node(c.ns, pod)
		if !ok {
			t.Fatalf("no fake node runs Pod %s/%s", c.ns, pod)
		}
		// What ECK asked the node: its health, and the trial it started.
		counts := node.Server.Counts()
		for _, want := range []string{"GET /_cluster/health", "POST /_license/start_trial"} {
			if counts[want] == 0 {
				t.Errorf("node %s/%s: ECK never called %s; it called %v", c.ns, pod, want, counts)
			}
		}
	}
	for _, c := range clusters {
		cl, _ := eck.Nodes.Cluster(c.ns, c.name)
		for _, r := range cl.Requests() {
			if r.Endpoint == "unknown" {
				t.Errorf("ECK called %s %s on %s/%s, which the fake does not implement", r.Method, r.Path, c.ns, c.name)
			}
		}
	}
	t.Logf("ECK restarted Pods %d times (kubelet stand-in's count: %v)", total(eck.Kubelet.Restarts()), eck.Kubelet.Restarts())
}

// total sums restarts by Pod.
func total(restarts map[string]int) int {
	n := 0
	for _, r := range restarts {
		n += r
	}
	return n
}
