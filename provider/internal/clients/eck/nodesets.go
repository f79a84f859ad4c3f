package eck

import (
	"fmt"
	"slices"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// The nodeSets of an ECK Elasticsearch object: ECK merges each nodeSet's
// podTemplate with its own, keeping user volumes and the volume mounts of
// the container named elasticsearch (defaults/pod_template.go), and merges
// each nodeSet's config over its own with lists appended
// (common/settings/canonical_config.go: ucfg.AppendValues). Any change to
// either restarts the nodeSet.

// ContainerName is the Elasticsearch container ECK matches user podTemplates
// against.
const ContainerName = "elasticsearch"

// A Mount is a Secret volume eslink mounts into the Elasticsearch container
// of every nodeSet, with one file of it listed in a list setting of the
// nodeSets' config. Entries a person wrote are never changed: a volume,
// mount or path of the same name that differs is a conflict.
type Mount struct {
	// Volume is the volume's name, which marks it as eslink's.
	Volume string
	// SecretName is the Secret mounted.
	SecretName string
	// MountPath is the directory it is mounted at.
	MountPath string
	// Setting is the list setting, a dotted key of the nodeSets' config.
	Setting string
	// File is the path listed in Setting.
	File string
}

// Wired reports whether every nodeSet mounts the Secret and lists the file.
func (m Mount) Wired(es *unstructured.Unstructured) (bool, error) {
	sets, err := nodeSets(es)
	if err != nil {
		return false, err
	}
	if len(sets) == 0 {
		return false, nil
	}
	for _, ns := range sets {
		if err := m.check(es, ns); err != nil {
			return false, err
		}
		vol, mnt := findByName(volumes(ns), m.Volume), findByName(volumeMounts(ns), m.Volume)
		if vol == nil || mnt == nil || !slices.Contains(listSetting(config(ns), m.Setting), m.File) {
			return false, nil
		}
	}
	return true, nil
}

// Wire mounts the Secret into every nodeSet and lists the file, and reports
// whether es changed.
func (m Mount) Wire(es *unstructured.Unstructured) (bool, error) {
	sets, err := nodeSets(es)
	if err != nil {
		return false, err
	}
	changed := false
	for _, ns := range sets {
		if err := m.check(es, ns); err != nil {
			return false, err
		}
		pod := child(child(ns, "podTemplate"), "spec")
		if findByName(volumes(ns), m.Volume) == nil {
			pod["volumes"] = append(asList(pod["volumes"]), map[string]any{
				"name":   m.Volume,
				"secret": map[string]any{"secretName": m.SecretName},
			})
			changed = true
		}
		c := container(pod, true)
		if findByName(asList(c["volumeMounts"]), m.Volume) == nil {
			c["volumeMounts"] = append(asList(c["volumeMounts"]), map[string]any{
				"name": m.Volume, "mountPath": m.MountPath, "readOnly": true,
			})
			changed = true
		}
		cfg := child(ns, "config")
		if !slices.Contains(listSetting(cfg, m.Setting), m.File) {
			// Appended, as ECK appends the nodeSet's list to its own: what
			// a person listed stays, in its order.
			switch v := cfg[m.Setting].(type) {
			case string:
				cfg[m.Setting] = []any{v, m.File}
			default:
				cfg[m.Setting] = append(asList(v), m.File)
			}
			changed = true
		}
	}
	if !changed {
		return false, nil
	}
	return true, setNodeSets(es, sets)
}

// Unwire removes the mount and the listed file from every nodeSet, along
// with the structures eslink created for them once empty, and reports
// whether es changed.
func (m Mount) Unwire(es *unstructured.Unstructured) (bool, error) {
	sets, err := nodeSets(es)
	if err != nil {
		return false, err
	}
	changed := false
	for _, ns := range sets {
		if err := m.check(es, ns); err != nil {
			return false, err
		}
		if pt, ok := ns["podTemplate"].(map[string]any); ok {
			if pod, ok := pt["spec"].(map[string]any); ok {
				if v := asList(pod["volumes"]); findByName(v, m.Volume) != nil {
					setOrDrop(pod, "volumes", dropByName(v, m.Volume))
					changed = true
				}
				if c := container(pod, false); c != nil {
					if vm := asList(c["volumeMounts"]); findByName(vm, m.Volume) != nil {
						setOrDrop(c, "volumeMounts", dropByName(vm, m.Volume))
						changed = true
					}
					if len(c) == 1 { // Only the name eslink gave it.
						setOrDrop(pod, "containers", dropByName(asList(pod["containers"]), ContainerName))
					}
				}
				if len(pod) == 0 {
					delete(pt, "spec")
				}
			}
			if len(pt) == 0 {
				delete(ns, "podTemplate")
			}
		}
		if cfg, ok := ns["config"].(map[string]any); ok && slices.Contains(listSetting(cfg, m.Setting), m.File) {
			var rest []any
			if s, isString := cfg[m.Setting].(string); !isString || s != m.File {
				rest = slices.DeleteFunc(slices.Clone(asList(cfg[m.Setting])), func(e any) bool { return e == m.File })
			}
			if len(rest) == 0 {
				delete(cfg, m.Setting)
			} else {
				cfg[m.Setting] = rest
			}
			if len(cfg) == 0 {
				delete(ns, "config")
			}
			changed = true
		}
	}
	if !changed {
		return false, nil
	}
	return true, setNodeSets(es, sets)
}

// check refuses a nodeSet where a person used the volume's name or path for
// something else.
func (m Mount) check(es *unstructured.Unstructured, ns map[string]any) error {
	where := fmt.Sprintf("nodeSet %v of Elasticsearch %s", ns["name"], objectName(es))
	if v := findByName(volumes(ns), m.Volume); v != nil {
		secret, _ := v["secret"].(map[string]any)
		if name, _ := secret["secretName"].(string); name != m.SecretName {
			return &ConflictError{What: "volume", Key: m.Volume, Object: objectName(es)}
		}
	}
	for _, vm := range volumeMounts(ns) {
		name, _ := vm["name"].(string)
		path, _ := vm["mountPath"].(string)
		if (name == m.Volume) != (path == m.MountPath) {
			return fmt.Errorf("%s mounts volume %q at %q, which clashes with eslink's volume %s at %s: remove that mount by hand", where, name, path, m.Volume, m.MountPath)
		}
	}
	if raw, ok := config(ns)[m.Setting]; ok {
		if _, isList := raw.([]any); !isList {
			if _, isString := raw.(string); !isString {
				return fmt.Errorf("%s sets %s to neither a path nor a list of paths: fix it by hand", where, m.Setting)
			}
		}
	}
	return nil
}

// ConfigHolds reports whether every nodeSet's config holds settings exactly.
func ConfigHolds(es *unstructured.Unstructured, settings map[string]string) (bool, error) {
	sets, err := nodeSets(es)
	if err != nil {
		return false, err
	}
	if len(sets) == 0 {
		return false, nil
	}
	for _, ns := range sets {
		cfg := config(ns)
		for k, v := range settings {
			if s, _ := cfg[k].(string); s != v {
				return false, nil
			}
		}
	}
	return true, nil
}

// ConfigHasAny reports whether any nodeSet's config sets one of keys.
func ConfigHasAny(es *unstructured.Unstructured, keys []string) (bool, error) {
	sets, err := nodeSets(es)
	if err != nil {
		return false, err
	}
	for _, ns := range sets {
		for _, k := range keys {
			if _, ok := config(ns)[k]; ok {
				return true, nil
			}
		}
	}
	return false, nil
}

// SetConfig sets settings in every nodeSet's config and reports whether es
// changed.
func SetConfig(es *unstructured.Unstructured, settings map[string]string) (bool, error) {
	sets, err := nodeSets(es)
	if err != nil {
		return false, err
	}
	changed := false
	for _, ns := range sets {
		cfg := child(ns, "config")
		for k, v := range settings {
			if s, _ := cfg[k].(string); s != v {
				cfg[k] = v
				changed = true
			}
		}
	}
	if !changed {
		return false, nil
	}
	return true, setNodeSets(es, sets)
}

// RemoveConfig removes keys from every nodeSet's config and reports whether
// es changed.
func RemoveConfig(es *unstructured.Unstructured, keys []string) (bool, error) {
	sets, err := nodeSets(es)
	if err != nil {
		return false, err
	}
	changed := false
	for _, ns := range sets {
		cfg, ok := ns["config"].(map[string]any)
		if !ok {
			continue
		}
		for _, k := range keys {
			if _, ok := cfg[k]; ok {
				delete(cfg, k)
				changed = true
			}
		}
		if len(cfg) == 0 {
			delete(ns, "config")
		}
	}
	if !changed {
		return false, nil
	}
	return true, setNodeSets(es, sets)
}

func nodeSets(es *unstructured.Unstructured) ([]map[string]any, error) {
	raw, _, err := unstructured.NestedSlice(es.Object, "spec", "nodeSets")
	if err != nil {
		return nil, fmt.Errorf("cannot read spec.nodeSets of Elasticsearch %s: %w", objectName(es), err)
	}
	out := make([]map[string]any, 0, len(raw))
	for i, r := range raw {
		m, ok := r.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("spec.nodeSets[%d] of Elasticsearch %s is not an object", i, objectName(es))
		}
		for _, f := range []string{"config", "podTemplate"} {
			if v, ok := m[f]; ok && v != nil {
				if _, isMap := v.(map[string]any); !isMap {
					return nil, fmt.Errorf("spec.nodeSets[%d].%s of Elasticsearch %s is not an object: fix it by hand", i, f, objectName(es))
				}
			}
		}
		out = append(out, m)
	}
	return out, nil
}

func setNodeSets(es *unstructured.Unstructured, sets []map[string]any) error {
	raw := make([]any, len(sets))
	for i := range sets {
		raw[i] = sets[i]
	}
	if err := unstructured.SetNestedSlice(es.Object, raw, "spec", "nodeSets"); err != nil {
		return fmt.Errorf("cannot set spec.nodeSets of Elasticsearch %s: %w", objectName(es), err)
	}
	return nil
}

// child returns m[key] as an object, creating it when missing.
func child(m map[string]any, key string) map[string]any {
	c, ok := m[key].(map[string]any)
	if !ok {
		c = map[string]any{}
		m[key] = c
	}
	return c
}

func config(ns map[string]any) map[string]any {
	c, _ := ns["config"].(map[string]any)
	return c
}

func podSpec(ns map[string]any) map[string]any {
	pt, _ := ns["podTemplate"].(map[string]any)
	s, _ := pt["spec"].(map[string]any)
	return s
}

func volumes(ns map[string]any) []any { return asList(podSpec(ns)["volumes"]) }

func volumeMounts(ns map[string]any) []map[string]any {
	var out []map[string]any
	if c := container(podSpec(ns), false); c != nil {
		for _, v := range asList(c["volumeMounts"]) {
			if m, ok := v.(map[string]any); ok {
				out = append(out, m)
			}
		}
	}
	return out
}

// container returns the Elasticsearch container of a pod spec, adding an
// entry with its name alone when create is set.
func container(pod map[string]any, create bool) map[string]any {
	if pod == nil {
		return nil
	}
	cs := asList(pod["containers"])
	if c := findByName(cs, ContainerName); c != nil {
		return c
	}
	if !create {
		return nil
	}
	c := map[string]any{"name": ContainerName}
	pod["containers"] = append(cs, c)
	return c
}

func asList(v any) []any {
	l, _ := v.([]any)
	return l
}

func findByName[T any](list []T, name string) map[string]any {
	for _, e := range list {
		if m, ok := any(e).(map[string]any); ok && m["name"] == name {
			return m
		}
	}
	return nil
}

func dropByName(list []any, name string) []any {
	return slices.DeleteFunc(slices.Clone(list), func(e any) bool {
		m, ok := e.(map[string]any)
		return ok && m["name"] == name
	})
}

func setOrDrop(m map[string]any, key string, list []any) {
	if len(list) == 0 {
		delete(m, key)
		return
	}
	m[key] = list
}

// listSetting reads a setting that holds a path or a list of paths.
func listSetting(cfg map[string]any, key string) []string {
	switch v := cfg[key].(type) {
	case string:
		return []string{v}
	case []any:
		out := make([]string, 0, len(v))
		for _, e := range v {
			if s, ok := e.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}
