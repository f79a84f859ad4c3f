package crossclusterapikey

import "github.com/eslink/eslink/provider/internal/faultpoint"

// Fault points: the steps of an owned key's life between two side effects,
// where a crash leaves state that recovery must sort out. In a provider
// built with faultpoint.BuildTag, setting ESLINK_FAULT_POINT to one of them
// makes the process exit there (package faultpoint).
const (
	// Create: the key exists on Elasticsearch, nothing else does.
	StepCreateKeyCreated = "create/after-create-key"
	// Create: the connection Secret holds the key; the id is not recorded.
	StepCreatePublished = "create/after-publish"
	// Create: the id is recorded as external name; the managed reconciler
	// has not yet recorded that the create succeeded.
	StepCreateRecorded = "create/after-record-id"

	// Rotation: the successor exists on Elasticsearch only.
	StepRotateKeyCreated = "rotate/after-create-key"
	// Rotation: the Secret holds the successor; the id is not recorded.
	StepRotatePublished = "rotate/after-publish"
	// Rotation: the successor's id is recorded; the old key is still valid.
	StepRotateRecorded = "rotate/after-record-id"
	// Rotation: the old key is invalidated; the reconciler has not yet
	// written status or events.
	StepRotateOldInvalidated = "rotate/after-invalidate-old"

	// Delete: the resource's keys are invalidated; its Secret remains.
	StepDeleteInvalidated = "delete/after-invalidate"
	// Delete: the Secret is deleted; the finalizer remains.
	StepDeleteSecretDeleted = "delete/after-delete-secret"
	// Delete: Observe found nothing left; the managed reconciler is about
	// to remove the finalizer.
	StepDeleteBeforeFinalizer = "delete/before-finalizer-removal"
)

// FaultPoints lists every step, in the order of a key's life.
var FaultPoints = []string{
	StepCreateKeyCreated, StepCreatePublished, StepCreateRecorded,
	StepRotateKeyCreated, StepRotatePublished, StepRotateRecorded, StepRotateOldInvalidated,
	StepDeleteInvalidated, StepDeleteSecretDeleted, StepDeleteBeforeFinalizer,
}

func reach(step string) { faultpoint.Reach(step) }
