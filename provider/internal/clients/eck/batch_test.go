package eck

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	kerrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/wait"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"

	"github.com/eslink/eslink/internal/eckschema"
)

// TestMutateCombinesWaitingWrites: writes that wait while one is in flight
// go out together in one Update, each on the result of the others, and one
// whose change fails gets its error without holding back the rest.
func TestMutateCombinesWaitingWrites(t *testing.T) {
	name := types.NamespacedName{Namespace: "ns1", Name: "combined"}
	es := object("")
	es.SetName(name.Name)
	release := make(chan struct{})
	var mu sync.Mutex
	updates := 0
	kube := fake.NewClientBuilder().WithObjects(es).WithInterceptorFuncs(interceptor.Funcs{
		Update: func(ctx context.Context, c client.WithWatch, obj client.Object, opts ...client.UpdateOption) error {
			mu.Lock()
			updates++
			first := updates == 1
			mu.Unlock()
			if first {
				<-release
			}
			return c.Update(ctx, obj, opts...)
		},
	}).Build()
	c := NewClient(kube, kube)

	const n = 10
	errs := make([]error, n)
	queueBehindFirst(t, name, n, release, func(i int) {
		alias := fmt.Sprintf("alias-%d", i)
		_, errs[i] = c.Mutate(context.Background(), name, "spec.forProvider.elasticsearchRef", func(es *unstructured.Unstructured) (bool, error) {
			if i == n-1 {
				return true, errors.New("denied")
			}
			return RemoteClusters.Put(es, alias, fmt.Sprintf("uid-%d", i), entry(alias, "c2"))
		})
	})

	for i, err := range errs {
		if want := i == n-1; (err != nil) != want {
			t.Errorf("write %d: err = %v, want an error: %t", i, err, want)
		}
	}
	if updates != 2 {
		t.Errorf("%d updates, want 2: the first write, then the %d that waited together", updates, n-1)
	}
	got := eckschema.NewElasticsearch()
	if err := kube.Get(context.Background(), name, got); err != nil {
		t.Fatal(err)
	}
	entries, _ := eckschema.RemoteClusters(got)
	if len(entries) != n-1 {
		t.Errorf("%d entries written, want %d", len(entries), n-1)
	}
}

// TestMutateRetriesTheBatchOnConflict: a batch that keeps meeting conflicts
// is retried whole on fresh reads and never split into one Update per
// change; once the backoff is spent, every caller learns of the conflict.
func TestMutateRetriesTheBatchOnConflict(t *testing.T) {
	name := types.NamespacedName{Namespace: "ns1", Name: "contended"}
	es := object("")
	es.SetName(name.Name)
	conflict := kerrors.NewConflict(schema.GroupResource{Group: "elasticsearch.k8s.elastic.co", Resource: "elasticsearches"}, name.Name, errors.New("modified"))
	release := make(chan struct{})
	var mu sync.Mutex
	updates := 0
	kube := fake.NewClientBuilder().WithObjects(es).WithInterceptorFuncs(interceptor.Funcs{
		Update: func(context.Context, client.WithWatch, client.Object, ...client.UpdateOption) error {
			mu.Lock()
			updates++
			first := updates == 1
			mu.Unlock()
			if first {
				<-release
			}
			return conflict
		},
	}).Build()
	c := NewClient(kube, kube)
	const steps = 3
	c.backoff = wait.Backoff{Steps: steps}

	const n = 10
	errs := make([]error, n)
	queueBehindFirst(t, name, n, release, func(i int) {
		alias := fmt.Sprintf("alias-%d", i)
		_, errs[i] = c.Mutate(context.Background(), name, "spec.forProvider.elasticsearchRef", func(es *unstructured.Unstructured) (bool, error) {
			return RemoteClusters.Put(es, alias, fmt.Sprintf("uid-%d", i), entry(alias, "c2"))
		})
	})

	for i, err := range errs {
		if !kerrors.IsConflict(err) {
			t.Errorf("write %d: err = %v, want the conflict", i, err)
		}
	}
	if want := 2 * steps; updates != want {
		t.Errorf("%d updates, want %d: the first write's %d attempts, then the batch of %d retried whole %d times", updates, want, steps, n-1, steps)
	}
}

// queueBehindFirst runs write(0), whose first Update waits for release,
// queues write(1) to write(n-1) behind it, then closes release and waits
// for all n.
func queueBehindFirst(t *testing.T, name types.NamespacedName, n int, release chan struct{}, write func(i int)) {
	t.Helper()
	var wg sync.WaitGroup
	wg.Go(func() { write(0) })
	// The first write is in flight; the others queue behind it.
	waitQueued(t, name, 0)
	for i := 1; i < n; i++ {
		wg.Go(func() { write(i) })
	}
	waitQueued(t, name, n-1)
	close(release)
	wg.Wait()
}

// waitQueued waits until n writes wait for the object.
func waitQueued(t *testing.T, name types.NamespacedName, n int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		v, ok := queues.Load(name)
		if ok {
			q := v.(*queue) //nolint:forcetypeassert // Only queues are stored.
			q.mu.Lock()
			got, draining := len(q.waiting), q.draining
			q.mu.Unlock()
			if got == n && draining {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d writes never waited for %s", n, name)
		}
		time.Sleep(time.Millisecond)
	}
}
