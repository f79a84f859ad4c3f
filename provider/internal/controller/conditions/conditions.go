// Package conditions is the one vocabulary of the reasons eslink's
// controllers give their conditions and events, and the one path from a
// refusal (a missing target, a denial, a version, a conflict, an invalid
// spec) to the Ready condition that explains it.
package conditions

import (
	"errors"
	"fmt"

	"github.com/crossplane/crossplane-runtime/v2/pkg/event"
	"github.com/crossplane/crossplane-runtime/v2/pkg/resource"

	xpv2 "github.com/crossplane/crossplane/apis/v2/core/v2"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/eslink/eslink/internal/grants"
	"github.com/eslink/eslink/provider/internal/clients/connection"
	"github.com/eslink/eslink/provider/internal/clients/eck"
	"github.com/eslink/eslink/provider/internal/clients/elasticsearch"
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
		nf *eck.NotFoundError
		ve *eck.VersionError
		ce *eck.ConflictError
		de *grants.DeniedError
		ie *eck.InvalidSpecError
		se *eck.ShareError
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
	return Ready(false, reason, err.Error()), true
}

// Ready returns the Ready condition: True when ready, False otherwise.
func Ready(ready bool, reason xpv2.ConditionReason, msg string) xpv2.Condition {
	status := corev1.ConditionFalse
	if ready {
		status = corev1.ConditionTrue
	}
	return xpv2.Condition{Type: xpv2.TypeReady, Status: status, LastTransitionTime: metav1.Now(), Reason: reason, Message: msg}
}

// reasonOf returns the reason of the Ready=False condition that explains
// err: a refusal's own (BlockedCondition), NotAuthorized when the
// namespace may not use the provider config, the one an error of
// Elasticsearch names, and fallback for any other error.
func reasonOf(err error, fallback xpv2.ConditionReason) xpv2.ConditionReason {
	if c, ok := BlockedCondition(err); ok {
		return c.Reason
	}
	if connection.IsDenied(err) {
		return ReasonNotAuthorized
	}
	if r := elasticsearch.ReasonOf(err); r != "" {
		return xpv2.ConditionReason(r)
	}
	return fallback
}

// SetNotReady sets Ready=False with reason and err's message on mg, and the
// same on each condition type of also: a Ready the managed reconciler
// overwrites (Creating after a failed create) loses its reason, a
// condition it leaves alone, such as Healthy, keeps it.
func SetNotReady(mg resource.Conditioned, reason xpv2.ConditionReason, err error, also ...xpv2.ConditionType) {
	c := Ready(false, reason, err.Error())
	cs := []xpv2.Condition{c}
	for _, t := range also {
		c.Type = t
		cs = append(cs, c)
	}
	mg.SetConditions(cs...)
}

// SetBlocked sets on mg, and on each condition type of also, the
// Ready=False condition that explains err. With no fallback, an error that
// is no refusal leaves the conditions as they were.
func SetBlocked(mg resource.Conditioned, err error, fallback xpv2.ConditionReason, also ...xpv2.ConditionType) {
	if reason := reasonOf(err, fallback); reason != "" {
		SetNotReady(mg, reason, err, also...)
	}
}

// Blocked is SetBlocked that returns err, which the managed reconciler puts
// on the Synced condition and in a Warning event.
func Blocked(mg resource.Conditioned, err error, fallback xpv2.ConditionReason) error {
	SetBlocked(mg, err, fallback)
	return err
}

// ReasonTargetGone is the reason of the Warning event a resource being
// deleted records when its Elasticsearch object is gone.
const ReasonTargetGone event.Reason = "TargetGone"

// TargetGoneEvent says that a resource being deleted lets go of what (its
// entry or claim), because the Elasticsearch object that held it is gone:
// nothing is left to remove, and waiting would hold the deletion forever.
func TargetGoneEvent(nf *eck.NotFoundError, what string) event.Event {
	return event.Warning(ReasonTargetGone, fmt.Errorf(
		"the Elasticsearch object %s (%s) is gone, and its %s with it: nothing left to remove, so the resource lets go", nf.Name, nf.Field, what))
}
