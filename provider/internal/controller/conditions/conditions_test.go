package conditions

import (
	"errors"
	"fmt"
	"testing"

	xpv2 "github.com/crossplane/crossplane/apis/v2/core/v2"
	"k8s.io/apimachinery/pkg/types"

	"github.com/eslink/eslink/internal/grants"
	"github.com/eslink/eslink/provider/internal/clients/eck"
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
