package esfake

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"
)

// shutdownRecord is SingleNodeShutdownMetadata: a node registered for
// shutdown (PUT /_nodes/{node_id}/shutdown), kept in the cluster state until
// deleted.
type shutdownRecord struct {
	nodeID          string
	typ             string // REMOVE, RESTART, REPLACE, SIGTERM
	reason          string
	startedAt       time.Time
	allocationDelay string
	targetNodeName  string
	gracePeriod     string
	// nodeSeen is set once the node is in the cluster while registered.
	nodeSeen bool
}

// shutdownTypes are SingleNodeShutdownMetadata.Type; SIGTERM from 8.9.
func shutdownTypes(v version) []string {
	if v.atLeast(8, 9) {
		return []string{"REMOVE", "RESTART", "REPLACE", "SIGTERM"}
	}
	return []string{"REMOVE", "RESTART", "REPLACE"}
}

func masterTimeoutParams(version) []string { return []string{"master_timeout", "timeout"} }

// handlePutShutdown answers PUT /_nodes/{node_id}/shutdown with the
// parsing and validation of PutShutdownNodeAction.Request.
func handlePutShutdown(c *call) (reply, *esError) {
	const pn = "put_node_shutdown_request"
	if err := c.who.authorize("cluster:admin/shutdown/create", "manage", "all"); err != nil {
		return reply{}, err
	}
	d, fs, serr, err := c.bodyFields(pn)
	if err != nil {
		return reply{}, err
	}
	vals := map[string]*string{}
	lastRequired := -1
	for _, f := range fs {
		switch f.key {
		case "type", "reason", "allocation_delay", "target_node_name", "grace_period":
		default:
			return reply{}, unknownField(d, pn, f)
		}
		s, isStr := f.val.str()
		if !isStr {
			return reply{}, unsupportedType(d, pn, f)
		}
		vals[f.key] = &s
		if (f.key == "type" || f.key == "reason") && vals["type"] != nil && vals["reason"] != nil && lastRequired < 0 {
			lastRequired = f.val.off
		}
	}
	if serr != nil {
		return reply{}, serr
	}
	var missing []string
	for _, k := range []string{"type", "reason"} {
		if vals[k] == nil {
			missing = append(missing, k)
		}
	}
	if len(missing) > 0 {
		return reply{}, illegalArg("Required [%s]", strings.Join(missing, ", "))
	}
	typ := strings.ToUpper(*vals["type"])
	if !slices.Contains(shutdownTypes(c.st.ver), typ) {
		// The type is parsed when the object is built, after the last
		// required field arrived, so the parser wraps the error.
		cause := illegalArg("unknown shutdown type: %s", *vals["type"])
		return reply{}, xcontentErr(d.loc(lastRequired), fmt.Sprintf("Failed to build [%s] after last required field arrived", pn), cause)
	}
	rec := &shutdownRecord{nodeID: c.params["node_id"], typ: typ, reason: *vals["reason"], startedAt: c.st.clock()}
	var msgs []string
	if strings.TrimSpace(rec.nodeID) == "" {
		msgs = append(msgs, "the node id to shutdown is required")
	}
	if v := vals["allocation_delay"]; v != nil {
		if _, perr := parseDuration(*v, "allocation_delay"); perr != nil {
			return reply{}, perr
		}
		rec.allocationDelay = *v
		if typ != "RESTART" {
			msgs = append(msgs, "allocation_delay is only allowed for RESTART-type shutdown requests")
		}
	}
	if v := vals["target_node_name"]; v != nil {
		rec.targetNodeName = *v
		if typ != "REPLACE" {
			msgs = append(msgs, fmt.Sprintf("target node name is only valid for REPLACE type shutdowns, but was given type [%s] and target node name [%s]", typ, *v))
		}
	} else if typ == "REPLACE" {
		msgs = append(msgs, "target node name is required for REPLACE type shutdowns")
	}
	if v := vals["grace_period"]; v != nil {
		if _, perr := parseDuration(*v, "grace_period"); perr != nil {
			return reply{}, perr
		}
		rec.gracePeriod = *v
		if typ != "SIGTERM" {
			msgs = append(msgs, fmt.Sprintf("grace period is only valid for SIGTERM type shutdowns, but was given type [%s] and target node name [%s]", typ, valueOrNull(vals["target_node_name"])))
		}
	} else if typ == "SIGTERM" {
		msgs = append(msgs, "grace period is required for SIGTERM shutdowns")
	}
	if len(msgs) > 0 {
		return reply{}, validationErr(msgs)
	}
	if old, exists := c.st.shutdowns[rec.nodeID]; exists && old.typ == rec.typ && old.reason == rec.reason &&
		old.allocationDelay == rec.allocationDelay && old.targetNodeName == rec.targetNodeName && old.gracePeriod == rec.gracePeriod {
		// TransportPutShutdownNodeAction leaves an identical record alone.
		return ok([]byte(`{"acknowledged":true}`)), nil
	}
	rec.nodeSeen = c.st.member(rec.nodeID) != nil
	if _, exists := c.st.shutdowns[rec.nodeID]; !exists {
		c.st.shutdownOrder = append(c.st.shutdownOrder, rec.nodeID)
	}
	c.st.shutdowns[rec.nodeID] = rec
	c.st.stateVersion++
	return ok([]byte(`{"acknowledged":true}`)), nil
}

func valueOrNull(s *string) string {
	if s == nil {
		return "null"
	}
	return *s
}

// handleGetShutdown answers GET /_nodes/shutdown and
// /_nodes/{node_id}/shutdown: the records of the nodes asked for that
// exist, with their status as TransportGetShutdownStatusAction computes it
// for a cluster without shards.
func handleGetShutdown(c *call) (reply, *esError) {
	if err := c.who.authorize("cluster:admin/shutdown/get", "manage", "all"); err != nil {
		return reply{}, err
	}
	var ids []string
	if sel := c.params["node_id"]; sel != "" {
		for _, id := range strings.Split(sel, ",") {
			if id = strings.TrimSpace(id); id != "" {
				ids = append(ids, id)
			}
		}
	} else {
		ids = c.st.shutdownOrder
	}
	var b bytes.Buffer
	b.WriteString(`{"nodes":[`)
	n := 0
	for _, id := range ids {
		rec, found := c.st.shutdowns[id]
		if !found {
			continue
		}
		if n > 0 {
			b.WriteByte(',')
		}
		n++
		c.st.writeShutdown(&b, rec)
	}
	b.WriteString(`]}`)
	return ok(b.Bytes()), nil
}

// writeShutdown renders SingleNodeShutdownStatus. RESTART needs no shard
// moves; the other types have nothing to move either (no shards), except
// that a node never seen in the cluster has NOT_STARTED its migration.
func (st *state) writeShutdown(b *bytes.Buffer, rec *shutdownRecord) {
	migration, explanation := "COMPLETE", ""
	switch {
	case rec.typ == "RESTART":
		explanation = "no shard relocation is necessary for a node restart"
	case st.member(rec.nodeID) == nil && !rec.nodeSeen:
		migration, explanation = "NOT_STARTED", "node is not currently part of the cluster"
	}
	b.WriteString(`{"node_id":`)
	b.Write(mustJSON(rec.nodeID))
	fmt.Fprintf(b, `,"type":%q,"reason":`, rec.typ)
	b.Write(mustJSON(rec.reason))
	if rec.allocationDelay != "" {
		b.WriteString(`,"allocation_delay":`)
		b.Write(mustJSON(rec.allocationDelay))
	}
	fmt.Fprintf(b, `,"shutdown_startedmillis":%d,"status":%q,"shard_migration":{"status":%q,"shard_migrations_remaining":0`,
		rec.startedAt.UnixMilli(), migration, migration)
	if explanation != "" {
		b.WriteString(`,"explanation":`)
		b.Write(mustJSON(explanation))
	}
	b.WriteString(`},"persistent_tasks":{"status":"COMPLETE"},"plugins":{"status":"COMPLETE"}`)
	if rec.targetNodeName != "" {
		b.WriteString(`,"target_node_name":`)
		b.Write(mustJSON(rec.targetNodeName))
	}
	if rec.gracePeriod != "" {
		b.WriteString(`,"grace_period":`)
		b.Write(mustJSON(rec.gracePeriod))
	}
	b.WriteByte('}')
}

// handleDeleteShutdown answers DELETE /_nodes/{node_id}/shutdown.
func handleDeleteShutdown(c *call) (reply, *esError) {
	if err := c.who.authorize("cluster:admin/shutdown/delete", "manage", "all"); err != nil {
		return reply{}, err
	}
	id := c.params["node_id"]
	if _, found := c.st.shutdowns[id]; !found {
		return reply{}, newErr(http.StatusNotFound, "resource_not_found_exception", "node ["+id+"] is not currently shutting down")
	}
	delete(c.st.shutdowns, id)
	c.st.shutdownOrder = slices.DeleteFunc(c.st.shutdownOrder, func(x string) bool { return x == id })
	c.st.stateVersion++
	return ok([]byte(`{"acknowledged":true}`)), nil
}

// ShutdownRecords returns the node IDs with a shutdown record, sorted.
func (c *Cluster) ShutdownRecords() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return sortedKeys(c.sh.shutdowns)
}

// votingExclusion is CoordinationMetadata.VotingConfigExclusion;
// "_absent_" stands for the part of a node the cluster does not know.
type votingExclusion struct {
	nodeID, nodeName string
}

const absent = "_absent_"

// maxVotingExclusions is cluster.max_voting_config_exclusions' default.
const maxVotingExclusions = 10

func addVotingParams(version) []string {
	return []string{"node_ids", "node_names", "timeout", "master_timeout"}
}

// handleAddVotingExclusions answers POST /_cluster/voting_config_exclusions
// (AddVotingConfigExclusionsRequest and its transport action): the nodes
// are resolved by ID or name, unknown ones recorded as _absent_, and the
// call returns once the excluded nodes left the voting configuration,
// which in the fake is at once.
func handleAddVotingExclusions(c *call) (reply, *esError) {
	if err := c.who.authorize("cluster:admin/voting_config/add_exclusions", "manage", "all"); err != nil {
		return reply{}, err
	}
	split := func(k string) []string {
		var out []string
		for _, v := range strings.Split(c.param(k), ",") {
			if v = strings.TrimSpace(v); v != "" {
				out = append(out, v)
			}
		}
		return out
	}
	ids, names := split("node_ids"), split("node_names")
	if (len(ids) > 0) == (len(names) > 0) {
		return reply{}, illegalArg("Please set node identifiers correctly. One and only one of [node_name], [node_names] and [node_ids] has to be set")
	}
	if v, set := c.query["timeout"]; set && len(v) > 0 {
		d, err := parseDuration(v[0], "timeout")
		if err != nil {
			return reply{}, err
		}
		if d < 0 {
			return reply{}, illegalArg("timeout [%s] must be non-negative", v[0])
		}
	}
	add := make([]votingExclusion, 0, len(ids))
	for _, id := range ids {
		if m := c.st.member(id); m != nil {
			if slices.Contains(m.st.nodeRoles, "master") {
				add = append(add, votingExclusion{nodeID: id, nodeName: m.st.nodeName})
			}
			continue
		}
		add = append(add, votingExclusion{nodeID: id, nodeName: absent})
	}
	for _, name := range names {
		found := false
		for _, m := range c.st.members {
			if m.st.nodeName == name {
				found = true
				if slices.Contains(m.st.nodeRoles, "master") {
					add = append(add, votingExclusion{nodeID: m.st.nodeID, nodeName: name})
				}
			}
		}
		if !found {
			add = append(add, votingExclusion{nodeID: absent, nodeName: name})
		}
	}
	add = slices.DeleteFunc(slices.Compact(add), func(e votingExclusion) bool { return slices.Contains(c.st.votingExclusions, e) })
	if len(c.st.votingExclusions)+len(add) > maxVotingExclusions {
		desc := "[]"
		return reply{}, illegalArg("add voting config exclusions request for %s would add [%d] exclusions to the existing [%d] which would exceed the maximum of [%d] set by [cluster.max_voting_config_exclusions]",
			desc, len(add), len(c.st.votingExclusions), maxVotingExclusions)
	}
	c.st.votingExclusions = append(c.st.votingExclusions, add...)
	c.st.stateVersion++
	return emptyOK(), nil
}

// emptyOK is EmptyResponseListener's answer: 200 with an empty plain-text
// body.
func emptyOK() reply {
	return reply{status: http.StatusOK, contentType: "text/plain; charset=UTF-8"}
}

func clearVotingParams(version) []string {
	return []string{"wait_for_removal", "timeout", "master_timeout"}
}

// handleClearVotingExclusions answers DELETE
// /_cluster/voting_config_exclusions: with wait_for_removal (default true)
// it waits until no excluded node is in the cluster, failing after timeout
// (default 30s) as TransportClearVotingConfigExclusionsAction does.
func handleClearVotingExclusions(c *call) (reply, *esError) {
	if err := c.who.authorize("cluster:admin/voting_config/clear_exclusions", "manage", "all"); err != nil {
		return reply{}, err
	}
	wait, err := c.boolParam("wait_for_removal", true)
	if err != nil {
		return reply{}, err
	}
	timeout := 30 * time.Second
	if v, set := c.query["timeout"]; set && len(v) > 0 {
		d, err := parseDuration(v[0], "timeout")
		if err != nil {
			return reply{}, err
		}
		timeout = d
	}
	if !wait {
		c.st.votingExclusions = nil
		c.st.stateVersion++
		return emptyOK(), nil
	}
	s := c.s
	initial := slices.Clone(c.st.votingExclusions)
	return reply{await: func(ctx context.Context) reply { return s.awaitExclusionsRemoved(ctx, initial, timeout) }}, nil
}

func (s *Server) awaitExclusionsRemoved(ctx context.Context, initial []votingExclusion, timeout time.Duration) reply {
	deadline := time.Now().Add(timeout)
	for {
		s.mu.Lock()
		present := slices.ContainsFunc(initial, func(e votingExclusion) bool { return s.st.member(e.nodeID) != nil })
		if !present {
			s.st.votingExclusions = nil
			s.st.stateVersion++
			s.mu.Unlock()
			return emptyOK()
		}
		s.mu.Unlock()
		if !time.Now().Before(deadline) || !pause(ctx) {
			e := newErr(http.StatusRequestTimeout, "elasticsearch_timeout_exception",
				"timed out waiting for removal of nodes; if nodes should not be removed, set waitForRemoval to false. "+exclusionsString(initial))
			return reply{status: e.Status, body: e.body()}
		}
	}
}

// pause waits one polling step of an awaiting answer, false when the
// client went away first.
func pause(ctx context.Context) bool {
	t := time.NewTimer(20 * time.Millisecond)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// exclusionsString is the Java toString of the set of exclusions.
func exclusionsString(es []votingExclusion) string {
	parts := make([]string, len(es))
	for i, e := range es {
		parts[i] = "{" + e.nodeID + "}{" + e.nodeName + "}"
	}
	return "[" + strings.Join(parts, ", ") + "]"
}

// VotingExclusions returns the voting configuration exclusions as
// "id/name" pairs, in the order they were added.
func (c *Cluster) VotingExclusions() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]string, len(c.sh.votingExclusions))
	for i, e := range c.sh.votingExclusions {
		out[i] = e.nodeID + "/" + e.nodeName
	}
	return out
}
