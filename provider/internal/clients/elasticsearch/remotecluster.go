package elasticsearch

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"
)

// RemoteSettingsPrefix is the prefix of an alias's cluster settings.
func RemoteSettingsPrefix(alias string) string { return "cluster.remote." + alias + "." }

// RemoteClusterSettings returns the persistent and transient cluster
// settings under cluster.remote.<alias>., keyed without that prefix, with
// lists joined by commas.
func (c *Client) RemoteClusterSettings(ctx context.Context, alias string) (persistent, transient map[string]string, err error) {
	const op = "read the cluster settings"
	res, err := c.es.Cluster.GetSettings(c.es.Cluster.GetSettings.WithContext(ctx), c.es.Cluster.GetSettings.WithFlatSettings(true))
	if err != nil {
		return nil, nil, classifyTransport(c.url, op, err)
	}
	var out struct {
		Persistent map[string]json.RawMessage `json:"persistent"`
		Transient  map[string]json.RawMessage `json:"transient"`
	}
	if err := decode(res, c.url, op, &out); err != nil {
		return nil, nil, err
	}
	prefix := RemoteSettingsPrefix(alias)
	pick := func(all map[string]json.RawMessage) map[string]string {
		m := map[string]string{}
		for k, raw := range all {
			rest, ok := strings.CutPrefix(k, prefix)
			if !ok {
				continue
			}
			var s string
			if json.Unmarshal(raw, &s) != nil {
				var list []string
				_ = json.Unmarshal(raw, &list) // Anything else reads as empty: it differs from what eslink sets.
				s = strings.Join(list, ",")
			}
			m[rest] = s
		}
		return m
	}
	return pick(out.Persistent), pick(out.Transient), nil
}

// PutPersistentSettings sets persistent cluster settings; a nil value
// removes the setting.
func (c *Client) PutPersistentSettings(ctx context.Context, settings map[string]*string) error {
	const op = "update the cluster settings"
	body, err := json.Marshal(map[string]any{"persistent": settings})
	if err != nil {
		return fmt.Errorf("cannot %s: %w", op, err)
	}
	res, err := c.es.Cluster.PutSettings(bytes.NewReader(body), c.es.Cluster.PutSettings.WithContext(ctx))
	if err != nil {
		return classifyTransport(c.url, op, err)
	}
	var out struct {
		Acknowledged bool `json:"acknowledged"`
	}
	if err := decode(res, c.url, op, &out); err != nil {
		return err
	}
	if !out.Acknowledged {
		return &Error{Reason: ReasonServer, Message: fmt.Sprintf("cannot %s: Elasticsearch at %s did not acknowledge the change in time; it is retried", op, c.url)}
	}
	return nil
}

// RemoteInfo is one alias of GET /_remote/info.
type RemoteInfo struct {
	Connected bool   `json:"connected"`
	Mode      string `json:"mode"`
	// Proxy mode.
	ProxyAddress             string `json:"proxy_address"`
	ServerName               string `json:"server_name"`
	NumProxySocketsConnected int64  `json:"num_proxy_sockets_connected"`
	// Sniff mode.
	Seeds             []string `json:"seeds"`
	NumNodesConnected int64    `json:"num_nodes_connected"`
	// ClusterCredentials is present, redacted, when the alias has
	// credentials (the API key security model).
	ClusterCredentials *string `json:"cluster_credentials,omitempty"`
}

// RemoteInfo returns GET /_remote/info by alias.
func (c *Client) RemoteInfo(ctx context.Context) (map[string]RemoteInfo, error) {
	const op = "read the remote cluster info"
	res, err := c.es.Cluster.RemoteInfo(c.es.Cluster.RemoteInfo.WithContext(ctx))
	if err != nil {
		return nil, classifyTransport(c.url, op, err)
	}
	out := map[string]RemoteInfo{}
	if err := decode(res, c.url, op, &out); err != nil {
		return nil, err
	}
	return out, nil
}

// FileSettingsState is the file-based settings state a cluster reports in
// its metadata (reserved_state.file_settings).
type FileSettingsState struct {
	// Version is the version of the settings file last applied.
	Version int64 `json:"version"`
	// Errors, when set, says the file of that version failed to apply.
	Errors *struct {
		Version   int64    `json:"version"`
		ErrorKind string   `json:"error_kind"`
		Errors    []string `json:"errors"`
	} `json:"errors,omitempty"`
}

// FileSettings returns the file-based settings state, nil when the cluster
// has applied none.
func (c *Client) FileSettings(ctx context.Context) (*FileSettingsState, error) {
	const op = "read the file-based settings state"
	res, err := c.es.Cluster.State(
		c.es.Cluster.State.WithContext(ctx),
		c.es.Cluster.State.WithMetric("metadata"),
		c.es.Cluster.State.WithFilterPath("metadata.reserved_state.file_settings"),
	)
	if err != nil {
		return nil, classifyTransport(c.url, op, err)
	}
	var out struct {
		Metadata struct {
			ReservedState struct {
				FileSettings *FileSettingsState `json:"file_settings"`
			} `json:"reserved_state"`
		} `json:"metadata"`
	}
	if err := decode(res, c.url, op, &out); err != nil {
		return nil, err
	}
	return out.Metadata.ReservedState.FileSettings, nil
}
