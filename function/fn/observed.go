package fn

import (
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"

	xpv2 "github.com/crossplane/crossplane/apis/v2/core/v2"
)

// The SDK's GetCondition and GetValueInto round-trip through JSON on every
// call; reading the few fields observe needs from the object's map directly
// was most of the function's work (make bench).

// conditionOf returns the condition of type t in obj's status.conditions,
// or one with status Unknown, as GetCondition does.
func conditionOf(obj map[string]any, t xpv2.ConditionType) xpv2.Condition {
	conds, _, _ := unstructured.NestedFieldNoCopy(obj, "status", "conditions")
	list, _ := conds.([]any)
	for _, c := range list {
		m, ok := c.(map[string]any)
		if !ok || m["type"] != string(t) {
			continue
		}
		status, _ := m["status"].(string)
		reason, _ := m["reason"].(string)
		message, _ := m["message"].(string)
		return xpv2.Condition{Type: t, Status: corev1.ConditionStatus(status), Reason: xpv2.ConditionReason(reason), Message: message}
	}
	return xpv2.Condition{Type: t, Status: corev1.ConditionUnknown}
}

// atProviderInto reads obj's status.atProvider into out. A missing or
// malformed observation leaves out as it is, as GetValueInto did here.
func atProviderInto(obj map[string]any, out any) {
	m, _, _ := unstructured.NestedFieldNoCopy(obj, "status", "atProvider")
	if at, ok := m.(map[string]any); ok {
		_ = runtime.DefaultUnstructuredConverter.FromUnstructured(at, out)
	}
}
