package eck

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	kerrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/util/retry"
)

// writeTimeout bounds one write of an object, conflicts retried included.
const writeTimeout = time.Minute

// A Window is how long changes to one object are collected before they are
// written together: until none arrived for Quiet, or Max after the first.
type Window struct {
	Quiet, Max time.Duration
}

// CollectWindow is the window of the clients NewClient returns. Reconciles
// reach one object a few milliseconds apart, never at once: writing each as
// it comes costs one Update per entry, however many workers run. Waiting a
// little for the next lets one Update carry a burst of them; a lone change
// waits Quiet.
var CollectWindow = Window{Quiet: 25 * time.Millisecond, Max: 500 * time.Millisecond}

// Mutate applies fn to the current Elasticsearch object and writes it back
// with Update, which carries the resourceVersion read: a concurrent writer
// makes it fail with a conflict instead of losing that writer's change, and
// it is retried on a fresh read. Nothing is written when fn changes nothing.
// It returns the object as last read or written, which the caller must not
// change.
//
// Hundreds of resources may own entries of one object. Writing each on its
// own would make them queue for the object, or conflict and retry on every
// round if they raced; instead the changes to one object are collected for
// a short window (CollectWindow), and those collected, together with any
// that arrive while a write is in flight, are applied together, each to the
// result of the ones before, in one Update. A conflict retries the whole
// batch on a fresh read.
// A change whose fn fails is left out and its caller gets the error. When
// conflicts outlast the backoff, every caller gets the conflict and its
// reconciler comes back later: writing the changes one by one would cost an
// Update each and meet the same other writer. When the combined Update
// fails otherwise, each change is written on its own, so that one change
// the API server rejects does not fail the others.
func (c *Client) Mutate(ctx context.Context, name types.NamespacedName, field string, fn MutateFn) (*unstructured.Unstructured, error) {
	w := &write{fn: fn, field: field, at: time.Now(), done: make(chan writeResult, 1)}
	v, _ := queues.LoadOrStore(name, &queue{})
	q := v.(*queue) //nolint:forcetypeassert // Only queues are stored.
	q.mu.Lock()
	q.waiting = append(q.waiting, w)
	start := !q.draining
	q.draining = true
	q.mu.Unlock()
	if start {
		go c.drain(name, q)
	}
	select {
	case r := <-w.done:
		return r.es, r.err
	case <-ctx.Done():
		// The change may still be written: every MutateFn writes a
		// desired state, so writing it late is harmless.
		return nil, fmt.Errorf("cannot update Elasticsearch %s: %w", name, ctx.Err())
	}
}

// queues holds the writes waiting for each object, across the process's
// controllers.
var queues sync.Map // types.NamespacedName -> *queue

type queue struct {
	mu       sync.Mutex
	waiting  []*write
	draining bool
}

type write struct {
	fn    MutateFn
	field string
	// at is when the write arrived, for the collection window.
	at   time.Time
	done chan writeResult
}

type writeResult struct {
	es  *unstructured.Unstructured
	err error
}

// drain writes what is waiting for the object until nothing is.
func (c *Client) drain(name types.NamespacedName, q *queue) {
	for {
		q.collect(c.window)
		q.mu.Lock()
		ws := q.waiting
		q.waiting = nil
		if len(ws) == 0 {
			q.draining = false
			q.mu.Unlock()
			return
		}
		q.mu.Unlock()
		c.write(name, ws)
	}
}

// collect returns once the writes waiting have been quiet for w.Quiet, or
// w.Max after the first of them arrived.
func (q *queue) collect(w Window) {
	for {
		q.mu.Lock()
		n := len(q.waiting)
		var first, last time.Time
		if n > 0 {
			first, last = q.waiting[0].at, q.waiting[n-1].at
		}
		q.mu.Unlock()
		if n == 0 {
			return
		}
		until := last.Add(w.Quiet)
		if limit := first.Add(w.Max); limit.Before(until) {
			until = limit
		}
		d := time.Until(until)
		if d <= 0 {
			return
		}
		time.Sleep(d)
	}
}

// write applies ws to the object in one Update and tells each its result.
func (c *Client) write(name types.NamespacedName, ws []*write) {
	ctx, cancel := context.WithTimeout(context.Background(), writeTimeout)
	defer cancel()
	results := make([]writeResult, len(ws))
	changed := 0
	err := retry.RetryOnConflict(c.backoff, func() error {
		changed = 0
		es, err := get(ctx, c.live, name, "")
		if err != nil {
			return err
		}
		for i, w := range ws {
			// Each change applies to a copy, so that one that fails
			// half-way leaves nothing behind.
			next := es.DeepCopy()
			ch, err := w.fn(next)
			if err == nil && ch {
				// Every write of eslink's records passes here: no
				// namespace's share of them grows past the bounds.
				err = CheckShares(es, next)
			}
			results[i] = writeResult{err: err}
			if err != nil {
				continue
			}
			es = next
			if ch {
				changed++
			}
		}
		if changed > 0 {
			if err := c.kube.Update(ctx, es); err != nil {
				// Wrapped with %w, so RetryOnConflict still sees a conflict.
				return fmt.Errorf("cannot update Elasticsearch %s: %w", name, err)
			}
		}
		for i := range results {
			results[i].es = es
		}
		return nil
	})
	var nf *NotFoundError
	switch {
	case err == nil:
	case errors.As(err, &nf):
		for i, w := range ws {
			results[i] = writeResult{err: &NotFoundError{Field: w.field, Name: name}}
		}
	case len(ws) > 1 && !kerrors.IsConflict(err):
		// The failed Update may be one change's fault (a webhook refusing
		// it): each change is written on its own, so no other resource,
		// whose change may have been none, is handed that error.
		for _, w := range ws {
			c.write(name, []*write{w})
		}
		return
	default:
		for i := range results {
			if results[i].err == nil {
				results[i] = writeResult{err: err}
			}
		}
	}
	for i, w := range ws {
		w.done <- results[i]
	}
}
