package controllertest

import (
	"sync"

	"github.com/crossplane/crossplane-runtime/v2/pkg/event"
	"k8s.io/apimachinery/pkg/runtime"
)

// Recorder keeps the events an external client records, for unit tests.
type Recorder struct {
	mu     sync.Mutex
	Events []event.Event
}

// Event records e.
func (r *Recorder) Event(_ runtime.Object, e event.Event) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.Events = append(r.Events, e)
}

// WithAnnotations returns r: tests read the events, not their annotations.
func (r *Recorder) WithAnnotations(...string) event.Recorder { return r }
