package eck

import (
	"errors"
	"fmt"

	"github.com/crossplane/crossplane-runtime/v2/pkg/event"

	xpv2 "github.com/crossplane/crossplane/apis/v2/core/v2"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/eslink/eslink/internal/linkrules"
)

// Reasons of the Ready condition when a change is blocked. The Synced
// condition and a Warning event carry the same message, set by the managed
// reconciler from the returned error.
const (
	ReasonTargetNotFound     xpv2.ConditionReason = "ElasticsearchNotFound"
	ReasonNotAuthorized      xpv2.ConditionReason = "NotAuthorized"
	ReasonVersionUnsupported xpv2.ConditionReason = "VersionUnsupported"
	ReasonEntryConflict      xpv2.ConditionReason = "EntryConflict"
	ReasonInvalidSpec        xpv2.ConditionReason = "InvalidSpec"
	ReasonShareExceeded      xpv2.ConditionReason = "NamespaceShareExceeded"
)

// BlockedCondition returns a Ready=False condition explaining err when err
// is one of the reasons a change is refused, and false otherwise.
func BlockedCondition(err error) (xpv2.Condition, bool) {
	var reason xpv2.ConditionReason
	var (
		nf *NotFoundError
		ve *VersionError
		ce *ConflictError
		de *linkrules.DeniedError
		ie *InvalidSpecError
		se *ShareError
	)
	switch {
	case errors.As(err, &nf):
		reason = ReasonTargetNotFound
	case errors.As(err, &de):
		reason = ReasonNotAuthorized
	case errors.As(err, &ve):
		reason = ReasonVersionUnsupported
	case errors.As(err, &ce):
		reason = ReasonEntryConflict
	case errors.As(err, &ie):
		reason = ReasonInvalidSpec
	case errors.As(err, &se):
		reason = ReasonShareExceeded
	default:
		return xpv2.Condition{}, false
	}
	return xpv2.Condition{
		Type:               xpv2.TypeReady,
		Status:             corev1.ConditionFalse,
		LastTransitionTime: metav1.Now(),
		Reason:             reason,
		Message:            err.Error(),
	}, true
}

// ReasonTargetGone is the reason of the Warning event a resource being
// deleted records when its Elasticsearch object is gone.
const ReasonTargetGone event.Reason = "TargetGone"

// TargetGoneEvent says that a resource being deleted lets go of what (its
// entry or claim), because the Elasticsearch object that held it is gone:
// nothing is left to remove, and waiting would hold the deletion forever.
func TargetGoneEvent(nf *NotFoundError, what string) event.Event {
	return event.Warning(ReasonTargetGone, fmt.Errorf(
		"the Elasticsearch object %s (%s) is gone, and its %s with it: nothing left to remove, so the resource lets go", nf.Name, nf.Field, what))
}

// An InvalidSpecError says the managed resource's spec cannot be turned into
// a valid change; it names the field and the fix.
type InvalidSpecError struct{ Msg string }

func (e *InvalidSpecError) Error() string { return e.Msg }
