package ecksim_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/eslink/eslink/internal/eckschema"
	"github.com/eslink/eslink/test/controlplane"
	"github.com/eslink/eslink/test/e2e/ecksim"
	"github.com/eslink/eslink/test/fakeelasticsearch/esfake"
)

func TestMain(m *testing.M) {
	controlplane.Main(m, controlplane.WithoutProjectCRDs())
}

const (
	restartDelay = 300 * time.Millisecond
	waitTimeout  = 30 * time.Second
	eckCA        = "/usr/share/elasticsearch/config/transport-certs/ca.crt"
	eckRemoteCA  = "/usr/share/elasticsearch/config/transport-remote-certs/ca.crt"
	bundleDir    = "/usr/share/elasticsearch/config/eslink-remote-ca"
)

// env is two clusters, cluster1 (local, L) in <prefix>-ns1 and cluster2
// (remote, R) in <prefix>-ns2, as ECK objects with fake nodes and a
// simulator that only the test drives (one Reconcile per step).
type env struct {
	t        *testing.T
	ctx      context.Context
	kube     client.Client
	sim      *ecksim.Simulator
	local    *esfake.Server
	remote   *esfake.Server
	lns, rns string
	logs     *logBuf
}

type logBuf struct {
	mu    sync.Mutex
	lines []string
}

func (l *logBuf) logf(format string, args ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.lines = append(l.lines, fmt.Sprintf(format, args...))
}

func (l *logBuf) all() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.lines)
}

func newEnv(t *testing.T, prefix, localVersion string) *env {
	t.Helper()
	cp := controlplane.New(t, controlplane.WithoutProjectCRDs())
	e := &env{t: t, ctx: t.Context(), kube: cp.Client, lns: prefix + "-ns1", rns: prefix + "-ns2", logs: &logBuf{}}
	e.local = esfake.NewServer(t, esfake.Options{Version: localVersion, TLS: true, ClusterName: "cluster1"})
	e.remote = esfake.NewServer(t, esfake.Options{TLS: true, ClusterName: "cluster2"})
	net := esfake.NewNetwork()
	net.Join(e.local, e.remote)
	for _, ns := range []string{e.lns, e.rns} {
		if err := e.kube.Create(e.ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}); err != nil {
			t.Fatal(err)
		}
	}
	e.create(elasticsearch(e.lns, "cluster1", localVersion))
	e.create(elasticsearch(e.rns, "cluster2", "9.3.2"))
	e.sim = &ecksim.Simulator{
		Kube: e.kube, Network: net, RestartDelay: restartDelay, FileSettingsDelay: 100 * time.Millisecond, Log: e.logs.logf,
		Clusters: map[string]*ecksim.Cluster{e.lns + "/cluster1": cluster(e.local), e.rns + "/cluster2": cluster(e.remote)},
	}
	e.reconcile()
	t.Cleanup(func() {
		if t.Failed() || testing.Verbose() {
			t.Logf("simulator log:\n%s", strings.Join(e.logs.all(), "\n"))
		}
	})
	return e
}

func elasticsearch(ns, name, version string) *unstructured.Unstructured {
	u := eckschema.NewElasticsearch()
	u.SetNamespace(ns)
	u.SetName(name)
	u.Object["spec"] = map[string]any{
		"version":  version,
		"nodeSets": []any{map[string]any{"name": "default", "count": int64(3), "config": map[string]any{"node.store.allow_mmap": false}}},
	}
	return u
}

func cluster(s *esfake.Server) *ecksim.Cluster {
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(s.CACertPEM)
	return &ecksim.Cluster{
		URL: s.URL, Username: "elastic", Password: "changeme", Node: s,
		HTTP: &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}}},
	}
}

func (e *env) create(obj client.Object) {
	e.t.Helper()
	if err := e.kube.Create(e.ctx, obj); err != nil {
		e.t.Fatalf("cannot create %T %s: %v", obj, obj.GetName(), err)
	}
}

func (e *env) reconcile() {
	e.t.Helper()
	if err := e.sim.Reconcile(e.ctx); err != nil {
		e.t.Logf("reconcile: %v", err)
	}
}

// until reconciles until cond holds.
func (e *env) until(what string, cond func() bool) {
	e.t.Helper()
	deadline := time.Now().Add(waitTimeout)
	for {
		e.reconcile()
		if cond() {
			return
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("not %s after %s", what, waitTimeout)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (e *env) get(ns, name string) *unstructured.Unstructured {
	e.t.Helper()
	u := eckschema.NewElasticsearch()
	if err := e.kube.Get(e.ctx, client.ObjectKey{Namespace: ns, Name: name}, u); err != nil {
		e.t.Fatal(err)
	}
	return u
}

// edit changes an Elasticsearch object's spec with retries on conflict.
func (e *env) edit(ns, name string, fn func(spec map[string]any)) {
	e.t.Helper()
	u := e.get(ns, name)
	if err := controlplane.Update(e.ctx, e.kube, u, func() error {
		spec, _ := u.Object["spec"].(map[string]any)
		fn(spec)
		return nil
	}); err != nil {
		e.t.Fatal(err)
	}
}

func (e *env) secret(ns, name string, data map[string]string) {
	e.t.Helper()
	sec := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}, StringData: data}
	if err := e.kube.Create(e.ctx, sec); err == nil {
		return
	}
	cur := &corev1.Secret{}
	if err := e.kube.Get(e.ctx, client.ObjectKeyFromObject(sec), cur); err != nil {
		e.t.Fatal(err)
	}
	cur.Data, cur.StringData = nil, data
	if err := e.kube.Update(e.ctx, cur); err != nil {
		e.t.Fatal(err)
	}
}

func (e *env) getSecret(ns, name string) *corev1.Secret {
	e.t.Helper()
	sec := &corev1.Secret{}
	if err := e.kube.Get(e.ctx, client.ObjectKey{Namespace: ns, Name: name}, sec); err != nil {
		e.t.Fatalf("Secret %s/%s: %v", ns, name, err)
	}
	return sec
}

type status struct {
	Phase              string `json:"phase"`
	ObservedGeneration int64  `json:"observedGeneration"`
	Version            string `json:"version"`
	Conditions         []struct {
		Type, Status, Message string
		LastTransitionTime    string `json:"lastTransitionTime"`
	} `json:"conditions"`
}

func (e *env) status(ns, name string) (status, int64) {
	e.t.Helper()
	u := e.get(ns, name)
	b, _ := json.Marshal(u.Object["status"])
	var st status
	if err := json.Unmarshal(b, &st); err != nil {
		e.t.Fatal(err)
	}
	return st, u.GetGeneration()
}

func (st status) condition(typ string) (string, string) {
	for _, c := range st.Conditions {
		if c.Type == typ {
			return c.Status, c.Message
		}
	}
	return "", ""
}

// takenUp is the signal a client waits for after a spec change: the
// generation observed, phase Ready, ReconciliationComplete True.
func (e *env) takenUp(ns, name string) bool {
	st, gen := e.status(ns, name)
	rc, _ := st.condition(ecksim.ConditionReconciliationComplete)
	return st.ObservedGeneration == gen && st.Phase == ecksim.PhaseReady && rc == "True"
}

func (e *env) enableRemoteClusterServer() {
	e.t.Helper()
	e.edit(e.rns, "cluster2", func(spec map[string]any) {
		spec["remoteClusterServer"] = map[string]any{"enabled": true}
	})
	e.until("the remote cluster server of cluster2 enabled", func() bool {
		return e.takenUp(e.rns, "cluster2") && e.remote.NodeSettings()["remote_cluster_server.enabled"] == "true"
	})
}

func (e *env) createKey(name string) (id, encoded string) {
	e.t.Helper()
	var out struct{ ID, Encoded string }
	e.rest(e.remote, http.MethodPost, "/_security/cross_cluster/api_key", `{"name":"`+name+`","access":{"search":[{"names":["logs-*"]}]}}`, &out)
	return out.ID, out.Encoded
}

func (e *env) rest(s *esfake.Server, method, path, body string, out any) {
	e.t.Helper()
	c := cluster(s)
	req, err := http.NewRequestWithContext(e.ctx, method, s.URL+path, strings.NewReader(body))
	if err != nil {
		e.t.Fatal(err)
	}
	req.SetBasicAuth(c.Username, c.Password)
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.HTTP.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		e.t.Fatalf("%s %s: %d %s", method, path, resp.StatusCode, b)
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			e.t.Fatal(err)
		}
	}
}

// wireFlow3 does to L what eslink's flow 3 does: credentials in a Secret
// listed in spec.secureSettings, an eslink CA bundle Secret mounted into
// nodeSets[0] and listed in the remote cluster client's
// certificate_authorities, and proxy-mode cluster settings.
func (e *env) wireFlow3(alias, encoded string, bundle []byte) {
	e.t.Helper()
	e.secret(e.lns, "eslink-credentials-"+alias, map[string]string{"cluster.remote." + alias + ".credentials": encoded})
	e.secret(e.lns, "eslink-remote-ca", map[string]string{"ca.crt": string(bundle)})
	e.edit(e.lns, "cluster1", func(spec map[string]any) {
		spec["secureSettings"] = []any{map[string]any{"secretName": "eslink-credentials-" + alias}}
		ns := spec["nodeSets"].([]any)[0].(map[string]any)
		cfg := ns["config"].(map[string]any)
		cfg["xpack.security.remote_cluster_client.ssl.certificate_authorities"] = []any{bundleDir + "/ca.crt"}
		ns["podTemplate"] = map[string]any{"spec": map[string]any{
			"volumes":    []any{map[string]any{"name": "eslink-remote-ca", "secret": map[string]any{"secretName": "eslink-remote-ca"}}},
			"containers": []any{map[string]any{"name": "elasticsearch", "volumeMounts": []any{map[string]any{"name": "eslink-remote-ca", "mountPath": bundleDir, "readOnly": true}}}},
		}}
	})
	e.rest(e.local, http.MethodPut, "/_cluster/settings", `{"persistent":{"cluster.remote.`+alias+`.mode":"proxy","cluster.remote.`+alias+`.proxy_address":"cluster2-es-remote-cluster.`+e.rns+`.svc:9443","cluster.remote.`+alias+`.server_name":"cluster2-es-remote-cluster.`+e.rns+`.svc"}}`, nil)
}

func (e *env) connected(alias string) bool { return e.local.RemoteConnection(alias).Connected }

// TestFlow1 checks what ECK delivers for an API-key entry: key, keystore
// Secret, trust, seeds and the remote's server, each cluster restarting
// once; and what it removes with the entry.
func TestFlow1(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "flow1", "9.3.2")
	e.edit(e.rns, "cluster2", func(spec map[string]any) { spec["remoteClusterServer"] = map[string]any{"enabled": true} })
	e.edit(e.lns, "cluster1", func(spec map[string]any) {
		spec["remoteClusters"] = []any{map[string]any{"name": "logs", "elasticsearchRef": map[string]any{"name": "cluster2", "namespace": e.rns},
			"apiKey": map[string]any{"access": map[string]any{"search": map[string]any{"names": []any{"logs-*"}}}}}}
	})
	e.reconcile()
	if st, gen := e.status(e.lns, "cluster1"); st.Phase != ecksim.PhaseApplyingChanges || st.ObservedGeneration != gen {
		t.Fatalf("L right after the change: phase %s, observedGeneration %d of %d", st.Phase, st.ObservedGeneration, gen)
	}
	if e.connected("logs") {
		t.Fatal("connected before the restarts")
	}
	e.until("connected", func() bool { return e.connected("logs") })
	if l, r := e.sim.Restarts(e.lns, "cluster1"), e.sim.Restarts(e.rns, "cluster2"); l != 1 || r != 1 {
		t.Errorf("restarts: cluster1 %d, cluster2 %d; want one each", l, r)
	}
	keys := e.getSecret(e.lns, "cluster1-es-remote-api-keys")
	if _, ok := keys.Data["cluster.remote.logs.credentials"]; !ok || !strings.Contains(keys.Annotations["elasticsearch.k8s.elastic.co/remote-cluster-api-keys"], `"logs":{"namespace":"`+e.rns+`","name":"cluster2","id":"`) {
		t.Errorf("remote API keys Secret: %v %v", keys.Annotations, keys.Data)
	}
	for _, s := range []struct{ ns, name string }{{e.lns, "cluster1-" + e.rns + "-cluster2-es-remote-ca"}, {e.rns, "cluster2-" + e.lns + "-cluster1-es-remote-ca"}} {
		e.getSecret(s.ns, s.name)
	}
	got := e.local.NodeSettings()["xpack.security.remote_cluster_client.ssl.certificate_authorities"]
	if !slices.Equal(got.([]string), []string{eckCA, eckRemoteCA}) {
		t.Errorf("remote cluster client CAs: %v", got)
	}
	if a := e.get(e.lns, "cluster1").GetAnnotations()["elasticsearch.k8s.elastic.co/managed-remote-clusters"]; a != "logs" {
		t.Errorf("managed-remote-clusters = %q", a)
	}

	e.edit(e.lns, "cluster1", func(spec map[string]any) { delete(spec, "remoteClusters") })
	e.until("the entry's key, keystore alias and seeds removed", func() bool {
		info := map[string]any{}
		e.rest(e.local, http.MethodGet, "/_remote/info", "", &info)
		return len(info) == 0 && e.takenUp(e.lns, "cluster1")
	})
	var keysOnR struct {
		APIKeys []struct{ Invalidated bool } `json:"api_keys"`
	}
	e.rest(e.remote, http.MethodGet, "/_security/api_key?name=eck-"+e.lns+"-cluster1-logs", "", &keysOnR)
	if len(keysOnR.APIKeys) != 1 || !keysOnR.APIKeys[0].Invalidated {
		t.Errorf("ECK's key after the entry went: %+v", keysOnR)
	}
	if l := e.sim.Restarts(e.lns, "cluster1"); l != 2 {
		t.Errorf("cluster1 restarts after removing the entry = %d, want 2", l)
	}
}

// TestFlow2CertificateModelNeedsNoRestart: the CA exchange reaches the
// mounted transport-remote-certs, which the nodes reload.
func TestFlow2CertificateModelNeedsNoRestart(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "flow2", "9.3.2")
	e.edit(e.lns, "cluster1", func(spec map[string]any) {
		spec["remoteClusters"] = []any{map[string]any{"name": "certs", "elasticsearchRef": map[string]any{"name": "cluster2", "namespace": e.rns}}}
	})
	e.until("connected", func() bool { return e.connected("certs") })
	if l, r := e.sim.Restarts(e.lns, "cluster1"), e.sim.Restarts(e.rns, "cluster2"); l != 0 || r != 0 {
		t.Errorf("restarts: cluster1 %d, cluster2 %d; want none", l, r)
	}
}

// TestKeystoreSecureSettingsRestart: flow 3's wiring on the keystore path
// costs one rolling restart, each rotation another; the CA bundle's
// content changes without one.
func TestKeystoreSecureSettingsRestart(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "keystore", "9.3.2")
	e.enableRemoteClusterServer()
	_, encoded := e.createKey("eslink-logs-1")
	e.wireFlow3("logs", encoded, e.remote.TransportCACertPEM())
	e.reconcile()
	if st, _ := e.status(e.lns, "cluster1"); st.Phase != ecksim.PhaseApplyingChanges {
		t.Fatalf("phase after the spec change: %s", st.Phase)
	}
	e.until("connected", func() bool { return e.connected("logs") && e.takenUp(e.lns, "cluster1") })
	if n := e.sim.Restarts(e.lns, "cluster1"); n != 1 {
		t.Fatalf("restarts for the wiring = %d, want 1", n)
	}
	// Without an apiKey entry ECK sets no CA list of its own: only eslink's.
	if got := e.local.NodeSettings()["xpack.security.remote_cluster_client.ssl.certificate_authorities"]; !slices.Equal(got.([]string), []string{bundleDir + "/ca.crt"}) {
		t.Errorf("remote cluster client CAs: %v", got)
	}

	// Rotation: the Secret's content changes, the generation does not.
	_, gen := e.status(e.lns, "cluster1")
	_, encoded2 := e.createKey("eslink-logs-2")
	e.secret(e.lns, "eslink-credentials-logs", map[string]string{"cluster.remote.logs.credentials": encoded2})
	e.reconcile()
	if st, g := e.status(e.lns, "cluster1"); st.Phase != ecksim.PhaseApplyingChanges || g != gen {
		t.Fatalf("rotation: phase %s, generation %d -> %d", st.Phase, gen, g)
	}
	if !e.connected("logs") {
		t.Fatal("the old key stopped working while the pods roll")
	}
	e.until("the new key taken up", func() bool {
		return e.takenUp(e.lns, "cluster1") && e.local.ActiveKeystore()["cluster.remote.logs.credentials"] == encoded2
	})
	if n := e.sim.Restarts(e.lns, "cluster1"); n != 2 {
		t.Fatalf("restarts after one rotation = %d, want 2", n)
	}

	// The bundle's content changes: trusted at once, no restart.
	e.secret(e.lns, "eslink-remote-ca", map[string]string{"ca.crt": string(e.local.TransportCACertPEM())})
	e.until("R's CA no longer trusted", func() bool { return !e.connected("logs") })
	if r := e.local.RemoteConnection("logs").Reason; !strings.Contains(r, "does not trust the certificate of the remote cluster server") {
		t.Errorf("reason: %s", r)
	}
	e.secret(e.lns, "eslink-remote-ca", map[string]string{"ca.crt": string(e.local.TransportCACertPEM()) + string(e.remote.TransportCACertPEM())})
	e.until("R's CA trusted again", func() bool { return e.connected("logs") })
	if n := e.sim.Restarts(e.lns, "cluster1"); n != 2 {
		t.Errorf("restarts after bundle changes = %d, want still 2", n)
	}
}

// TestFileBasedSecureSettingsHotReload: on 9.5 with the annotation, secure
// settings go into cluster_secrets and rotations restart nothing.
func TestFileBasedSecureSettingsHotReload(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "filebased", "9.5.1")
	e.enableRemoteClusterServer()
	u := e.get(e.lns, "cluster1")
	if err := controlplane.Update(e.ctx, e.kube, u, func() error {
		u.SetAnnotations(map[string]string{"eck.k8s.elastic.co/file-based-secure-settings": "true"})
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	_, encoded := e.createKey("eslink-logs-1")
	e.wireFlow3("logs", encoded, e.remote.TransportCACertPEM())
	e.until("connected", func() bool { return e.connected("logs") && e.takenUp(e.lns, "cluster1") })
	// The CA bundle mount and config cost one restart; the credentials none.
	if n := e.sim.Restarts(e.lns, "cluster1"); n != 1 {
		t.Fatalf("restarts = %d, want 1 (volume and config)", n)
	}
	if _, ok := e.local.ActiveKeystore()["cluster.remote.logs.credentials"]; ok {
		t.Fatal("the credentials went into the keystore on the file-based path")
	}
	for round := 2; round <= 3; round++ {
		_, enc := e.createKey("eslink-logs-" + strconv.Itoa(round))
		e.secret(e.lns, "eslink-credentials-logs", map[string]string{"cluster.remote.logs.credentials": enc})
		var written int64
		e.until("the new file settings applied", func() bool {
			written = fileSettingsVersion(t, e.getSecret(e.lns, "cluster1-es-file-settings"))
			v, _ := e.local.FileSettingsVersion()
			return v == written && e.connected("logs")
		})
		var state struct {
			Metadata struct {
				ReservedState struct {
					FileSettings struct {
						Version int64 `json:"version"`
					} `json:"file_settings"`
				} `json:"reserved_state"`
			} `json:"metadata"`
		}
		e.rest(e.local, http.MethodGet, "/_cluster/state/metadata", "", &state)
		if state.Metadata.ReservedState.FileSettings.Version != written {
			t.Fatalf("reserved_state.file_settings.version %d, Secret has %d", state.Metadata.ReservedState.FileSettings.Version, written)
		}
		if n := e.sim.Restarts(e.lns, "cluster1"); n != 1 {
			t.Fatalf("rotation %d restarted cluster1: %d restarts", round, n)
		}
		if st, _ := e.status(e.lns, "cluster1"); st.Phase != ecksim.PhaseReady {
			t.Fatalf("phase during a hot reload: %s", st.Phase)
		}
	}
}

func fileSettingsVersion(t *testing.T, sec *corev1.Secret) int64 {
	t.Helper()
	var fs struct {
		Metadata struct{ Version string } `json:"metadata"`
	}
	if err := json.Unmarshal(sec.Data["settings.json"], &fs); err != nil {
		t.Fatal(err)
	}
	v, err := strconv.ParseInt(fs.Metadata.Version, 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// TestStatusTransitions follows ECK's status through a spec change.
func TestStatusTransitions(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "status", "9.3.2")
	before, gen := e.status(e.lns, "cluster1")
	if before.Phase != ecksim.PhaseReady || before.ObservedGeneration != gen || before.Version != "9.3.2" {
		t.Fatalf("after deployment: %+v (generation %d)", before, gen)
	}
	_, reachMsg := before.condition(ecksim.ConditionElasticsearchReachable)
	if reachMsg != "Service "+e.lns+"/cluster1-es-internal-http has endpoints" {
		t.Errorf("ElasticsearchIsReachable message %q", reachMsg)
	}
	e.edit(e.lns, "cluster1", func(spec map[string]any) {
		spec["nodeSets"].([]any)[0].(map[string]any)["config"].(map[string]any)["indices.memory.index_buffer_size"] = "20%"
	})
	e.reconcile()
	during, gen2 := e.status(e.lns, "cluster1")
	rc, msg := during.condition(ecksim.ConditionReconciliationComplete)
	if gen2 != gen+1 || during.ObservedGeneration != gen2 || during.Phase != ecksim.PhaseApplyingChanges || rc != "False" || msg != ecksim.MessageUpgradeInProgress {
		t.Fatalf("during the restart: generation %d, %+v", gen2, during)
	}
	e.until("Ready", func() bool { return e.takenUp(e.lns, "cluster1") })
	after, _ := e.status(e.lns, "cluster1")
	for _, typ := range []string{ecksim.ConditionRunningDesiredVersion, ecksim.ConditionElasticsearchReachable} {
		if cond(before, typ) != cond(after, typ) {
			t.Errorf("%s changed its lastTransitionTime without changing", typ)
		}
	}
	if e.local.NodeSettings()["indices.memory.index_buffer_size"] != "20%" {
		t.Error("the node does not run the new config")
	}
}

func cond(st status, typ string) string {
	for _, c := range st.Conditions {
		if c.Type == typ {
			return c.Status + c.Message + c.LastTransitionTime
		}
	}
	return ""
}

// TestRestartStallsOnAMissingCertificate: a CA path with no volume behind
// it keeps the pod from starting; the old config keeps serving.
func TestRestartStallsOnAMissingCertificate(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "stall", "9.3.2")
	e.edit(e.lns, "cluster1", func(spec map[string]any) {
		spec["nodeSets"].([]any)[0].(map[string]any)["config"].(map[string]any)["xpack.security.remote_cluster_client.ssl.certificate_authorities"] = []any{bundleDir + "/ca.crt"}
	})
	time.Sleep(2 * restartDelay)
	for range 3 {
		e.reconcile()
	}
	st, _ := e.status(e.lns, "cluster1")
	if _, msg := st.condition(ecksim.ConditionReconciliationComplete); st.Phase != ecksim.PhaseApplyingChanges || msg != ecksim.MessageNodesNotBack {
		t.Fatalf("stalled restart: %+v", st)
	}
	if n := e.sim.Restarts(e.lns, "cluster1"); n != 0 {
		t.Fatalf("a stalled restart counted: %d", n)
	}
	if _, ok := e.local.NodeSettings()["xpack.security.remote_cluster_client.ssl.certificate_authorities"]; ok {
		t.Fatal("the node runs a config it cannot start with")
	}
	if !slices.ContainsFunc(e.logs.all(), func(l string) bool {
		return strings.Contains(l, "SIMULATES rolling restart of "+e.lns+"/cluster1 stalls") && strings.Contains(l, "eslink-remote-ca/ca.crt] does not exist")
	}) {
		t.Errorf("no log line says why the restart stalls")
	}
	e.wireFlow3("logs", "unused", e.remote.TransportCACertPEM())
	e.until("the restart completes", func() bool { return e.takenUp(e.lns, "cluster1") })
	if n := e.sim.Restarts(e.lns, "cluster1"); n != 1 {
		t.Fatalf("restarts = %d, want 1", n)
	}
}

// TestSecureSettingsErrors: a missing entry fails the reconcile with ECK's
// message and restarts nothing.
func TestSecureSettingsErrors(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "errors", "9.3.2")
	e.secret(e.lns, "creds", map[string]string{"a": "1"})
	e.edit(e.lns, "cluster1", func(spec map[string]any) {
		spec["secureSettings"] = []any{map[string]any{"secretName": "creds", "entries": []any{map[string]any{"key": "b"}}}}
	})
	e.reconcile()
	st, gen := e.status(e.lns, "cluster1")
	rc, msg := st.condition(ecksim.ConditionReconciliationComplete)
	if rc != "False" || !strings.Contains(msg, "key b not found in secure settings secret creds") || st.ObservedGeneration != gen {
		t.Fatalf("status: %+v", st)
	}
	e.edit(e.lns, "cluster1", func(spec map[string]any) {
		spec["secureSettings"] = []any{map[string]any{"secretName": "absent"}}
	})
	e.until("Ready", func() bool { return e.takenUp(e.lns, "cluster1") })
	if !slices.ContainsFunc(e.logs.all(), func(l string) bool { return strings.Contains(l, "Secure settings secret not found: "+e.lns+"/absent") }) {
		t.Error("a missing secure settings Secret is not reported")
	}
	if n := e.sim.Restarts(e.lns, "cluster1"); n != 0 {
		t.Errorf("restarts = %d, want 0 (no keystore content changed)", n)
	}
	for _, l := range e.logs.all() {
		if !strings.Contains(l, "SIMULATES") {
			t.Errorf("log line without SIMULATES: %s", l)
		}
	}
}

// TestDisablingTheServerRemovesItsService: the remote cluster Service goes
// with spec.remoteClusterServer.enabled, before the restart.
func TestDisablingTheServerRemovesItsService(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "disable", "9.3.2")
	e.enableRemoteClusterServer()
	_, encoded := e.createKey("eslink-logs-1")
	e.wireFlow3("logs", encoded, e.remote.TransportCACertPEM())
	e.until("connected", func() bool { return e.connected("logs") })
	e.edit(e.rns, "cluster2", func(spec map[string]any) { spec["remoteClusterServer"] = map[string]any{"enabled": false} })
	e.reconcile()
	if r := e.local.RemoteConnection("logs").Reason; !strings.Contains(r, "unknown host [cluster2-es-remote-cluster."+e.rns+".svc]") {
		t.Fatalf("reason after disabling: %s", r)
	}
	transport := "cluster2-es-transport." + e.rns + ".svc:9300"
	if _, _, ok := e.sim.Network.Registered(transport); !ok {
		t.Fatal("the transport Service is missing")
	}
	http := "cluster2-es-http." + e.rns + ".svc:9200"
	if _, ok := e.sim.Network.HTTPAddress(http); !ok {
		t.Fatal("the HTTP Service is missing")
	}
	if err := e.kube.Delete(e.ctx, e.get(e.rns, "cluster2")); err != nil {
		t.Fatal(err)
	}
	e.reconcile()
	if _, _, ok := e.sim.Network.Registered(transport); ok {
		t.Fatal("the transport Service outlived its Elasticsearch object")
	}
	if _, _, ok := e.sim.Network.Registered(http); ok {
		t.Fatal("the HTTP Service outlived its Elasticsearch object")
	}
}
