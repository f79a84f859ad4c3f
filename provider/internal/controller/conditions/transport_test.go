package conditions

import (
	"strings"
	"testing"

	xpv2 "github.com/crossplane/crossplane/apis/v2/core/v2"
	corev1 "k8s.io/api/core/v1"

	"github.com/eslink/eslink/provider/internal/clients/elasticsearch"
	"github.com/eslink/eslink/test/fakeelasticsearch/esfake"
)

func TestTransportConditionStates(t *testing.T) {
	users := []esfake.User{{Name: "admin", Password: "admin-pass-1"}}
	plain := esfake.NewServer(t, esfake.Options{Users: users})
	tls := esfake.NewServer(t, esfake.Options{TLS: true, Users: users})
	secure, err := elasticsearch.New(elasticsearch.Config{URL: tls.URL, Username: "admin", Password: "admin-pass-1", CACert: tls.CACertPEM})
	if err != nil {
		t.Fatal(err)
	}
	insecure, err := elasticsearch.New(elasticsearch.Config{URL: plain.URL, Username: "admin", Password: "admin-pass-1", AllowInsecureHTTP: true})
	if err != nil {
		t.Fatal(err)
	}
	mg := &xpv2.ConditionedStatus{}

	SetTransportCondition(mg, secure)
	if c := mg.GetCondition(TypeInsecureConnection); c.Status != corev1.ConditionUnknown {
		t.Errorf("a resource that always used TLS got condition %+v, want none", c)
	}
	SetTransportCondition(mg, insecure)
	if c := mg.GetCondition(TypeInsecureConnection); c.Status != corev1.ConditionTrue || !strings.Contains(c.Message, "in clear") {
		t.Errorf("plain http: condition %+v, want True saying credentials travel in clear", c)
	}
	SetTransportCondition(mg, secure)
	if c := mg.GetCondition(TypeInsecureConnection); c.Status != corev1.ConditionFalse {
		t.Errorf("back on TLS: condition %+v, want False", c)
	}
}
