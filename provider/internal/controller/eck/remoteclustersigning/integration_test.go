package remoteclustersigning

import (
	"context"
	"fmt"
	"testing"

	xpv2 "github.com/crossplane/crossplane/apis/v2/core/v2"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"

	commonv1alpha1 "github.com/eslink/eslink/apis/common/v1alpha1"
	"github.com/eslink/eslink/apis/eck/v1alpha1"
	"github.com/eslink/eslink/provider/internal/clients/eck"
	"github.com/eslink/eslink/provider/internal/controller/conditions"
	"github.com/eslink/eslink/provider/internal/controller/controllertest"
)

func TestMain(m *testing.M) { controllertest.Main(m) }

func signing(ns, local string) *v1alpha1.RemoteClusterSigning {
	return &v1alpha1.RemoteClusterSigning{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "logs-signing"},
		Spec: v1alpha1.RemoteClusterSigningSpec{ForProvider: v1alpha1.RemoteClusterSigningParameters{
			ElasticsearchRef: commonv1alpha1.ElasticsearchReference{Name: local}, Alias: "logs",
		}},
	}
}

func ready(t *testing.T, h *controllertest.Harness, mg *v1alpha1.RemoteClusterSigning) (xpv2.Condition, v1alpha1.RemoteClusterSigningObservation) {
	t.Helper()
	out := &v1alpha1.RemoteClusterSigning{}
	if err := h.Kube.Get(context.Background(), types.NamespacedName{Namespace: mg.Namespace, Name: mg.Name}, out); err != nil {
		t.Fatal(err)
	}
	return controllertest.Condition(out.Status.Conditions, xpv2.TypeReady), out.Status.AtProvider
}

func TestSigning(t *testing.T) {
	h := controllertest.Start(t, 2, Setup)
	cases := map[string]struct {
		version string
		config  map[string]any
		reason  xpv2.ConditionReason
	}{
		"Configured":  {version: "9.3.2"},
		"Below9.3":    {version: "9.2.4", reason: conditions.ReasonVersionUnsupported},
		"HandWritten": {version: "9.3.2", config: map[string]any{"cluster.remote.logs.signing.key": "mine.key"}, reason: conditions.ReasonEntryConflict},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			ns := h.Namespace(t, "signing")
			set := map[string]any{"name": "default", "count": int64(1)}
			if tc.config != nil {
				set["config"] = tc.config
			}
			h.Elasticsearch(t, ns, "c1", tc.version, nil, map[string]any{"nodeSets": []any{set}})
			mg := signing(ns, "c1")
			if err := h.Kube.Create(context.Background(), mg); err != nil {
				t.Fatal(err)
			}
			if tc.reason != "" {
				controllertest.WaitFor(t, "the refusal", func() (bool, string) {
					c, _ := ready(t, h, mg)
					return c.Reason == tc.reason, fmt.Sprintf("%s/%s: %s", c.Status, c.Reason, c.Message)
				})
				if holds, _ := eck.ConfigHolds(h.GetES(t, ns, "c1"), Settings("logs")); holds {
					t.Error("the signing settings were written despite the refusal")
				}
				return
			}
			controllertest.WaitFor(t, "the settings in the nodeSets, waiting for the rollout", func() (bool, string) {
				c, at := ready(t, h, mg)
				return at.Configured && c.Reason == conditions.ReasonRollingOut, fmt.Sprintf("%+v, %s", at, c.Message)
			})
			h.Reconciled(t, ns, "c1")
			controllertest.WaitFor(t, "Ready", func() (bool, string) {
				c, at := ready(t, h, mg)
				return c.Status == corev1.ConditionTrue && at.SubjectPattern != "", fmt.Sprintf("%+v, %s", at, c.Message)
			})
			if err := h.Kube.Delete(context.Background(), mg); err != nil {
				t.Fatal(err)
			}
			controllertest.WaitFor(t, "the settings removed", func() (bool, string) {
				es := h.GetES(t, ns, "c1")
				sets, _, _ := unstructured.NestedSlice(es.Object, "spec", "nodeSets")
				return fmt.Sprint(sets) == "[map[count:1 name:default]]" && len(es.GetAnnotations()) == 0, fmt.Sprint(sets, es.GetAnnotations())
			})
		})
	}
}
