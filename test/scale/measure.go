package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"net/http"
	"os"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/eslink/eslink/test/fakeelasticsearch/esfake"
)

// clockTicks is USER_HZ, the unit of /proc/<pid>/stat's CPU times. Linux
// fixes it at 100 on every architecture Go supports.
const clockTicks = 100

// procStat is a process's resource use as /proc reports it.
type procStat struct {
	cpuSeconds float64
	rssMiB     float64
}

func readProc(pid int) (procStat, error) {
	var out procStat
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return out, fmt.Errorf("cannot read the provider's CPU time: %w", err)
	}
	// The command name, in parentheses, may hold spaces; fields count
	// from the closing one: state is field 3, utime 14 and stime 15.
	f := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+1:]))
	if len(f) < 13 {
		return out, fmt.Errorf("cannot parse /proc/%d/stat", pid)
	}
	utime, err1 := strconv.ParseFloat(f[11], 64)
	stime, err2 := strconv.ParseFloat(f[12], 64)
	if err1 != nil || err2 != nil {
		return out, fmt.Errorf("cannot parse the CPU times in /proc/%d/stat", pid)
	}
	out.cpuSeconds = (utime + stime) / clockTicks

	st, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return out, fmt.Errorf("cannot read the provider's memory use: %w", err)
	}
	defer st.Close() //nolint:errcheck // Read-only.
	s := bufio.NewScanner(st)
	for s.Scan() {
		if v, ok := strings.CutPrefix(s.Text(), "VmRSS:"); ok {
			kb, err := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 64)
			if err != nil {
				return out, fmt.Errorf("cannot parse VmRSS in /proc/%d/status", pid)
			}
			out.rssMiB = kb / 1024
			return out, nil
		}
	}
	return out, fmt.Errorf("no VmRSS in /proc/%d/status", pid)
}

// esRequests counts the requests user sent to the fakes, by endpoint.
func esRequests(user string, fakes ...*esfake.Server) map[string]int {
	out := map[string]int{}
	for _, f := range fakes {
		for _, r := range f.Requests() {
			if r.User == user {
				out[r.Endpoint]++
			}
		}
	}
	return out
}

// writeVerbs are the verbs of apiserver_request_total that change state.
var writeVerbs = map[string]bool{"POST": true, "PUT": true, "PATCH": true, "APPLY": true, "DELETE": true, "DELETECOLLECTION": true}

var metricLabel = regexp.MustCompile(`(\w+)="([^"]*)"`)

// apiRequests reads the API server's requests so far, by verb and
// resource, from its own metrics. Leases are left out: with leader election
// off only the API server itself renews them, every few seconds. So are
// requests for no resource (its metrics, discovery).
func apiRequests(ctx context.Context, cfg *rest.Config) (map[string]float64, error) {
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("cannot create client: %w", err)
	}
	b, err := cs.Discovery().RESTClient().Get().AbsPath("/metrics").DoRaw(ctx)
	if err != nil {
		return nil, fmt.Errorf("cannot read the API server's metrics: %w", err)
	}
	out := map[string]float64{}
	s := bufio.NewScanner(bytes.NewReader(b))
	s.Buffer(make([]byte, 1<<20), 1<<20)
	for s.Scan() {
		line, ok := strings.CutPrefix(s.Text(), "apiserver_request_total{")
		if !ok {
			continue
		}
		labels, value, ok := strings.Cut(line, "} ")
		if !ok {
			continue
		}
		l := map[string]string{}
		for _, m := range metricLabel.FindAllStringSubmatch(labels, -1) {
			l[m[1]] = m[2]
		}
		if l["resource"] == "" || l["resource"] == "leases" {
			continue
		}
		v, err := strconv.ParseFloat(strings.TrimSpace(value), 64)
		if err != nil {
			return nil, fmt.Errorf("cannot parse apiserver_request_total %q: %w", value, err)
		}
		res := l["resource"]
		if l["subresource"] != "" {
			res += "/" + l["subresource"]
		}
		out[l["verb"]+" "+res] += v
	}
	return out, s.Err()
}

// writes and reads split requests by verb.
func writes(m map[string]float64) map[string]float64 { return byVerb(m, true) }
func reads(m map[string]float64) map[string]float64  { return byVerb(m, false) }

func byVerb(m map[string]float64, write bool) map[string]float64 {
	out := map[string]float64{}
	for k, v := range m {
		verb, _, _ := strings.Cut(k, " ")
		if writeVerbs[verb] == write {
			out[k] = v
		}
	}
	return out
}

// ownRequests counts the requests of the benchmark itself and of the
// simulated ECK, which share its client, so that they can be told apart
// from the provider's in the API server's figures.
type ownRequests struct {
	reads, writes atomic.Int64
}

// wrap counts the requests sent through rt.
func (o *ownRequests) wrap(rt http.RoundTripper) http.RoundTripper {
	return counted{next: rt, n: o}
}

type counted struct {
	next http.RoundTripper
	n    *ownRequests
}

func (c counted) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Method == http.MethodGet {
		c.n.reads.Add(1)
	} else {
		c.n.writes.Add(1)
	}
	return c.next.RoundTrip(r)
}

// providerRequests is the provider's share of the API server's requests:
// all of them, less the benchmark's own.
type providerRequests struct {
	api                 map[string]float64
	ownReads, ownWrites int64
}

func (e *env) providerRequests(ctx context.Context) (providerRequests, error) {
	p := providerRequests{ownReads: e.own.reads.Load(), ownWrites: e.own.writes.Load()}
	var err error
	p.api, err = apiRequests(ctx, e.cp.Config)
	return p, err
}

// since returns the provider's reads and writes from p0 to p, and the
// API server's requests by verb and resource.
func (p providerRequests) since(p0 providerRequests) (r, w float64, all map[string]float64) {
	all = delta(p0.api, p.api)
	r = sum(reads(all)) - float64(p.ownReads-p0.ownReads)
	w = sum(writes(all)) - float64(p.ownWrites-p0.ownWrites)
	return max(r, 0), max(w, 0), all
}

// delta returns after minus before, per key, leaving out zeros.
func delta[V int | float64](before, after map[string]V) map[string]V {
	out := map[string]V{}
	for k, v := range after {
		if d := v - before[k]; d != 0 {
			out[k] = d
		}
	}
	return out
}

func sum[V int | float64](m map[string]V) V {
	var t V
	for _, v := range m {
		t += v
	}
	return t
}

// breakdown renders m sorted by key, one "key=value" per entry.
func breakdown[V int | float64](m map[string]V) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, 0, len(keys))
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%s=%v", k, m[k]))
	}
	return strings.Join(parts, ", ")
}
