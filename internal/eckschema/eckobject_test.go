package eckschema

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

func TestParseVersion(t *testing.T) {
	cases := map[string]struct {
		in      string
		want    Version
		wantErr bool
	}{
		"Plain":      {in: "8.10.4", want: Version{8, 10, 4}},
		"Prerelease": {in: "9.3.0-SNAPSHOT", want: Version{9, 3, 0}},
		"TwoParts":   {in: "8.10", wantErr: true},
		"Letters":    {in: "x.y.z", wantErr: true},
		"Negative":   {in: "8.-1.0", wantErr: true},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got, err := ParseVersion(tc.in)
			if (err != nil) != tc.wantErr {
				t.Fatalf("ParseVersion(%q): err = %v, wantErr %v", tc.in, err, tc.wantErr)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("ParseVersion(%q): -want +got:\n%s", tc.in, diff)
			}
		})
	}
}

func TestRunningVersion(t *testing.T) {
	cases := map[string]struct {
		spec, status string
		want         Version
		wantErr      bool
	}{
		"SpecOnly":       {spec: "8.15.0", want: Version{8, 15, 0}},
		"StatusOnly":     {status: "9.3.2", want: Version{9, 3, 2}},
		"UpgradePending": {spec: "9.0.0", status: "8.9.0", want: Version{8, 9, 0}},
		"Neither":        {wantErr: true},
		"Garbage":        {spec: "latest", wantErr: true},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			es := NewElasticsearch()
			es.SetName("c1")
			if tc.spec != "" {
				_ = unstructured.SetNestedField(es.Object, tc.spec, "spec", "version")
			}
			if tc.status != "" {
				_ = unstructured.SetNestedField(es.Object, tc.status, "status", "version")
			}
			got, err := RunningVersion(es)
			if (err != nil) != tc.wantErr {
				t.Fatalf("RunningVersion: err = %v, wantErr %v", err, tc.wantErr)
			}
			if got != tc.want {
				t.Errorf("RunningVersion = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestRemoteClustersRoundTrip(t *testing.T) {
	es := NewElasticsearch()
	entries := []map[string]any{
		{"name": "a", "elasticsearchRef": map[string]any{"name": "c2", "namespace": "ns2"}, "futureField": "kept"},
		{"name": "b"},
	}
	if err := SetRemoteClusters(es, entries); err != nil {
		t.Fatal(err)
	}
	got, err := RemoteClusters(es)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(entries, got); diff != "" {
		t.Errorf("RemoteClusters: -want +got:\n%s", diff)
	}
	if EntryName(got[0]) != "a" {
		t.Errorf("EntryName = %q, want a", EntryName(got[0]))
	}
	if err := SetRemoteClusters(es, nil); err != nil {
		t.Fatal(err)
	}
	if _, found, _ := unstructured.NestedFieldNoCopy(es.Object, "spec", "remoteClusters"); found {
		t.Error("SetRemoteClusters(nil) left spec.remoteClusters behind")
	}
}
