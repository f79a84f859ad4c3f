package elasticsearch

import (
	"net/http"
	"strings"
	"time"

	"github.com/eslink/eslink/provider/internal/metrics"
)

// endpoints are the route templates of the requests the client makes, so
// that a metric's endpoint label stays bounded: a key id or a metric name
// in a path is replaced by its placeholder.
var endpoints = []struct {
	prefix, template string
	// keys marks a read of API keys.
	keys bool
}{
	{prefix: "/_security/cross_cluster/api_key/", template: "/_security/cross_cluster/api_key/{id}"},
	{prefix: "/_security/cross_cluster/api_key", template: "/_security/cross_cluster/api_key"},
	{prefix: "/_security/_query/api_key", template: "/_security/_query/api_key", keys: true},
	{prefix: "/_security/api_key", template: "/_security/api_key", keys: true},
	{prefix: "/_cluster/settings", template: "/_cluster/settings"},
	{prefix: "/_cluster/state/", template: "/_cluster/state/{metric}"},
	{prefix: "/_remote/info", template: "/_remote/info"},
}

// endpoint returns the route template of a request path, "other" for a
// path the client never sends, and whether it reads API keys.
func endpoint(path string) (string, bool) {
	if path == "" || path == "/" {
		return "/", false
	}
	for _, e := range endpoints {
		if strings.HasPrefix(path, e.prefix) {
			return e.template, e.keys
		}
	}
	return "other", false
}

// instrumentedTransport counts every request to one remote and measures its
// latency, body read included (see metrics.Request).
type instrumentedTransport struct {
	base    http.RoundTripper
	cluster string
}

func (t *instrumentedTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	start := time.Now()
	res, err := t.base.RoundTrip(req)
	ep, keys := endpoint(req.URL.Path)
	// Only a GET of /_security/api_key reads keys; a DELETE invalidates.
	keys = keys && req.Method != http.MethodDelete
	metrics.Request(t.cluster, req.Method, ep, outcome(res, err), time.Since(start), keys)
	return res, err
}

func outcome(res *http.Response, err error) string {
	switch {
	case err != nil:
		return metrics.OutcomeUnreachable
	case res.StatusCode >= http.StatusInternalServerError:
		return metrics.OutcomeServerError
	case res.StatusCode >= http.StatusBadRequest:
		return metrics.OutcomeClientError
	default:
		return metrics.OutcomeSuccess
	}
}
