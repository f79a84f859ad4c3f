package kubelet

import (
	"context"
	"fmt"
	"net/netip"
	"path"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
	kerrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// Pod is what the stand-in hands a Runtime: the Pod as its containers see
// it once the kubelet mounted its volumes and set its environment.
type Pod struct {
	Namespace string
	Name      string
	UID       types.UID
	// IP is the Pod's own loopback address (status.podIP).
	IP     netip.Addr
	Labels map[string]string
	// Containers by name, init containers included.
	Containers map[string]*Container
}

// Container is one container's view of its Pod.
type Container struct {
	Name  string
	Image string
	Init  bool
	// Env is the container's environment, valueFrom resolved.
	Env map[string]string
	// Files are the files its volume mounts show, by absolute path.
	Files map[string][]byte
}

// FilesUnder returns the files under dir (an absolute directory path) by
// their base name, e.g. the entries of a mounted Secret.
func (c *Container) FilesUnder(dir string) map[string][]byte {
	dir = strings.TrimSuffix(dir, "/") + "/"
	out := map[string][]byte{}
	for p, b := range c.Files {
		if rest, ok := strings.CutPrefix(p, dir); ok && !strings.Contains(rest, "/") {
			out[rest] = b
		}
	}
	return out
}

// notReadyError says why a Pod's containers cannot start yet, as a kubelet
// reports ContainerCreating: a Secret or ConfigMap the Pod needs is missing.
type notReadyError struct{ reason string }

func (e *notReadyError) Error() string { return e.reason }

// view reads what pod mounts and sets from the API server.
func view(ctx context.Context, kube client.Client, pod *corev1.Pod, ip netip.Addr) (*Pod, error) {
	r := &reader{ctx: ctx, kube: kube, ns: pod.Namespace, secrets: map[string]*corev1.Secret{}, configMaps: map[string]*corev1.ConfigMap{}}
	vols := map[string]map[string][]byte{}
	for _, v := range pod.Spec.Volumes {
		files, err := r.volume(pod, v)
		if err != nil {
			return nil, err
		}
		vols[v.Name] = files
	}
	out := &Pod{Namespace: pod.Namespace, Name: pod.Name, UID: pod.UID, IP: ip, Labels: pod.Labels, Containers: map[string]*Container{}}
	add := func(c corev1.Container, init bool) error {
		env, err := r.env(pod, c, ip)
		if err != nil {
			return err
		}
		ct := &Container{Name: c.Name, Image: c.Image, Init: init, Env: env, Files: map[string][]byte{}}
		for _, m := range c.VolumeMounts {
			files, ok := vols[m.Name]
			if !ok {
				return fmt.Errorf("container %s mounts volume %s, which the Pod does not declare", c.Name, m.Name)
			}
			if m.SubPath != "" {
				if b, ok := files[m.SubPath]; ok {
					ct.Files[m.MountPath] = b
				}
				continue
			}
			for name, b := range files {
				ct.Files[path.Join(m.MountPath, name)] = b
			}
		}
		out.Containers[c.Name] = ct
		return nil
	}
	for _, c := range pod.Spec.InitContainers {
		if err := add(c, true); err != nil {
			return nil, err
		}
	}
	for _, c := range pod.Spec.Containers {
		if err := add(c, false); err != nil {
			return nil, err
		}
	}
	return out, nil
}

type reader struct {
	ctx        context.Context
	kube       client.Client
	ns         string
	secrets    map[string]*corev1.Secret
	configMaps map[string]*corev1.ConfigMap
}

// secret returns the Secret's data, nil when it is missing and optional.
func (r *reader) secret(name string, optional *bool) (map[string][]byte, error) {
	s, ok := r.secrets[name]
	if !ok {
		s = &corev1.Secret{}
		err := r.kube.Get(r.ctx, types.NamespacedName{Namespace: r.ns, Name: name}, s)
		switch {
		case kerrors.IsNotFound(err):
			s = nil
		case err != nil:
			return nil, fmt.Errorf("cannot read Secret %s/%s: %w", r.ns, name, err)
		}
		r.secrets[name] = s
	}
	if s == nil {
		if optional != nil && *optional {
			return nil, nil
		}
		return nil, &notReadyError{fmt.Sprintf("Secret %s/%s not found", r.ns, name)}
	}
	return s.Data, nil
}

func (r *reader) configMap(name string, optional *bool) (map[string][]byte, error) {
	cm, ok := r.configMaps[name]
	if !ok {
		cm = &corev1.ConfigMap{}
		err := r.kube.Get(r.ctx, types.NamespacedName{Namespace: r.ns, Name: name}, cm)
		switch {
		case kerrors.IsNotFound(err):
			cm = nil
		case err != nil:
			return nil, fmt.Errorf("cannot read ConfigMap %s/%s: %w", r.ns, name, err)
		}
		r.configMaps[name] = cm
	}
	if cm == nil {
		if optional != nil && *optional {
			return nil, nil
		}
		return nil, &notReadyError{fmt.Sprintf("ConfigMap %s/%s not found", r.ns, name)}
	}
	out := map[string][]byte{}
	for k, v := range cm.Data {
		out[k] = []byte(v)
	}
	for k, v := range cm.BinaryData {
		out[k] = v
	}
	return out, nil
}

// project applies a volume's items: only the listed keys, at their paths.
// A listed key the object lacks fails the mount unless optional.
func project(data map[string][]byte, items []corev1.KeyToPath, optional *bool, what string) (map[string][]byte, error) {
	if data == nil {
		return map[string][]byte{}, nil
	}
	if len(items) == 0 {
		return data, nil
	}
	out := map[string][]byte{}
	for _, it := range items {
		b, ok := data[it.Key]
		if !ok {
			if optional != nil && *optional {
				continue
			}
			return nil, &notReadyError{fmt.Sprintf("%s has no key %s", what, it.Key)}
		}
		out[it.Path] = b
	}
	return out, nil
}

func (r *reader) volume(pod *corev1.Pod, v corev1.Volume) (map[string][]byte, error) {
	switch {
	case v.Secret != nil:
		d, err := r.secret(v.Secret.SecretName, v.Secret.Optional)
		if err != nil {
			return nil, err
		}
		return project(d, v.Secret.Items, v.Secret.Optional, "Secret "+r.ns+"/"+v.Secret.SecretName)
	case v.ConfigMap != nil:
		d, err := r.configMap(v.ConfigMap.Name, v.ConfigMap.Optional)
		if err != nil {
			return nil, err
		}
		return project(d, v.ConfigMap.Items, v.ConfigMap.Optional, "ConfigMap "+r.ns+"/"+v.ConfigMap.Name)
	case v.DownwardAPI != nil:
		return downward(pod, v.DownwardAPI.Items)
	case v.Projected != nil:
		out := map[string][]byte{}
		for _, src := range v.Projected.Sources {
			var files map[string][]byte
			var err error
			switch {
			case src.Secret != nil:
				var d map[string][]byte
				if d, err = r.secret(src.Secret.Name, src.Secret.Optional); err == nil {
					files, err = project(d, src.Secret.Items, src.Secret.Optional, "Secret "+r.ns+"/"+src.Secret.Name)
				}
			case src.ConfigMap != nil:
				var d map[string][]byte
				if d, err = r.configMap(src.ConfigMap.Name, src.ConfigMap.Optional); err == nil {
					files, err = project(d, src.ConfigMap.Items, src.ConfigMap.Optional, "ConfigMap "+r.ns+"/"+src.ConfigMap.Name)
				}
			case src.DownwardAPI != nil:
				files, err = downward(pod, src.DownwardAPI.Items)
			}
			if err != nil {
				return nil, err
			}
			for k, b := range files {
				out[k] = b
			}
		}
		return out, nil
	default:
		// emptyDir, persistentVolumeClaim and the like start empty.
		return map[string][]byte{}, nil
	}
}

// downward renders downward API files: labels and annotations as
// key="value" lines, sorted, as the kubelet writes them.
func downward(pod *corev1.Pod, items []corev1.DownwardAPIVolumeFile) (map[string][]byte, error) {
	out := map[string][]byte{}
	for _, it := range items {
		if it.FieldRef == nil {
			continue
		}
		var m map[string]string
		switch it.FieldRef.FieldPath {
		case "metadata.labels":
			m = pod.Labels
		case "metadata.annotations":
			m = pod.Annotations
		default:
			v, err := fieldRef(pod, it.FieldRef.FieldPath, netip.Addr{})
			if err != nil {
				return nil, err
			}
			out[it.Path] = []byte(v)
			continue
		}
		keys := make([]string, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		var b strings.Builder
		for _, k := range keys {
			fmt.Fprintf(&b, "%s=%q\n", k, m[k])
		}
		out[it.Path] = []byte(b.String())
	}
	return out, nil
}

func fieldRef(pod *corev1.Pod, field string, ip netip.Addr) (string, error) {
	switch field {
	case "metadata.name":
		return pod.Name, nil
	case "metadata.namespace":
		return pod.Namespace, nil
	case "metadata.uid":
		return string(pod.UID), nil
	case "spec.nodeName":
		// Pods stay unbound: no node, as the stand-in runs without one.
		return pod.Spec.NodeName, nil
	case "spec.serviceAccountName":
		return pod.Spec.ServiceAccountName, nil
	case "status.podIP":
		if ip.IsValid() {
			return ip.String(), nil
		}
		return "", nil
	case "status.hostIP":
		return "127.0.0.1", nil
	}
	for _, p := range []struct {
		prefix string
		m      map[string]string
	}{{"metadata.labels['", pod.Labels}, {"metadata.annotations['", pod.Annotations}} {
		if k, ok := strings.CutPrefix(field, p.prefix); ok {
			return p.m[strings.TrimSuffix(k, "']")], nil
		}
	}
	return "", fmt.Errorf("the kubelet stand-in does not support fieldRef %s", field)
}

func (r *reader) env(pod *corev1.Pod, c corev1.Container, ip netip.Addr) (map[string]string, error) {
	env := map[string]string{}
	for _, from := range c.EnvFrom {
		var d map[string][]byte
		var err error
		switch {
		case from.SecretRef != nil:
			d, err = r.secret(from.SecretRef.Name, from.SecretRef.Optional)
		case from.ConfigMapRef != nil:
			d, err = r.configMap(from.ConfigMapRef.Name, from.ConfigMapRef.Optional)
		}
		if err != nil {
			return nil, err
		}
		for k, v := range d {
			env[from.Prefix+k] = string(v)
		}
	}
	for _, e := range c.Env {
		switch {
		case e.ValueFrom == nil:
			env[e.Name] = e.Value
		case e.ValueFrom.FieldRef != nil:
			v, err := fieldRef(pod, e.ValueFrom.FieldRef.FieldPath, ip)
			if err != nil {
				return nil, err
			}
			env[e.Name] = v
		case e.ValueFrom.SecretKeyRef != nil:
			ref := e.ValueFrom.SecretKeyRef
			d, err := r.secret(ref.Name, ref.Optional)
			if err != nil {
				return nil, err
			}
			if b, ok := d[ref.Key]; ok {
				env[e.Name] = string(b)
			} else if ref.Optional == nil || !*ref.Optional {
				return nil, &notReadyError{fmt.Sprintf("Secret %s/%s has no key %s", r.ns, ref.Name, ref.Key)}
			}
		case e.ValueFrom.ConfigMapKeyRef != nil:
			ref := e.ValueFrom.ConfigMapKeyRef
			d, err := r.configMap(ref.Name, ref.Optional)
			if err != nil {
				return nil, err
			}
			if b, ok := d[ref.Key]; ok {
				env[e.Name] = string(b)
			} else if ref.Optional == nil || !*ref.Optional {
				return nil, &notReadyError{fmt.Sprintf("ConfigMap %s/%s has no key %s", r.ns, ref.Name, ref.Key)}
			}
		case e.ValueFrom.ResourceFieldRef != nil:
			q := resourceValue(c, e.ValueFrom.ResourceFieldRef.Resource)
			env[e.Name] = q
		}
	}
	return env, nil
}

// resourceValue renders a container resource as the kubelet does for
// resourceFieldRef with the default divisor: a whole number.
func resourceValue(c corev1.Container, resource string) string {
	kind, name, _ := strings.Cut(resource, ".")
	list := c.Resources.Limits
	if kind == "requests" {
		list = c.Resources.Requests
	}
	q, ok := list[corev1.ResourceName(name)]
	if !ok {
		return "0"
	}
	return fmt.Sprint(q.Value())
}
