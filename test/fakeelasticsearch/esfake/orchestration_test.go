package esfake

import (
	"context"
	"crypto/x509/pkix"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"
)

// The versions every orchestration test runs under: the last 8.x line ECK
// drives and a 9.x release.
var orchestrationVersions = []string{"8.18.2", "9.3.2"}

// eckYML is elasticsearch.yml as ECK 3.5 renders it for a nodeSet (its
// base, security and file realm settings), placeholders left for the
// pod's environment.
const eckYML = `
cluster:
  name: %s
discovery:
  seed_providers: file
network:
  host: "0"
  publish_host: ${POD_IP}
http:
  publish_host: ${POD_NAME}.${HEADLESS_SERVICE_NAME}.${NAMESPACE}.svc
node:
  name: ${POD_NAME}
  roles: [%s]
  attr:
    k8s_node_name: ${NODE_NAME}
path:
  data: /usr/share/elasticsearch/data
xpack:
  security:
    enabled: "true"
    authc:
      reserved_realm:
        enabled: "false"
      realms:
        file:
          file1:
            order: -100
        native:
          native1:
            order: -99
    http:
      ssl:
        enabled: true
        certificate: /usr/share/elasticsearch/config/http-certs/tls.crt
        key: /usr/share/elasticsearch/config/http-certs/tls.key
        certificate_authorities: /usr/share/elasticsearch/config/http-certs/ca.crt
`

// eckPod is what the kubelet stand-in hands a node: the files of one pod.
type eckPod struct {
	ca    *issuer
	users []byte
	roles []byte
}

func newECKPod(t testing.TB) *eckPod {
	t.Helper()
	ca, err := newIssuer("test-http-ca")
	if err != nil {
		t.Fatal(err)
	}
	hash := func(pw string) string {
		h, err := bcrypt.GenerateFromPassword([]byte(pw), bcrypt.MinCost)
		if err != nil {
			t.Fatal(err)
		}
		return string(h)
	}
	return &eckPod{
		ca:    ca,
		users: []byte("elastic-internal:" + hash("internal-pw") + "\nelastic:" + hash("elastic-pw") + "\nelastic-internal-probe:" + hash("probe-pw") + "\n"),
		roles: []byte("# file realm roles\nsuperuser:elastic-internal,elastic\nelastic_internal_probe_user:elastic-internal-probe\n"),
	}
}

var internalAuth = basic("elastic-internal", "internal-pw")

// start starts the pod's node in cl with the given node.roles.
func (p *eckPod) start(t testing.TB, cl *Cluster, version, podName, roles string) *Server {
	t.Helper()
	s, err := p.startErr(t, cl, version, podName, roles)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

func (p *eckPod) startErr(t testing.TB, cl *Cluster, version, podName, roles string) (*Server, error) {
	t.Helper()
	settings, err := ParseElasticsearchYML([]byte(fmt.Sprintf(eckYML, cl.Name(), roles)))
	if err != nil {
		t.Fatal(err)
	}
	cert, key, err := p.ca.issue(pkix.Name{CommonName: podName}, []string{podName}, []net.IP{net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	return Start(Options{
		Cluster: cl,
		Version: version,
		Config: &NodeConfig{Settings: settings, Env: map[string]string{
			"POD_NAME": podName, "POD_IP": "127.0.0.1", "NAMESPACE": "ns1", "HEADLESS_SERVICE_NAME": "c-es-default", "NODE_NAME": "",
		}},
		Files: map[string][]byte{
			"http-certs/tls.crt": cert, "http-certs/tls.key": key, "http-certs/ca.crt": p.ca.certPEM,
			"users": p.users, "users_roles": p.roles,
			"roles.yml": []byte("elastic_internal_probe_user:\n  cluster: [\"monitor\"]\n"),
		},
	})
}

// eachVersion runs f in parallel under every orchestration version.
func eachVersion(t *testing.T, f func(t *testing.T, v string)) {
	t.Parallel()
	for _, v := range orchestrationVersions {
		t.Run(v, func(t *testing.T) {
			t.Parallel()
			f(t, v)
		})
	}
}

func newTestCluster(t testing.TB, version string) *Cluster {
	t.Helper()
	cl, err := NewCluster(ClusterOptions{Name: "c", Version: version})
	if err != nil {
		t.Fatal(err)
	}
	return cl
}

// TestNodeFromECKConfig starts nodes the way the kubelet stand-in does and
// checks what they take from their files: HTTPS with the mounted
// certificate, the file realm with ECK's bcrypt hashes and roles, node
// name and attributes from elasticsearch.yml, and refusal to start with a
// missing certificate or another cluster's name.
func TestNodeFromECKConfig(t *testing.T) {
	eachVersion(t, func(t *testing.T, v string) {
		cl := newTestCluster(t, v)
		pod := newECKPod(t)
		s := pod.start(t, cl, v, "c-es-default-0", "master,data")
		if !strings.HasPrefix(s.URL, "https://") {
			t.Fatalf("URL %s: want HTTPS from xpack.security.http.ssl", s.URL)
		}
		r := do(t, s, "GET", "/", "", internalAuth)
		if r.status != 200 || r.obj["name"] != "c-es-default-0" || r.obj["cluster_name"] != "c" || r.obj["cluster_uuid"] != cl.UUID() {
			t.Fatalf("GET /: %d %s", r.status, r.body)
		}
		r = do(t, s, "GET", "/_security/_authenticate", "", internalAuth)
		jsonEqText(t, string(r.body), `{"username":"elastic-internal","roles":["superuser"],"full_name":null,"email":null,"metadata":{},"enabled":true,
				"authentication_realm":{"name":"file1","type":"file"},"lookup_realm":{"name":"file1","type":"file"},"authentication_type":"realm"}`)
		if r := do(t, s, "GET", "/", "", basic("elastic-internal", "wrong")); r.status != 401 {
			t.Fatalf("wrong password: %d %s", r.status, r.body)
		}
		// A verified password is cached (as Elasticsearch's caching realms
		// do) only while the users file keeps the hash it was checked
		// against: a changed hash is verified again.
		if r := do(t, s, "GET", "/", "", internalAuth); r.status != 200 {
			t.Fatalf("second request, cached credentials: %d %s", r.status, r.body)
		}
		newHash, err := bcrypt.GenerateFromPassword([]byte("rotated-pw"), bcrypt.MinCost)
		if err != nil {
			t.Fatal(err)
		}
		s.WriteFile("users", append([]byte("elastic-internal:"), newHash...))
		if r := do(t, s, "GET", "/", "", internalAuth); r.status != 401 {
			t.Fatalf("old password after the users file changed: %d %s", r.status, r.body)
		}
		if r := do(t, s, "GET", "/", "", basic("elastic-internal", "rotated-pw")); r.status != 200 {
			t.Fatalf("new password after the users file changed: %d %s", r.status, r.body)
		}
		s.WriteFile("users", pod.users)
		probe := basic("elastic-internal-probe", "probe-pw")
		if r := do(t, s, "GET", "/_cluster/health", "", probe); r.status != 200 {
			t.Fatalf("probe user (monitor from roles.yml) health: %d %s", r.status, r.body)
		}
		r = do(t, s, "PUT", "/_cluster/settings", `{"persistent":{"cluster.routing.allocation.enable":"all"}}`, probe)
		if typ, _ := errInfo(r); r.status != 403 || typ != "security_exception" {
			t.Fatalf("probe user writing settings: %d %s", r.status, r.body)
		}
		r = do(t, s, "GET", "/_nodes/_local", "", internalAuth)
		node := r.obj["nodes"].(map[string]any)[s.NodeID()].(map[string]any)
		if fmt.Sprint(node["roles"]) != "[data master]" || node["attributes"].(map[string]any)["k8s_node_name"] != "" || node["version"] != v {
			t.Fatalf("node info: %s", r.body)
		}

		other := newECKPod(t)
		other.users = nil
		if _, err := other.startErr(t, newTestCluster(t, v), v, "x-0", "master"); err != nil {
			t.Fatalf("a node without users still starts: %v", err)
		}
		settings, _ := ParseElasticsearchYML([]byte(fmt.Sprintf(eckYML, "c", "master")))
		if _, err := Start(Options{Cluster: cl, Config: &NodeConfig{Settings: settings, Env: map[string]string{"POD_NAME": "c-es-default-1", "POD_IP": "127.0.0.1", "NAMESPACE": "n", "HEADLESS_SERVICE_NAME": "h", "NODE_NAME": ""}}}); err == nil ||
			!strings.Contains(err.Error(), "http-certs/tls.crt") {
			t.Fatalf("start without the HTTP certificate: %v, want an error naming the file", err)
		}
		if _, err := pod.startErr(t, newTestCluster(t, v), v, "c-es-default-1", "master"); err != nil {
			t.Fatalf("same cluster name in another Cluster: %v", err)
		}
		settings["cluster"] = map[string]any{"name": "other"}
		delete(settings, "xpack")
		env := map[string]string{"POD_NAME": "o-0", "POD_IP": "127.0.0.1", "NAMESPACE": "n", "HEADLESS_SERVICE_NAME": "h", "NODE_NAME": ""}
		if _, err := Start(Options{Cluster: cl, Config: &NodeConfig{Settings: settings, Env: env}}); err == nil || !strings.Contains(err.Error(), "cluster.name [other]") {
			t.Fatalf("start with another cluster.name: %v", err)
		}
		if _, err := pod.startErr(t, cl, v, "c-es-default-0", "master"); err == nil {
			t.Fatal("a second node with the same name started")
		}
	})
}

// TestClusterMembership checks that nodes of one Cluster share its state
// and that _nodes, health and the cluster state follow nodes joining and
// leaving, with node IDs kept across restarts.
func TestClusterMembership(t *testing.T) {
	eachVersion(t, func(t *testing.T, v string) {
		cl := newTestCluster(t, v)
		pod := newECKPod(t)
		a := pod.start(t, cl, v, "c-es-default-0", "master,data,ingest")
		b := pod.start(t, cl, v, "c-es-default-1", "data")
		for _, s := range []*Server{a, b} {
			r := do(t, s, "GET", "/_nodes/_all/no-metrics", "", internalAuth)
			nodes := r.obj["nodes"].(map[string]any)
			if len(nodes) != 2 || nodes[a.NodeID()].(map[string]any)["name"] != "c-es-default-0" || nodes[b.NodeID()].(map[string]any)["name"] != "c-es-default-1" {
				t.Fatalf("nodes from %s: %s", s.NodeName(), r.body)
			}
			r = do(t, s, "GET", "/_nodes/_master", "", internalAuth)
			if m := r.obj["nodes"].(map[string]any); len(m) != 1 || m[a.NodeID()] == nil {
				t.Fatalf("master from %s: %s", s.NodeName(), r.body)
			}
			r = do(t, s, "GET", "/_cluster/health", "", internalAuth)
			if r.obj["number_of_nodes"] != 2.0 || r.obj["number_of_data_nodes"] != 2.0 || r.obj["status"] != "green" {
				t.Fatalf("health: %s", r.body)
			}
		}
		// State written through one node is seen through the other.
		if r := do(t, a, "PUT", "/_cluster/settings", `{"persistent":{"cluster":{"remote":{"r":{"seeds":["r-es-remote-cluster.ns.svc:9443"]}}}}}`, internalAuth); r.status != 200 {
			t.Fatalf("put settings: %d %s", r.status, r.body)
		}
		if r := do(t, b, "GET", "/_cluster/settings", "", internalAuth); !strings.Contains(string(r.body), "r-es-remote-cluster.ns.svc:9443") {
			t.Fatalf("settings through the other node: %s", r.body)
		}
		id := b.NodeID()
		b.Close()
		if r := do(t, a, "GET", "/_nodes/_all/no-metrics", "", internalAuth); len(r.obj["nodes"].(map[string]any)) != 1 {
			t.Fatalf("after the pod is gone: %s", r.body)
		}
		if r := do(t, a, "GET", "/_cluster/health?wait_for_nodes=2&timeout=50ms", "", internalAuth); r.status != 408 || r.obj["timed_out"] != true {
			t.Fatalf("wait_for_nodes=2 with one node: %d %s", r.status, r.body)
		}
		// The restarted pod waits in health until it joins.
		done := make(chan rawResp, 1)
		go func() {
			done <- do(t, a, "GET", "/_cluster/health?wait_for_nodes=%3E%3D2&timeout=10s", "", internalAuth)
		}()
		time.Sleep(50 * time.Millisecond)
		b2 := pod.start(t, cl, v, "c-es-default-1", "data")
		if r := <-done; r.status != 200 || r.obj["number_of_nodes"] != 2.0 || r.obj["timed_out"] != false {
			t.Fatalf("health waiting for the node: %d %s", r.status, r.body)
		}
		if b2.NodeID() != id {
			t.Fatalf("restarted node has ID %s, want %s as kept in its data path", b2.NodeID(), id)
		}
		r := do(t, b2, "GET", "/_cluster/state/nodes,master_node", "", internalAuth)
		if r.obj["master_node"] != a.NodeID() || len(r.obj["nodes"].(map[string]any)) != 2 {
			t.Fatalf("cluster state: %s", r.body)
		}
		// A full cluster restart loses transient settings.
		do(t, a, "PUT", "/_cluster/settings", `{"transient":{"cluster.routing.allocation.enable":"primaries"}}`, internalAuth)
		a.Close()
		b2.Close()
		a2 := pod.start(t, cl, v, "c-es-default-0", "master")
		if r := do(t, a2, "GET", "/_cluster/settings", "", internalAuth); strings.Contains(string(r.body), "primaries") || !strings.Contains(string(r.body), "r-es-remote-cluster") {
			t.Fatalf("after a full restart: %s", r.body)
		}
	})
}

// orchCase is one request against a two-node cluster.
type orchCase struct {
	name         string
	method, path string
	body         string
	status       int
	// want is the exact JSON answer; "" skips. errType and reason check an
	// error answer instead.
	want            string
	errType, reason string
	// plain is an empty plain-text answer.
	plain bool
	// pick compares only this dotted path of the answer with want.
	pick string
}

// TestOrchestrationEndpoints runs each endpoint ECK calls in a create, a
// rolling restart, license handling and a remote-cluster reconcile, in
// order, against one cluster per version. Node IDs in paths are written
// A and B.
func TestOrchestrationEndpoints(t *testing.T) {
	eachVersion(t, func(t *testing.T, v string) {
		clock := fixedClock()
		cl, err := NewCluster(ClusterOptions{Name: "c", Version: v, Clock: clock.Now})
		if err != nil {
			t.Fatal(err)
		}
		pod := newECKPod(t)
		a := pod.start(t, cl, v, "c-es-default-0", "master,data")
		b := pod.start(t, cl, v, "c-es-default-1", "master,data")
		unassigned := ""
		if pv, _ := parseVersion(v); pv.atLeast(8, 16) {
			unassigned = `"unassigned_primary_shards":0,`
		}
		millis := clock.t.UnixMilli()
		issued := clock.t.Format(licenseLayout)
		expiry := clock.t.Add(trialDuration)
		cases := []orchCase{
			{name: "health", method: "GET", path: "/_cluster/health", status: 200,
				want: `{"cluster_name":"c","status":"green","timed_out":false,"number_of_nodes":2,"number_of_data_nodes":2,"active_primary_shards":0,"active_shards":0,"relocating_shards":0,"initializing_shards":0,"unassigned_shards":0,` + unassigned + `"delayed_unassigned_shards":0,"number_of_pending_tasks":0,"number_of_in_flight_fetch":0,"task_max_waiting_in_queue_millis":0,"active_shards_percent_as_number":100.0}`},
			{name: "health waiting for languid events", method: "GET", path: "/_cluster/health?wait_for_events=languid&timeout=0s", status: 200},
			{name: "health bad priority", method: "GET", path: "/_cluster/health?wait_for_events=soon", status: 400, errType: "illegal_argument_exception", reason: "No enum constant org.elasticsearch.common.Priority.SOON"},
			{name: "health unknown parameter", method: "GET", path: "/_cluster/health?bogus=1", status: 400, errType: "illegal_argument_exception", reason: "request [/_cluster/health] contains unrecognized parameter: [bogus]"},
			{name: "nodes by name", method: "GET", path: "/_nodes/c-es-default-1", status: 200},
			{name: "nodes unknown metric is ignored", method: "GET", path: "/_nodes/A/no-metrics", status: 200},
			{name: "nodes none match", method: "GET", path: "/_nodes/nobody", status: 200, want: `{"_nodes":{"total":0,"successful":0,"failed":0},"cluster_name":"c","nodes":{}}`},
			{name: "voting exclusions clear", method: "DELETE", path: "/_cluster/voting_config_exclusions?wait_for_removal=false", status: 200, plain: true},
			{name: "voting exclusions without nodes", method: "POST", path: "/_cluster/voting_config_exclusions", status: 400, errType: "illegal_argument_exception", reason: "Please set node identifiers correctly. One and only one of [node_name], [node_names] and [node_ids] has to be set"},
			{name: "voting exclusions both", method: "POST", path: "/_cluster/voting_config_exclusions?node_names=a&node_ids=b", status: 400, errType: "illegal_argument_exception", reason: "Please set node identifiers correctly. One and only one of [node_name], [node_names] and [node_ids] has to be set"},
			{name: "voting exclusions add", method: "POST", path: "/_cluster/voting_config_exclusions?node_names=c-es-default-1,gone-0", status: 200, plain: true},
			{name: "voting exclusions in the state", method: "GET", path: "/_cluster/state/metadata", status: 200, pick: "metadata.cluster_coordination",
				want: `{"voting_config_exclusions":[{"node_id":"B","node_name":"c-es-default-1"},{"node_id":"_absent_","node_name":"gone-0"}]}`},
			{name: "voting exclusions wait times out", method: "DELETE", path: "/_cluster/voting_config_exclusions?timeout=30ms", status: 408, errType: "elasticsearch_timeout_exception",
				reason: "timed out waiting for removal of nodes; if nodes should not be removed, set waitForRemoval to false. [{B}{c-es-default-1}, {_absent_}{gone-0}]"},
			{name: "voting exclusions cleared", method: "DELETE", path: "/_cluster/voting_config_exclusions?wait_for_removal=false", status: 200, plain: true},
			{name: "shutdowns none", method: "GET", path: "/_nodes/shutdown", status: 200, want: `{"nodes":[]}`},
			{name: "shutdown restart", method: "PUT", path: "/_nodes/A/shutdown", body: `{"type":"restart","reason":"ECK rolling restart","allocation_delay":"20m"}`, status: 200, want: `{"acknowledged":true}`},
			{name: "shutdown status", method: "GET", path: "/_nodes/A/shutdown", status: 200,
				want: fmt.Sprintf(`{"nodes":[{"node_id":"A","type":"RESTART","reason":"ECK rolling restart","allocation_delay":"20m","shutdown_startedmillis":%d,"status":"COMPLETE","shard_migration":{"status":"COMPLETE","shard_migrations_remaining":0,"explanation":"no shard relocation is necessary for a node restart"},"persistent_tasks":{"status":"COMPLETE"},"plugins":{"status":"COMPLETE"}}]}`, millis)},
			{name: "shutdown remove of an unknown node", method: "PUT", path: "/_nodes/gone/shutdown", body: `{"type":"REMOVE","reason":"scale down"}`, status: 200, want: `{"acknowledged":true}`},
			{name: "shutdown all", method: "GET", path: "/_nodes/shutdown", status: 200, pick: "nodes",
				want: fmt.Sprintf(`[{"node_id":"A","type":"RESTART","reason":"ECK rolling restart","allocation_delay":"20m","shutdown_startedmillis":%d,"status":"COMPLETE","shard_migration":{"status":"COMPLETE","shard_migrations_remaining":0,"explanation":"no shard relocation is necessary for a node restart"},"persistent_tasks":{"status":"COMPLETE"},"plugins":{"status":"COMPLETE"}},
						{"node_id":"gone","type":"REMOVE","reason":"scale down","shutdown_startedmillis":%d,"status":"NOT_STARTED","shard_migration":{"status":"NOT_STARTED","shard_migrations_remaining":0,"explanation":"node is not currently part of the cluster"},"persistent_tasks":{"status":"COMPLETE"},"plugins":{"status":"COMPLETE"}}]`, millis, millis)},
			{name: "shutdown delay on remove", method: "PUT", path: "/_nodes/B/shutdown", body: `{"type":"remove","reason":"r","allocation_delay":"1m"}`, status: 400, errType: "action_request_validation_exception", reason: "Validation Failed: 1: allocation_delay is only allowed for RESTART-type shutdown requests;"},
			{name: "shutdown replace without target", method: "PUT", path: "/_nodes/B/shutdown", body: `{"type":"replace","reason":"r"}`, status: 400, errType: "action_request_validation_exception", reason: "Validation Failed: 1: target node name is required for REPLACE type shutdowns;"},
			{name: "shutdown unknown type", method: "PUT", path: "/_nodes/B/shutdown", body: `{"type":"reboot","reason":"r"}`, status: 400, errType: "x_content_parse_exception", reason: "[1:27] Failed to build [put_node_shutdown_request] after last required field arrived"},
			{name: "shutdown missing reason", method: "PUT", path: "/_nodes/B/shutdown", body: `{"type":"restart"}`, status: 400, errType: "illegal_argument_exception", reason: "Required [reason]"},
			{name: "shutdown unknown field", method: "PUT", path: "/_nodes/B/shutdown", body: `{"type":"restart","reason":"r","force":true}`, status: 400, errType: "x_content_parse_exception", reason: "[1:32] [put_node_shutdown_request] unknown field [force]"},
			{name: "shutdown without body", method: "PUT", path: "/_nodes/B/shutdown", status: 400, errType: "parse_exception", reason: "request body is required"},
			{name: "shutdown delete", method: "DELETE", path: "/_nodes/A/shutdown", status: 200, want: `{"acknowledged":true}`},
			{name: "shutdown delete again", method: "DELETE", path: "/_nodes/A/shutdown", status: 404, errType: "resource_not_found_exception", reason: "node [A] is not currently shutting down"},
			{name: "shutdown delete the other", method: "DELETE", path: "/_nodes/gone/shutdown", status: 200},
			{name: "routing allocation transient", method: "PUT", path: "/_cluster/settings", body: `{"transient":{"cluster":{"routing":{"allocation":{"exclude":{},"enable":"primaries"}}}}}`, status: 200,
				want: `{"acknowledged":true,"persistent":{},"transient":{"cluster":{"routing":{"allocation":{"enable":"primaries"}}}}}`},
			{name: "routing allocation read", method: "GET", path: "/_cluster/settings", status: 200, want: `{"persistent":{},"transient":{"cluster":{"routing":{"allocation":{"enable":"primaries"}}}}}`},
			{name: "routing allocation removed", method: "PUT", path: "/_cluster/settings", body: `{"transient":{"cluster.routing.allocation.exclude._name":null,"cluster.routing.allocation.enable":null}}`, status: 200,
				want: `{"acknowledged":true,"persistent":{},"transient":{}}`},
			{name: "cat shards json", method: "GET", path: "/_cat/shards?format=json", status: 200, want: `[]`},
			{name: "cat shards text", method: "GET", path: "/_cat/shards", status: 200, plain: true},
			{name: "flush", method: "POST", path: "/_flush", status: 200, want: `{"_shards":{"total":0,"successful":0,"failed":0}}`},
			{name: "desired nodes none", method: "GET", path: "/_internal/desired_nodes/_latest", status: 404, errType: "resource_not_found_exception", reason: "Desired nodes not found"},
			{name: "desired nodes delete none", method: "DELETE", path: "/_internal/desired_nodes", status: 200, plain: true},
			{name: "desired nodes put", method: "PUT", path: "/_internal/desired_nodes/uid-1/1", body: `{"nodes":[{"settings":{"node.name":"c-es-default-0"},"processors_range":{"min":1},"memory":"2gb","storage":"10gb"}]}`, status: 200,
				want: `{"replaced_existing_history_id":false,"dry_run":false}`},
			{name: "desired nodes latest", method: "GET", path: "/_internal/desired_nodes/_latest", status: 200,
				want: `{"history_id":"uid-1","version":1,"nodes":[{"settings":{"node.name":"c-es-default-0"},"processors_range":{"min":1},"memory":"2gb","storage":"10gb"}]}`},
			{name: "desired nodes same again", method: "PUT", path: "/_internal/desired_nodes/uid-1/1", body: `{"nodes":[{"settings":{"node.name":"c-es-default-0"},"processors_range":{"min":1},"memory":"2gb","storage":"10gb"}]}`, status: 200},
			{name: "desired nodes other definition", method: "PUT", path: "/_internal/desired_nodes/uid-1/1", body: `{"nodes":[]}`, status: 400, errType: "illegal_argument_exception", reason: "Desired nodes with history [uid-1] and version [1] already exists with a different definition"},
			{name: "desired nodes superseded", method: "PUT", path: "/_internal/desired_nodes/uid-1/0", body: `{"nodes":[]}`, status: 409, errType: "version_conflict_exception", reason: "version [0] has been superseded by version [1] for history [uid-1]"},
			{name: "desired nodes new history", method: "PUT", path: "/_internal/desired_nodes/uid-2/1", body: `{"nodes":[]}`, status: 200, want: `{"replaced_existing_history_id":true,"dry_run":false}`},
			{name: "desired nodes bad version", method: "PUT", path: "/_internal/desired_nodes/uid-2/x", body: `{"nodes":[]}`, status: 400, errType: "illegal_argument_exception", reason: "Failed to parse long parameter [version] with value [x]"},
			{name: "desired nodes missing nodes", method: "PUT", path: "/_internal/desired_nodes/uid-2/2", body: `{}`, status: 400, errType: "illegal_argument_exception", reason: "Required [nodes]"},
			{name: "desired nodes delete", method: "DELETE", path: "/_internal/desired_nodes", status: 200, plain: true},
			{name: "desired nodes gone", method: "GET", path: "/_internal/desired_nodes/_latest", status: 404},
			{name: "license basic", method: "GET", path: "/_license", status: 200, pick: "license",
				want: fmt.Sprintf(`{"status":"active","uid":"UID","type":"basic","issue_date":%q,"issue_date_in_millis":%d,"max_nodes":1000,"max_resource_units":null,"issued_to":"c","issuer":"elasticsearch","start_date_in_millis":-1}`, issued, millis)},
			{name: "start basic on basic", method: "POST", path: "/_license/start_basic?acknowledge=true", status: 403, want: `{"acknowledged":true,"basic_was_started":false,"error_message":"Operation failed: Current license is basic."}`},
			{name: "start trial unacknowledged", method: "POST", path: "/_license/start_trial", status: 200,
				want: `{"acknowledged":false,"trial_was_started":false,"error_message":"Operation failed: Needs acknowledgement.","acknowledge":{"message":` + string(mustJSON(startTrialAck)) + `,"security":["With a trial license, X-Pack security features are available, but are not enabled by default."]}}`},
			{name: "start trial", method: "POST", path: "/_license/start_trial?acknowledge=true", status: 200, want: `{"acknowledged":true,"trial_was_started":true,"type":"trial"}`},
			{name: "license trial", method: "GET", path: "/_license", status: 200, pick: "license",
				want: fmt.Sprintf(`{"status":"active","uid":"UID","type":"trial","issue_date":%q,"issue_date_in_millis":%d,"expiry_date":%q,"expiry_date_in_millis":%d,"max_nodes":1000,"max_resource_units":null,"issued_to":"c","issuer":"elasticsearch","start_date_in_millis":-1}`,
					issued, millis, expiry.Format(licenseLayout), expiry.UnixMilli())},
			{name: "start trial twice", method: "POST", path: "/_license/start_trial?acknowledge=true", status: 403, want: `{"acknowledged":true,"trial_was_started":false,"error_message":"Operation failed: Trial was already activated."}`},
			{name: "put license cannot verify", method: "POST", path: "/_license?acknowledge=true", body: `{"licenses":[{"uid":"x","type":"enterprise","signature":"AAAA"}]}`, status: 200, want: `{"acknowledged":true,"license_status":"invalid"}`},
			{name: "start basic unacknowledged", method: "POST", path: "/_license/start_basic", status: 200,
				want: `{"acknowledged":false,"basic_was_started":false,"error_message":"Operation failed: Needs acknowledgement.","acknowledge":{"message":` + string(mustJSON(startBasicAck)) + `}}`},
			{name: "start basic", method: "POST", path: "/_license/start_basic?acknowledge=true", status: 200, want: `{"acknowledged":true,"basic_was_started":true}`},
			{name: "no trial after basic", method: "POST", path: "/_license/start_trial?acknowledge=true", status: 403},
			{name: "unknown endpoint", method: "GET", path: "/_nodes/_all/stats/os", status: 400},
			{name: "autoscaling is unknown", method: "GET", path: "/_autoscaling/capacity", status: 400, want: `{"error":"no handler found for uri [/_autoscaling/capacity] and method [GET]","status":400}`},
		}
		var logged []string
		var mu sync.Mutex
		a.log = func(line string) {
			mu.Lock()
			defer mu.Unlock()
			logged = append(logged, line)
		}
		for _, tc := range cases {
			path := strings.NewReplacer("/A/", "/"+a.NodeID()+"/", "/B/", "/"+b.NodeID()+"/").Replace(tc.path)
			r := doOrch(t, a, tc.method, path, tc.body)
			if r.status != tc.status {
				t.Fatalf("%s: %s %s: status %d, want %d: %s", tc.name, tc.method, path, r.status, tc.status, r.body)
			}
			body := strings.NewReplacer(a.NodeID(), "A", b.NodeID(), "B").Replace(string(r.body))
			if tc.pick != "" {
				body = pickJSON(t, body, tc.pick)
			}
			if tc.want != "" {
				jsonEqTextNamed(t, tc.name, body, tc.want)
			}
			if tc.errType != "" {
				typ, reason := errInfo(r)
				reason = strings.NewReplacer(a.NodeID(), "A", b.NodeID(), "B").Replace(reason)
				if typ != tc.errType || reason != tc.reason {
					t.Fatalf("%s: error %s %q, want %s %q", tc.name, typ, reason, tc.errType, tc.reason)
				}
			}
			if tc.plain && (len(r.body) != 0 || !strings.HasPrefix(r.header.Get("Content-Type"), "text/plain")) {
				t.Fatalf("%s: want an empty plain-text answer, got %q (%s)", tc.name, r.body, r.header.Get("Content-Type"))
			}
		}
		if len(logged) != 2 || !strings.Contains(logged[0], "UNKNOWN ENDPOINT GET /_nodes/_all/stats/os") || !strings.Contains(logged[1], "/_autoscaling/capacity") {
			t.Fatalf("unknown endpoints logged: %q", logged)
		}
		if u := a.Unknown(); len(u) != 2 {
			t.Fatalf("Unknown(): %v", u)
		}
		// The cluster's log holds what every node served, in order.
		do(t, b, "GET", "/_cluster/health", "", internalAuth)
		all := cl.Requests()
		if n := len(all); n != len(a.Requests())+len(b.Requests()) || all[n-1].Node != "c-es-default-1" || all[n-1].Endpoint != "GET /_cluster/health" || all[0].Node != "c-es-default-0" {
			t.Fatalf("cluster request log: %d entries, last %+v", n, all[n-1])
		}
		if cl.License() != "basic" {
			t.Fatalf("license %s after start_basic", cl.License())
		}
	})
}

// doOrch sends a request as ECK's client does: as its internal user, with
// a JSON Content-Type on every request, with or without a body.
func doOrch(t *testing.T, s *Server, method, path, body string) rawResp {
	t.Helper()
	return do(t, s, method, path, body, internalAuth, "Content-Type", "application/json; charset=utf-8")
}

// pickJSON returns the value at a dotted path of a JSON object, with any
// license uid replaced by UID.
func pickJSON(t *testing.T, body, path string) string {
	t.Helper()
	var v any
	if err := json.Unmarshal([]byte(body), &v); err != nil {
		t.Fatalf("pick %s from %s: %v", path, body, err)
	}
	for _, k := range strings.Split(path, ".") {
		m, isObj := v.(map[string]any)
		if !isObj {
			t.Fatalf("pick %s from %s: not an object at %s", path, body, k)
		}
		v = m[k]
	}
	if m, isObj := v.(map[string]any); isObj {
		if _, has := m["uid"]; has {
			m["uid"] = "UID"
		}
	}
	return string(mustJSON(v))
}

func jsonEqTextNamed(t *testing.T, name, got, want string) {
	t.Helper()
	var g, w any
	if json.Unmarshal([]byte(got), &g) != nil || json.Unmarshal([]byte(want), &w) != nil {
		t.Fatalf("%s: bad JSON\n got: %s\nwant: %s", name, got, want)
	}
	if !reflect.DeepEqual(g, w) {
		t.Fatalf("%s: JSON mismatch\n got: %s\nwant: %s", name, got, want)
	}
}

// TestAwaitStopsWithTheClient: an answer that waits for the cluster to
// change stops when its client goes away, as Elasticsearch cancels the REST
// action of a closed channel, instead of holding the request for its whole
// timeout (30s by default).
func TestAwaitStopsWithTheClient(t *testing.T) {
	s, err := Start(Options{Users: []User{{Name: "elastic", Password: "changeme"}}})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	h := s.Handler()
	serve := func(ctx context.Context, method, target string) int {
		req := httptest.NewRequestWithContext(ctx, method, target, nil)
		req.Header.Set("Authorization", adminAuth)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec.Code
	}
	// The only node excluded from voting never leaves: clearing with
	// wait_for_removal (the default) waits for it.
	if code := serve(t.Context(), "POST", "/_cluster/voting_config_exclusions?node_ids="+s.NodeID()); code != http.StatusOK {
		t.Fatalf("POST voting exclusions: %d", code)
	}
	for _, target := range []string{"/_cluster/voting_config_exclusions", "/_cluster/health?wait_for_nodes=5"} {
		method := "GET"
		if strings.HasPrefix(target, "/_cluster/voting") {
			method = "DELETE"
		}
		ctx, cancel := context.WithTimeout(t.Context(), 200*time.Millisecond)
		done := make(chan int, 1)
		go func() { done <- serve(ctx, method, target) }()
		select {
		case code := <-done:
			if code != http.StatusRequestTimeout {
				t.Errorf("%s %s after the client left: %d, want 408", method, target, code)
			}
		case <-time.After(10 * time.Second):
			t.Errorf("%s %s still waits 10s after its client left", method, target)
		}
		cancel()
	}
}
