package esfake

import (
	"bytes"
	"encoding/json"
	"sort"
	"strconv"
	"strings"
)

// remoteSettingKinds lists the per-alias settings under cluster.remote.<alias>.
var remoteSettingKinds = map[string]string{
	"mode": "enum", "seeds": "list", "proxy_address": "string", "server_name": "string",
	"skip_unavailable": "bool", "proxy_socket_connections": "int", "node_connections": "int",
	"transport.ping_schedule": "time", "transport.compress": "string", "transport.compression_scheme": "string",
	"signing.certificate": "string", "signing.key": "string", "proxy": "string",
}

// knownPrefixes are setting namespaces the fake accepts without modelling;
// anything else is "not recognized", as ES says for unknown settings.
var knownPrefixes = []string{"cluster.routing.", "cluster.max_shards_per_node", "indices.", "action.", "logger.", "xpack.", "search.", "ingest.", "script."}

// flatten turns nested settings JSON into dotted keys; values are kept as
// decoded JSON (nil means "remove").
func flatten(prefix string, v any, out map[string]any) {
	if m, ok := v.(map[string]any); ok {
		for k, sub := range m {
			key := k
			if prefix != "" {
				key = prefix + "." + k
			}
			flatten(key, sub, out)
		}
		return
	}
	out[prefix] = v
}

func settingString(v any) (string, bool) {
	switch x := v.(type) {
	case string:
		return x, true
	case json.Number:
		return x.String(), true
	case bool:
		return strconv.FormatBool(x), true
	}
	return "", false
}

// normalizeSetting validates one setting and returns its stored form
// (string or []string).
func normalizeSetting(scope, key string, v any) (any, *esError) {
	notRecognized := illegalArg("%s setting [%s], not recognized", scope, key)
	if rest, isRemote := strings.CutPrefix(key, "cluster.remote."); isRemote {
		alias, kind, found := strings.Cut(rest, ".")
		if !found || alias == "" || strings.HasPrefix(rest, "signing.") {
			// Cluster-wide remote settings (e.g. cluster.remote.initial_connect_timeout).
			if rest == "initial_connect_timeout" || rest == "connect" || rest == "node.attr" || strings.HasPrefix(rest, "signing.") {
				return scalarSetting(scope, key, v)
			}
			return nil, notRecognized
		}
		typ, known := remoteSettingKinds[kind]
		if !known {
			return nil, notRecognized
		}
		if typ == "list" {
			if arr, ok := v.([]any); ok {
				out := make([]string, 0, len(arr))
				for _, e := range arr {
					s, ok := settingString(e)
					if !ok {
						return nil, illegalArg("failed to parse setting [%s]: expected a list of strings", key)
					}
					out = append(out, s)
				}
				return out, checkSeeds(key, out)
			}
			s, ok := settingString(v)
			if !ok {
				return nil, illegalArg("failed to parse setting [%s]: expected a list of strings", key)
			}
			out := strings.Split(s, ",")
			return out, checkSeeds(key, out)
		}
		sv, err := scalarSetting(scope, key, v)
		if err != nil {
			return nil, err
		}
		s := sv.(string)
		switch typ {
		case "enum":
			if s != "sniff" && s != "proxy" {
				return nil, valueErr(key, s, illegalArg("No enum constant org.elasticsearch.transport.RemoteConnectionStrategy.ConnectionStrategy.%s", strings.ToUpper(s)))
			}
		case "bool":
			if s != "true" && s != "false" {
				return nil, valueErr(key, s, illegalArg("Failed to parse value [%s] as only [true] or [false] are allowed.", s))
			}
		case "int":
			n, err := strconv.Atoi(s)
			if err != nil || n < 1 {
				return nil, valueErr(key, s, illegalArg("Failed to parse value [%s] for setting [%s] must be >= 1", s, key))
			}
		case "time":
			if _, err := parseDuration(s, key); err != nil {
				return nil, valueErr(key, s, err)
			}
		}
		if (kind == "proxy_address" || kind == "proxy") && s != "" {
			if err := parsePort(s); err != nil {
				return nil, valueErr(key, s, err)
			}
		}
		return s, nil
	}
	for _, p := range knownPrefixes {
		if strings.HasPrefix(key, p) {
			return scalarSetting(scope, key, v)
		}
	}
	return nil, notRecognized
}

func scalarSetting(scope, key string, v any) (any, *esError) {
	if arr, ok := v.([]any); ok {
		out := make([]string, 0, len(arr))
		for _, e := range arr {
			s, _ := settingString(e)
			out = append(out, s)
		}
		return out, nil
	}
	s, ok := settingString(v)
	if !ok {
		return nil, illegalArg("%s setting [%s] has an invalid value", scope, key)
	}
	return s, nil
}

func valueErr(key, val string, cause *esError) *esError {
	e := illegalArg("illegal value can't update [%s] from [null] to [%s]", key, val)
	e.CausedBy = cause
	return e
}

func handlePutSettings(c *call) (reply, *esError) {
	const pn = "cluster_update_settings_request"
	d, fs, serr, err := c.bodyFields(pn)
	if err != nil {
		return reply{}, err
	}
	updates := map[string]map[string]any{"persistent": {}, "transient": {}}
	for _, f := range fs {
		if f.key != "persistent" && f.key != "transient" {
			return reply{}, unknownField(d, pn, f)
		}
		if f.val.token() != "START_OBJECT" {
			return reply{}, unsupportedType(d, pn, f)
		}
		flatten("", decodeAny(f.val.raw), updates[f.key])
	}
	if serr != nil {
		return reply{}, serr
	}
	if len(updates["persistent"]) == 0 && len(updates["transient"]) == 0 {
		return reply{}, validationErr([]string{"no settings to update"})
	}
	if err := c.who.authorize("cluster:admin/settings/update", "manage", "all"); err != nil {
		return reply{}, err
	}
	flat, err := c.boolParam("flat_settings", false)
	if err != nil {
		return reply{}, err
	}
	// Validate everything against the would-be result before applying, as
	// ES applies a settings update atomically.
	next := map[string]map[string]any{"persistent": copySettings(c.st.persistent), "transient": copySettings(c.st.transient)}
	applied := map[string]map[string]any{"persistent": {}, "transient": {}}
	for _, scope := range []string{"persistent", "transient"} {
		keys := sortedKeys(updates[scope])
		for _, k := range keys {
			v := updates[scope][k]
			if v == nil {
				if strings.HasSuffix(k, "*") {
					for existing := range next[scope] {
						if strings.HasPrefix(existing, strings.TrimSuffix(k, "*")) {
							delete(next[scope], existing)
						}
					}
					continue
				}
				delete(next[scope], k)
				continue
			}
			nv, verr := normalizeSetting(scope, k, v)
			if verr != nil {
				return reply{}, verr
			}
			next[scope][k] = nv
			applied[scope][k] = nv
		}
	}
	if err := validateRemoteModes(c.st.node.config, next["persistent"], next["transient"]); err != nil {
		return reply{}, err
	}
	c.st.persistent, c.st.transient = toStored(next["persistent"]), toStored(next["transient"])
	c.st.stateVersion++
	var b bytes.Buffer
	b.WriteString(`{"acknowledged":true,"persistent":`)
	b.Write(renderSettings(applied["persistent"], flat))
	b.WriteString(`,"transient":`)
	b.Write(renderSettings(applied["transient"], flat))
	b.WriteByte('}')
	return ok(b.Bytes()), nil
}

func copySettings(m map[string]any) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

func toStored(m map[string]any) map[string]any { return m }

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

var proxyOnly = []string{"proxy_address", "proxy_socket_connections", "server_name"}
var sniffOnly = []string{"seeds", "node_connections", "proxy"}

// needsConnection are the settings RemoteClusterSettings validates with
// RemoteConnectionEnabled: they need seeds (sniff) or a proxy_address (proxy).
var needsConnection = []string{"skip_unavailable", "transport.ping_schedule", "transport.compress", "transport.compression_scheme"}

// checkSeeds validates each seed address like SniffConnectionStrategy does.
func checkSeeds(key string, seeds []string) *esError {
	for _, s := range seeds {
		if err := parsePort(s); err != nil {
			return valueErr(key, strings.Join(seeds, ","), err)
		}
	}
	return nil
}

// parsePort is RemoteConnectionStrategy.parsePort.
func parsePort(remoteHost string) *esError {
	i := strings.LastIndex(remoteHost, ":")
	if i == -1 || i == len(remoteHost)-1 {
		return illegalArg("remote hosts need to be configured as [host:port], found [%s] instead", remoteHost)
	}
	port, err := strconv.Atoi(remoteHost[i+1:])
	if err != nil {
		return illegalArg("failed to parse port")
	}
	if port <= 0 {
		return illegalArg("port number must be > 0 but was: [%d]", port)
	}
	return nil
}

// validateRemoteModes rejects mode-specific settings under the other mode,
// like RemoteConnectionStrategy's setting validators, and connection
// settings of a remote without an address (RemoteConnectionEnabled). The
// settings are checked as they would be in effect: elasticsearch.yml, then
// persistent, then transient.
func validateRemoteModes(node, persistent, transient map[string]any) *esError {
	eff := map[string]any{}
	for k, v := range node {
		if strings.HasPrefix(k, "cluster.remote.") {
			eff[k] = v
		}
	}
	for k, v := range persistent {
		eff[k] = v
	}
	for k, v := range transient {
		eff[k] = v
	}
	for _, alias := range remoteAliases(eff) {
		base := "cluster.remote." + alias + "."
		mode, _ := eff[base+"mode"].(string)
		if mode == "" {
			mode = "sniff"
		}
		check := func(keys []string, required string) *esError {
			for _, k := range keys {
				if _, set := eff[base+k]; set && mode != required {
					return illegalArg("Setting \"%s%s\" cannot be used with the configured \"%smode\" [required=%s, configured=%s]",
						base, k, base, strings.ToUpper(required), strings.ToUpper(mode))
				}
			}
			return nil
		}
		if err := check(proxyOnly, "proxy"); err != nil {
			return err
		}
		if err := check(sniffOnly, "sniff"); err != nil {
			return err
		}
		enabled := len(configList(eff, base+"seeds")) > 0
		if mode == "proxy" {
			enabled = configString(eff, base+"proxy_address") != ""
		}
		for _, k := range needsConnection {
			if _, set := eff[base+k]; set && !enabled {
				return illegalArg("Cannot configure setting [%s%s] if remote cluster is not enabled.", base, k)
			}
		}
	}
	return nil
}

func remoteAliases(eff map[string]any) []string {
	seen := map[string]bool{}
	for k := range eff {
		rest, ok := strings.CutPrefix(k, "cluster.remote.")
		if !ok {
			continue
		}
		alias, kind, found := strings.Cut(rest, ".")
		if found && alias != "" {
			if _, known := remoteSettingKinds[kind]; known {
				seen[alias] = true
			}
		}
	}
	return sortedKeys(seen)
}

// renderSettings writes settings nested (ES default) or flat.
func renderSettings(m map[string]any, flat bool) []byte {
	if flat {
		var b bytes.Buffer
		b.WriteByte('{')
		for i, k := range sortedKeys(m) {
			if i > 0 {
				b.WriteByte(',')
			}
			b.Write(mustJSON(k))
			b.WriteByte(':')
			b.Write(mustJSON(m[k]))
		}
		b.WriteByte('}')
		return b.Bytes()
	}
	tree := map[string]any{}
	for _, k := range sortedKeys(m) {
		parts := strings.Split(k, ".")
		node := tree
		for i, p := range parts {
			if i == len(parts)-1 {
				if _, isObj := node[p].(map[string]any); !isObj {
					node[p] = m[k]
				}
				break
			}
			child, isObj := node[p].(map[string]any)
			if !isObj {
				// A leaf and an object share a prefix; keep the object, as
				// nested rendering cannot show both.
				child = map[string]any{}
				node[p] = child
			}
			node = child
		}
	}
	return mustJSON(tree)
}

func handleGetSettings(c *call) (reply, *esError) {
	if err := c.who.authorize("cluster:monitor/settings", "monitor", "manage", "all"); err != nil {
		return reply{}, err
	}
	flat, err := c.boolParam("flat_settings", false)
	if err != nil {
		return reply{}, err
	}
	defaults, err := c.boolParam("include_defaults", false)
	if err != nil {
		return reply{}, err
	}
	if _, err := c.boolParam("local", false); err != nil {
		return reply{}, err
	}
	var b bytes.Buffer
	b.WriteString(`{"persistent":`)
	b.Write(renderSettings(c.st.persistent, flat))
	b.WriteString(`,"transient":`)
	b.Write(renderSettings(c.st.transient, flat))
	if defaults {
		b.WriteString(`,"defaults":`)
		b.Write(renderSettings(map[string]any{"cluster.remote.initial_connect_timeout": "30s"}, flat))
	}
	b.WriteByte('}')
	return ok(b.Bytes()), nil
}

// ClusterSettings returns copies of the persistent and transient settings,
// flat keys to string or []string values.
func (s *Server) ClusterSettings() (persistent, transient map[string]any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return copySettings(s.st.persistent), copySettings(s.st.transient)
}

// ClusterUUID returns the cluster_uuid the server answers GET / with, as
// ECK records it on the cluster's Elasticsearch object once it formed.
func (s *Server) ClusterUUID() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.st.clusterUUID
}
