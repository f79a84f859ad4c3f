// Package ecksim SIMULATES the ECK operator (v3.5) for the parts eslink
// depends on, because a real ECK cannot run on the test machines. It reads
// the Elasticsearch objects in the API server and delivers what ECK
// delivers, to fake Elasticsearch nodes (esfake) that play the clusters'
// pods. Every line it logs says SIMULATES. What it models, each verified in
// ECK's source:
//
// Remote cluster controller (pkg/controller/remotecluster): for every
// spec.remoteClusters entry with apiKey, a cross-cluster API key
// eck-<ns>-<name>-<alias> on the remote with ECK's metadata, updated when the
// access changes, invalidated when the entry goes or when the local
// keystore does not hold it (then recreated); the encoded key in the local
// cluster's <name>-es-remote-api-keys Secret (annotation
// elasticsearch.k8s.elastic.co/remote-cluster-api-keys); for every entry,
// API key or certificate model, each cluster's transport CA copied into the
// other's namespace as a labelled remote-ca Secret.
//
// Elasticsearch controller (pkg/controller/elasticsearch), per cluster:
//   - Services: <name>-es-http.<ns>.svc:9200 (the REST API, reached by
//     clients through esfake.Network.HTTPAddress) and
//     <name>-es-transport.<ns>.svc:9300 always, and
//     <name>-es-remote-cluster.<ns>.svc:9443 only while
//     spec.remoteClusterServer.enabled, registered in the esfake.Network;
//   - certificates: <name>-es-transport-certs-public (the node's transport
//     CA) and <name>-es-<nodeSet>-es-transport-certs (CN
//     <pod>.node.<name>.<ns>.es.local, OU <name>, SANs with the remote
//     cluster Service name while the server is enabled), and
//     <name>-es-remote-ca, the concatenation of the remote-ca Secrets;
//   - elasticsearch.yml: ECK's settings with the user's nodeSets[0].config
//     merged over them, lists appended (so the remote cluster client's
//     certificate_authorities is ECK's two files plus the user's);
//   - volumes: ECK's Secret volumes plus the podTemplate's Secret and
//     ConfigMap volumes mounted in the elasticsearch container, resolved to
//     files on the node;
//   - secure settings: spec.secureSettings (entries projected, missing
//     Secrets skipped, missing keys an error) plus the remote API keys
//     Secret. On the keystore path they are part of the pod template: any
//     change is a rolling restart. On 9.5+ with
//     eck.k8s.elastic.co/file-based-secure-settings: "true" they go into
//     cluster_secrets of <name>-es-file-settings with a new
//     metadata.version, which Elasticsearch hot-reloads FileSettingsDelay
//     later (no restart; GET /_cluster/state reports the version);
//   - rolling restarts: any change of the pod spec (config, volumes,
//     keystore, version, pod template of any node set) starts one; it
//     completes RestartDelay later, when the node restarts with the new
//     spec. A pod that cannot start (a missing volume source, a certificate
//     file the config lists but no volume provides) stalls the restart
//     until fixed. Restarts(ns, name) counts completed rolling restarts
//     (the first deployment does not count);
//   - running pods: the kubelet refreshes Secret and ConfigMap volumes
//     (not subPath mounts), so a changed CA bundle is trusted without a
//     restart, as Elasticsearch reloads SSL files;
//   - remote cluster seeds: cluster.remote.<alias>.seeds for every entry
//     (remote cluster Service for API keys, transport Service for
//     certificates), removed with null when ECK added them
//     (managed-remote-clusters annotation);
//   - status, at the end of every pass as ECK writes it: observedGeneration
//     (the generation the pass saw), phase ApplyingChanges with
//     ReconciliationComplete False "Nodes upgrade in progress" while a
//     rolling restart runs, or the error message when the reconcile failed;
//     Ready with ReconciliationComplete True otherwise; RunningDesiredVersion
//     and ElasticsearchIsReachable; health and availableNodes.
//
// Not modelled: RBAC association checks, licence checks, events (logged
// instead), Services and StatefulSets as API objects, node sets beyond the
// first for the node's configuration (their templates still trigger
// restarts), stack config policies, version upgrade paths.
package ecksim

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/eslink/eslink/internal/eckschema"
	"github.com/eslink/eslink/test/fakeelasticsearch/esfake"
)

// Cluster is one Elasticsearch cluster the simulator manages.
type Cluster struct {
	// URL, Username, Password and HTTP reach the cluster's REST API as
	// ECK's client does.
	URL      string
	Username string
	Password string
	HTTP     *http.Client
	// Node is the fake that plays the cluster's pods: the simulator writes
	// its elasticsearch.yml, files and keystore and restarts it.
	Node *esfake.Server
}

// Simulator reconciles every Elasticsearch object in the API server that
// has an entry in Clusters.
type Simulator struct {
	Kube client.Client
	// Clusters are keyed by namespace/name.
	Clusters map[string]*Cluster
	// Network, when set, receives the Services ECK creates.
	Network *esfake.Network
	// Interval between passes of Run.
	Interval time.Duration
	// RestartDelay is how long a rolling restart takes. Default 2s.
	RestartDelay time.Duration
	// FileSettingsDelay is how long Elasticsearch takes to apply a new
	// file-settings version (kubelet volume sync and file watcher).
	// Default 500ms.
	FileSettingsDelay time.Duration
	// Log receives one line per simulated action.
	Log func(format string, args ...any)
	// Now is the clock; default time.Now.
	Now func() time.Time

	pass sync.Mutex // one pass at a time

	mu       sync.Mutex // guards runtimes
	runtimes map[string]*runtime
}

// runtime is the simulator's memory of one cluster: what ECK would read
// back from its StatefulSets and pods.
type runtime struct {
	deployed bool
	running  podSpec
	rollout  *rollout
	stalled  string
	restarts int
	written  map[string]fileFrom
	services map[string]bool
	warned   map[string]bool
	seeds    string
	fileSeen struct {
		version int64
		at      time.Time
	}
}

type rollout struct {
	target  podSpec
	started time.Time
}

// Run reconciles until ctx is done.
func (s *Simulator) Run(ctx context.Context) {
	interval := s.Interval
	if interval <= 0 {
		interval = time.Second
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		if err := s.Reconcile(ctx); err != nil && ctx.Err() == nil {
			s.logf("reconcile failed: %v", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// AddCluster makes the simulator manage one more cluster, keyed
// namespace/name, from its next pass on.
func (s *Simulator) AddCluster(key string, c *Cluster) {
	s.pass.Lock()
	defer s.pass.Unlock()
	if s.Clusters == nil {
		s.Clusters = map[string]*Cluster{}
	}
	s.Clusters[key] = c
}

// Restarts returns how many rolling restarts of ns/name completed.
func (s *Simulator) Restarts(ns, name string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if rt := s.runtimes[ns+"/"+name]; rt != nil {
		return rt.restarts
	}
	return 0
}

// RollingRestart reports whether a rolling restart of ns/name is running.
func (s *Simulator) RollingRestart(ns, name string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	rt := s.runtimes[ns+"/"+name]
	return rt != nil && rt.rollout != nil
}

// Reconcile runs one pass: the remote cluster controller, then the
// Elasticsearch controller of every cluster.
func (s *Simulator) Reconcile(ctx context.Context) error {
	s.pass.Lock()
	defer s.pass.Unlock()
	list := &unstructured.UnstructuredList{}
	list.SetGroupVersionKind(eckschema.ElasticsearchGVK.GroupVersion().WithKind("ElasticsearchList"))
	if err := s.Kube.List(ctx, list); err != nil {
		return fmt.Errorf("cannot list Elasticsearch objects: %w", err)
	}
	byRef := map[ref]*unstructured.Unstructured{}
	for i := range list.Items {
		byRef[refOf(&list.Items[i])] = &list.Items[i]
	}
	var errs []error
	want, pairs, err := entries(list.Items)
	if err != nil {
		return err
	}
	for _, key := range sortedKeys(s.Clusters) {
		r := parseRef(key)
		if byRef[r] == nil {
			continue
		}
		if err := s.reconcileKeys(ctx, r, s.Clusters[key], want[r], list.Items); err != nil {
			errs = append(errs, fmt.Errorf("remote cluster controller for %s: %w", r, err))
		}
	}
	if err := s.reconcileRemoteCAs(ctx, byRef, pairs); err != nil {
		errs = append(errs, fmt.Errorf("remote CA exchange: %w", err))
	}
	s.forgetDeleted(byRef)
	refs := sortedRefs(byRef)
	for _, r := range refs {
		cl := s.Clusters[r.String()]
		if cl == nil || cl.Node == nil {
			continue
		}
		// Re-read: the remote cluster controller may have annotated it.
		es := &unstructured.Unstructured{}
		es.SetGroupVersionKind(eckschema.ElasticsearchGVK)
		if err := s.Kube.Get(ctx, clientKey(r.ns, r.name), es); err != nil {
			errs = append(errs, client.IgnoreNotFound(err))
			continue
		}
		if err := s.reconcileCluster(ctx, es, cl); err != nil {
			errs = append(errs, fmt.Errorf("cluster %s: %w", r, err))
		}
	}
	return errors.Join(errs...)
}

// forgetDeleted drops the clusters whose Elasticsearch object is gone, with
// their Services, as Kubernetes garbage-collects what ECK owned.
func (s *Simulator) forgetDeleted(byRef map[ref]*unstructured.Unstructured) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for key, rt := range s.runtimes {
		if byRef[parseRef(key)] != nil {
			continue
		}
		for addr := range rt.services {
			if s.Network != nil {
				s.Network.Unregister(addr)
			}
		}
		delete(s.runtimes, key)
		s.logf("deleted the pods and Services of %s: its Elasticsearch object is gone", key)
	}
}

func (s *Simulator) runtimeOf(r ref) *runtime {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.runtimes == nil {
		s.runtimes = map[string]*runtime{}
	}
	rt := s.runtimes[r.String()]
	if rt == nil {
		rt = &runtime{written: map[string]fileFrom{}, services: map[string]bool{}, warned: map[string]bool{}}
		s.runtimes[r.String()] = rt
	}
	return rt
}

// reconcileCluster is one reconcile of ECK's Elasticsearch controller. It
// always ends with the status, as ECK's does.
func (s *Simulator) reconcileCluster(ctx context.Context, es *unstructured.Unstructured, cl *Cluster) error {
	rt := s.runtimeOf(refOf(es))
	c, err := newCluster(es)
	if err != nil {
		return errors.Join(err, s.writeStatus(ctx, &cluster{es: es, ref: refOf(es)}, rt, statusInput{err: err, reachable: true}))
	}
	node := cl.Node
	var errs []error
	s.reconcileServices(c, node, rt)
	if err := s.reconcileCertificates(ctx, c, node); err != nil {
		errs = append(errs, err)
	}
	if err := s.reconcileRemoteCABundle(ctx, c, node); err != nil {
		errs = append(errs, err)
	}
	secure, err := s.secureSettings(ctx, c, rt)
	if err != nil {
		errs = append(errs, err)
	}
	rolling, stalled := false, ""
	if err == nil {
		var keystore, clusterSecrets map[string]string
		if c.fileBased() {
			clusterSecrets = secure
		} else {
			keystore = secure
		}
		if err := s.reconcileFileSettings(ctx, c, clusterSecrets); err != nil {
			errs = append(errs, err)
		}
		spec, err := desired(c, keystore)
		if err != nil {
			errs = append(errs, err)
		} else {
			s.mu.Lock()
			rolling, stalled = s.roll(ctx, c, node, rt, spec)
			s.mu.Unlock()
		}
	}
	if rt.deployed {
		if err := s.syncFiles(ctx, c, node, rt); err != nil {
			errs = append(errs, err)
		}
	}
	if err := s.applyFileSettings(ctx, c, node, rt); err != nil {
		errs = append(errs, err)
	}
	reachable := rt.deployed && !nodeClosed(ctx, cl)
	incomplete := ""
	if reachable {
		requeue, err := s.reconcileRemoteClusterSettings(ctx, c, cl, rt)
		if err != nil {
			errs = append(errs, fmt.Errorf("could not update remote clusters in Elasticsearch settings: %w", err))
		} else if requeue {
			incomplete = "Updating remote cluster settings, re-queuing"
		}
	}
	err = errors.Join(errs...)
	in := statusInput{err: err, rolling: rolling, stalled: stalled, reachable: reachable, incomplete: incomplete}
	if serr := s.writeStatus(ctx, c, rt, in); serr != nil {
		return errors.Join(err, serr)
	}
	return err
}

// roll deploys the first spec at once and rolls later changes out,
// RestartDelay after they appeared. Called with s.mu held.
func (s *Simulator) roll(ctx context.Context, c *cluster, node *esfake.Server, rt *runtime, spec podSpec) (rolling bool, stalled string) {
	if !rt.deployed {
		if err := s.start(ctx, c, node, rt, spec); err != nil {
			rt.stalled = err.Error()
			s.logf("cannot create the pods of %s: %v", c.ref, err)
			return true, rt.stalled
		}
		rt.deployed, rt.stalled = true, ""
		s.logf("created the pods of %s (Elasticsearch %s)", c.ref, spec.version)
		return false, ""
	}
	if spec.hash == rt.running.hash {
		if rt.rollout != nil {
			s.logf("rolling restart of %s cancelled: the spec is back to what the pods run", c.ref)
		}
		rt.rollout, rt.stalled = nil, ""
		return false, ""
	}
	if rt.rollout == nil || rt.rollout.target.hash != spec.hash {
		verb := "started"
		if rt.rollout != nil {
			verb = "restarted with a newer spec"
		}
		rt.rollout = &rollout{target: spec, started: s.now()}
		s.logf("rolling restart of %s %s: %s changed", c.ref, verb, changes(rt.running, spec))
	}
	if s.now().Sub(rt.rollout.started) < s.restartDelay() {
		return true, rt.stalled
	}
	if err := s.start(ctx, c, node, rt, rt.rollout.target); err != nil {
		if rt.stalled != err.Error() {
			s.logf("rolling restart of %s stalls: %v", c.ref, err)
		}
		rt.stalled = err.Error()
		return true, rt.stalled
	}
	rt.rollout, rt.stalled = nil, ""
	rt.restarts++
	s.logf("rolling restart of %s finished: restart #%d", c.ref, rt.restarts)
	return false, ""
}

// nodeClosed tells whether the node answers, as ECK's observer does.
func nodeClosed(ctx context.Context, cl *Cluster) bool {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodHead, cl.URL+"/", nil)
	if err != nil {
		return true
	}
	req.SetBasicAuth(cl.Username, cl.Password)
	resp, err := cl.HTTP.Do(req)
	if err != nil {
		return true
	}
	_ = resp.Body.Close()
	return resp.StatusCode >= 500
}

func (s *Simulator) restartDelay() time.Duration {
	if s.RestartDelay > 0 {
		return s.RestartDelay
	}
	return 2 * time.Second
}

func (s *Simulator) fileSettingsDelay() time.Duration {
	if s.FileSettingsDelay > 0 {
		return s.FileSettingsDelay
	}
	return 500 * time.Millisecond
}

func (s *Simulator) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

func (s *Simulator) logf(format string, args ...any) {
	if s.Log != nil {
		s.Log("[ECK simulator] SIMULATES "+format, args...)
	}
}
