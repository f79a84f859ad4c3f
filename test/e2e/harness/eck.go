package harness

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/eslink/eslink/test/e2e/ecksim"
	"github.com/eslink/eslink/test/fakeelasticsearch/esfake"
)

// DefaultECKRestartDelay is how long a simulated rolling restart takes
// unless Options.ECKRestartDelay says otherwise.
const DefaultECKRestartDelay = 2 * time.Second

// wireECK puts both fakes on the Network (the Services between the
// clusters and to them) and runs the simulated ECK's first pass, which
// deploys both clusters, creates their Services and writes the Secrets ECK
// creates for them (transport CAs, certificates, file settings) before the
// provider starts reading them.
func (h *Harness) wireECK(ctx context.Context, o Options) error {
	h.Network.Join(h.Local, h.Remote)
	delay := o.ECKRestartDelay
	if delay == 0 {
		delay = DefaultECKRestartDelay
	}
	h.ECK = &ecksim.Simulator{
		Kube: h.Kube, Interval: o.Interval, Log: o.Log, Network: h.Network,
		RestartDelay: delay, FileSettingsDelay: o.Interval / 2,
		Clusters: map[string]*ecksim.Cluster{
			LocalNamespace + "/" + LocalName:   h.simCluster(h.Local),
			RemoteNamespace + "/" + RemoteName: h.simCluster(h.Remote),
		},
	}
	if err := h.ECK.Reconcile(ctx); err != nil {
		return fmt.Errorf("first pass of the simulated ECK: %w", err)
	}
	return nil
}

// RemoteInfo is one alias of GET /_remote/info.
type RemoteInfo struct {
	Connected          bool     `json:"connected"`
	Mode               string   `json:"mode"`
	Seeds              []string `json:"seeds,omitempty"`
	ProxyAddress       string   `json:"proxy_address,omitempty"`
	ServerName         string   `json:"server_name,omitempty"`
	SkipUnavailable    bool     `json:"skip_unavailable"`
	ClusterCredentials string   `json:"cluster_credentials,omitempty"`
}

// RemoteInfoOf asks fake es for GET /_remote/info, as a client would.
func RemoteInfoOf(ctx context.Context, es *esfake.Server) (map[string]RemoteInfo, error) {
	b, status, err := call(ctx, es, http.MethodGet, "/_remote/info", "")
	if err != nil {
		return nil, err
	}
	if status != http.StatusOK {
		return nil, fmt.Errorf("GET /_remote/info: HTTP %d", status)
	}
	out := map[string]RemoteInfo{}
	if err := json.Unmarshal(b, &out); err != nil {
		return nil, fmt.Errorf("cannot decode _remote/info: %w", err)
	}
	return out, nil
}

// WaitConnected polls the local cluster's GET /_remote/info until alias is
// connected. On timeout the error says why not, as the fake explains it.
func (h *Harness) WaitConnected(ctx context.Context, alias string, timeout time.Duration) (RemoteInfo, error) {
	return WaitConnected(ctx, h.Local, alias, timeout)
}

// WaitConnected polls es's GET /_remote/info until alias is connected. On
// timeout the error says why not, as the fake explains it.
func WaitConnected(ctx context.Context, es *esfake.Server, alias string, timeout time.Duration) (RemoteInfo, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	for {
		info, err := RemoteInfoOf(ctx, es)
		if err == nil && info[alias].Connected {
			return info[alias], nil
		}
		select {
		case <-ctx.Done():
			return info[alias], fmt.Errorf("cluster %s is not connected to %s after %s: %s", es.URL, alias, timeout, es.RemoteConnection(alias).Reason)
		case <-time.After(250 * time.Millisecond):
		}
	}
}
