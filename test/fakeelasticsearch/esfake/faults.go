package esfake

import (
	"strings"
	"time"
)

// Fault describes a failure to inject into matching requests.
type Fault struct {
	// Method matches the HTTP method; empty matches any.
	Method string
	// PathPrefix matches the start of the URL path; empty matches any.
	PathPrefix string
	// Count limits the fault to the next Count matching requests; 0 keeps
	// it until ClearFaults.
	Count int
	// Latency delays the request before it is handled.
	Latency time.Duration
	// Status, if non-zero, answers with this status (typically 5xx) and an
	// ES-shaped error body instead of handling the request.
	Status int
	// Reason, with Status, replaces the reason of that error body, for
	// example to check that a client never repeats what a server echoes.
	Reason string
	// Drop closes the connection without writing any response.
	Drop bool
}

type faultEntry struct {
	Fault
	remaining int
}

// faults is embedded in Server; guarded by Server.mu.
type faults struct {
	list []*faultEntry
}

// InjectFault adds a fault. When several faults match one request their
// latencies add up and the earliest injected Drop or Status wins; each
// matching fault with a Count uses up one of its requests.
func (s *Server) InjectFault(f Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults.list = append(s.faults.list, &faultEntry{Fault: f, remaining: f.Count})
}

// ClearFaults removes every injected fault.
func (s *Server) ClearFaults() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults.list = nil
}

// takeFaults returns the combined effect of the faults matching a request
// and consumes counted ones: the error to answer with, if any.
func (s *Server) takeFaults(method, path string) (latency time.Duration, answer *esError, drop bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	kept := s.faults.list[:0]
	for _, f := range s.faults.list {
		if (f.Method == "" || strings.EqualFold(f.Method, method)) && strings.HasPrefix(path, f.PathPrefix) {
			if f.Latency > 0 {
				latency += f.Latency
			}
			if !drop && answer == nil {
				drop = f.Drop
				if !drop && f.Status != 0 {
					answer = faultError(f.Status)
					if f.Reason != "" {
						answer.Reason = f.Reason
					}
				}
			}
			if f.Count > 0 {
				f.remaining--
				if f.remaining <= 0 {
					continue
				}
			}
		}
		kept = append(kept, f)
	}
	s.faults.list = kept
	return latency, answer, drop
}

// faultError is the body of an injected status: shaped like the errors ES
// itself returns for that status so clients exercise their real paths.
func faultError(status int) *esError {
	switch status {
	case 503:
		return newErr(status, "cluster_block_exception", "blocked by: [SERVICE_UNAVAILABLE/1/state not recovered / initialized];")
	case 429:
		return newErr(status, "es_rejected_execution_exception", "rejected execution of request (injected by esfake)")
	case 504:
		return newErr(status, "process_cluster_event_timeout_exception", "failed to process cluster event within 30s (injected by esfake)")
	default:
		return newErr(status, "exception", "injected fault (esfake)")
	}
}
