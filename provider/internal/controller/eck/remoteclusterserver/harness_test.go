package remoteclusterserver

import (
	"testing"

	"github.com/crossplane/crossplane-runtime/v2/pkg/controller"
	ctrl "sigs.k8s.io/controller-runtime"

	"github.com/eslink/eslink/provider/internal/controller/controllertest"
)

func TestMain(m *testing.M) { controllertest.Main(m) }

const (
	pollInterval  = controllertest.PollInterval
	settleTimeout = controllertest.SettleTimeout
)

var (
	waitFor     = controllertest.WaitFor
	condition   = controllertest.Condition
	containsAny = controllertest.ContainsAny
)

// harness is the shared harness running this package's Setup, so that the
// tests can add helpers for this kind.
type harness struct {
	*controllertest.Harness
}

func start(t *testing.T, workers int, others ...func(ctrl.Manager, controller.Options) error) *harness {
	t.Helper()
	return &harness{controllertest.Start(t, workers, append([]func(ctrl.Manager, controller.Options) error{Setup}, others...)...)}
}
