// Package kubelet is the kubelet stand-in of the end-to-end tests that run
// ECK's real operator: the test cluster has an API server and
// kube-controller-manager (its StatefulSet controller creates ECK's Pods)
// but no kubelet and no nodes, so the Pods stay unbound. For every Pod it
// is given (by label selector), the stand-in does what a kubelet does for
// it, on loopback:
//
//   - it gives the Pod its own address in 127.0.0.0/8 (status.podIP);
//   - it reads what the Pod mounts and sets (Secret, ConfigMap, downward
//     API and projected volumes; env with valueFrom) and hands that view to
//     a Runtime, which starts the Pod's process: a fake Elasticsearch node;
//   - it marks the Pod Running, Ready and ContainersReady, with a status for
//     every container, once the Runtime started it;
//   - it stops the process when the Pod is deleted or replaced (ECK's
//     rolling restarts delete Pods; the StatefulSet controller recreates
//     them under the same name) and counts those restarts;
//   - it writes a hosts file for the names the cluster DNS would answer
//     (<hostname>.<subdomain>.<ns>[.svc[.cluster.local]] per Pod and
//     <service>.<ns>[.svc[.cluster.local]] per Service selecting Ready Pods),
//     which the eck-operator wrapper (hack/eck) resolves from.
//
// It never imports eslink's production packages, and every line it logs
// starts with "kubelet stand-in".
package kubelet

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	kerrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// Process is what a Runtime started for a Pod.
type Process interface {
	// Stop ends the process; the Pod is gone.
	Stop()
}

// Runtime starts a Pod's process from what the Pod mounts and sets. An
// error leaves the Pod not Ready; the stand-in tries again on a later pass,
// as a kubelet restarts a crashing container.
type Runtime func(ctx context.Context, pod *Pod) (Process, error)

// Options configure a Kubelet.
type Options struct {
	// Kube reads Pods, Secrets, ConfigMaps and Services and writes Pod
	// status.
	Kube client.Client
	// Namespaces whose Pods and Services the stand-in handles.
	Namespaces []string
	// Selector picks the Pods to run (default: all Pods of Namespaces).
	Selector labels.Selector
	// Runtime starts each Pod's process.
	Runtime Runtime
	// HostsFile is where the names the cluster DNS would answer are
	// written ("<ip> <name>..." lines), replaced by rename on change.
	HostsFile string
	// Prefix is the first two octets of Pod addresses (127.X.Y.n); the
	// default is random, so parallel test binaries do not collide.
	Prefix [2]byte
	// Interval between passes (default 200ms).
	Interval time.Duration
	// Log receives one line per event.
	Log func(format string, args ...any)
}

// Kubelet is a running stand-in.
type Kubelet struct {
	o Options

	mu       sync.Mutex
	pods     map[types.NamespacedName]*running
	starts   map[types.NamespacedName]int
	nextHost uint16
	hosts    string

	done chan struct{}
}

type running struct {
	uid     types.UID
	ip      netip.Addr
	proc    Process
	ready   bool
	lastErr string
}

// Start runs the stand-in until ctx ends; Stop stops every process.
func Start(ctx context.Context, o Options) (*Kubelet, error) {
	if o.Kube == nil || o.Runtime == nil || o.HostsFile == "" || len(o.Namespaces) == 0 {
		return nil, errors.New("kubelet stand-in: Kube, Runtime, HostsFile and Namespaces are required")
	}
	if o.Selector == nil {
		o.Selector = labels.Everything()
	}
	if o.Interval == 0 {
		o.Interval = 200 * time.Millisecond
	}
	if o.Prefix == [2]byte{} {
		o.Prefix = [2]byte{byte(10 + rand.IntN(240)), byte(rand.IntN(256))}
	}
	if o.Log == nil {
		o.Log = func(string, ...any) {}
	}
	k := &Kubelet{o: o, pods: map[types.NamespacedName]*running{}, starts: map[types.NamespacedName]int{}, nextHost: 2, done: make(chan struct{})}
	go k.loop(ctx)
	return k, nil
}

func (k *Kubelet) logf(format string, args ...any) {
	k.o.Log("kubelet stand-in: "+format, args...)
}

func (k *Kubelet) loop(ctx context.Context) {
	defer close(k.done)
	t := time.NewTicker(k.o.Interval)
	defer t.Stop()
	for {
		if err := k.sync(ctx); err != nil && ctx.Err() == nil {
			k.logf("%v", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Stop waits for the loop (its ctx must be done) and stops every process.
func (k *Kubelet) Stop() {
	<-k.done
	k.mu.Lock()
	defer k.mu.Unlock()
	for key, r := range k.pods {
		if r.proc != nil {
			r.proc.Stop()
		}
		delete(k.pods, key)
	}
}

// Restarts returns how often each Pod (namespace/name) was started again
// after its first start: ECK's rolling restarts delete Pods, and the
// StatefulSet controller recreates them under the same name.
func (k *Kubelet) Restarts() map[string]int {
	k.mu.Lock()
	defer k.mu.Unlock()
	out := map[string]int{}
	for key, n := range k.starts {
		if n > 1 {
			out[key.String()] = n - 1
		}
	}
	return out
}

// IP returns the address of the running Pod namespace/name.
func (k *Kubelet) IP(namespace, name string) (netip.Addr, bool) {
	k.mu.Lock()
	defer k.mu.Unlock()
	r, ok := k.pods[types.NamespacedName{Namespace: namespace, Name: name}]
	if !ok || r.proc == nil {
		return netip.Addr{}, false
	}
	return r.ip, true
}

func (k *Kubelet) sync(ctx context.Context) error {
	var pods []corev1.Pod
	var services []corev1.Service
	for _, ns := range k.o.Namespaces {
		var pl corev1.PodList
		if err := k.o.Kube.List(ctx, &pl, client.InNamespace(ns), client.MatchingLabelsSelector{Selector: k.o.Selector}); err != nil {
			return fmt.Errorf("cannot list Pods of %s: %w", ns, err)
		}
		pods = append(pods, pl.Items...)
		var sl corev1.ServiceList
		if err := k.o.Kube.List(ctx, &sl, client.InNamespace(ns)); err != nil {
			return fmt.Errorf("cannot list Services of %s: %w", ns, err)
		}
		services = append(services, sl.Items...)
	}

	seen := map[types.NamespacedName]bool{}
	var errs []error
	for i := range pods {
		p := &pods[i]
		key := client.ObjectKeyFromObject(p)
		if p.DeletionTimestamp != nil || p.Spec.NodeName != "" {
			continue
		}
		seen[key] = true
		if err := k.syncPod(ctx, p); err != nil {
			errs = append(errs, err)
		}
	}
	k.mu.Lock()
	for key, r := range k.pods {
		if !seen[key] {
			k.stopLocked(key, r, "deleted")
		}
	}
	k.mu.Unlock()

	if err := k.writeHosts(pods, services); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

func (k *Kubelet) stopLocked(key types.NamespacedName, r *running, why string) {
	if r.proc != nil {
		r.proc.Stop()
		k.logf("Pod %s (uid %s) %s: stopped its process at %s", key, r.uid, why, r.ip)
	}
	delete(k.pods, key)
}

// allocateLocked hands out the next Pod address, 127.X.(Y+n/256).(n%256).
// Addresses are not reused within a run, as a cluster's Pod CIDR rarely
// hands a recreated Pod its predecessor's address.
func (k *Kubelet) allocateLocked() netip.Addr {
	for k.nextHost&0xff == 0 || k.nextHost&0xff == 0xff {
		k.nextHost++
	}
	n := k.nextHost
	k.nextHost++
	return netip.AddrFrom4([4]byte{127, k.o.Prefix[0], k.o.Prefix[1] + byte(n>>8), byte(n)})
}

// syncPod starts the Pod's process when it has none and writes its status.
func (k *Kubelet) syncPod(ctx context.Context, p *corev1.Pod) error {
	key := client.ObjectKeyFromObject(p)
	k.mu.Lock()
	r, ok := k.pods[key]
	if ok && r.uid != p.UID {
		k.stopLocked(key, r, "replaced by a new Pod of the same name")
		ok = false
	}
	if !ok {
		r = &running{uid: p.UID, ip: k.allocateLocked()}
		k.pods[key] = r
	}
	k.mu.Unlock()

	if r.proc == nil {
		v, err := view(ctx, k.o.Kube, p, r.ip)
		if err == nil {
			var proc Process
			proc, err = k.o.Runtime(ctx, v)
			if err == nil {
				k.mu.Lock()
				r.proc, r.ready, r.lastErr = proc, true, ""
				k.starts[key]++
				k.mu.Unlock()
				k.logf("Pod %s (uid %s) started at %s", key, p.UID, r.ip)
			}
		}
		if err != nil {
			var nr *notReadyError
			msg := err.Error()
			if r.lastErr != msg {
				r.lastErr = msg
				if errors.As(err, &nr) {
					k.logf("Pod %s waits to start: %s", key, msg)
				} else {
					k.logf("Pod %s cannot start: %s", key, msg)
				}
			}
		}
	}
	return k.writeStatus(ctx, p, r)
}

// writeStatus writes what a kubelet reports for a Pod whose containers run
// (or not yet), when it differs from what the Pod says.
func (k *Kubelet) writeStatus(ctx context.Context, p *corev1.Pod, r *running) error {
	want := p.Status.DeepCopy()
	cond := func(t corev1.PodConditionType, ok bool) {
		s := corev1.ConditionFalse
		if ok {
			s = corev1.ConditionTrue
		}
		for i := range want.Conditions {
			if want.Conditions[i].Type == t {
				if want.Conditions[i].Status != s {
					want.Conditions[i].Status = s
					want.Conditions[i].LastTransitionTime = metav1.Now()
				}
				return
			}
		}
		want.Conditions = append(want.Conditions, corev1.PodCondition{Type: t, Status: s, LastTransitionTime: metav1.Now()})
	}
	ready := r.ready
	want.PodIP = r.ip.String()
	want.PodIPs = []corev1.PodIP{{IP: r.ip.String()}}
	want.HostIP = "127.0.0.1"
	want.HostIPs = []corev1.HostIP{{IP: "127.0.0.1"}}
	if want.StartTime == nil {
		now := metav1.Now()
		want.StartTime = &now
	}
	want.Phase = corev1.PodPending
	if ready {
		want.Phase = corev1.PodRunning
	}
	cond(corev1.PodInitialized, ready)
	cond(corev1.ContainersReady, ready)
	cond(corev1.PodReady, ready)
	want.InitContainerStatuses = containerStatuses(p.Spec.InitContainers, p.Status.InitContainerStatuses, ready, true)
	want.ContainerStatuses = containerStatuses(p.Spec.Containers, p.Status.ContainerStatuses, ready, false)
	if statusEqual(&p.Status, want) {
		return nil
	}
	p.Status = *want
	if err := k.o.Kube.Status().Update(ctx, p); err != nil {
		if kerrors.IsConflict(err) || kerrors.IsNotFound(err) {
			return nil // the next pass sees the newer Pod
		}
		return fmt.Errorf("cannot write status of Pod %s/%s: %w", p.Namespace, p.Name, err)
	}
	if ready {
		k.logf("Pod %s/%s Running and Ready at %s", p.Namespace, p.Name, r.ip)
	}
	return nil
}

func containerStatuses(cs []corev1.Container, old []corev1.ContainerStatus, ready, init bool) []corev1.ContainerStatus {
	if len(cs) == 0 {
		return nil
	}
	out := make([]corev1.ContainerStatus, 0, len(cs))
	for _, c := range cs {
		s := corev1.ContainerStatus{Name: c.Name, Image: c.Image, ImageID: c.Image}
		if i := slices.IndexFunc(old, func(o corev1.ContainerStatus) bool { return o.Name == c.Name }); i >= 0 {
			s.State, s.RestartCount = old[i].State, old[i].RestartCount
		}
		switch {
		case !ready && s.State.Waiting == nil:
			s.State = corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "ContainerCreating"}}
		case ready && init && s.State.Terminated == nil:
			now := metav1.Now()
			s.State = corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: 0, Reason: "Completed", StartedAt: now, FinishedAt: now}}
		case ready && !init && s.State.Running == nil:
			s.State = corev1.ContainerState{Running: &corev1.ContainerStateRunning{StartedAt: metav1.Now()}}
		}
		s.Ready = ready && !init
		started := ready && !init
		s.Started = &started
		out = append(out, s)
	}
	return out
}

func statusEqual(a, b *corev1.PodStatus) bool {
	if a.Phase != b.Phase || a.PodIP != b.PodIP || len(a.Conditions) != len(b.Conditions) ||
		len(a.ContainerStatuses) != len(b.ContainerStatuses) || len(a.InitContainerStatuses) != len(b.InitContainerStatuses) {
		return false
	}
	for i := range a.Conditions {
		if a.Conditions[i].Type != b.Conditions[i].Type || a.Conditions[i].Status != b.Conditions[i].Status {
			return false
		}
	}
	same := func(x, y []corev1.ContainerStatus) bool {
		for i := range x {
			if x[i].Name != y[i].Name || x[i].Ready != y[i].Ready ||
				(x[i].State.Running == nil) != (y[i].State.Running == nil) ||
				(x[i].State.Terminated == nil) != (y[i].State.Terminated == nil) {
				return false
			}
		}
		return true
	}
	return same(a.ContainerStatuses, b.ContainerStatuses) && same(a.InitContainerStatuses, b.InitContainerStatuses)
}

// writeHosts writes the names the cluster DNS would answer for the running
// Pods: each Pod by hostname.subdomain, each Service by the Ready Pods it
// selects (all selected Pods when it publishes not-ready addresses).
// Without search domains in the operator's resolver, each name is written
// in the forms a Pod's search path would complete.
func (k *Kubelet) writeHosts(pods []corev1.Pod, services []corev1.Service) error {
	k.mu.Lock()
	names := map[string][]string{} // ip -> names
	type member struct {
		pod   *corev1.Pod
		ip    string
		ready bool
	}
	members := make([]member, 0, len(pods))
	for i := range pods {
		p := &pods[i]
		r, ok := k.pods[client.ObjectKeyFromObject(p)]
		if !ok || r.uid != p.UID || r.proc == nil {
			continue
		}
		ip := r.ip.String()
		members = append(members, member{p, ip, r.ready})
		host := p.Spec.Hostname
		if host == "" {
			host = p.Name
		}
		if p.Spec.Subdomain != "" {
			names[ip] = append(names[ip], forms(host+"."+p.Spec.Subdomain, p.Namespace)...)
		}
	}
	k.mu.Unlock()
	for _, s := range services {
		if len(s.Spec.Selector) == 0 {
			continue
		}
		sel := labels.SelectorFromSet(s.Spec.Selector)
		for _, m := range members {
			if m.pod.Namespace == s.Namespace && sel.Matches(labels.Set(m.pod.Labels)) && (m.ready || s.Spec.PublishNotReadyAddresses) {
				names[m.ip] = append(names[m.ip], forms(s.Name, s.Namespace)...)
			}
		}
	}
	ips := make([]string, 0, len(names))
	for ip := range names {
		ips = append(ips, ip)
	}
	sort.Strings(ips)
	var b strings.Builder
	b.WriteString("# written by the kubelet stand-in (test/kubelet): the names the cluster DNS would answer\n")
	for _, ip := range ips {
		fmt.Fprintf(&b, "%s %s\n", ip, strings.Join(names[ip], " "))
	}
	if b.String() == k.hosts {
		return nil
	}
	tmp := k.o.HostsFile + ".tmp"
	if err := os.WriteFile(tmp, []byte(b.String()), 0o600); err != nil {
		return fmt.Errorf("cannot write hosts file: %w", err)
	}
	if err := os.Rename(tmp, k.o.HostsFile); err != nil {
		return fmt.Errorf("cannot write hosts file: %w", err)
	}
	k.hosts = b.String()
	return nil
}

// forms are the names a Pod in the cluster resolves name.namespace by.
func forms(name, ns string) []string {
	base := name + "." + ns
	return []string{base, base + ".svc", base + ".svc.cluster.local"}
}

// HostsPath is a hosts file path in dir, for Options.HostsFile.
func HostsPath(dir string) string { return filepath.Join(dir, "kubelet-standin-hosts") }
