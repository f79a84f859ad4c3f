package ecksim

import (
	"context"
	"fmt"
	"reflect"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// Condition types and phases of ECK's Elasticsearch status
// (pkg/apis/elasticsearch/v1/status.go).
const (
	PhaseReady           = "Ready"
	PhaseApplyingChanges = "ApplyingChanges"

	ConditionReconciliationComplete = "ReconciliationComplete"
	ConditionRunningDesiredVersion  = "RunningDesiredVersion"
	ConditionElasticsearchReachable = "ElasticsearchIsReachable"

	// MessageUpgradeInProgress is ECK's ReconciliationComplete message while
	// pods are being restarted (driver/stateful/upgrade.go).
	MessageUpgradeInProgress = "Nodes upgrade in progress"
	// MessageNodesNotBack is ECK's message while a restarted pod does not
	// come back.
	MessageNodesNotBack = "Nodes upgrade: some nodes are not back in the cluster yet"
)

// statusInput is what one reconcile of a cluster observed.
type statusInput struct {
	err       error // the reconcile's aggregated error
	rolling   bool
	stalled   string
	reachable bool
	// incomplete is the reason of a requeue that is not an error.
	incomplete string
}

// writeStatus writes the status ECK's Elasticsearch controller writes at the
// end of every reconcile (elasticsearch_controller.go, reconcile/state.go):
// observedGeneration is the generation this reconcile saw, whatever the
// outcome; phase is ApplyingChanges with ReconciliationComplete=False and a
// reason while the reconcile is incomplete (an error, pods still to
// restart), Ready with ReconciliationComplete=True otherwise. A condition's
// lastTransitionTime changes only with its status or message.
func (s *Simulator) writeStatus(ctx context.Context, c *cluster, rt *runtime, in statusInput) error {
	old, _, _ := unstructured.NestedMap(c.es.Object, "status")
	st := map[string]any{}
	for k, v := range old {
		st[k] = v
	}
	count := int64(0)
	sets, _, _ := unstructured.NestedSlice(c.es.Object, "spec", "nodeSets")
	for _, ns := range sets {
		m, _ := ns.(map[string]any)
		n, _ := m["count"].(int64)
		count += n
	}
	st["observedGeneration"] = c.es.GetGeneration()
	st["health"] = "green"
	st["availableNodes"] = count
	if rt.running.version != "" {
		st["version"] = rt.running.version
	}
	rc, rcMsg := "True", ""
	phase := PhaseReady
	switch {
	case in.err != nil:
		rc, rcMsg, phase = "False", in.err.Error(), PhaseApplyingChanges
	case in.stalled != "":
		rc, rcMsg, phase = "False", MessageNodesNotBack, PhaseApplyingChanges
		st["health"], st["availableNodes"] = "yellow", count-1
	case in.rolling:
		rc, rcMsg, phase = "False", MessageUpgradeInProgress, PhaseApplyingChanges
		st["health"], st["availableNodes"] = "yellow", count-1
	case in.incomplete != "":
		rc, rcMsg, phase = "False", in.incomplete, PhaseApplyingChanges
	}
	if !in.reachable {
		st["health"] = "unknown"
	}
	st["phase"] = phase
	svc := fmt.Sprintf("%s/%s-es-internal-http", c.ref.ns, c.ref.name)
	reach, reachMsg := "True", "Service "+svc+" has endpoints"
	if !in.reachable {
		reach, reachMsg = "False", "Service "+svc+" has endpoints but Elasticsearch is unavailable"
	}
	ver, verMsg := "Unknown", "No running version reported"
	if rt.running.version != "" {
		ver, verMsg = "True", "All nodes are running version "+rt.running.version
		if rt.running.version != c.version.String() {
			ver, verMsg = "False", fmt.Sprintf("Upgrading from %s to %s", rt.running.version, c.version)
		}
	}
	conds, _, _ := unstructured.NestedSlice(old, "conditions")
	conds = mergeCondition(conds, ConditionReconciliationComplete, rc, rcMsg, s.now())
	conds = mergeCondition(conds, ConditionRunningDesiredVersion, ver, verMsg, s.now())
	conds = mergeCondition(conds, ConditionElasticsearchReachable, reach, reachMsg, s.now())
	st["conditions"] = conds
	if reflect.DeepEqual(old, st) {
		return nil
	}
	c.es.Object["status"] = st
	if err := s.Kube.Status().Update(ctx, c.es); err != nil {
		return fmt.Errorf("cannot update status of %s: %w", c.ref, err)
	}
	oldPhase, _ := old["phase"].(string)
	oldGen, _ := old["observedGeneration"].(int64)
	if oldPhase != phase || oldGen != c.es.GetGeneration() || condMessage(old, ConditionReconciliationComplete) != rcMsg {
		s.logf("status of %s: observedGeneration %d, phase %s, ReconciliationComplete %s%s", c.ref, c.es.GetGeneration(), phase, rc, parenthesized(rcMsg))
	}
	return nil
}

// mergeCondition is Conditions.MergeWith: a condition is replaced (with a
// new lastTransitionTime) only when its status or message changes.
func mergeCondition(conds []any, typ, status, message string, now time.Time) []any {
	next := map[string]any{"type": typ, "status": status, "lastTransitionTime": now.UTC().Format(time.RFC3339)}
	if message != "" {
		next["message"] = message
	}
	for i, c := range conds {
		m, _ := c.(map[string]any)
		if m["type"] != typ {
			continue
		}
		msg, _ := m["message"].(string)
		if m["status"] == status && msg == message {
			return conds
		}
		out := append([]any(nil), conds...)
		out[i] = next
		return out
	}
	return append(append([]any(nil), conds...), next)
}

func condMessage(status map[string]any, typ string) string {
	conds, _, _ := unstructured.NestedSlice(status, "conditions")
	for _, c := range conds {
		m, _ := c.(map[string]any)
		if m["type"] == typ {
			msg, _ := m["message"].(string)
			return msg
		}
	}
	return ""
}

func parenthesized(s string) string {
	if s == "" {
		return ""
	}
	return " (" + s + ")"
}
