package remoteclusterserver

import (
	"testing"

	"github.com/crossplane/crossplane-runtime/v2/pkg/controller"
	ctrl "sigs.k8s.io/controller-runtime"

	"github.com/eslink/eslink/provider/internal/controller/eck/ecktest"
)

func TestMain(m *testing.M) { ecktest.Main(m) }

const (
	pollInterval  = ecktest.PollInterval
	settleTimeout = ecktest.SettleTimeout
)

var (
	waitFor     = ecktest.WaitFor
	condition   = ecktest.Condition
	containsAny = ecktest.ContainsAny
)

// harness is the shared harness running this package's Setup, so that the
// tests can add helpers for this kind.
type harness struct {
	*ecktest.Harness
}

func start(t *testing.T, workers int, others ...func(ctrl.Manager, controller.Options) error) *harness {
	t.Helper()
	return &harness{ecktest.Start(t, workers, append([]func(ctrl.Manager, controller.Options) error{Setup}, others...)...)}
}
