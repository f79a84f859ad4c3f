package esfake

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
)

// desiredNodes is DesiredNodes: the latest definition of the cluster's
// nodes an orchestrator declared, with its history and version.
type desiredNodes struct {
	historyID string
	version   int64
	// nodes are the node definitions as sent (compact JSON objects); the
	// fake stores and returns them without normalizing their values.
	nodes [][]byte
}

func (d *desiredNodes) equal(o *desiredNodes) bool {
	if d.historyID != o.historyID || d.version != o.version || len(d.nodes) != len(o.nodes) {
		return false
	}
	for i := range d.nodes {
		if !bytes.Equal(d.nodes[i], o.nodes[i]) {
			return false
		}
	}
	return true
}

func desiredNodesParams(version) []string { return []string{"master_timeout", "timeout", "dry_run"} }

// handleUpdateDesiredNodes answers PUT
// /_internal/desired_nodes/{history_id}/{version} like
// TransportUpdateDesiredNodesAction: the same definition again is a no-op,
// another definition under the same version is rejected, and a version
// not above the latest one of the same history is a conflict.
func handleUpdateDesiredNodes(c *call) (reply, *esError) {
	const pn = "update_desired_nodes_request"
	if err := c.who.authorize("cluster:admin/desired_nodes/update", "manage", "all"); err != nil {
		return reply{}, err
	}
	dryRun, err := c.boolParam("dry_run", false)
	if err != nil {
		return reply{}, err
	}
	v, perr := strconv.ParseInt(c.params["version"], 10, 64)
	if perr != nil {
		return reply{}, illegalArg("Failed to parse long parameter [version] with value [%s]", c.params["version"])
	}
	d, fs, serr, err := c.bodyFields(pn)
	if err != nil {
		return reply{}, err
	}
	next := &desiredNodes{historyID: c.params["history_id"], version: v}
	seen := false
	for _, f := range fs {
		if f.key != "nodes" {
			return reply{}, unknownField(d, pn, f)
		}
		if f.val.token() != "START_ARRAY" {
			return reply{}, unsupportedType(d, pn, f)
		}
		elems, eerr := d.elems(f.val)
		if eerr != nil {
			return reply{}, eerr
		}
		for _, e := range elems {
			if e.token() != "START_OBJECT" {
				return reply{}, xcontentErr(d.loc(e.off), fmt.Sprintf("[%s] nodes doesn't support values of type: %s", pn, e.token()), nil)
			}
			var compacted bytes.Buffer
			if json.Compact(&compacted, e.raw) != nil {
				return reply{}, d.syntaxErr(e.off, nil)
			}
			next.nodes = append(next.nodes, compacted.Bytes())
		}
		seen = true
	}
	if serr != nil {
		return reply{}, serr
	}
	if !seen {
		return reply{}, illegalArg("Required [nodes]")
	}
	latest := c.st.desired
	replaced := latest != nil && latest.historyID != next.historyID
	if latest != nil {
		switch {
		case latest.equal(next):
			return ok([]byte(fmt.Sprintf(`{"replaced_existing_history_id":false,"dry_run":%t}`, dryRun))), nil
		case latest.historyID == next.historyID && latest.version == next.version:
			return reply{}, illegalArg("Desired nodes with history [%s] and version [%d] already exists with a different definition", latest.historyID, latest.version)
		case latest.historyID == next.historyID && next.version < latest.version:
			return reply{}, errf(http.StatusConflict, "version_conflict_exception", "version [%d] has been superseded by version [%d] for history [%s]",
				next.version, latest.version, latest.historyID)
		}
	}
	if !dryRun {
		c.st.desired = next
		c.st.stateVersion++
	}
	return ok([]byte(fmt.Sprintf(`{"replaced_existing_history_id":%t,"dry_run":%t}`, replaced, dryRun))), nil
}

// handleGetDesiredNodes answers GET /_internal/desired_nodes/_latest.
func handleGetDesiredNodes(c *call) (reply, *esError) {
	if err := c.who.authorize("cluster:admin/desired_nodes/get", "manage", "all"); err != nil {
		return reply{}, err
	}
	dn := c.st.desired
	if dn == nil {
		return reply{}, newErr(http.StatusNotFound, "resource_not_found_exception", "Desired nodes not found")
	}
	var b bytes.Buffer
	b.WriteString(`{"history_id":`)
	b.Write(mustJSON(dn.historyID))
	fmt.Fprintf(&b, `,"version":%d,"nodes":[`, dn.version)
	for i, n := range dn.nodes {
		if i > 0 {
			b.WriteByte(',')
		}
		b.Write(n)
	}
	b.WriteString(`]}`)
	return ok(b.Bytes()), nil
}

// handleDeleteDesiredNodes answers DELETE /_internal/desired_nodes: the
// desired nodes are gone, whether there were any or not.
func handleDeleteDesiredNodes(c *call) (reply, *esError) {
	if err := c.who.authorize("cluster:admin/desired_nodes/delete", "manage", "all"); err != nil {
		return reply{}, err
	}
	if c.st.desired != nil {
		c.st.desired = nil
		c.st.stateVersion++
	}
	return emptyOK(), nil
}

// DesiredNodes returns the history ID and version of the latest desired
// nodes, and whether there are any.
func (c *Cluster) DesiredNodes() (historyID string, version int64, ok bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.sh.desired == nil {
		return "", 0, false
	}
	return c.sh.desired.historyID, c.sh.desired.version, true
}
