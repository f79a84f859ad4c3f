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
	"k8s.io/client-go/util/retry"
	"sigs.k8s.io/controller-runtime/pkg/client"

	commonv1alpha1 "github.com/eslink/eslink/apis/common/v1alpha1"
	"github.com/eslink/eslink/internal/linkrules"
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

// A VersionError says the cluster runs a version ECK would reject the change
// for.
type VersionError struct {
	Name    types.NamespacedName
	Running linkrules.Version
	Feature string
	// Minimum is the version the feature needs, when it is not the
	// minimum of API-key remote clusters.
	Minimum *linkrules.Version
}

func (e *VersionError) Error() string {
	if e.Minimum != nil {
		return fmt.Sprintf("Elasticsearch %s runs %s, below %d.%d, the first version with %s; upgrade the cluster first",
			e.Name, e.Running, e.Minimum.Major, e.Minimum.Minor, e.Feature)
	}
	return fmt.Sprintf("Elasticsearch %s runs %s, below %s, the minimum ECK's webhook accepts for %s (Elastic's documentation states %s); upgrade the cluster first",
		e.Name, e.Running, linkrules.MinAPIKeyVersion, e.Feature, linkrules.DocumentedAPIKeyVersion)
}

// Client reads and changes ECK Elasticsearch objects.
type Client struct {
	kube    client.Client
	backoff wait.Backoff
}

// NewClient returns a Client that uses kube. Reads must not come from a
// stale cache: controller-runtime serves unstructured objects live unless
// told otherwise, which keeps conflicts rare.
func NewClient(kube client.Client) *Client {
	return &Client{kube: kube, backoff: ConflictBackoff}
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
	es := linkrules.NewElasticsearch()
	if err := c.kube.Get(ctx, name, es); err != nil {
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

// Mutate applies fn to the current Elasticsearch object and writes it back
// with Update, which carries the resourceVersion read: a concurrent writer
// makes it fail with a conflict instead of losing that writer's change, and
// it is retried on a fresh read. Nothing is written when fn changes nothing.
// It returns the object as last read or written.
func (c *Client) Mutate(ctx context.Context, name types.NamespacedName, field string, fn MutateFn) (*unstructured.Unstructured, error) {
	var out *unstructured.Unstructured
	err := retry.RetryOnConflict(c.backoff, func() error {
		es, err := c.Get(ctx, name, field)
		if err != nil {
			return err
		}
		changed, err := fn(es)
		if err != nil || !changed {
			out = es
			return err
		}
		if err := c.kube.Update(ctx, es); err != nil {
			// Wrapped with %w, so RetryOnConflict still sees a conflict.
			return fmt.Errorf("cannot update Elasticsearch %s: %w", name, err)
		}
		out = es
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// RequireAPIKeyVersion returns a *VersionError when es runs a version ECK's
// webhook rejects feature for. ECK checks the lower of spec and status
// version during an upgrade, and so does this.
func RequireAPIKeyVersion(es *unstructured.Unstructured, feature string) (linkrules.Version, error) {
	v, err := linkrules.RunningVersion(es)
	if err != nil {
		return v, err
	}
	if v.Less(linkrules.MinAPIKeyVersion) {
		return v, &VersionError{Name: types.NamespacedName{Namespace: es.GetNamespace(), Name: es.GetName()}, Running: v, Feature: feature}
	}
	return v, nil
}
