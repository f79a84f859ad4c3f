package esfake

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"sort"
	"strings"
)

func handleRemoteInfo(c *call) (reply, *esError) {
	if err := c.who.authorize("cluster:monitor/remote/info", "monitor", "manage", "all"); err != nil {
		return reply{}, err
	}
	eff := c.st.remoteSettings()
	plan := c.st.dialPlan()
	skipDefault := c.st.ver.skipUnavailableTrue()
	network := c.s.network.Load()
	// Connecting asks the remote clusters, which must not happen under this
	// node's lock: finish runs after it is released.
	return reply{status: http.StatusOK, finish: func() []byte {
		return renderRemoteInfo(eff, plan, plan.connect(network), skipDefault)
	}}, nil
}

// renderRemoteInfo writes the aliases in RemoteConnectionInfo.toXContent
// order: only aliases with an address are listed (RemoteClusterAware).
func renderRemoteInfo(eff map[string]any, plan dialPlan, conns []Connection, skipDefault bool) []byte {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, p := range plan.aliases {
		conn := conns[i]
		base := "cluster.remote." + p.alias + "."
		if i > 0 {
			b.WriteByte(',')
		}
		b.Write(mustJSON(p.alias))
		fmt.Fprintf(&b, `:{"connected":%t,"mode":%q`, conn.Connected, p.mode)
		if p.mode == "proxy" {
			sockets := intSetting(eff, base+"proxy_socket_connections", 18)
			open := 0
			if conn.Connected {
				open = sockets
			}
			b.WriteString(`,"proxy_address":`)
			b.Write(mustJSON(p.addresses[0]))
			b.WriteString(`,"server_name":`)
			b.Write(mustJSON(p.serverName))
			fmt.Fprintf(&b, `,"num_proxy_sockets_connected":%d,"max_proxy_socket_connections":%d`, open, sockets)
		} else {
			nodes := 0
			if conn.Connected {
				nodes = 1
			}
			b.WriteString(`,"seeds":`)
			b.Write(mustJSON(p.addresses))
			fmt.Fprintf(&b, `,"num_nodes_connected":%d,"max_connections_per_cluster":%d`, nodes, intSetting(eff, base+"node_connections", 3))
		}
		skip := skipDefault
		if s, set := eff[base+"skip_unavailable"].(string); set {
			skip = s == "true"
		}
		timeout := "30s"
		if t, set := eff["cluster.remote.initial_connect_timeout"].(string); set {
			timeout = t
		}
		fmt.Fprintf(&b, `,"initial_connect_timeout":%q,"skip_unavailable":%t`, timeout, skip)
		if p.hasCredentials {
			b.WriteString(`,"cluster_credentials":"::es_redacted::"`)
		}
		b.WriteByte('}')
	}
	b.WriteByte('}')
	return b.Bytes()
}

func intSetting(eff map[string]any, key string, def int) int {
	s, _ := eff[key].(string)
	var n int
	if _, err := fmt.Sscanf(s, "%d", &n); err != nil || n < 1 {
		return def
	}
	return n
}

// handleReload loads the on-disk keystore. Before 8.13 remote cluster
// credentials are not reloadable and keep their loaded value until restart.
func handleReload(c *call) (reply, *esError) {
	if err := c.who.authorize("cluster:admin/nodes/reload_secure_settings", "manage", "all"); err != nil {
		return reply{}, err
	}
	if len(c.body) > 0 {
		const pn = "reload_secure_settings"
		d := &doc{data: c.body}
		root, err := d.root()
		if err != nil {
			return reply{}, err
		}
		fs, serr, err := objectFields(d, root, pn)
		if err != nil {
			return reply{}, err
		}
		for _, f := range fs {
			if f.key != "secure_settings_password" {
				return reply{}, unknownField(d, pn, f)
			}
			if f.val.token() != "VALUE_STRING" && f.val.token() != "VALUE_NULL" {
				return reply{}, unsupportedType(d, pn, f)
			}
		}
		if serr != nil {
			return reply{}, serr
		}
	}
	// Every selected node of the cluster reloads its own keystore.
	nodes := c.st.resolveNodes(c.s, c.params["node_id"])
	for _, m := range nodes {
		m.st.reloadKeystore()
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, `{"_nodes":{"total":%d,"successful":%d,"failed":0},"cluster_name":`, len(nodes), len(nodes))
	b.Write(mustJSON(c.st.clusterName))
	b.WriteString(`,"nodes":{`)
	for i, m := range nodes {
		if i > 0 {
			b.WriteByte(',')
		}
		st := m.st
		names := sortedKeys(st.keystoreDisk)
		sort.Strings(names)
		h := sha256.New()
		for _, k := range names {
			_, _ = fmt.Fprintf(h, "%s=%s\n", k, st.keystoreDisk[k]) // hash.Hash writes never fail.
		}
		b.Write(mustJSON(st.nodeID))
		b.WriteString(`:{"name":`)
		b.Write(mustJSON(st.nodeName))
		b.WriteString(`,"secure_setting_names":`)
		b.Write(mustJSON(names))
		b.WriteString(`,"keystore_path":"/usr/share/elasticsearch/config/elasticsearch.keystore","keystore_digest":`)
		b.Write(mustJSON(hex.EncodeToString(h.Sum(nil))))
		b.WriteString(`,"keystore_last_modified_time":`)
		b.Write(mustJSON(st.keystoreModified.UTC().Format("2006-01-02T15:04:05.000Z")))
		b.WriteByte('}')
	}
	b.WriteString(`}}`)
	return ok(b.Bytes()), nil
}

// reloadKeystore loads the on-disk keystore as POST
// /_nodes/reload_secure_settings does: before 8.13 remote cluster
// credentials are not reloadable and keep their loaded values.
func (st *state) reloadKeystore() {
	creds := map[string]string{}
	if !st.ver.reloadRemoteCreds() {
		for k, v := range st.keystoreActive {
			if isCredentialSetting(k) {
				creds[k] = v
			}
		}
	}
	st.loadKeystore()
	if !st.ver.reloadRemoteCreds() {
		for k := range st.keystoreActive {
			if isCredentialSetting(k) {
				delete(st.keystoreActive, k)
			}
		}
		for k, v := range creds {
			st.keystoreActive[k] = v
		}
	}
}

func isCredentialSetting(k string) bool {
	return strings.HasPrefix(k, "cluster.remote.") && strings.HasSuffix(k, ".credentials")
}
