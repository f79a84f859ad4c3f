package fn

import (
	"context"
	"testing"

	fnv1 "github.com/crossplane/function-sdk-go/proto/v1"
)

// BenchmarkRunFunction renders one flow 1 link with every resource observed
// ready: the most work a call does.
func BenchmarkRunFunction(b *testing.B) {
	req := linkRequest{xr: xrFlow1, required: flow1Required(b), observed: map[string]string{
		"remote-cluster-server":       observedReady("RemoteClusterServer", "s", `{enabled: true}`),
		"remote-cluster-entry":        observedReady("RemoteClusterEntry", "e", `{present: true}`),
		"cross-cluster-api-key":       observedReady("CrossClusterAPIKey", "k", readyKeyAtProvider),
		"remote-cluster-connectivity": connected,
	}}.build(b)
	f := New()
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		rsp, err := f.RunFunction(ctx, req)
		if err != nil || rsp.GetDesired().GetComposite().GetReady() != fnv1.Ready_READY_TRUE {
			b.Fatalf("RunFunction did not render a ready link: %v %v", err, rsp.GetResults())
		}
	}
}
