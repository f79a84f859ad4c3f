package kubelet

import (
	"context"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/eslink/eslink/test/controlplane"
)

// recorder is a Runtime that records the Pods it started and stopped.
type recorder struct {
	mu      sync.Mutex
	started []*Pod
	stopped []string
}

type recorded struct {
	r   *recorder
	pod *Pod
}

func (p recorded) Stop() {
	p.r.mu.Lock()
	defer p.r.mu.Unlock()
	p.r.stopped = append(p.r.stopped, string(p.pod.UID))
}

func (r *recorder) start(_ context.Context, pod *Pod) (Process, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.started = append(r.started, pod)
	return recorded{r, pod}, nil
}

func (r *recorder) snapshot() ([]*Pod, []string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]*Pod(nil), r.started...), append([]string(nil), r.stopped...)
}

func waitFor(t *testing.T, what string, cond func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		ok, why := cond()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not after 30s: %s", what, why)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestKubelet runs a Pod the way ECK's StatefulSets shape them: it waits for
// a missing Secret, then starts the Pod from what it mounts and sets, marks
// it Running and Ready, publishes its names, stops it on deletion and
// counts a Pod recreated under the same name as a restart.
func TestKubelet(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	env := controlplane.New(t, controlplane.WithoutProjectCRDs())
	kube := env.Client
	const ns = "kubelet-test"
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(kube.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}))
	must(kube.Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "scripts"}, Data: map[string]string{"run.sh": "echo"}}))
	must(kube.Create(ctx, &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "es-http"},
		Spec:       corev1.ServiceSpec{Selector: map[string]string{"app": "es"}, Ports: []corev1.ServicePort{{Port: 9200}}},
	}))
	pod := func() *corev1.Pod {
		return &corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "es-0", Labels: map[string]string{"app": "es", "run": "yes"}},
			Spec: corev1.PodSpec{
				Hostname: "es-0", Subdomain: "es-default",
				Volumes: []corev1.Volume{
					{Name: "config", VolumeSource: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{SecretName: "es-config"}}},
					{Name: "certs", VolumeSource: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{SecretName: "es-config", Items: []corev1.KeyToPath{{Key: "tls.crt", Path: "cert.pem"}}}}},
					{Name: "scripts", VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{LocalObjectReference: corev1.LocalObjectReference{Name: "scripts"}}}},
					{Name: "optional", VolumeSource: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{SecretName: "absent", Optional: ptr.To(true)}}},
					{Name: "labels", VolumeSource: corev1.VolumeSource{DownwardAPI: &corev1.DownwardAPIVolumeSource{Items: []corev1.DownwardAPIVolumeFile{{Path: "labels", FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.labels"}}}}}},
					{Name: "data", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}},
					{Name: "secure", VolumeSource: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{SecretName: "es-config", Items: []corev1.KeyToPath{{Key: "ks", Path: "cluster.remote.a.credentials"}}}}},
				},
				InitContainers: []corev1.Container{{
					Name: "init-keystore", Image: "es:9.3.2",
					VolumeMounts: []corev1.VolumeMount{{Name: "secure", MountPath: "/mnt/secure"}},
				}},
				Containers: []corev1.Container{{
					Name: "elasticsearch", Image: "es:9.3.2",
					Env: []corev1.EnvVar{
						{Name: "PLAIN", Value: "v"},
						{Name: "POD_IP", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "status.podIP"}}},
						{Name: "POD_NAME", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.name"}}},
						{Name: "SECRET", ValueFrom: &corev1.EnvVarSource{SecretKeyRef: &corev1.SecretKeySelector{LocalObjectReference: corev1.LocalObjectReference{Name: "es-config"}, Key: "password"}}},
					},
					VolumeMounts: []corev1.VolumeMount{
						{Name: "config", MountPath: "/mnt/config"},
						{Name: "certs", MountPath: "/etc/certs"},
						{Name: "scripts", MountPath: "/mnt/scripts/run.sh", SubPath: "run.sh"},
						{Name: "optional", MountPath: "/mnt/optional"},
						{Name: "labels", MountPath: "/mnt/downward"},
						{Name: "data", MountPath: "/data"},
					},
				}},
			},
		}
	}
	must(kube.Create(ctx, pod()))
	// Pods of other selectors are not the stand-in's.
	other := pod()
	other.Name, other.Labels = "other", map[string]string{"app": "es"}
	must(kube.Create(ctx, other))

	rec := &recorder{}
	hosts := HostsPath(t.TempDir())
	var logMu sync.Mutex
	var logs []string
	var eps []Endpoint
	kctx, kcancel := context.WithCancel(ctx)
	k, err := Start(kctx, Options{
		Kube: kube, Namespaces: []string{ns}, Selector: labels.SelectorFromSet(labels.Set{"run": "yes"}),
		Runtime: rec.start, HostsFile: hosts, Prefix: [2]byte{77, 1},
		Endpoints: func(e []Endpoint) {
			logMu.Lock()
			defer logMu.Unlock()
			eps = e
		},
		Log: func(format string, args ...any) {
			logMu.Lock()
			defer logMu.Unlock()
			logs = append(logs, fmt.Sprintf(format, args...))
		},
	})
	must(err)
	defer func() { kcancel(); k.Stop() }()

	// The Secret is missing: the Pod waits, not Ready, and says why.
	waitFor(t, "the stand-in reports the missing Secret", func() (bool, string) {
		logMu.Lock()
		defer logMu.Unlock()
		return strings.Contains(strings.Join(logs, "\n"), "Pod kubelet-test/es-0 waits to start: Secret kubelet-test/es-config not found"), strings.Join(logs, "\n")
	})
	if started, _ := rec.snapshot(); len(started) != 0 {
		t.Fatalf("started %d Pods before their Secret existed", len(started))
	}
	must(kube.Create(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "es-config"}, Data: map[string][]byte{
		"elasticsearch.yml": []byte("node.name: ${POD_NAME}\n"), "tls.crt": []byte("CERT"), "password": []byte("pw"), "ks": []byte("encoded-key"),
	}}))

	var live corev1.Pod
	waitFor(t, "Pod es-0 Running and Ready", func() (bool, string) {
		if err := kube.Get(ctx, client.ObjectKey{Namespace: ns, Name: "es-0"}, &live); err != nil {
			return false, err.Error()
		}
		return podReady(&live), fmt.Sprintf("status %+v", live.Status)
	})
	started, _ := rec.snapshot()
	if len(started) != 1 {
		t.Fatalf("started %d processes, want 1", len(started))
	}
	p := started[0]
	if got := p.IP.String(); got != live.Status.PodIP || !strings.HasPrefix(got, "127.77.") {
		t.Errorf("Pod IP %s, status.podIP %s; want the same 127.77.x.y address", got, live.Status.PodIP)
	}
	es := p.Containers["elasticsearch"]
	wantFiles := map[string]string{
		"/mnt/config/elasticsearch.yml": "node.name: ${POD_NAME}\n",
		"/mnt/config/password":          "pw",
		"/etc/certs/cert.pem":           "CERT",
		"/mnt/scripts/run.sh":           "echo",
		"/mnt/downward/labels":          "app=\"es\"\nrun=\"yes\"\n",
	}
	for path, want := range wantFiles {
		if got, ok := es.Files[path]; !ok || string(got) != want {
			t.Errorf("file %s = %q (present %v), want %q", path, got, ok, want)
		}
	}
	if _, ok := es.Files["/etc/certs/tls.crt"]; ok {
		t.Errorf("an items-projected Secret volume shows key tls.crt under its own name; want only cert.pem")
	}
	wantEnv := map[string]string{"PLAIN": "v", "POD_IP": p.IP.String(), "POD_NAME": "es-0", "SECRET": "pw"}
	for k, want := range wantEnv {
		if got := es.Env[k]; got != want {
			t.Errorf("env %s = %q, want %q", k, got, want)
		}
	}
	if got := p.Containers["init-keystore"].FilesUnder("/mnt/secure"); string(got["cluster.remote.a.credentials"]) != "encoded-key" || len(got) != 1 {
		t.Errorf("init container's secure settings = %v", got)
	}
	if st := live.Status.ContainerStatuses; len(st) != 1 || st[0].Name != "elasticsearch" || !st[0].Ready || st[0].State.Running == nil {
		t.Errorf("container statuses %+v, want elasticsearch ready and running", st)
	}

	// The names cluster DNS would answer.
	waitFor(t, "hosts file", func() (bool, string) {
		b, _ := os.ReadFile(hosts)
		want := p.IP.String() + " es-0.es-default.kubelet-test es-0.es-default.kubelet-test.svc es-0.es-default.kubelet-test.svc.cluster.local es-http.kubelet-test es-http.kubelet-test.svc es-http.kubelet-test.svc.cluster.local"
		return strings.Contains(string(b), want), string(b)
	})

	// The Service's port, answered by the Pod, as kube-proxy routes it.
	waitFor(t, "Service endpoints", func() (bool, string) {
		logMu.Lock()
		defer logMu.Unlock()
		want := Endpoint{Service: "es-http.kubelet-test.svc", Port: 9200, Namespace: ns, Pod: "es-0", UID: live.UID}
		return len(eps) == 1 && eps[0] == want, fmt.Sprintf("%+v", eps)
	})

	// ECK deletes the Pod; the StatefulSet controller recreates it.
	must(kube.Delete(ctx, &live))
	waitFor(t, "process stopped", func() (bool, string) {
		_, stopped := rec.snapshot()
		return len(stopped) == 1 && stopped[0] == string(live.UID), fmt.Sprint(stopped)
	})
	must(kube.Create(ctx, pod()))
	waitFor(t, "recreated Pod Ready", func() (bool, string) {
		var np corev1.Pod
		if err := kube.Get(ctx, client.ObjectKey{Namespace: ns, Name: "es-0"}, &np); err != nil {
			return false, err.Error()
		}
		return np.UID != live.UID && podReady(&np), np.Status.PodIP
	})
	if got := k.Restarts(); got["kubelet-test/es-0"] != 1 || len(got) != 1 {
		t.Errorf("Restarts() = %v, want kubelet-test/es-0: 1", got)
	}
	started, _ = rec.snapshot()
	if len(started) != 2 || started[1].IP == p.IP {
		t.Errorf("the recreated Pod got address %v, its predecessor %s; want a new one", started[len(started)-1].IP, p.IP)
	}
	if ip, ok := k.IP(ns, "other"); ok {
		t.Errorf("Pod other (not selected) runs at %s", ip)
	}
	logMu.Lock()
	for _, l := range logs {
		if !strings.HasPrefix(l, "kubelet stand-in: ") {
			t.Errorf("log line %q does not say it is the kubelet stand-in", l)
		}
	}
	logMu.Unlock()
}

func podReady(p *corev1.Pod) bool {
	if p.Status.Phase != corev1.PodRunning || p.Status.PodIP == "" {
		return false
	}
	n := 0
	for _, c := range p.Status.Conditions {
		if (c.Type == corev1.PodReady || c.Type == corev1.ContainersReady) && c.Status == corev1.ConditionTrue {
			n++
		}
	}
	return n == 2
}
