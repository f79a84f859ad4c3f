package ecksim

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"path"
	"strings"

	corev1 "k8s.io/api/core/v1"
	kerrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	kruntime "k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/eslink/eslink/test/fakeelasticsearch/esfake"
)

// podSpec is what the pods of a cluster run. The simulated node plays the
// first pod of the first node set.
type podSpec struct {
	// hash covers everything whose change makes ECK roll the pods: the
	// pod templates and configs of every node set, the version and, on the
	// keystore path, the secure settings (ECK hashes them into the pod
	// template).
	hash    string
	version string
	config  esfake.NodeConfig
	mounts  []mount
	// keystore is what the keystore init container builds; empty on the
	// file-based path.
	keystore map[string]string
}

// mount is a Secret or ConfigMap volume mounted into the Elasticsearch
// container.
type mount struct {
	Volume    string
	Secret    string `json:",omitempty"`
	ConfigMap string `json:",omitempty"`
	Items     []corev1.KeyToPath
	Optional  bool
	MountPath string
	SubPath   string `json:",omitempty"`
}

func (m mount) source() string {
	if m.Secret != "" {
		return "Secret " + m.Secret
	}
	return "ConfigMap " + m.ConfigMap
}

// podTemplate reads nodeSets[i].podTemplate.
func podTemplate(ns map[string]any) (*corev1.PodTemplateSpec, error) {
	raw, _, _ := unstructured.NestedMap(ns, "podTemplate")
	pt := &corev1.PodTemplateSpec{}
	if raw == nil {
		return pt, nil
	}
	if err := kruntime.DefaultUnstructuredConverter.FromUnstructured(raw, pt); err != nil {
		return nil, fmt.Errorf("cannot read podTemplate: %w", err)
	}
	return pt, nil
}

// mounts merges ECK's volumes with the user's pod template as ECK's pod
// template builder does: user volumes win by name, user mounts of the
// elasticsearch container win by name or mount path. Only Secret and
// ConfigMap volumes put files on the node.
func mounts(esName, ssetName string, pt *corev1.PodTemplateSpec) ([]mount, error) {
	volumes := map[string]corev1.Volume{}
	for _, v := range pt.Spec.Volumes {
		volumes[v.Name] = v
	}
	var userMounts []corev1.VolumeMount
	for _, c := range pt.Spec.Containers {
		if c.Name == elasticsearchContainer {
			userMounts = c.VolumeMounts
		}
	}
	eck := []struct {
		volume, secret, path string
	}{
		{transportCertsVolumeName, ssetName + "-es-transport-certs", transportCertsMountPath},
		{remoteCAsVolumeName, esName + "-es-remote-ca", remoteCAsMountPath},
		{fileSettingsVolumeName, esName + "-es-file-settings", fileSettingsMountPath},
	}
	all := append([]corev1.VolumeMount(nil), userMounts...)
	for _, e := range eck {
		if _, taken := volumes[e.volume]; !taken {
			volumes[e.volume] = corev1.Volume{Name: e.volume, VolumeSource: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{SecretName: e.secret}}}
		}
		clash := false
		for _, m := range userMounts {
			clash = clash || m.Name == e.volume || path.Clean(m.MountPath) == path.Clean(e.path)
		}
		if !clash {
			all = append(all, corev1.VolumeMount{Name: e.volume, MountPath: e.path})
		}
	}
	out := make([]mount, 0, len(all))
	for i, m := range all {
		v, found := volumes[m.Name]
		if !found {
			// The API server rejects such a StatefulSet.
			return nil, fmt.Errorf("StatefulSet %s is invalid: spec.template.spec.containers[elasticsearch].volumeMounts[%d].name: Not found: %q", ssetName, i, m.Name)
		}
		mo := mount{Volume: m.Name, MountPath: path.Clean(m.MountPath), SubPath: m.SubPath}
		switch {
		case v.Secret != nil:
			mo.Secret, mo.Items = v.Secret.SecretName, v.Secret.Items
			mo.Optional = v.Secret.Optional != nil && *v.Secret.Optional
		case v.ConfigMap != nil:
			mo.ConfigMap, mo.Items = v.ConfigMap.Name, v.ConfigMap.Items
			mo.Optional = v.ConfigMap.Optional != nil && *v.ConfigMap.Optional
		default:
			continue
		}
		out = append(out, mo)
	}
	return out, nil
}

// files reads a mount's source and returns the files it puts on the node.
// found is false when the source does not exist.
func (s *Simulator) files(ctx context.Context, ns string, m mount) (files map[string][]byte, found bool, err error) {
	data := map[string][]byte{}
	if m.Secret != "" {
		sec := &corev1.Secret{}
		err = s.Kube.Get(ctx, client.ObjectKey{Namespace: ns, Name: m.Secret}, sec)
		if err == nil {
			data = sec.Data
		}
	} else {
		cm := &corev1.ConfigMap{}
		err = s.Kube.Get(ctx, client.ObjectKey{Namespace: ns, Name: m.ConfigMap}, cm)
		if err == nil {
			for k, v := range cm.Data {
				data[k] = []byte(v)
			}
			for k, v := range cm.BinaryData {
				data[k] = v
			}
		}
	}
	if kerrors.IsNotFound(err) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("cannot read %s/%s: %w", ns, m.source(), err)
	}
	projected := map[string][]byte{}
	if len(m.Items) == 0 {
		for k, v := range data {
			projected[k] = v
		}
	} else {
		for _, it := range m.Items {
			v, ok := data[it.Key]
			if !ok {
				if m.Optional {
					continue
				}
				return nil, true, fmt.Errorf("%s/%s has no key %q that volume %s projects", ns, m.source(), it.Key, m.Volume)
			}
			projected[it.Path] = v
		}
	}
	out := map[string][]byte{}
	if m.SubPath != "" {
		if v, ok := projected[m.SubPath]; ok {
			out[m.MountPath] = v
		}
		return out, true, nil
	}
	for k, v := range projected {
		out[path.Join(m.MountPath, k)] = v
	}
	return out, true, nil
}

func hashOf(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return "unhashable:" + err.Error()
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:12])
}

// podName is the pod the simulated node plays.
func podName(ssetName string) string { return ssetName + "-0" }

func describeKeys(m map[string]string) string {
	if len(m) == 0 {
		return "none"
	}
	return strings.Join(sortedKeys(m), ", ")
}
