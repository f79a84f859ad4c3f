package main

import (
	"flag"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
)

func TestParseFlags(t *testing.T) {
	cases := map[string]struct {
		args    []string
		want    *options
		wantErr string
	}{
		"Defaults": {
			want: &options{pollInterval: time.Minute, eckPollInterval: 10 * time.Minute, syncInterval: time.Hour, maxReconcileRate: 100, metricsAddress: ":8080", healthAddress: ":8081", minKeyLifetime: 24 * time.Hour},
		},
		"All": {
			args: []string{"--debug", "--poll=10s", "--eck-poll=1m", "--sync=5m", "--max-reconcile-rate=3", "--leader-election", "--leader-election-namespace=crossplane-system", "--metrics-bind-address=0", "--health-probe-bind-address=:9000", "--min-key-lifetime=1m"},
			want: &options{debug: true, pollInterval: 10 * time.Second, eckPollInterval: time.Minute, syncInterval: 5 * time.Minute, maxReconcileRate: 3, leaderElection: true,
				leaderElectionNamespace: "crossplane-system", metricsAddress: "0", healthAddress: ":9000", minKeyLifetime: time.Minute},
		},
		"ZeroPoll":     {args: []string{"--poll=0s"}, wantErr: "--poll must be positive"},
		"ZeroECKPoll":  {args: []string{"--eck-poll=0s"}, wantErr: "--eck-poll must be positive"},
		"NegativeSync": {args: []string{"--sync=-1s"}, wantErr: "--sync must be positive"},
		"ZeroRate":     {args: []string{"--max-reconcile-rate=0"}, wantErr: "--max-reconcile-rate must be at least 1"},
		"ZeroLifetime": {args: []string{"--min-key-lifetime=0s"}, wantErr: "--min-key-lifetime must be positive"},
		"UnknownFlag":  {args: []string{"--nope"}, wantErr: "flag provided but not defined"},
		"BadDuration":  {args: []string{"--poll=soon"}, wantErr: "invalid value"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			fs := flag.NewFlagSet("provider", flag.ContinueOnError)
			fs.SetOutput(io.Discard)
			got, err := parseFlags(fs, tc.args)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("parseFlags(%v) error = %v, want one containing %q", tc.args, err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, got, cmp.AllowUnexported(options{})); diff != "" {
				t.Errorf("parseFlags(%v): -want +got:\n%s", tc.args, diff)
			}
		})
	}
}

// TestSecretsAreNotCached guards the provider's memory and blast radius: a
// cached Secret read would list and watch every Secret in the cluster.
func TestSecretsAreNotCached(t *testing.T) {
	o := managerOptions(&options{syncInterval: time.Hour}, runtime.NewScheme(), nil)
	if o.Client.Cache == nil {
		t.Fatal("the client reads nothing from the cache; expected the Elasticsearch objects to be cached")
	}
	for _, obj := range o.Client.Cache.DisableFor {
		if _, ok := obj.(*corev1.Secret); ok {
			return
		}
	}
	t.Errorf("Secrets are read through the cache: DisableFor = %v", o.Client.Cache.DisableFor)
}
