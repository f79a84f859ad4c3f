package esfake

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// The cluster and node APIs an orchestrator (ECK) drives: health, nodes
// info, shards, flush. The fake holds no indices, so the cluster is always
// green with no shards; what varies is the set of nodes.

func healthParams(version) []string {
	return []string{"level", "local", "master_timeout", "timeout", "wait_for_active_shards", "wait_for_nodes",
		"wait_for_events", "wait_for_no_relocating_shards", "wait_for_no_initializing_shards", "wait_for_status", "expand_wildcards"}
}

// healthWait is what GET /_cluster/health waits for.
type healthWait struct {
	nodes   string
	timeout time.Duration
}

// handleHealth answers GET /_cluster/health like RestClusterHealthAction:
// 200 with the health, or 408 with timed_out true when a wait_for_*
// condition is not met within timeout (default 30s). wait_for_events only
// waits for the master's queue, which is always empty here.
func handleHealth(c *call) (reply, *esError) {
	if err := c.who.authorize("cluster:monitor/health", "monitor", "manage", "all"); err != nil {
		return reply{}, err
	}
	w := healthWait{nodes: c.param("wait_for_nodes"), timeout: 30 * time.Second}
	if v, set := c.query["timeout"]; set && len(v) > 0 {
		d, err := parseDuration(v[0], "timeout")
		if err != nil {
			return reply{}, err
		}
		w.timeout = d
	}
	if _, err := c.boolParam("local", false); err != nil {
		return reply{}, err
	}
	for _, p := range []string{"wait_for_no_relocating_shards", "wait_for_no_initializing_shards"} {
		if _, err := c.boolParam(p, false); err != nil {
			return reply{}, err
		}
	}
	if s := c.param("wait_for_status"); s != "" && s != "green" && s != "yellow" && s != "red" {
		return reply{}, illegalArg("unknown cluster health status [%s]", s)
	}
	if e := c.param("wait_for_events"); e != "" {
		switch strings.ToLower(e) {
		case "immediate", "urgent", "high", "normal", "low", "languid":
		default:
			return reply{}, illegalArg("No enum constant org.elasticsearch.common.Priority.%s", strings.ToUpper(e))
		}
	}
	if l := c.param("level"); l != "" && l != "cluster" && l != "indices" && l != "shards" {
		return reply{}, illegalArg("level [%s] is not one of [cluster, indices, shards]", l)
	}
	if w.nodes != "" {
		if _, _, err := parseNodeCount(w.nodes); err != nil {
			return reply{}, err
		}
	}
	s := c.s
	return reply{await: func(ctx context.Context) reply { return s.awaitHealth(ctx, w) }}, nil
}

// parseNodeCount reads wait_for_nodes: N, >=N, <=N, >N, <N, ge(N), le(N),
// gt(N), lt(N) (ClusterHealthRequest / TransportClusterHealthAction).
func parseNodeCount(s string) (string, int, *esError) {
	op, num := "==", s
	for _, p := range [][2]string{{">=", ">="}, {"<=", "<="}, {">", ">"}, {"<", "<"}, {"ge(", ">="}, {"le(", "<="}, {"gt(", ">"}, {"lt(", "<"}} {
		if rest, found := strings.CutPrefix(s, p[0]); found {
			op, num = p[1], strings.TrimSuffix(rest, ")")
			break
		}
	}
	n, err := strconv.Atoi(num)
	if err != nil {
		return "", 0, illegalArg("failed to parse [%s] as an integer", num)
	}
	return op, n, nil
}

func nodeCountMet(spec string, nodes int) bool {
	if spec == "" {
		return true
	}
	op, n, err := parseNodeCount(spec)
	if err != nil {
		return false
	}
	switch op {
	case ">=":
		return nodes >= n
	case "<=":
		return nodes <= n
	case ">":
		return nodes > n
	case "<":
		return nodes < n
	}
	return nodes == n
}

// awaitHealth waits (without the lock) until the wait conditions hold or
// the timeout passes, then renders the health.
func (s *Server) awaitHealth(ctx context.Context, w healthWait) reply {
	deadline := time.Now().Add(w.timeout)
	for {
		s.mu.Lock()
		met := nodeCountMet(w.nodes, len(s.st.members))
		body := s.st.healthJSON(!met)
		s.mu.Unlock()
		if met {
			return ok(body)
		}
		if !time.Now().Before(deadline) || !pause(ctx) {
			return reply{status: http.StatusRequestTimeout, body: body}
		}
	}
}

// healthJSON renders ClusterHealthResponse for a cluster without shards.
// unassigned_primary_shards appears from 8.16 (inferred from the release
// that added it to the health response).
func (st *state) healthJSON(timedOut bool) []byte {
	data := 0
	for _, m := range st.members {
		if slices.ContainsFunc(m.st.nodeRoles, func(r string) bool { return strings.HasPrefix(r, "data") }) {
			data++
		}
	}
	var b bytes.Buffer
	b.WriteString(`{"cluster_name":`)
	b.Write(mustJSON(st.clusterName))
	fmt.Fprintf(&b, `,"status":"green","timed_out":%t,"number_of_nodes":%d,"number_of_data_nodes":%d,"active_primary_shards":0,"active_shards":0,"relocating_shards":0,"initializing_shards":0,"unassigned_shards":0`,
		timedOut, len(st.members), data)
	if st.ver.atLeast(8, 16) {
		b.WriteString(`,"unassigned_primary_shards":0`)
	}
	b.WriteString(`,"delayed_unassigned_shards":0,"number_of_pending_tasks":0,"number_of_in_flight_fetch":0,"task_max_waiting_in_queue_millis":0,"active_shards_percent_as_number":100.0}`)
	return b.Bytes()
}

// nodesInfoMetrics are NodesInfoRequest.Metric names: a path segment made
// only of them is a metric list, anything else a node selector
// (RestNodesInfoAction).
var nodesInfoMetrics = []string{"settings", "os", "process", "jvm", "thread_pool", "transport", "http", "remote_cluster_server", "plugins", "ingest", "aggregations", "indices"}

func nodesInfoParams(version) []string {
	return []string{"timeout", "flat_settings", "settings_filter"}
}

// handleNodesInfo answers GET /_nodes[/{node_id}[/{metrics}]]. Unknown
// metrics are ignored, as Elasticsearch does. Each node shows the basic
// fields (name, addresses, version, build, roles, attributes); metric
// sections are not rendered.
func handleNodesInfo(c *call) (reply, *esError) {
	if err := c.who.authorize("cluster:monitor/nodes/info", "monitor", "manage", "all"); err != nil {
		return reply{}, err
	}
	if _, err := c.boolParam("flat_settings", false); err != nil {
		return reply{}, err
	}
	sel := c.params["node_id"]
	if sel != "" && c.params["metrics"] == "" && allIn(strings.Split(sel, ","), nodesInfoMetrics) {
		sel = ""
	}
	nodes := c.st.resolveNodes(c.s, sel)
	var b bytes.Buffer
	fmt.Fprintf(&b, `{"_nodes":{"total":%d,"successful":%d,"failed":0},"cluster_name":`, len(nodes), len(nodes))
	b.Write(mustJSON(c.st.clusterName))
	b.WriteString(`,"nodes":{`)
	for i, n := range nodes {
		if i > 0 {
			b.WriteByte(',')
		}
		b.Write(mustJSON(n.st.nodeID))
		b.WriteByte(':')
		b.Write(n.st.nodeInfoJSON())
	}
	b.WriteString(`}}`)
	return ok(b.Bytes()), nil
}

func allIn(xs, set []string) bool {
	for _, x := range xs {
		if !slices.Contains(set, x) {
			return false
		}
	}
	return len(xs) > 0
}

// resolveNodes selects members like DiscoveryNodes.resolveNodes: _all,
// _local, _master, IDs, names, host or IP, wildcards on IDs and names, and
// role:true|false filters; an empty selector is _all. Order is join order.
func (st *state) resolveNodes(self *Server, selector string) []*Server {
	if selector == "" {
		selector = "_all"
	}
	picked := map[*Server]bool{}
	for _, part := range strings.Split(selector, ",") {
		part = strings.TrimSpace(part)
		switch {
		case part == "_all" || part == "*":
			for _, m := range st.members {
				picked[m] = true
			}
		case part == "_local":
			picked[self] = true
		case part == "_master":
			if m := st.master(); m != nil {
				picked[m] = true
			}
		case strings.Contains(part, ":") && !strings.Contains(part, "*"):
			role, val, _ := strings.Cut(part, ":")
			want := val == "true"
			for _, m := range st.members {
				has := slices.Contains(m.st.nodeRoles, role) || role == "data" && slices.ContainsFunc(m.st.nodeRoles, func(r string) bool { return strings.HasPrefix(r, "data") })
				if has == want {
					picked[m] = true
				} else if !want {
					delete(picked, m)
				}
			}
		default:
			for _, m := range st.members {
				if globMatch(part, m.st.nodeID) || globMatch(part, m.st.nodeName) || part == m.st.publishHost() {
					picked[m] = true
				}
			}
		}
	}
	var out []*Server
	for _, m := range st.members {
		if picked[m] {
			out = append(out, m)
		}
	}
	return out
}

// publishHost is network.publish_host (or network.host), else loopback.
func (st *state) publishHost() string {
	for _, k := range []string{"network.publish_host", "network.host"} {
		if h := configString(st.node.config, k); h != "" && h != "0" && h != "0.0.0.0" {
			return h
		}
	}
	return "127.0.0.1"
}

// nodeInfoJSON is one node of the nodes info response.
func (st *state) nodeInfoJSON() []byte {
	host := st.publishHost()
	attrs := map[string]string{"xpack.installed": "true"}
	for k := range st.node.config {
		if name, found := strings.CutPrefix(k, "node.attr."); found {
			attrs[name] = configString(st.node.config, k)
		}
	}
	var b bytes.Buffer
	b.WriteString(`{"name":`)
	b.Write(mustJSON(st.nodeName))
	b.WriteString(`,"transport_address":`)
	b.Write(mustJSON(host + ":9300"))
	b.WriteString(`,"host":`)
	b.Write(mustJSON(host))
	b.WriteString(`,"ip":`)
	b.Write(mustJSON(host))
	b.WriteString(`,"version":`)
	b.Write(mustJSON(st.ver.raw))
	b.WriteString(`,"build_flavor":"default","build_type":"docker","build_hash":"0000000000000000000000000000000000000000","roles":`)
	b.Write(mustJSON(st.nodeRoles))
	b.WriteString(`,"attributes":`)
	b.Write(mustJSON(attrs))
	b.WriteByte('}')
	return b.Bytes()
}

func catShardsParams(version) []string {
	return []string{"format", "h", "help", "s", "v", "bytes", "time", "local", "master_timeout"}
}

// handleCatShards answers GET /_cat/shards: no shards, as JSON ([]) or
// as an empty text table.
func handleCatShards(c *call) (reply, *esError) {
	if err := c.who.authorize("cluster:monitor/state", "monitor", "manage", "all"); err != nil {
		return reply{}, err
	}
	switch f := c.param("format"); f {
	case "json":
		return ok([]byte("[]")), nil
	case "", "txt", "text":
		return reply{status: http.StatusOK, body: nil, contentType: "text/plain; charset=UTF-8"}, nil
	default:
		return reply{}, illegalArg("Unsupported format [%s]", f)
	}
}

func flushParams(version) []string {
	return []string{"force", "wait_if_ongoing", "ignore_unavailable", "allow_no_indices", "expand_wildcards"}
}

// handleFlush answers POST /_flush: a broadcast over no shards.
func handleFlush(c *call) (reply, *esError) {
	for _, p := range []string{"force", "wait_if_ongoing", "ignore_unavailable", "allow_no_indices"} {
		if _, err := c.boolParam(p, false); err != nil {
			return reply{}, err
		}
	}
	return ok([]byte(`{"_shards":{"total":0,"successful":0,"failed":0}}`)), nil
}
