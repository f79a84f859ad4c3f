package crossclusterapikey

import (
	"context"
	"fmt"
	"time"

	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/crossplane/crossplane-runtime/v2/pkg/event"
	"github.com/crossplane/crossplane-runtime/v2/pkg/meta"
	"github.com/crossplane/crossplane-runtime/v2/pkg/reconciler/managed"

	esv1alpha1 "github.com/eslink/eslink/apis/elasticsearch/v1alpha1"
	"github.com/eslink/eslink/internal/linkrules"
	"github.com/eslink/eslink/provider/internal/clients/elasticsearch"
)

// rotationDue reports whether the key is within spec.forProvider.rotateBefore
// of its expiration. key may be nil, then the observed status is used.
func rotationDue(cr *esv1alpha1.CrossClusterAPIKey, key *elasticsearch.APIKey, now time.Time) (bool, error) {
	rb := cr.Spec.ForProvider.RotateBefore
	if rb == nil {
		return false, nil
	}
	before, err := linkrules.ParseDuration("spec.forProvider.rotateBefore", *rb)
	if err != nil {
		return false, err
	}
	var exp time.Time
	switch {
	case key != nil && key.Expiration != nil:
		exp = time.UnixMilli(*key.Expiration)
	case key == nil && cr.Status.AtProvider.Expiration != nil:
		exp = cr.Status.AtProvider.Expiration.Time
	default:
		return false, nil
	}
	return !now.Before(exp.Add(-before)), nil
}

// rotate replaces the key without downtime: the new key is created, recorded
// and published before the old one is invalidated.
func (e *external) rotate(ctx context.Context, cr *esv1alpha1.CrossClusterAPIKey, oldID string) (managed.ExternalUpdate, error) {
	created, err := e.create(ctx, cr, oldID)
	if err != nil {
		markBlocked(cr, err)
		return managed.ExternalUpdate{}, fmt.Errorf("cannot rotate cross-cluster API key %s: %w", oldID, err)
	}
	// If recording the id fails, the next rotation attempt finds the new key
	// by its uid tag and invalidates it, so it never leaks.
	orig := cr.DeepCopy()
	meta.SetExternalName(cr, created.ID)
	if err := e.kube.Patch(ctx, cr, client.MergeFrom(orig)); err != nil {
		return managed.ExternalUpdate{}, fmt.Errorf("cannot record rotated key id %s on %s: %w", created.ID, ref(cr), err)
	}
	details := connectionDetails(created)
	if _, err := e.publisher.PublishConnection(ctx, cr, details); err != nil {
		return managed.ExternalUpdate{}, fmt.Errorf("cannot publish rotated key %s of %s: %w", created.ID, ref(cr), err)
	}
	if err := e.es.InvalidateAPIKey(ctx, oldID); err != nil {
		return managed.ExternalUpdate{ConnectionDetails: details}, fmt.Errorf("cannot invalidate key %s replaced by %s for %s: %w", oldID, created.ID, ref(cr), err)
	}
	e.record.Event(cr, event.Normal(reasonRotated, fmt.Sprintf("Replaced cross-cluster API key %s by %s before it expires", oldID, created.ID)))
	return managed.ExternalUpdate{ConnectionDetails: details}, nil
}
