package controllertest

import (
	"context"
	"fmt"
	"testing"

	admissionv1 "k8s.io/api/admissionregistration/v1"
	kerrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/eslink/eslink/test/controlplane"
)

// Freeze makes the API server refuse every change to the spec and metadata
// of Elasticsearch ns/name, as an admission policy of the platform's might,
// until the returned function is called; status writes still go through.
// It returns once the refusal is in force.
func (h *Harness) Freeze(t *testing.T, ns, name string) (thaw func()) {
	t.Helper()
	ctx := context.Background()
	id := fmt.Sprintf("eslink-test-freeze-%s-%s", ns, name)
	policy := &admissionv1.ValidatingAdmissionPolicy{
		ObjectMeta: metav1.ObjectMeta{Name: id},
		Spec: admissionv1.ValidatingAdmissionPolicySpec{
			FailurePolicy: ptr.To(admissionv1.Fail),
			MatchConstraints: &admissionv1.MatchResources{ResourceRules: []admissionv1.NamedRuleWithOperations{{
				RuleWithOperations: admissionv1.RuleWithOperations{
					Operations: []admissionv1.OperationType{admissionv1.Update},
					Rule: admissionv1.Rule{
						APIGroups: []string{"elasticsearch.k8s.elastic.co"}, APIVersions: []string{"*"}, Resources: []string{"elasticsearches"},
					},
				},
			}}},
			MatchConditions: []admissionv1.MatchCondition{{
				Name:       "this-cluster",
				Expression: fmt.Sprintf("object.metadata.namespace == %q && object.metadata.name == %q", ns, name),
			}},
			Validations: []admissionv1.Validation{{Expression: "false", Message: "frozen by the test"}},
		},
	}
	binding := &admissionv1.ValidatingAdmissionPolicyBinding{
		ObjectMeta: metav1.ObjectMeta{Name: id},
		Spec: admissionv1.ValidatingAdmissionPolicyBindingSpec{
			PolicyName: id, ValidationActions: []admissionv1.ValidationAction{admissionv1.Deny},
		},
	}
	for _, o := range []client.Object{policy, binding} {
		if err := h.Kube.Create(ctx, o); err != nil {
			t.Fatalf("cannot freeze Elasticsearch %s/%s: %v", ns, name, err)
		}
	}
	thaw = func() {
		t.Helper()
		for _, o := range []client.Object{binding, policy} {
			if err := client.IgnoreNotFound(h.Kube.Delete(ctx, o)); err != nil {
				t.Errorf("cannot thaw Elasticsearch %s/%s: %v", ns, name, err)
			}
		}
	}
	t.Cleanup(thaw)
	// The API server compiles a new policy before it enforces it.
	probe := 0
	WaitFor(t, fmt.Sprintf("Elasticsearch %s/%s frozen", ns, name), func() (bool, string) {
		probe++
		es := h.GetES(t, ns, name)
		err := controlplane.Update(ctx, h.Kube, es, func() error {
			a := es.GetAnnotations()
			if a == nil {
				a = map[string]string{}
			}
			a["test.eslink.io/freeze-probe"] = fmt.Sprint(probe)
			es.SetAnnotations(a)
			return nil
		})
		return kerrors.IsInvalid(err) || kerrors.IsForbidden(err), fmt.Sprintf("probe update: %v", err)
	})
	return thaw
}
