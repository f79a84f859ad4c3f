package e2e

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/eslink/eslink/test/e2e/harness"
	"github.com/eslink/eslink/test/fakeelasticsearch/esfake"
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
	t.Logf("ECK restarted Pods %d times while creating the clusters (kubelet stand-in's count: %v)", total(eck.Kubelet.Restarts()), eck.Kubelet.Restarts())

	t.Run("RemoteClusterWithAPIKey", func(t *testing.T) {
		remoteClusterWithAPIKey(ctx, t, eck)
	})
	noUnknownEndpoints(t, eck.ECKOperator)
}

// noUnknownEndpoints fails the test for every request to either cluster
// that the fake does not implement.
func noUnknownEndpoints(t *testing.T, eck *harness.ECKOperator) {
	t.Helper()
	for _, c := range [][2]string{{harness.LocalNamespace, harness.LocalName}, {harness.RemoteNamespace, harness.RemoteName}} {
		cl, ok := eck.Nodes.Cluster(c[0], c[1])
		if !ok {
			t.Errorf("no node of %s/%s ever started", c[0], c[1])
			continue
		}
		for _, r := range cl.Requests() {
			if r.Endpoint == "unknown" {
				t.Errorf("%s called %s %s on %s/%s, which the fake does not implement", r.User, r.Method, r.Path, c[0], c[1])
			}
		}
	}
}

// remoteClusterWithAPIKey gives cluster1 a remote cluster "logs" on
// cluster2 in ECK's API key model, the model eslink's flow 1 drives: ECK
// enables cluster2's remote cluster server, creates the cross-cluster key
// eck-ns1-cluster1-logs on cluster2, writes it into cluster1's keystore
// Secret cluster1-es-remote-api-keys, restarts cluster1's Pods to load it
// and sets the seeds; cluster1 then connects to cluster2.
func remoteClusterWithAPIKey(ctx context.Context, t *testing.T, eck *harness.RealECK) {
	before := total(eck.Kubelet.Restarts())
	start := time.Now()
	if err := eck.Patch(ctx, harness.RemoteNamespace, harness.RemoteName, `{"spec":{"remoteClusterServer":{"enabled":true}}}`); err != nil {
		t.Fatal(err)
	}
	if err := eck.Patch(ctx, harness.LocalNamespace, harness.LocalName, `{"spec":{"remoteClusters":[{"name":"logs",
		"elasticsearchRef":{"name":"cluster2","namespace":"ns2"},"apiKey":{"access":{"search":{"names":["logs-*"]}}}}]}}`); err != nil {
		t.Fatal(err)
	}
	waitECKLink(ctx, t, eck.ECKOperator, "logs", 5*time.Minute)
	t.Logf("cluster1 connected to cluster2 as logs %s after the change; ECK restarted Pods %d times for it", time.Since(start).Round(100*time.Millisecond), total(eck.Kubelet.Restarts())-before)
	checkECKLink(ctx, t, eck.ECKOperator, "logs")
	for _, c := range []struct{ ns, name string }{{harness.LocalNamespace, harness.LocalName}, {harness.RemoteNamespace, harness.RemoteName}} {
		if err := eck.WaitPhase(ctx, c.ns, c.name, "Ready", 2*time.Minute); err != nil {
			t.Error(err)
		}
	}
	t.Logf("both clusters Ready again %s after the change", time.Since(start).Round(100*time.Millisecond))
}

// waitECKLink waits until every running node of cluster1 is connected to
// alias.
func waitECKLink(ctx context.Context, t *testing.T, eck *harness.ECKOperator, alias string, timeout time.Duration) {
	t.Helper()
	prefix := harness.LocalNamespace + "/" + harness.LocalName + "-es-"
	for deadline := time.Now().Add(timeout); ; {
		var why []string
		n := 0
		for key, node := range eck.Nodes.Nodes() {
			if !strings.HasPrefix(key, prefix) {
				continue
			}
			n++
			if c := node.Server.RemoteConnection(alias); !c.Connected {
				why = append(why, key+": "+c.Reason)
			}
		}
		if n > 0 && len(why) == 0 {
			return
		}
		if n == 0 {
			why = append(why, "cluster1 runs no node")
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			t.Fatalf("cluster1 is not connected to %s after %s: %s", alias, timeout, strings.Join(why, "; "))
		}
		time.Sleep(250 * time.Millisecond)
	}
}

// checkECKLink checks what ECK did for cluster1's remote cluster alias on
// cluster2 in its API key model, from the fakes and the API server: the
// active cross-cluster key eck-ns1-cluster1-<alias> with ECK's metadata,
// created by ECK's user; the keystore Secret cluster1-es-remote-api-keys
// holding it and every node of cluster1 running with it; the seeds.
func checkECKLink(ctx context.Context, t *testing.T, eck *harness.ECKOperator, alias string) {
	t.Helper()
	rcl, ok := eck.Nodes.Cluster(harness.RemoteNamespace, harness.RemoteName)
	if !ok || len(rcl.Nodes()) == 0 {
		t.Fatal("cluster2 runs no node")
	}
	name := "eck-" + harness.LocalNamespace + "-" + harness.LocalName + "-" + alias
	var key *esfake.KeySnapshot
	for _, k := range rcl.Nodes()[0].Keys() {
		if k.Name == name && !k.Invalidated {
			key = &k
		}
	}
	if key == nil || key.Type != "cross_cluster" || key.Owner != "elastic-internal" ||
		!strings.Contains(string(key.Metadata), `"elasticsearch.k8s.elastic.co/name":"cluster1"`) {
		t.Fatalf("cluster2's key %s: %+v; want an active cross-cluster key of elastic-internal with ECK's metadata", name, key)
	}
	if !called(rcl.Requests(), "POST", "/_security/cross_cluster/api_key", "elastic-internal") {
		t.Error("ECK never created a cross-cluster key on cluster2")
	}
	var ks corev1.Secret
	if err := eck.Kube.Get(ctx, client.ObjectKey{Namespace: harness.LocalNamespace, Name: harness.LocalName + "-es-remote-api-keys"}, &ks); err != nil {
		t.Fatalf("ECK's keystore Secret: %v", err)
	}
	cred := string(ks.Data["cluster.remote."+alias+".credentials"])
	lcl, _ := eck.Nodes.Cluster(harness.LocalNamespace, harness.LocalName)
	for _, node := range lcl.Nodes() {
		if cred == "" || node.ActiveKeystore()["cluster.remote."+alias+".credentials"] != cred {
			t.Errorf("cluster1's node %s does not run with the credentials of ECK's keystore Secret", node.NodeName())
		}
	}
	persistent, _ := lcl.Nodes()[0].ClusterSettings()
	if seeds := fmt.Sprint(persistent["cluster.remote."+alias+".seeds"]); !strings.Contains(seeds, "cluster2-es-remote-cluster.ns2.svc:9443") {
		t.Errorf("cluster1's seeds for %s = %s, want cluster2's remote cluster Service", alias, seeds)
	}
}

// called reports whether user made a request method path.
func called(reqs []esfake.Request, method, path, user string) bool {
	for _, r := range reqs {
		if r.Method == method && r.Path == path && r.User == user && r.Status < 300 {
			return true
		}
	}
	return false
}

// total sums restarts by Pod.
func total(restarts map[string]int) int {
	n := 0
	for _, r := range restarts {
		n += r
	}
	return n
}
