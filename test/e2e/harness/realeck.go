package harness

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	kerrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

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

// ECKOperator is ECK's real operator (3.5.0, built from its module by
// hack/build-eck.sh) running against the API server, with
// kube-controller-manager's StatefulSet controller and the kubelet
// stand-in (package test/kubelet) running each of ECK's Pods as a fake
// Elasticsearch node on its own loopback address. ECK reaches the Pods by
// name through the wrapper's resolver, which reads the hosts file the
// stand-in writes. Only Elasticsearch and the kubelet are stand-ins.
type ECKOperator struct {
	Kube    client.Client
	Kubelet *kubelet.Kubelet
	// Nodes are the running fake Elasticsearch nodes, one per Pod.
	Nodes *kubelet.Elasticsearch
	// Network resolves the Services' addresses (the remote cluster
	// seeds and the HTTP Services among them) to the nodes behind them.
	Network *esfake.Network

	kcm      *process
	operator *process
}

// RealECK is an API server with ECK's CRDs and ECK's operator, without
// Crossplane or eslink.
type RealECK struct {
	*ECKOperator
	Env    *controlplane.Env
	LogDir string

	cancel context.CancelFunc
}

func (o *RealECKOptions) progress(format string, args ...any) {
	if o.Progress != nil {
		o.Progress(format, args...)
	}
}

// StartRealECK brings the operator and its surroundings up; Stop tears them
// down.
func StartRealECK(ctx context.Context, o RealECKOptions) (*RealECK, error) {
	root, logDir, err := workDirs("eslink-realeck-")
	if err != nil {
		return nil, err
	}
	e := &RealECK{LogDir: logDir}
	if err := e.start(ctx, root, o); err != nil {
		err = fmt.Errorf("%w\n%s", err, e.logTails())
		e.Stop()
		return nil, err
	}
	return e, nil
}

// eckCRDs builds the operator when its inputs changed and returns the file
// of all of ECK's CRDs: ECK watches every kind it has a controller for.
func eckCRDs(ctx context.Context, root string, progress func(string, ...any)) (string, error) {
	t0 := time.Now()
	if err := runScript(ctx, root, "build-eck.sh"); err != nil {
		return "", err
	}
	progress("built ECK's operator %s (bin/eck) in %s", ECKOperatorVersion, time.Since(t0).Round(time.Second))
	return filepath.Join(root, "bin", "eck", ECKOperatorVersion, "all-crds.yaml"), nil
}

func (e *RealECK) start(ctx context.Context, root string, o RealECKOptions) error {
	pctx, cancel := context.WithCancel(context.Background())
	e.cancel = cancel
	crds, err := eckCRDs(ctx, root, o.progress)
	if err != nil {
		return err
	}
	e.Env, err = controlplane.Start(ctx, controlplane.WithoutProjectCRDs(), controlplane.WithECKCRDs(crds))
	if err != nil {
		return err
	}
	kc, err := kubeconfig(e.Env.Config)
	if err != nil {
		return err
	}
	kcPath := filepath.Join(e.LogDir, "kubeconfig")
	if err := os.WriteFile(kcPath, kc, 0o600); err != nil {
		return fmt.Errorf("cannot write kubeconfig: %w", err)
	}
	o.progress("API server ready at %s with ECK's CRDs", e.Env.Config.Host)
	// The garbage collector deletes what ECK's deleted objects own.
	e.ECKOperator, err = startECKOperator(ctx, pctx, root, e.LogDir, kcPath, e.Env.Client, esfake.NewNetwork(), o, "garbagecollector")
	return err
}

// startECKOperator starts kube-controller-manager's StatefulSet controller
// (and more controllers), the kubelet stand-in with nodes on network, and
// ECK's operator for o.Namespaces, after starting ECK's enterprise trial.
// The processes run until pctx ends.
func startECKOperator(ctx, pctx context.Context, root, logDir, kcPath string, kube client.Client, network *esfake.Network, o RealECKOptions, moreControllers ...string) (*ECKOperator, error) {
	e := &ECKOperator{Kube: kube, Network: network}
	for _, ns := range append([]string{ECKOperatorNamespace}, o.Namespaces...) {
		if err := kube.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}); err != nil && !kerrors.IsAlreadyExists(err) {
			return e, fmt.Errorf("cannot create namespace %s: %w", ns, err)
		}
	}
	trial := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{
		Namespace: ECKOperatorNamespace, Name: eckTrialSecret,
		Labels:      map[string]string{"license.k8s.elastic.co/type": "enterprise_trial"},
		Annotations: map[string]string{"elastic.co/eula": "accepted"},
	}}
	if err := kube.Create(ctx, trial); err != nil && !kerrors.IsAlreadyExists(err) {
		return e, fmt.Errorf("cannot create ECK's trial Secret: %w", err)
	}

	// The StatefulSet controller creates ECK's Pods.
	var err error
	if e.kcm, err = startControllerManager(pctx, root, logDir, kcPath, append([]string{"statefulset"}, moreControllers...)...); err != nil {
		return e, err
	}

	sel, err := labels.Parse(eckPodSelector)
	if err != nil {
		return e, fmt.Errorf("cannot parse the Pod selector: %w", err)
	}
	e.Nodes = &kubelet.Elasticsearch{Log: o.Log, Network: network}
	hosts := kubelet.HostsPath(logDir)
	e.Kubelet, err = kubelet.Start(pctx, kubelet.Options{
		Kube: kube, Namespaces: o.Namespaces, Selector: sel, Runtime: e.Nodes.Start, HostsFile: hosts, Log: o.Log,
		Endpoints: e.Nodes.Endpoints,
	})
	if err != nil {
		return e, err
	}

	interval := o.ObservationInterval
	if interval == 0 {
		interval = 10 * time.Second
	}
	// ECK maps every environment variable onto its flags (viper
	// AutomaticEnv): it runs with only what it needs.
	environ := []string{"KUBECONFIG=" + kcPath, "HOME=" + logDir, "PATH=" + os.Getenv("PATH")}
	e.operator, err = startEnv(pctx, logDir, "eck-operator", filepath.Join(root, "bin", "eck", ECKOperatorVersion, "eck-operator"), environ,
		"--eslink-hosts-file="+hosts,
		"--operator-namespace="+ECKOperatorNamespace,
		"--namespaces="+strings.Join(append([]string{ECKOperatorNamespace}, o.Namespaces...), ","),
		"--enable-leader-election=false", "--enable-webhook=false", "--manage-webhook-certs=false",
		"--disable-telemetry", "--metrics-port=0", "--set-default-security-context=false",
		"--ip-family=ipv4", "--validate-storage-class=false",
		"--elasticsearch-observation-interval="+interval.String())
	if err != nil {
		return e, err
	}
	o.progress("ECK operator %s running (log %s); kube-controller-manager runs the StatefulSet controller; the kubelet stand-in runs ECK's Pods", ECKOperatorVersion, e.operator.log)
	return e, nil
}

// stop stops the operator, the stand-in's nodes and the controller
// manager; their context must be done.
func (e *ECKOperator) stop() {
	if e == nil {
		return
	}
	e.operator.stop()
	if e.Kubelet != nil {
		e.Kubelet.Stop()
	}
	e.kcm.stop()
}

// Stop stops the operator, the stand-in's nodes, the controller manager and
// the API server.
func (e *RealECK) Stop() {
	if e.cancel != nil {
		e.cancel()
	}
	e.ECKOperator.stop()
	if e.Env != nil {
		_ = e.Env.Stop()
	}
	if e.LogDir != "" {
		_ = os.RemoveAll(e.LogDir)
	}
}

// OperatorLog returns the operator's output so far.
func (e *ECKOperator) OperatorLog() string { return e.operator.output() }

func (e *ECKOperator) logTails() string {
	if e == nil {
		return ""
	}
	return processTails(8000, e.kcm, e.operator)
}

// LogTails returns the end of the operator's and the controller manager's
// logs, and every error and warning the operator logged, for a failing
// test.
func (e *ECKOperator) LogTails() string {
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
func (e *ECKOperator) CreateElasticsearch(ctx context.Context, ns, name, version string, count int, spec map[string]any) error {
	s := map[string]any{
		"version": version,
		"nodeSets": []any{map[string]any{
			"name": "default", "count": int64(count),
			"config": map[string]any{"node.store.allow_mmap": false},
			"podTemplate": map[string]any{"spec": map[string]any{
				"volumes": []any{map[string]any{"name": "elasticsearch-data", "emptyDir": map[string]any{}}},
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
func (e *ECKOperator) Elasticsearch(ctx context.Context, ns, name string) (ElasticsearchStatus, error) {
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
func (e *ECKOperator) WaitPhase(ctx context.Context, ns, name, phase string, timeout time.Duration) error {
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
func (e *ECKOperator) RequestSummary(ns, name string) string {
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
func (e *ECKOperator) Patch(ctx context.Context, ns, name, patch string) error {
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
