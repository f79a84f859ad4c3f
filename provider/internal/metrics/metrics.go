// Package metrics holds the provider's own Prometheus metrics, served on
// controller-runtime's metrics endpoint next to its and crossplane-runtime's
// generic ones: the state of every key and link part (read from the
// manager's cache at each scrape, so a deleted resource's series go with
// it), the Elasticsearch requests per remote, and key rotations.
//
// Labels stay bounded and never carry a secret or a key id: a resource is
// named by namespace and name, a remote by its ECK Elasticsearch object
// (namespace/name) or, for a URL endpoint, by its host.
package metrics

import (
	"context"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	ctrlmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"

	esv1alpha1 "github.com/eslink/eslink/apis/elasticsearch/v1alpha1"
)

const namespace = "eslink"

// Outcomes of an Elasticsearch request.
const (
	OutcomeSuccess     = "success"
	OutcomeClientError = "client_error"
	OutcomeServerError = "server_error"
	OutcomeUnreachable = "unreachable"
)

var (
	requests = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: namespace, Subsystem: "elasticsearch", Name: "requests_total",
		Help: "Requests the provider sent to Elasticsearch, by remote (cluster), method, endpoint (a route template) and outcome (success, client_error, server_error, unreachable).",
	}, []string{"cluster", "method", "endpoint", "outcome"})
	latency = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Namespace: namespace, Subsystem: "elasticsearch", Name: "request_duration_seconds",
		Help:    "Time from sending a request to Elasticsearch to having read its response, by remote (cluster), method and endpoint.",
		Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
	}, []string{"cluster", "method", "endpoint"})
	keyRead = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Namespace: namespace, Subsystem: "elasticsearch", Name: "key_read_last_success_timestamp_seconds",
		Help: "When the provider last read API keys from a remote (cluster) successfully, in Unix seconds; 0 until it first does.",
	}, []string{"cluster"})
)

func init() {
	ctrlmetrics.Registry.MustRegister(requests, latency, keyRead, state)
}

// Request records one request to Elasticsearch. keys says that it read API
// keys: a successful one renews the remote's last key read.
func Request(cluster, method, endpoint, outcome string, took time.Duration, keys bool) {
	requests.WithLabelValues(cluster, method, endpoint, outcome).Inc()
	latency.WithLabelValues(cluster, method, endpoint).Observe(took.Seconds())
	if !keys {
		return
	}
	g := keyRead.WithLabelValues(cluster)
	if outcome == OutcomeSuccess {
		g.SetToCurrentTime()
	}
}

// state is the collector of the per-resource series.
var state = &resources{rotations: map[types.UID]*rotationCounts{}}

// WatchKeys makes the CrossClusterAPIKeys that r (the manager's cache)
// holds appear in the metrics; owned tells a key the provider owns from
// one it observes. The CrossClusterAPIKey controller calls it when it is
// set up.
func WatchKeys(r client.Reader, owned func(*esv1alpha1.CrossClusterAPIKey) bool) {
	state.mu.Lock()
	defer state.mu.Unlock()
	state.keys, state.owned = r, owned
}

// WatchConnectivity makes the RemoteClusterConnectivities that r holds
// appear in the metrics. Their controller calls it when it is set up.
func WatchConnectivity(r client.Reader) {
	state.mu.Lock()
	defer state.mu.Unlock()
	state.connectivity = r
}

// rotationCounts are one key's rotations, by outcome.
type rotationCounts struct{ started, finished, failed float64 }

// StartRotation records that the key of the resource with uid starts
// being replaced.
func StartRotation(uid types.UID) *Rotation {
	state.mu.Lock()
	defer state.mu.Unlock()
	c, ok := state.rotations[uid]
	if !ok {
		c = &rotationCounts{}
		state.rotations[uid] = c
	}
	c.started++
	return &Rotation{counts: c}
}

// A Rotation is one replacement of a key.
type Rotation struct{ counts *rotationCounts }

// End records how the rotation ended: failed when *err is not nil. It
// takes a pointer so that it can be deferred on a named error result.
func (r *Rotation) End(err *error) {
	state.mu.Lock()
	defer state.mu.Unlock()
	if *err != nil {
		r.counts.failed++
		return
	}
	r.counts.finished++
}

// collectTimeout bounds a scrape's reads of the cache, which wait for a
// kind's first list only.
const collectTimeout = 10 * time.Second

type resources struct {
	mu           sync.Mutex
	keys         client.Reader
	owned        func(*esv1alpha1.CrossClusterAPIKey) bool
	connectivity client.Reader
	// rotations are counted per resource uid, so that a resource deleted
	// and created again under its name starts from zero.
	rotations map[types.UID]*rotationCounts
}

func (s *resources) readers() (keys client.Reader, owned func(*esv1alpha1.CrossClusterAPIKey) bool, connectivity client.Reader) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.keys, s.owned, s.connectivity
}

func (s *resources) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range descs {
		ch <- d
	}
}

func (s *resources) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), collectTimeout)
	defer cancel()
	keys, owned, connectivity := s.readers()
	if keys != nil {
		s.collectKeys(ctx, keys, owned, ch)
	}
	if connectivity != nil {
		collectConnectivity(ctx, connectivity, ch)
	}
}
