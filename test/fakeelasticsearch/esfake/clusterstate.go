package esfake

import (
	"bytes"
	"fmt"
	"slices"
	"strings"
)

func clusterStateParams(version) []string {
	return []string{"local", "master_timeout", "flat_settings", "wait_for_metadata_version", "wait_for_timeout",
		"ignore_unavailable", "allow_no_indices", "expand_wildcards"}
}

// clusterStateMetrics are the metrics RestClusterStateAction accepts.
var clusterStateMetrics = []string{"_all", "blocks", "metadata", "nodes", "routing_table", "routing_nodes", "master_node", "version", "customs"}

// handleClusterState answers GET /_cluster/state[/{metric}] with the parts
// eslink and ECK read: metadata.reserved_state.file_settings (the applied
// file-based settings version, which ECK's client decodes as
// ClusterState.Metadata.ReservedState.FileSettings.Version), the node and
// the cluster identity. Indices and routing are empty.
func handleClusterState(c *call) (reply, *esError) {
	if err := c.who.authorize("cluster:monitor/state", "monitor", "manage", "all"); err != nil {
		return reply{}, err
	}
	for _, p := range []string{"local", "flat_settings"} {
		if _, err := c.boolParam(p, false); err != nil {
			return reply{}, err
		}
	}
	want := map[string]bool{}
	metric := c.params["metric"]
	if metric == "" {
		metric = "_all"
	}
	for _, m := range strings.Split(metric, ",") {
		if !slices.Contains(clusterStateMetrics, m) {
			return reply{}, illegalArg("request [%s] contains unrecognized metric: [%s]", c.r.URL.Path, m)
		}
		want[m] = true
	}
	all := want["_all"]
	st := c.st
	var b bytes.Buffer
	b.WriteString(`{"cluster_name":`)
	b.Write(mustJSON(st.clusterName))
	b.WriteString(`,"cluster_uuid":`)
	b.Write(mustJSON(st.clusterUUID))
	if all || want["version"] {
		fmt.Fprintf(&b, `,"version":%d,"state_uuid":%s`, st.stateVersion, mustJSON(st.clusterUUID))
	}
	if all || want["master_node"] {
		b.WriteString(`,"master_node":`)
		if m := st.master(); m != nil {
			b.Write(mustJSON(m.st.nodeID))
		} else {
			b.WriteString("null")
		}
	}
	if all || want["blocks"] {
		b.WriteString(`,"blocks":{}`)
	}
	if all || want["nodes"] {
		b.WriteString(`,"nodes":{`)
		for i, m := range st.members {
			if i > 0 {
				b.WriteByte(',')
			}
			b.Write(mustJSON(m.st.nodeID))
			b.WriteString(`:{"name":`)
			b.Write(mustJSON(m.st.nodeName))
			b.WriteString(`,"ephemeral_id":`)
			b.Write(mustJSON(m.st.nodeID))
			b.WriteString(`,"transport_address":`)
			b.Write(mustJSON(m.st.publishHost() + ":9300"))
			b.WriteString(`,"external_id":`)
			b.Write(mustJSON(m.st.nodeName))
			b.WriteString(`,"attributes":{},"roles":`)
			b.Write(mustJSON(m.st.nodeRoles))
			b.WriteString(`,"version":`)
			b.Write(mustJSON(m.st.ver.raw))
			b.WriteByte('}')
		}
		b.WriteByte('}')
	}
	if all || want["metadata"] {
		b.WriteString(`,"metadata":{"cluster_uuid":`)
		b.Write(mustJSON(st.clusterUUID))
		b.WriteString(`,"cluster_uuid_committed":true,"cluster_coordination":{"voting_config_exclusions":[`)
		for i, e := range st.votingExclusions {
			if i > 0 {
				b.WriteByte(',')
			}
			fmt.Fprintf(&b, `{"node_id":%s,"node_name":%s}`, mustJSON(e.nodeID), mustJSON(e.nodeName))
		}
		b.WriteString(`]},"templates":{},"indices":{},"reserved_state":`)
		b.Write(st.reservedStateJSON())
		b.WriteByte('}')
	}
	if all || want["routing_table"] {
		b.WriteString(`,"routing_table":{"indices":{}}`)
	}
	if all || want["routing_nodes"] {
		b.WriteString(`,"routing_nodes":{"unassigned":[],"nodes":{}}`)
	}
	b.WriteByte('}')
	return ok(b.Bytes()), nil
}

// reservedStateJSON renders ReservedStateMetadata.toXContent for the
// file_settings namespace: version, handlers with the keys they set (the
// fake only tracks cluster_secrets, whose names it does not reveal), errors.
func (st *state) reservedStateJSON() []byte {
	n := st.node
	if !n.fileSettingsApplied && n.fileSettingsError == nil {
		return []byte("{}")
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, `{"file_settings":{"version":%d,"handlers":{},"errors":`, n.fileSettingsVersion)
	if e := n.fileSettingsError; e != nil {
		fmt.Fprintf(&b, `{"version":%d,"error_kind":%q,"errors":`, e.version, e.kind)
		b.Write(mustJSON(e.errors))
		b.WriteByte('}')
	} else {
		b.WriteString("null")
	}
	b.WriteString("}}")
	return b.Bytes()
}
