package conditions

import (
	"errors"
	"fmt"
	"testing"

	xpv2 "github.com/crossplane/crossplane/apis/v2/core/v2"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/eslink/eslink/internal/grants"
	"github.com/eslink/eslink/provider/internal/clients/connection"
	"github.com/eslink/eslink/provider/internal/clients/eck"
	"github.com/eslink/eslink/provider/internal/clients/elasticsearch"
)

func TestBlockedCondition(t *testing.T) {
	cases := map[string]struct {
		err        error
		wantReason xpv2.ConditionReason
		wantOK     bool
	}{
		"NotFound":  {err: &eck.NotFoundError{Name: types.NamespacedName{Namespace: "a", Name: "b"}}, wantReason: ReasonTargetNotFound, wantOK: true},
		"Denied":    {err: &grants.DeniedError{Reason: "no"}, wantReason: ReasonNotAuthorized, wantOK: true},
		"Version":   {err: &eck.VersionError{}, wantReason: ReasonVersionUnsupported, wantOK: true},
		"Conflict":  {err: &eck.ConflictError{}, wantReason: ReasonEntryConflict, wantOK: true},
		"Invalid":   {err: &eck.InvalidSpecError{Msg: "x"}, wantReason: ReasonInvalidSpec, wantOK: true},
		"Wrapped":   {err: fmt.Errorf("cannot write: %w", &grants.DeniedError{Reason: "no"}), wantReason: ReasonNotAuthorized, wantOK: true},
		"Transient": {err: errors.New("connection refused")},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			c, ok := BlockedCondition(tc.err)
			if ok != tc.wantOK {
				t.Fatalf("BlockedCondition ok = %v, want %v", ok, tc.wantOK)
			}
			if !ok {
				return
			}
			if c.Type != xpv2.TypeReady || c.Status != "False" || c.Reason != tc.wantReason || c.Message != tc.err.Error() {
				t.Errorf("BlockedCondition = %+v, want Ready=False %s with the error message", c, tc.wantReason)
			}
		})
	}
}

func TestSetBlocked(t *testing.T) {
	denied := &connection.Denied{DeniedError: &grants.DeniedError{Field: "spec.providerConfigRef", Reason: "no"}}
	cases := map[string]struct {
		err        error
		fallback   xpv2.ConditionReason
		wantReason xpv2.ConditionReason
	}{
		"RefusalBeatsFallback":     {err: &eck.ConflictError{}, fallback: ReasonElasticsearchError, wantReason: ReasonEntryConflict},
		"ProviderConfigDenied":     {err: fmt.Errorf("cannot connect: %w", denied), fallback: ReasonProviderConfigError, wantReason: ReasonNotAuthorized},
		"ElasticsearchReason":      {err: &elasticsearch.Error{Reason: elasticsearch.ReasonLicense, Message: "license"}, fallback: ReasonProviderConfigError, wantReason: "LicenseNonCompliant"},
		"OtherGetsFallback":        {err: errors.New("connection refused"), fallback: xpv2.ReasonReconcileError, wantReason: xpv2.ReasonReconcileError},
		"OtherWithoutFallbackKeep": {err: errors.New("connection refused")},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			mg := &xpv2.ConditionedStatus{}
			mg.SetConditions(xpv2.Available())
			if err := Blocked(mg, tc.err, tc.fallback); err != tc.err { //nolint:errorlint // the very error must come back
				t.Errorf("Blocked returned %v, want the error it was given", err)
			}
			c := mg.GetCondition(xpv2.TypeReady)
			if tc.wantReason == "" {
				if c.Status != corev1.ConditionTrue {
					t.Errorf("an error that is no refusal, without fallback, changed Ready to %+v", c)
				}
				return
			}
			if c.Status != corev1.ConditionFalse || c.Reason != tc.wantReason || c.Message != tc.err.Error() {
				t.Errorf("Ready = %+v, want False %s with the error message", c, tc.wantReason)
			}
		})
	}
}

func TestSetNotReadyMirrors(t *testing.T) {
	mg := &xpv2.ConditionedStatus{}
	SetNotReady(mg, ReasonKeyNotOwned, errors.New("not ours"), xpv2.TypeHealthy)
	for _, ct := range []xpv2.ConditionType{xpv2.TypeReady, xpv2.TypeHealthy} {
		if c := mg.GetCondition(ct); c.Status != corev1.ConditionFalse || c.Reason != ReasonKeyNotOwned || c.Message != "not ours" {
			t.Errorf("%s = %+v, want False %s with the error message", ct, c, ReasonKeyNotOwned)
		}
	}
}
