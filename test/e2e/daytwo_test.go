package e2e

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/eslink/eslink/test/e2e/harness"
	"github.com/eslink/eslink/test/fakeelasticsearch/esfake"
)

// Day-two operations (a provider replica taking over, a package upgrade)
// must lose nothing: the helpers below take a link of every flow to Ready,
// watch that they stay Ready, and compare what eslink wrote before and
// after.

// everyFlow creates a link of each flow in the team's namespace and waits
// until all are Ready: flow 1 (key managed by ECK), flow 2 (certificate
// security model) and flow 3 (key managed by the provider).
func everyFlow(t *testing.T, h *harness.Harness) []*unstructured.Unstructured {
	t.Helper()
	cert := flow1Spec("d2-certs")
	delete(cert, "access")
	cert["securityModel"] = "Certificate"
	links := []*unstructured.Unstructured{
		harness.Link(harness.TeamNamespace, "d2-flow1", false, flow1Spec("d2-eck", "logs-*")),
		harness.Link(harness.TeamNamespace, "d2-flow2", false, cert),
		harness.Link(harness.TeamNamespace, "d2-flow3", false, flow3Spec("d2-owned", cluster1, "logs-*")),
	}
	for _, l := range links {
		create(t, h, l)
	}
	for _, l := range links {
		if _, err := h.WaitFor(t.Context(), l, flow3Timeout, "Ready", harness.Ready); err != nil {
			t.Fatal(err)
		}
	}
	for _, want := range []struct{ link, flow string }{{"d2-flow1", "ECKAPIKey"}, {"d2-flow2", "Certificate"}, {"d2-flow3", "ProviderAPIKey"}} {
		got := mustGet(t, h, harness.Link(harness.TeamNamespace, want.link, false, nil))
		if f := statusString(got, "flow"); f != want.flow {
			t.Errorf("%s: status.flow = %q, want %s", want.link, f, want.flow)
		}
	}
	return links
}

// readyWatch polls links and records every time one was not Ready.
type readyWatch struct {
	stop     chan struct{}
	done     chan struct{}
	mu       sync.Mutex
	polls    int
	notReady []string
}

func watchReady(t *testing.T, h *harness.Harness, links []*unstructured.Unstructured) *readyWatch {
	t.Helper()
	w := &readyWatch{stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(w.done)
		for {
			for _, l := range links {
				got, err := h.Get(context.Background(), l)
				w.mu.Lock()
				switch {
				case err != nil:
					w.notReady = append(w.notReady, fmt.Sprintf("%s %s: %v", time.Now().Format("15:04:05.000"), l.GetName(), err))
				case !harness.Ready(got):
					st, reason, msg := harness.Condition(got, "Ready")
					w.notReady = append(w.notReady, fmt.Sprintf("%s %s: Ready=%s %s %s", time.Now().Format("15:04:05.000"), l.GetName(), st, reason, msg))
				}
				w.mu.Unlock()
			}
			w.mu.Lock()
			w.polls++
			w.mu.Unlock()
			select {
			case <-w.stop:
				return
			case <-time.After(250 * time.Millisecond):
			}
		}
	}()
	t.Cleanup(w.Stop)
	return w
}

// Stop ends the watch and returns what it saw not Ready, and the number
// of polls.
func (w *readyWatch) Stop() {
	select {
	case <-w.stop:
	default:
		close(w.stop)
	}
	<-w.done
}

func (w *readyWatch) check(t *testing.T, during string) {
	t.Helper()
	w.Stop()
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.polls < 2 {
		t.Errorf("the links were polled only %d times %s", w.polls, during)
	}
	if len(w.notReady) > 0 {
		t.Errorf("links were not Ready %s (%d polls):\n%s", during, w.polls, strings.Join(w.notReady, "\n"))
	}
	t.Logf("every link Ready in each of %d polls %s", w.polls, during)
}

// written is what eslink and ECK wrote for the links, to compare before
// and after an operation that must write nothing.
type written struct {
	keys        map[string][]string // per cluster, "id name invalidated" of every API key
	secrets     map[string]string   // ns/name -> resourceVersion of every Secret the links touch
	generations map[string]int64    // ns/name -> metadata.generation of each Elasticsearch object
	restarts    map[string]int      // ns/name -> rolling restarts ECK completed
}

func snapshot(t *testing.T, h *harness.Harness) written {
	t.Helper()
	w := written{keys: map[string][]string{}, secrets: map[string]string{}, generations: map[string]int64{}, restarts: map[string]int{}}
	for name, es := range map[string]*esfake.Server{"local": h.Local, "remote": h.Remote} {
		for _, k := range es.Keys() {
			w.keys[name] = append(w.keys[name], fmt.Sprintf("%s %s invalidated=%t", k.ID, k.Name, k.Invalidated))
		}
	}
	for _, ns := range []string{harness.LocalNamespace, harness.RemoteNamespace, harness.TeamNamespace} {
		l := &corev1.SecretList{}
		if err := h.Kube.List(t.Context(), l, client.InNamespace(ns)); err != nil {
			t.Fatal(err)
		}
		for _, s := range l.Items {
			w.secrets[ns+"/"+s.Name] = s.ResourceVersion
		}
	}
	for _, c := range [][2]string{{harness.LocalNamespace, harness.LocalName}, {harness.RemoteNamespace, harness.RemoteName}} {
		es, err := h.Elasticsearch(t.Context(), c[0], c[1])
		if err != nil {
			t.Fatal(err)
		}
		w.generations[c[0]+"/"+c[1]] = es.GetGeneration()
		w.restarts[c[0]+"/"+c[1]] = h.ECK.Restarts(c[0], c[1])
	}
	return w
}

// unchanged reports every difference between before and after: a key
// created or invalidated, a Secret written, an Elasticsearch spec written,
// a cluster restarted.
func (before written) unchanged(t *testing.T, after written, during string) {
	t.Helper()
	for _, c := range []string{"local", "remote"} {
		if !slices.Equal(before.keys[c], after.keys[c]) {
			t.Errorf("the %s cluster's API keys changed %s:\nbefore %v\nafter  %v", c, during, before.keys[c], after.keys[c])
		}
	}
	names := make([]string, 0, len(after.secrets))
	for n := range after.secrets {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		if rv, ok := before.secrets[n]; !ok {
			t.Errorf("Secret %s was created %s", n, during)
		} else if rv != after.secrets[n] {
			t.Errorf("Secret %s was written %s (resourceVersion %s, then %s)", n, during, rv, after.secrets[n])
		}
	}
	for n := range before.secrets {
		if _, ok := after.secrets[n]; !ok {
			t.Errorf("Secret %s was deleted %s", n, during)
		}
	}
	for n, g := range before.generations {
		if after.generations[n] != g {
			t.Errorf("Elasticsearch %s's spec was written %s (generation %d, then %d)", n, during, g, after.generations[n])
		}
		if after.restarts[n] != before.restarts[n] {
			t.Errorf("Elasticsearch %s restarted %s (%d rolling restarts, then %d)", n, during, before.restarts[n], after.restarts[n])
		}
	}
}

// waitPolls waits long enough for a provider that just started its
// controllers to have read and polled every managed resource a few times.
func waitPolls(t *testing.T) {
	t.Helper()
	select {
	case <-t.Context().Done():
	case <-time.After(5 * harness.ProviderPoll):
	}
}
