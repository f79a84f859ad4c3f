package eck

import (
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"

	"github.com/eslink/eslink/internal/eckschema"
)

var testMount = Mount{
	Volume:     "eslink-ca",
	SecretName: "c1-eslink-ca",
	MountPath:  "/usr/share/elasticsearch/config/eslink/ca",
	Setting:    "xpack.security.remote_cluster_client.ssl.certificate_authorities",
	File:       "/usr/share/elasticsearch/config/eslink/ca/ca.crt",
}

// withNodeSets builds an Elasticsearch object whose spec.nodeSets is the
// YAML list y.
func withNodeSets(t *testing.T, y string) *unstructured.Unstructured {
	t.Helper()
	var sets []any
	if err := yaml.Unmarshal([]byte(y), &sets); err != nil {
		t.Fatal(err)
	}
	es := eckschema.NewElasticsearch()
	es.SetNamespace("ns1")
	es.SetName("c1")
	es.Object["spec"] = map[string]any{"nodeSets": sets}
	return es
}

func nodeSetsOf(t *testing.T, es *unstructured.Unstructured) []any {
	t.Helper()
	sets, _, err := unstructured.NestedSlice(es.Object, "spec", "nodeSets")
	if err != nil {
		t.Fatal(err)
	}
	return sets
}

const wiredNodeSet = `
  podTemplate:
    spec:
      volumes: [{name: eslink-ca, secret: {secretName: c1-eslink-ca}}]
      containers: [{name: elasticsearch, volumeMounts: [{name: eslink-ca, mountPath: /usr/share/elasticsearch/config/eslink/ca, readOnly: true}]}]`

func TestMountWire(t *testing.T) {
	cases := map[string]struct {
		reason  string
		in      string
		want    string
		changed bool
		err     bool
	}{
		"BareNodeSets": {
			reason:  "Every nodeSet gets the volume, the mount in a new elasticsearch container entry, and the list setting.",
			in:      `[{name: hot, count: 3}, {name: warm, count: 2}]`,
			changed: true,
			want: `
- name: hot
  count: 3
  config: {xpack.security.remote_cluster_client.ssl.certificate_authorities: [/usr/share/elasticsearch/config/eslink/ca/ca.crt]}` + wiredNodeSet + `
- name: warm
  count: 2
  config: {xpack.security.remote_cluster_client.ssl.certificate_authorities: [/usr/share/elasticsearch/config/eslink/ca/ca.crt]}` + wiredNodeSet,
		},
		"KeepsWhatAPersonWrote": {
			reason:  "A person's volumes, mounts, containers and listed paths stay, in their order; eslink's come after.",
			changed: true,
			in: `
- name: default
  config: {node.store.allow_mmap: false, xpack.security.remote_cluster_client.ssl.certificate_authorities: own/ca.pem}
  podTemplate:
    spec:
      volumes: [{name: plugins, emptyDir: {}}]
      containers:
      - {name: sidecar}
      - {name: elasticsearch, env: [{name: A, value: b}], volumeMounts: [{name: plugins, mountPath: /plugins}]}`,
			want: `
- name: default
  config: {node.store.allow_mmap: false, xpack.security.remote_cluster_client.ssl.certificate_authorities: [own/ca.pem, /usr/share/elasticsearch/config/eslink/ca/ca.crt]}
  podTemplate:
    spec:
      volumes: [{name: plugins, emptyDir: {}}, {name: eslink-ca, secret: {secretName: c1-eslink-ca}}]
      containers:
      - {name: sidecar}
      - {name: elasticsearch, env: [{name: A, value: b}], volumeMounts: [{name: plugins, mountPath: /plugins}, {name: eslink-ca, mountPath: /usr/share/elasticsearch/config/eslink/ca, readOnly: true}]}`,
		},
		"AlreadyWired": {
			reason: "A wired object is not changed.",
			in:     `[{name: default, config: {xpack.security.remote_cluster_client.ssl.certificate_authorities: [/usr/share/elasticsearch/config/eslink/ca/ca.crt]},` + flowStyle(wiredNodeSet) + `}]`,
			want:   `[{name: default, config: {xpack.security.remote_cluster_client.ssl.certificate_authorities: [/usr/share/elasticsearch/config/eslink/ca/ca.crt]},` + flowStyle(wiredNodeSet) + `}]`,
		},
		"VolumeNameTaken": {
			reason: "A person's volume of the same name with another source is a conflict, never overwritten.",
			in:     `[{name: default, podTemplate: {spec: {volumes: [{name: eslink-ca, emptyDir: {}}]}}}]`,
			err:    true,
		},
		"PathTaken": {
			reason: "A person's mount at the same path is a conflict.",
			in:     `[{name: default, podTemplate: {spec: {containers: [{name: elasticsearch, volumeMounts: [{name: x, mountPath: /usr/share/elasticsearch/config/eslink/ca}]}]}}}]`,
			err:    true,
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			es := withNodeSets(t, tc.in)
			changed, err := testMount.Wire(es)
			if tc.err {
				if err == nil {
					t.Fatalf("%s\nWire: no error", tc.reason)
				}
				var ce *ConflictError
				if name == "VolumeNameTaken" && !errors.As(err, &ce) {
					t.Errorf("%s\nWire: error %T, want *ConflictError", tc.reason, err)
				}
				return
			}
			if err != nil || changed != tc.changed {
				t.Fatalf("%s\nWire: changed %v, err %v; want changed %v", tc.reason, changed, err, tc.changed)
			}
			if diff := cmp.Diff(nodeSetsOf(t, withNodeSets(t, tc.want)), nodeSetsOf(t, es)); diff != "" {
				t.Errorf("%s\nWire: -want +got:\n%s", tc.reason, diff)
			}
			if wired, err := testMount.Wired(es); !wired || err != nil {
				t.Errorf("%s\nWired after Wire = %v, %v", tc.reason, wired, err)
			}
		})
	}
}

// flowStyle turns the podTemplate block of a wired nodeSet into flow style.
func flowStyle(block string) string {
	var m map[string]any
	if err := yaml.Unmarshal([]byte(block), &m); err != nil {
		panic(err)
	}
	b, _ := yaml.Marshal(m)
	j, _ := yaml.YAMLToJSON(b)
	return ` "podTemplate": ` + string(j)[len(`{"podTemplate":`):len(j)-1]
}

func TestMountUnwire(t *testing.T) {
	cases := map[string]struct {
		reason string
		in     string
		want   string
	}{
		"RestoresBareNodeSet": {
			reason: "Unwiring a nodeSet eslink wired leaves it as it was before.",
			in:     `[{name: default, count: 3}]`,
			want:   `[{name: default, count: 3}]`,
		},
		"KeepsWhatAPersonWrote": {
			reason: "Only eslink's volume, mount and path go.",
			in: `
- name: default
  config: {xpack.security.remote_cluster_client.ssl.certificate_authorities: own/ca.pem}
  podTemplate: {spec: {volumes: [{name: plugins, emptyDir: {}}], containers: [{name: elasticsearch, volumeMounts: [{name: plugins, mountPath: /plugins}]}]}}`,
			want: `
- name: default
  config: {xpack.security.remote_cluster_client.ssl.certificate_authorities: [own/ca.pem]}
  podTemplate: {spec: {volumes: [{name: plugins, emptyDir: {}}], containers: [{name: elasticsearch, volumeMounts: [{name: plugins, mountPath: /plugins}]}]}}`,
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			es := withNodeSets(t, tc.in)
			if _, err := testMount.Wire(es); err != nil {
				t.Fatal(err)
			}
			changed, err := testMount.Unwire(es)
			if err != nil || !changed {
				t.Fatalf("%s\nUnwire: changed %v, err %v", tc.reason, changed, err)
			}
			if diff := cmp.Diff(nodeSetsOf(t, withNodeSets(t, tc.want)), nodeSetsOf(t, es)); diff != "" {
				t.Errorf("%s\nUnwire: -want +got:\n%s", tc.reason, diff)
			}
			if changed, _ := testMount.Unwire(es); changed {
				t.Errorf("%s\nsecond Unwire changed the object", tc.reason)
			}
		})
	}
}

func TestConfigSettings(t *testing.T) {
	es := withNodeSets(t, `[{name: a}, {name: b, config: {other: x}}]`)
	signing := map[string]string{"cluster.remote.logs.signing.certificate": "c", "cluster.remote.logs.signing.key": "k"}
	if holds, _ := ConfigHolds(es, signing); holds {
		t.Fatal("ConfigHolds before SetConfig")
	}
	if changed, err := SetConfig(es, signing); !changed || err != nil {
		t.Fatalf("SetConfig: %v, %v", changed, err)
	}
	if holds, _ := ConfigHolds(es, signing); !holds {
		t.Fatal("ConfigHolds after SetConfig is false")
	}
	if changed, _ := SetConfig(es, signing); changed {
		t.Error("second SetConfig changed the object")
	}
	keys := []string{"cluster.remote.logs.signing.certificate", "cluster.remote.logs.signing.key"}
	if has, _ := ConfigHasAny(es, keys); !has {
		t.Error("ConfigHasAny after SetConfig is false")
	}
	if changed, err := RemoveConfig(es, keys); !changed || err != nil {
		t.Fatalf("RemoveConfig: %v, %v", changed, err)
	}
	want := nodeSetsOf(t, withNodeSets(t, `[{name: a}, {name: b, config: {other: x}}]`))
	if diff := cmp.Diff(want, nodeSetsOf(t, es)); diff != "" {
		t.Errorf("after RemoveConfig -want +got:\n%s", diff)
	}
}
