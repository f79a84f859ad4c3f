// Package eck changes ECK Elasticsearch objects one owned piece at a time:
// a read-modify-write of the whole object under its resourceVersion, retried
// on conflict, so that many managed resources can share one object without
// losing each other's entries. It also holds the checks every change must
// pass first: the object exists, the managed resource's namespace is
// authorized, and the running version supports the change. The ECK object
// itself is never created or deleted.
package eck

import (
	"context"
	"fmt"
	"time"

	kerrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/wait"
	"sigs.k8s.io/controller-runtime/pkg/client"

	commonv1alpha1 "github.com/eslink/eslink/apis/common/v1alpha1"
	"github.com/eslink/eslink/internal/eckschema"
)

// ConflictBackoff paces retries after a resourceVersion conflict. Twenty
// writers on one object need more than client-go's five quick attempts; the
// jitter spreads writers that collided once so they do not collide again.
var ConflictBackoff = wait.Backoff{Steps: 12, Duration: 10 * time.Millisecond, Factor: 1.5, Jitter: 1.0, Cap: time.Second}

// A NotFoundError says the referenced Elasticsearch object does not exist.
type NotFoundError struct {
	// Field is the reference in the managed resource, e.g.
	// spec.forProvider.elasticsearchRef.
	Field string
	Name  types.NamespacedName
}

func (e *NotFoundError) Error() string {
	return fmt.Sprintf("Elasticsearch %s (%s) not found: create it or fix the reference; eslink never creates Elasticsearch objects", e.Name, e.Field)
}

// An InvalidSpecError says the managed resource's spec cannot be turned into
// a valid change; it names the field and the fix.
type InvalidSpecError struct{ Msg string }

func (e *InvalidSpecError) Error() string { return e.Msg }

// A VersionError says the cluster runs a version ECK would reject the change
// for.
type VersionError struct {
	Name    types.NamespacedName
	Running eckschema.Version
	Feature string
	// Minimum is the version the feature needs, when it is not the
	// minimum of API-key remote clusters.
	Minimum *eckschema.Version
}

func (e *VersionError) Error() string {
	if e.Minimum != nil {
		return fmt.Sprintf("Elasticsearch %s runs %s, below %d.%d, the first version with %s; upgrade the cluster first",
			e.Name, e.Running, e.Minimum.Major, e.Minimum.Minor, e.Feature)
	}
	return fmt.Sprintf("Elasticsearch %s runs %s, below %s, the minimum ECK's webhook accepts for %s (Elastic's documentation states %s); upgrade the cluster first",
		e.Name, e.Running, eckschema.MinAPIKeyVersion, e.Feature, eckschema.DocumentedAPIKeyVersion)
}

// Client reads and changes ECK Elasticsearch objects.
type Client struct {
	kube    client.Client
	live    client.Reader
	backoff wait.Backoff
	window  Window
}

// NewClient returns a Client that reads through kube, which may serve from
// the manager's cache so that a poll does not reach the API server, and
// writes through it. Mutate reads through live, the API server itself: a
// read-modify-write of a cached copy that lags behind the last write would
// only conflict.
func NewClient(kube client.Client, live client.Reader) *Client {
	return &Client{kube: kube, live: live, backoff: ConflictBackoff, window: CollectWindow}
}

// Ref resolves a reference held by a managed resource in namespace ns.
func Ref(ref commonv1alpha1.ElasticsearchReference, ns string) types.NamespacedName {
	if ref.Namespace != "" {
		ns = ref.Namespace
	}
	return types.NamespacedName{Namespace: ns, Name: ref.Name}
}

// Get reads an Elasticsearch object. A missing object is a *NotFoundError
// naming field, the reference that pointed at it.
func (c *Client) Get(ctx context.Context, name types.NamespacedName, field string) (*unstructured.Unstructured, error) {
	return get(ctx, c.kube, name, field)
}

func get(ctx context.Context, r client.Reader, name types.NamespacedName, field string) (*unstructured.Unstructured, error) {
	es := eckschema.NewElasticsearch()
	if err := r.Get(ctx, name, es); err != nil {
		if kerrors.IsNotFound(err) {
			return nil, &NotFoundError{Field: field, Name: name}
		}
		return nil, fmt.Errorf("cannot get Elasticsearch %s: %w", name, err)
	}
	return es, nil
}

// A MutateFn changes es in place and reports whether it changed anything.
// It runs on a fresh read each attempt, so it must decide from es alone.
type MutateFn func(es *unstructured.Unstructured) (bool, error)

// RequireAPIKeyVersion returns a *VersionError when es runs a version ECK's
// webhook rejects feature for. ECK checks the lower of spec and status
// version during an upgrade, and so does this.
func RequireAPIKeyVersion(es *unstructured.Unstructured, feature string) (eckschema.Version, error) {
	v, err := eckschema.RunningVersion(es)
	if err != nil {
		return v, err
	}
	if v.Less(eckschema.MinAPIKeyVersion) {
		return v, &VersionError{Name: types.NamespacedName{Namespace: es.GetNamespace(), Name: es.GetName()}, Running: v, Feature: feature}
	}
	return v, nil
}
