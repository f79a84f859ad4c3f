package esfake

import (
	"fmt"
	"net/http"
	"strings"
	"time"
)

// Request is one logged request. It never holds credentials or bodies.
type Request struct {
	Method string
	Path   string
	// Endpoint is the route template, e.g. "PUT /_security/cross_cluster/api_key/{id}",
	// or "unknown" for requests no route matched.
	Endpoint string
	// Status is the HTTP status sent, 0 when the connection was dropped.
	Status int
	// User is the name of the authenticated user (the owner of the API key
	// used), empty when authentication failed or never ran. It tells apart
	// the clients sharing one fake, e.g. the provider and a simulated ECK.
	User string
	// Node is the name of the node that served the request.
	Node string
	Time time.Time
}

type reqlog struct {
	entries []Request
}

func (s *Server) logRequest(r Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r.Time = s.st.clock()
	r.Node = s.st.nodeName
	s.reqlog.entries = append(s.reqlog.entries, r)
	s.st.requests = append(s.st.requests, r)
}

// Requests returns the requests every node of the cluster served, stopped
// nodes included, in the order they were served.
func (c *Cluster) Requests() []Request {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]Request(nil), c.sh.requests...)
}

// Requests returns a copy of the request log, oldest first.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.reqlog.entries...)
}

// Counts returns the number of logged requests per endpoint.
func (s *Server) Counts() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string]int{}
	for _, r := range s.reqlog.entries {
		out[r.Endpoint]++
	}
	return out
}

// ResetRequests empties the request log.
func (s *Server) ResetRequests() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.reqlog.entries = nil
}

// logUnknown reports a request no endpoint of the fake serves, through
// Options.Log: Elasticsearch may well serve it, so a client that depends
// on it tests nothing until the fake learns it.
func (s *Server) logUnknown(r *http.Request, allowed []string) {
	if s.log == nil {
		return
	}
	answer := "400 no handler found"
	if len(allowed) > 0 {
		answer = "405, allowed: " + strings.Join(allowed, ",")
	}
	s.log(fmt.Sprintf("esfake: UNKNOWN ENDPOINT %s %s on node %s of cluster %s: answered %s as Elasticsearch answers a request it has no handler for; the fake does not implement this endpoint",
		r.Method, r.URL.Path, s.st.nodeName, s.st.clusterName, answer))
}

// Unknown returns the logged requests that no endpoint of the fake served.
func (s *Server) Unknown() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Request
	for _, r := range s.reqlog.entries {
		if r.Endpoint == "unknown" {
			out = append(out, r)
		}
	}
	return out
}
