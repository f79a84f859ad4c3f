package harness

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"
	kerrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/eslink/eslink/test/controlplane"
	"github.com/eslink/eslink/test/fakeelasticsearch/esfake"
	"github.com/eslink/eslink/test/kubelet"
)

// ECK's operator as hack/build-eck.sh builds it.
const (
	ECKOperatorVersion = "v3.5.0"
	// ECKOperatorNamespace is where the operator keeps its own objects
	// (the trial license, its UUID ConfigMap).
	ECKOperatorNamespace = "elastic-system"
	// eckTrialSecret starts ECK's enterprise trial the documented way: an
	// empty Secret in the operator's namespace with the trial label and the
	// EULA annotation.
	eckTrialSecret = "eck-trial-license"
	// eckPodSelector picks the Pods ECK creates for Elasticsearch.
	eckPodSelector = "common.k8s.elastic.co/type=elasticsearch"
)

// RealECKOptions configure StartRealECK.
type RealECKOptions struct {
	// Namespaces ECK manages (besides its own) and whose Pods the kubelet
	// stand-in runs.
	Namespaces []string
	// Progress receives one line as each part becomes ready.
	Progress func(format string, args ...any)
	// Log receives the kubelet stand-in's lines.
	Log func(format string, args ...any)
	// ObservationInterval is ECK's --elasticsearch-observation-interval,
	// which is also the timeout of each health request it makes (default
	// ECK's own, 10s: shorter ones time out on a loaded machine, and ECK
	// then never sees the cluster reachable).
	ObservationInterval time.Duration
}

// RealECK is ECK's real operator (3.5.0, built from its module by
// hack/build-eck.sh) running against a real API server, with
// kube-controller-manager's StatefulSet controller and garbage collector,
// and the kubelet stand-in (package test/kubelet) running each of ECK's
// Pods as a fake Elasticsearch node on its own loopback address. ECK
// reaches the Pods by name through the wrapper's resolver, which reads the
// hosts file the stand-in writes. Only Elasticsearch and the kubelet are
// stand-ins.
type RealECK struct {
	Env     *controlplane.Env
	Kube    client.Client
	Kubelet *kubelet.Kubelet
	// Nodes are the running fake Elasticsearch nodes, one per Pod.
	Nodes *kubelet.Elasticsearch
	// Network resolves the Services' addresses (the remote cluster
	// seeds among them) to the nodes behind them.
	Network *esfake.Network
	LogDir  string

	cancel   context.CancelFunc
	kcm      *process
	operator *process
}

func (o *RealECKOptions) progress(format string, args ...any) {
	if o.Progress != nil {
		o.Progress(format, args...)
	}
}

// StartRealECK brings the operator and its surroundings up; Stop tears them
// down.
func StartRealECK(ctx context.Context, o RealECKOptions) (*RealECK, error) {
	ctrllog.SetLogger(logr.Discard())
	root, err := controlplane.RepoRoot()
	if err != nil {
		return nil, err
	}
	logDir, err := os.MkdirTemp("", "eslink-realeck-")
	if err != nil {
		return nil, fmt.Errorf("cannot create log dir: %w", err)
	}
	e := &RealECK{LogDir: logDir}
	if err := e.start(ctx, root, o); err != nil {
		err = fmt.Errorf("%w\n%s", err, e.logTails())
		e.Stop()
		return nil, err
	}
	return e, nil
}

func (e *RealECK) start(ctx context.Context, root string, o RealECKOptions) error {
	pctx, cancel := context.WithCancel(context.Background())
	e.cancel = cancel
	t0 := time.Now()
	if err := runScript(ctx, root, "build-eck.sh"); err != nil {
		return err
	}
	eckDir := filepath.Join(root, "bin", "eck", ECKOperatorVersion)
	o.progress("built ECK's operator %s (bin/eck) in %s", ECKOperatorVersion, time.Since(t0).Round(time.Second))

	// ECK watches every kind it has a controller for: all of its CRDs.
	var err error
	e.Env, err = controlplane.Start(ctx, controlplane.WithoutProjectCRDs(), controlplane.WithCRDPaths(filepath.Join(eckDir, "all-crds.yaml")))
	if err != nil {
		return err
	}
	e.Kube = e.Env.Client
	kc, err := kubeconfig(e.Env.Config)
	if err != nil {
		return err
	}
	kcPath := filepath.Join(e.LogDir, "kubeconfig")
	if err := os.WriteFile(kcPath, kc, 0o600); err != nil {
		return fmt.Errorf("cannot write kubeconfig: %w", err)
	}
	o.progress("API server ready at %s with ECK's CRDs", e.Env.Config.Host)

	for _, ns := range append([]string{ECKOperatorNamespace}, o.Namespaces...) {
		if err := e.Kube.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}); err != nil && !kerrors.IsAlreadyExists(err) {
			return fmt.Errorf("cannot create namespace %s: %w", ns, err)
		}
	}
	trial := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{
		Namespace: ECKOperatorNamespace, Name: eckTrialSecret,
		Labels:      map[string]string{"license.k8s.elastic.co/type": "enterprise_trial"},
		Annotations: map[string]string{"elastic.co/eula": "accepted"},
	}}
	if err := e.Kube.Create(ctx, trial); err != nil && !kerrors.IsAlreadyExists(err) {
		return fmt.Errorf("cannot create ECK's trial Secret: %w", err)
	}

	// The StatefulSet controller creates ECK's Pods; the garbage collector
	// deletes what ECK's deleted objects own.
	if e.kcm, err = startControllerManager(pctx, root, e.LogDir, kcPath, "statefulset", "garbagecollector"); err != nil {
		return err
	}

	sel, err := labels.Parse(eckPodSelector)
	if err != nil {
		return fmt.Errorf("cannot parse the Pod selector: %w", err)
	}
	e.Network = esfake.NewNetwork()
	e.Nodes = &kubelet.Elasticsearch{Log: o.Log, Network: e.Network}
	hosts := kubelet.HostsPath(e.LogDir)
	e.Kubelet, err = kubelet.Start(pctx, kubelet.Options{
		Kube: e.Kube, Namespaces: o.Namespaces, Selector: sel, Runtime: e.Nodes.Start, HostsFile: hosts, Log: o.Log,
		Endpoints: e.Nodes.Endpoints,
	})
	if err != nil {
		return err
	}

	interval := o.ObservationInterval
	if interval == 0 {
		interval = 10 * time.Second
	}
	// ECK maps every environment variable onto its flags (viper
	// AutomaticEnv): it runs with only what it needs.
	environ := []string{"KUBECONFIG=" + kcPath, "HOME=" + e.LogDir, "PATH=" + os.Getenv("PATH")}
	e.operator, err = startEnv(pctx, e.LogDir, "eck-operator", filepath.Join(eckDir, "eck-operator"), environ,
		"--eslink-hosts-file="+hosts,
		"--operator-namespace="+ECKOperatorNamespace,
		"--namespaces="+strings.Join(append([]string{ECKOperatorNamespace}, o.Namespaces...), ","),
		"--enable-leader-election=false", "--enable-webhook=false", "--manage-webhook-certs=false",
		"--disable-telemetry", "--metrics-port=0", "--set-default-security-context=false",
		"--ip-family=ipv4", "--validate-storage-class=false",
		"--elasticsearch-observation-interval="+interval.String())
	if err != nil {
		return err
	}
	o.progress("ECK operator %s running (log %s); kube-controller-manager runs the StatefulSet controller and the garbage collector; the kubelet stand-in runs ECK's Pods", ECKOperatorVersion, e.operator.log)
	return nil
}

// Stop stops the operator, the stand-in's nodes, the controller manager and
// the API server.
func (e *RealECK) Stop() {
	if e.cancel != nil {
		e.cancel()
	}
	e.operator.stop()
	if e.Kubelet != nil {
		e.Kubelet.Stop()
	}
	e.kcm.stop()
	if e.Env != nil {
		_ = e.Env.Stop()
	}
	if e.LogDir != "" {
		_ = os.RemoveAll(e.LogDir)
	}
}

// OperatorLog returns the operator's output so far.
func (e *RealECK) OperatorLog() string { return e.operator.output() }

func (e *RealECK) logTails() string {
	var b strings.Builder
	for _, p := range []*process{e.kcm, e.operator} {
		if p == nil {
			continue
		}
		out := p.output()
		if len(out) > 8000 {
			out = "..." + out[len(out)-8000:]
		}
		fmt.Fprintf(&b, "---- %s ----\n%s\n", filepath.Base(p.log), out)
	}
	return b.String()
}

// LogTails returns the end of the operator's and the controller manager's
// logs, and every error and warning the operator logged, for a failing
// test.
func (e *RealECK) LogTails() string {
	var b strings.Builder
	b.WriteString(e.logTails())
	b.WriteString("---- eck-operator.log: errors, warnings and unresolved names ----\n")
	for _, l := range strings.Split(e.OperatorLog(), "\n") {
		if !strings.Contains(l, `"log.level":"info"`) && !strings.Contains(l, `"log.level":"debug"`) && l != "" {
			b.WriteString(l + "\n")
		}
	}
	return b.String()
}

// CreateElasticsearch creates an Elasticsearch object of version with one
// nodeSet "default" of count nodes. Its data volume is an emptyDir, so no
// PersistentVolumeClaim waits for a provisioner the test cluster lacks.
func (e *RealECK) CreateElasticsearch(ctx context.Context, ns, name, version string, count int, spec map[string]any) error {
	s := map[string]any{
		"version": version,
		"nodeSets": []any{map[string]any{
			"name": "default", "count": int64(count),
			"config": map[string]any{"node.store.allow_mmap": false},
			"podTemplate": map[string]any{"spec": map[string]any{
				// Named, so the object is valid under every served schema.
				"containers": []any{map[string]any{"name": "elasticsearch"}},
				"volumes":    []any{map[string]any{"name": "elasticsearch-data", "emptyDir": map[string]any{}}},
			}},
		}},
	}
	for k, v := range spec {
		s[k] = v
	}
	es := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "elasticsearch.k8s.elastic.co/v1", "kind": "Elasticsearch",
		"metadata": map[string]any{"namespace": ns, "name": name},
		"spec":     s,
	}}
	if err := e.Kube.Create(ctx, es); err != nil {
		return fmt.Errorf("cannot create Elasticsearch %s/%s: %w", ns, name, err)
	}
	return nil
}

// ElasticsearchStatus is what ECK reports in an Elasticsearch's status.
type ElasticsearchStatus struct {
	Phase, Health string
	// Current says ECK's status is about the object's latest spec
	// (status.observedGeneration is its metadata.generation).
	Current bool
	// Conditions by type: status and message.
	Conditions map[string]string
}

// Elasticsearch reads ns/name's status.
func (e *RealECK) Elasticsearch(ctx context.Context, ns, name string) (ElasticsearchStatus, error) {
	es := &unstructured.Unstructured{}
	es.SetAPIVersion("elasticsearch.k8s.elastic.co/v1")
	es.SetKind("Elasticsearch")
	if err := e.Kube.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, es); err != nil {
		return ElasticsearchStatus{}, fmt.Errorf("cannot read Elasticsearch %s/%s: %w", ns, name, err)
	}
	st := ElasticsearchStatus{Conditions: map[string]string{}}
	st.Phase, _, _ = unstructured.NestedString(es.Object, "status", "phase")
	st.Health, _, _ = unstructured.NestedString(es.Object, "status", "health")
	observed, _, _ := unstructured.NestedInt64(es.Object, "status", "observedGeneration")
	st.Current = observed >= es.GetGeneration()
	conds, _, _ := unstructured.NestedSlice(es.Object, "status", "conditions")
	for _, c := range conds {
		m, _ := c.(map[string]any)
		t, _ := m["type"].(string)
		s, _ := m["status"].(string)
		msg, _ := m["message"].(string)
		st.Conditions[t] = s + ": " + msg
	}
	return st, nil
}

// WaitPhase waits until ECK reports phase for ns/name's latest spec; on timeout the
// error carries the last status ECK wrote.
func (e *RealECK) WaitPhase(ctx context.Context, ns, name, phase string, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var last ElasticsearchStatus
	for {
		st, err := e.Elasticsearch(ctx, ns, name)
		if err == nil {
			last = st
			if st.Phase == phase && st.Current {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("Elasticsearch %s/%s is not %s after %s: phase %q (of the latest spec: %v) health %q conditions %v", ns, name, phase, timeout, last.Phase, last.Current, last.Health, last.Conditions)
		case <-time.After(500 * time.Millisecond):
		}
	}
}

// RequestSummary lists what the nodes of Elasticsearch ns/name were asked,
// one line per endpoint and status with its count, for a failing test.
func (e *RealECK) RequestSummary(ns, name string) string {
	cl, ok := e.Nodes.Cluster(ns, name)
	if !ok {
		return "no node of it ever started"
	}
	counts := map[string]int{}
	var keys []string
	for _, r := range cl.Requests() {
		k := fmt.Sprintf("%s %s -> %d (user %q)", r.Method, r.Path, r.Status, r.User)
		if counts[k] == 0 {
			keys = append(keys, k)
		}
		counts[k]++
	}
	var b strings.Builder
	for _, k := range keys {
		fmt.Fprintf(&b, "%5d %s\n", counts[k], k)
	}
	return b.String()
}

// Patch merges patch (JSON) into Elasticsearch ns/name, as a user applies
// a change.
func (e *RealECK) Patch(ctx context.Context, ns, name, patch string) error {
	es := &unstructured.Unstructured{}
	es.SetAPIVersion("elasticsearch.k8s.elastic.co/v1")
	es.SetKind("Elasticsearch")
	es.SetNamespace(ns)
	es.SetName(name)
	if err := e.Kube.Patch(ctx, es, client.RawPatch(types.MergePatchType, []byte(patch))); err != nil {
		return fmt.Errorf("cannot patch Elasticsearch %s/%s: %w", ns, name, err)
	}
	return nil
}
