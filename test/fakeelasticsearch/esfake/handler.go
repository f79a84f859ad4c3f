package esfake

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strings"
	"time"
)

// maxBody bounds request bodies; ES's default http.max_content_length is
// 100mb, far above anything this API needs.
const maxBody = 10 << 20

// call is the per-request context handed to endpoint handlers. Handlers run
// with Server.mu held.
type call struct {
	s      *Server
	st     *state
	r      *http.Request
	body   []byte
	query  url.Values
	params map[string]string
	who    *principal
	used   map[string]bool
}

// reply is a successful (or non-error) response.
type reply struct {
	status int
	body   []byte
	// finish, when set, computes the body after Server.mu is released:
	// for answers that need other nodes (GET /_remote/info).
	finish func() []byte
	// await, when set, replaces the reply after Server.mu is released:
	// for answers that wait for the cluster to change (wait_for_* params).
	// It stops waiting when the client goes away (ctx), as Elasticsearch
	// cancels the REST action of a closed HTTP channel.
	await func(ctx context.Context) reply
	// contentType overrides the negotiated JSON type (plain-text answers
	// such as an empty acknowledgement or a cat table).
	contentType string
}

func ok(body []byte) reply { return reply{status: http.StatusOK, body: body} }

type route struct {
	method   string
	template string
	segs     []string
	// params are the query parameters the ES handler consumes; all others
	// are rejected like BaseRestHandler does.
	params func(v version) []string
	handle func(c *call) (reply, *esError)
}

func (rt *route) name() string { return rt.method + " " + rt.template }

func (s *Server) routes() []*route {
	p := func(names ...string) func(version) []string {
		return func(version) []string { return names }
	}
	rs := []*route{
		{method: "GET", template: "/", params: p(), handle: handleRoot},
		{method: "HEAD", template: "/", params: p(), handle: handleRoot},
		{method: "GET", template: "/_license", params: p("local", "accept_enterprise"), handle: handleLicense},
		{method: "GET", template: "/_security/_authenticate", params: p(), handle: handleAuthenticate},
		{method: "POST", template: "/_security/cross_cluster/api_key", params: p(), handle: handleCreateCrossCluster},
		{method: "PUT", template: "/_security/cross_cluster/api_key/{id}", params: p(), handle: handleUpdateCrossCluster},
		{method: "POST", template: "/_security/api_key", params: p("refresh"), handle: handleCreateREST},
		{method: "PUT", template: "/_security/api_key", params: p("refresh"), handle: handleCreateREST},
		{method: "PUT", template: "/_security/api_key/{id}", params: p(), handle: handleUpdateREST},
		{method: "GET", template: "/_security/api_key", params: getKeyParams, handle: handleGetKeys},
		{method: "DELETE", template: "/_security/api_key", params: p(), handle: handleInvalidate},
		{method: "GET", template: "/_security/_query/api_key", params: queryKeyParams, handle: handleQueryKeys},
		{method: "POST", template: "/_security/_query/api_key", params: queryKeyParams, handle: handleQueryKeys},
		{method: "PUT", template: "/_security/role/{name}", params: p("refresh"), handle: withRefresh(handlePutRole)},
		{method: "POST", template: "/_security/role/{name}", params: p("refresh"), handle: withRefresh(handlePutRole)},
		{method: "GET", template: "/_security/role", params: p(), handle: handleGetRoles},
		{method: "GET", template: "/_security/role/{name}", params: p(), handle: handleGetRoles},
		{method: "DELETE", template: "/_security/role/{name}", params: p("refresh"), handle: withRefresh(handleDeleteRole)},
		{method: "PUT", template: "/_security/user/{username}", params: p("refresh"), handle: withRefresh(handlePutUser)},
		{method: "POST", template: "/_security/user/{username}", params: p("refresh"), handle: withRefresh(handlePutUser)},
		{method: "GET", template: "/_security/user", params: p("with_profile_uid"), handle: handleGetUsers},
		{method: "GET", template: "/_security/user/{username}", params: p("with_profile_uid"), handle: handleGetUsers},
		{method: "DELETE", template: "/_security/user/{username}", params: p("refresh"), handle: withRefresh(handleDeleteUser)},
		{method: "GET", template: "/_cluster/settings", params: p("flat_settings", "include_defaults", "master_timeout", "timeout", "local"), handle: handleGetSettings},
		{method: "PUT", template: "/_cluster/settings", params: p("flat_settings", "master_timeout", "timeout"), handle: handlePutSettings},
		{method: "GET", template: "/_remote/info", params: p(), handle: handleRemoteInfo},
		{method: "GET", template: "/_cluster/state", params: clusterStateParams, handle: handleClusterState},
		{method: "GET", template: "/_cluster/state/{metric}", params: clusterStateParams, handle: handleClusterState},
		{method: "POST", template: "/_nodes/reload_secure_settings", params: p("timeout"), handle: handleReload},
		{method: "POST", template: "/_nodes/{node_id}/reload_secure_settings", params: p("timeout"), handle: handleReload},
		{method: "POST", template: "/_license/start_trial", params: startTrialParams, handle: handleStartTrial},
		{method: "POST", template: "/_license/start_basic", params: startBasicParams, handle: handleStartBasic},
		{method: "PUT", template: "/_license", params: putLicenseParams, handle: handlePutLicense},
		{method: "POST", template: "/_license", params: putLicenseParams, handle: handlePutLicense},
		{method: "DELETE", template: "/_license", params: masterTimeoutParams, handle: handleDeleteLicense},
		{method: "GET", template: "/_cluster/health", params: healthParams, handle: handleHealth},
		{method: "GET", template: "/_nodes", params: nodesInfoParams, handle: handleNodesInfo},
		{method: "GET", template: "/_nodes/{node_id}", params: nodesInfoParams, handle: handleNodesInfo},
		{method: "GET", template: "/_nodes/{node_id}/{metrics}", params: nodesInfoParams, handle: handleNodesInfo},
		{method: "GET", template: "/_nodes/{node_id}/info/{metrics}", params: nodesInfoParams, handle: handleNodesInfo},
		{method: "GET", template: "/_nodes/shutdown", params: masterTimeoutParams, handle: handleGetShutdown},
		{method: "GET", template: "/_nodes/{node_id}/shutdown", params: masterTimeoutParams, handle: handleGetShutdown},
		{method: "PUT", template: "/_nodes/{node_id}/shutdown", params: masterTimeoutParams, handle: handlePutShutdown},
		{method: "DELETE", template: "/_nodes/{node_id}/shutdown", params: masterTimeoutParams, handle: handleDeleteShutdown},
		{method: "POST", template: "/_cluster/voting_config_exclusions", params: addVotingParams, handle: handleAddVotingExclusions},
		{method: "DELETE", template: "/_cluster/voting_config_exclusions", params: clearVotingParams, handle: handleClearVotingExclusions},
		{method: "GET", template: "/_cat/shards", params: catShardsParams, handle: handleCatShards},
		{method: "GET", template: "/_flush", params: flushParams, handle: handleFlush},
		{method: "POST", template: "/_flush", params: flushParams, handle: handleFlush},
		{method: "GET", template: "/_internal/desired_nodes/_latest", params: masterTimeoutParams, handle: handleGetDesiredNodes},
		{method: "PUT", template: "/_internal/desired_nodes/{history_id}/{version}", params: desiredNodesParams, handle: handleUpdateDesiredNodes},
		{method: "DELETE", template: "/_internal/desired_nodes", params: masterTimeoutParams, handle: handleDeleteDesiredNodes},
	}
	for _, r := range rs {
		r.segs = splitPath(r.template)
	}
	return rs
}

// withRefresh checks the refresh parameter of write APIs the way
// WriteRequest.RefreshPolicy.parse does; the fake is always refreshed.
func withRefresh(h func(*call) (reply, *esError)) func(*call) (reply, *esError) {
	return func(c *call) (reply, *esError) {
		if v, present := c.query["refresh"]; present && len(v) > 0 {
			switch v[0] {
			case "", "true", "false", "wait_for":
			default:
				return reply{}, illegalArg("Unknown value for refresh: [%s].", v[0])
			}
		}
		return h(c)
	}
}

func getKeyParams(v version) []string {
	out := []string{"id", "name", "owner", "realm_name", "username", "with_limited_by"}
	if v.activeOnlyParam() {
		out = append(out, "active_only")
	}
	if v.withProfileUID() {
		out = append(out, "with_profile_uid")
	}
	return out
}

func queryKeyParams(v version) []string {
	out := []string{"with_limited_by"}
	if v.withProfileUID() {
		out = append(out, "with_profile_uid", "typed_keys")
	}
	return out
}

func splitPath(p string) []string {
	p = strings.Trim(p, "/")
	if p == "" {
		return nil
	}
	return strings.Split(p, "/")
}

// match finds the route for a request; when the path exists under other
// methods it returns those methods for the 405 answer. Like Elasticsearch's
// path trie, a literal segment wins over a parameter: GET /_nodes/shutdown
// is the shutdown API, not nodes info for a node called "shutdown".
func (s *Server) match(method, path string) (*route, map[string]string, []string) {
	segs := splitPath(path)
	allowed := make([]string, 0, len(s.routeTable))
	var best *route
	var bestParams map[string]string
	for _, rt := range s.routeTable {
		params, okPath := matchSegs(rt.segs, segs)
		if !okPath {
			continue
		}
		if rt.method != method {
			if !slices.Contains(allowed, rt.method) {
				allowed = append(allowed, rt.method)
			}
			continue
		}
		if best == nil || len(params) < len(bestParams) {
			best, bestParams = rt, params
		}
	}
	if best != nil {
		return best, bestParams, nil
	}
	return nil, nil, allowed
}

func matchSegs(tmpl, segs []string) (map[string]string, bool) {
	if len(tmpl) != len(segs) {
		return nil, false
	}
	var params map[string]string
	for i, t := range tmpl {
		if strings.HasPrefix(t, "{") {
			// ES route params never match segments starting with '_'
			// when a literal route exists; ours are unambiguous.
			if params == nil {
				params = map[string]string{}
			}
			params[strings.Trim(t, "{}")] = segs[i]
			continue
		}
		if t != segs[i] {
			return nil, false
		}
	}
	return params, true
}

type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (w *statusRecorder) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

// Handler returns the HTTP handler, for use with httptest or a custom server.
func (s *Server) Handler() http.Handler {
	return http.HandlerFunc(s.serveHTTP)
}

func (s *Server) serveHTTP(w http.ResponseWriter, r *http.Request) {
	rt, params, allowed := s.match(r.Method, r.URL.Path)
	endpoint := "unknown"
	if rt != nil {
		endpoint = rt.name()
	}
	rec := &statusRecorder{ResponseWriter: w}
	dropped := false
	user := ""
	defer func() {
		st := rec.status
		if dropped {
			st = 0
		}
		s.logRequest(Request{Method: r.Method, Path: r.URL.Path, Endpoint: endpoint, Status: st, User: user})
	}()

	latency, faultAnswer, drop := s.takeFaults(r.Method, r.URL.Path)
	if latency > 0 {
		t := time.NewTimer(latency)
		select {
		case <-t.C:
		case <-r.Context().Done():
			t.Stop()
			dropped = true
			return
		}
	}
	if drop {
		dropped = true
		dropConnection(w)
		return
	}
	// Every ES response carries the product header; the Go client refuses
	// to talk to a server whose first 2xx lacks it.
	w.Header().Set("X-Elastic-Product", "Elasticsearch")
	defer func() {
		if p := recover(); p != nil {
			// A panic is a bug in the fake; answer like ES does for an
			// unexpected exception so the fuzz test can flag it.
			writeError(rec, r, newErr(http.StatusInternalServerError, "esfake_panic", fmt.Sprint(p)), "application/json")
		}
	}()
	if faultAnswer != nil {
		writeError(rec, r, faultAnswer, "application/json")
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
	if err != nil {
		writeError(rec, r, parseExc("failed to read request body: %v", err), "application/json")
		return
	}
	if len(body) > maxBody {
		writeError(rec, r, newErr(http.StatusRequestEntityTooLarge, "content_too_long_exception", "request body is too large"), "application/json")
		return
	}
	respType, merr := s.negotiate(r, len(body) > 0)
	if merr != nil {
		writeError(rec, r, merr, "application/json")
		return
	}
	if rt == nil {
		s.logUnknown(r, allowed)
		writeNoHandler(rec, r, allowed)
		return
	}

	s.mu.Lock()
	locked := true
	unlock := func() {
		if locked {
			locked = false
			s.mu.Unlock()
		}
	}
	defer unlock()
	c := &call{s: s, st: s.st, r: r, body: body, query: r.URL.Query(), params: params, used: map[string]bool{}}
	if rt.template != "/" && isCrossClusterRoute(rt) && !s.st.ver.crossClusterKeys() {
		// Before 8.10 the cross-cluster endpoints are not registered.
		s.logUnknown(r, nil)
		writeNoHandler(rec, r, nil)
		return
	}
	who, aerr := s.st.authenticate(r)
	if aerr != nil {
		writeError(rec, r, aerr, respType)
		return
	}
	c.who = who
	user = who.user.Name
	res, herr := rt.handle(c)
	if herr == nil {
		herr = c.checkParams(rt)
	}
	if herr != nil {
		writeError(rec, r, herr, respType)
		return
	}
	unlock()
	if res.await != nil {
		res = res.await(r.Context())
	}
	if res.finish != nil {
		res.body = res.finish()
	}
	if res.contentType != "" {
		respType = res.contentType
	}
	writeBody(rec, r, res.status, res.body, respType)
}

func isCrossClusterRoute(rt *route) bool {
	return strings.HasPrefix(rt.template, "/_security/cross_cluster/")
}

func dropConnection(w http.ResponseWriter) {
	hj, okHJ := w.(http.Hijacker)
	if !okHJ {
		panic(http.ErrAbortHandler) // aborts the response without writing one
	}
	conn, _, err := hj.Hijack()
	if err != nil {
		panic(http.ErrAbortHandler)
	}
	_ = conn.Close()
}

// checkParams rejects query parameters the handler did not consume, with
// the message of BaseRestHandler.unrecognized.
func (c *call) checkParams(rt *route) *esError {
	allowed := map[string]bool{"pretty": true, "human": true, "error_trace": true, "filter_path": true}
	for _, p := range rt.params(c.st.ver) {
		allowed[p] = true
	}
	var bad []string
	for k := range c.query {
		if !allowed[k] {
			bad = append(bad, k)
		}
	}
	if len(bad) == 0 {
		return nil
	}
	sort.Strings(bad)
	quoted := make([]string, len(bad))
	for i, b := range bad {
		quoted[i] = "[" + b + "]"
	}
	word := "parameter"
	if len(bad) > 1 {
		word = "parameters"
	}
	return illegalArg("request [%s] contains unrecognized %s: %s", c.r.URL.Path, word, strings.Join(quoted, ", "))
}

// param reads a query parameter.
func (c *call) param(name string) string { return c.query.Get(name) }

// boolParam parses like ES's Booleans.parseBoolean: only "true" and
// "false"; an empty value (e.g. "?owner") means true.
func (c *call) boolParam(name string, def bool) (bool, *esError) {
	vals, present := c.query[name]
	if !present {
		return def, nil
	}
	v := ""
	if len(vals) > 0 {
		v = vals[0]
	}
	switch v {
	case "", "true":
		return true, nil
	case "false":
		return false, nil
	}
	return false, illegalArg("Failed to parse value [%s] as only [true] or [false] are allowed.", v)
}

func writeNoHandler(w http.ResponseWriter, r *http.Request, allowed []string) {
	uri := r.URL.RequestURI()
	if len(allowed) > 0 {
		sort.Strings(allowed)
		w.Header().Set("Allow", strings.Join(allowed, ","))
		body := mustJSON(map[string]any{
			"error":  fmt.Sprintf("Incorrect HTTP method for uri [%s] and method [%s], allowed: [%s]", uri, r.Method, strings.Join(allowed, ", ")),
			"status": http.StatusMethodNotAllowed,
		})
		writeBody(w, r, http.StatusMethodNotAllowed, body, "application/json")
		return
	}
	body := mustJSON(map[string]any{
		"error":  fmt.Sprintf("no handler found for uri [%s] and method [%s]", uri, r.Method),
		"status": http.StatusBadRequest,
	})
	writeBody(w, r, http.StatusBadRequest, body, "application/json")
}

func writeError(w http.ResponseWriter, r *http.Request, e *esError, ct string) {
	for k, v := range e.Headers {
		for _, one := range strings.Split(v, "\n") {
			w.Header().Add(k, one)
		}
	}
	writeBody(w, r, e.Status, e.body(), ct)
}

func writeBody(w http.ResponseWriter, r *http.Request, status int, body []byte, ct string) {
	if _, pretty := r.URL.Query()["pretty"]; pretty && len(body) > 0 {
		var b bytes.Buffer
		if json.Indent(&b, body, "", "  ") == nil {
			body = append(b.Bytes(), '\n')
		}
	}
	w.Header().Set("Content-Type", ct)
	if r.Method == http.MethodHead {
		w.Header().Set("Content-Length", fmt.Sprint(len(body)))
		w.WriteHeader(status)
		return
	}
	w.Header().Set("Content-Length", fmt.Sprint(len(body)))
	w.WriteHeader(status)
	_, _ = w.Write(body)
}
