package remoteclusterserver

import (
	"context"
	"fmt"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/eslink/eslink/internal/linkrules"
	"github.com/eslink/eslink/provider/internal/controller/eck/ecktest"
	"github.com/eslink/eslink/test/controlplane"
)

// TestWatchRestoresClaim: with a poll longer than the test, only the watch
// on the Elasticsearch object can notice that the server was turned off and
// the claim removed by hand, and restore both.
func TestWatchRestoresClaim(t *testing.T) {
	h := &harness{ecktest.StartPolling(t, 2, time.Hour, Setup)}
	ns := h.Namespace(t, "watch")
	h.Elasticsearch(t, ns, "c2", "9.3.2", nil, nil)
	h.create(t, newServer(ns, "srv", ref(ns, "c2"), false))
	mg := h.waitReady(t, ns, "srv", "")

	es := h.GetES(t, ns, "c2")
	if err := controlplane.Update(context.Background(), h.Kube, es, func() error {
		es.SetAnnotations(nil)
		return unstructured.SetNestedField(es.Object, false, "spec", "remoteClusterServer", "enabled")
	}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the claim restored", func() (bool, string) {
		es := h.GetES(t, ns, "c2")
		_, claimed := claims(t, es)[string(mg.UID)]
		return claimed && linkrules.RemoteClusterServerEnabled(es), fmt.Sprintf("%v %v", es.GetAnnotations(), serverSpec(es))
	})
}
