package conditions

import (
	"fmt"

	"github.com/crossplane/crossplane-runtime/v2/pkg/resource"
	xpv2 "github.com/crossplane/crossplane/apis/v2/core/v2"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/eslink/eslink/provider/internal/clients/elasticsearch"
)

// TypeInsecureConnection is the condition a managed resource carries while
// its provider config sends credentials over plain http, which the config
// allowed explicitly (allowInsecureHTTP).
const TypeInsecureConnection xpv2.ConditionType = "InsecureConnection"

// Reasons of TypeInsecureConnection.
const (
	ReasonPlaintextHTTP xpv2.ConditionReason = "PlaintextHTTP"
	ReasonTLS           xpv2.ConditionReason = "TLS"
)

// SetTransportCondition says on mg whether c sends credentials in clear. A
// resource that never did carries no such condition; one that did is told
// when its config moved back to TLS.
func SetTransportCondition(mg resource.Conditioned, c *elasticsearch.Client) {
	if c.PlaintextHTTP() {
		mg.SetConditions(xpv2.Condition{
			Type: TypeInsecureConnection, Status: corev1.ConditionTrue, Reason: ReasonPlaintextHTTP, LastTransitionTime: metav1.Now(),
			Message: fmt.Sprintf("credentials for Elasticsearch at %s travel over plain http, in clear, because the provider config sets allowInsecureHTTP: use an https:// URL", c.URL()),
		})
		return
	}
	if mg.GetCondition(TypeInsecureConnection).Status == corev1.ConditionTrue {
		mg.SetConditions(xpv2.Condition{
			Type: TypeInsecureConnection, Status: corev1.ConditionFalse, Reason: ReasonTLS, LastTransitionTime: metav1.Now(),
			Message: fmt.Sprintf("Elasticsearch at %s is reached over https", c.URL()),
		})
	}
}
