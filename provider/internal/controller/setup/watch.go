package setup

import (
	"context"
	"fmt"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/util/workqueue"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"github.com/crossplane/crossplane-runtime/v2/pkg/logging"
	"github.com/crossplane/crossplane-runtime/v2/pkg/resource"

	"github.com/eslink/eslink/provider/internal/clients/eck"
)

// indexDependencies indexes managed resources by what they read of ECK
// Elasticsearch objects (Dependency.String), so that a change to an object
// reaches the resources that depend on it without a scan.
const indexDependencies = "eslink.io/elasticsearch-dependencies"

// A Dependency is an Elasticsearch object a managed resource reads or, with
// Part, the part of it the resource owns (eck.RemoteClusterPart,
// eck.ServerClaimPart).
type Dependency struct {
	Name types.NamespacedName
	Part string
}

func (d Dependency) String() string {
	if d.Part == "" {
		return d.Name.String()
	}
	return d.Name.String() + "#" + d.Part
}

// Dependencies returns what a managed resource of type T reads.
type Dependencies[T resource.Managed] func(T) []Dependency

// dependents enqueues the managed resources of one kind that an
// Elasticsearch event concerns: all readers of the object when it appears,
// goes or changes in a way every reader depends on (eck.Changes), else only
// the owners of the parts that changed. Other changes, such as ECK's status
// updates or the provider writing another resource's entry, enqueue nothing:
// the poll is the backstop.
type dependents struct {
	cache   client.Reader
	newList func() (client.ObjectList, error)
	log     logging.Logger
}

// watchDependencies indexes the managed resources of kind gvk by deps and
// returns the handler for Elasticsearch events.
func watchDependencies[T resource.Managed](mgr ctrl.Manager, gvk schema.GroupVersionKind, obj T, deps Dependencies[T], log logging.Logger) (handler.EventHandler, error) {
	err := mgr.GetFieldIndexer().IndexField(context.Background(), obj, indexDependencies, func(o client.Object) []string {
		mg, ok := o.(T)
		if !ok {
			return nil
		}
		ds := deps(mg)
		out := make([]string, 0, len(ds))
		for _, d := range ds {
			out = append(out, d.String())
		}
		return out
	})
	if err != nil {
		return nil, fmt.Errorf("cannot index %s by the Elasticsearch objects they read: %w", gvk.Kind, err)
	}
	listGVK := gvk.GroupVersion().WithKind(gvk.Kind + "List")
	d := &dependents{
		cache: mgr.GetCache(),
		newList: func() (client.ObjectList, error) {
			o, err := mgr.GetScheme().New(listGVK)
			if err != nil {
				return nil, err
			}
			l, ok := o.(client.ObjectList)
			if !ok {
				return nil, fmt.Errorf("%s is not a list", listGVK)
			}
			return l, nil
		},
		log: log,
	}
	return handler.Funcs{
		CreateFunc: func(ctx context.Context, e event.CreateEvent, q workqueue.TypedRateLimitingInterface[reconcile.Request]) {
			d.enqueue(ctx, q, whole(e.Object))
		},
		UpdateFunc: func(ctx context.Context, e event.UpdateEvent, q workqueue.TypedRateLimitingInterface[reconcile.Request]) {
			d.enqueue(ctx, q, changed(e.ObjectOld, e.ObjectNew)...)
		},
		DeleteFunc: func(ctx context.Context, e event.DeleteEvent, q workqueue.TypedRateLimitingInterface[reconcile.Request]) {
			d.enqueue(ctx, q, whole(e.Object))
		},
		GenericFunc: func(ctx context.Context, e event.GenericEvent, q workqueue.TypedRateLimitingInterface[reconcile.Request]) {
			d.enqueue(ctx, q, whole(e.Object))
		},
	}, nil
}

func whole(o client.Object) Dependency {
	return Dependency{Name: types.NamespacedName{Namespace: o.GetNamespace(), Name: o.GetName()}}
}

// changed returns the dependencies an update concerns.
func changed(old, cur client.Object) []Dependency {
	uo, ok1 := old.(*unstructured.Unstructured)
	uc, ok2 := cur.(*unstructured.Unstructured)
	if !ok1 || !ok2 {
		return []Dependency{whole(cur)}
	}
	shared, parts := eck.Changes(uo, uc)
	if shared {
		return []Dependency{whole(cur)}
	}
	out := make([]Dependency, 0, len(parts))
	for _, p := range parts {
		out = append(out, Dependency{Name: whole(cur).Name, Part: p})
	}
	return out
}

func (d *dependents) enqueue(ctx context.Context, q workqueue.TypedRateLimitingInterface[reconcile.Request], deps ...Dependency) {
	for _, dep := range deps {
		l, err := d.newList()
		if err == nil {
			err = d.cache.List(ctx, l, client.MatchingFields{indexDependencies: dep.String()})
		}
		if err != nil {
			// The poll still reaches every resource.
			d.log.Info("Cannot find the managed resources that depend on an Elasticsearch object", "dependency", dep.String(), "error", err)
			continue
		}
		_ = meta.EachListItem(l, func(o runtime.Object) error {
			if m, ok := o.(client.Object); ok {
				q.Add(reconcile.Request{NamespacedName: types.NamespacedName{Namespace: m.GetNamespace(), Name: m.GetName()}})
			}
			return nil
		})
	}
}
