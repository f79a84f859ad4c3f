// Package controller registers every controller of the eslink provider.
package controller

import (
	"time"

	ctrl "sigs.k8s.io/controller-runtime"

	"github.com/crossplane/crossplane-runtime/v2/pkg/controller"

	"github.com/eslink/eslink/provider/internal/controller/config"
	"github.com/eslink/eslink/provider/internal/controller/crossclusterapikey"
	"github.com/eslink/eslink/provider/internal/controller/eck/remoteclusterentry"
	"github.com/eslink/eslink/provider/internal/controller/eck/remoteclusterserver"
)

// Setup adds the provider's controllers to mgr. The ECK kinds poll every
// eckPoll instead of o.PollInterval: everything they depend on is an API
// object they watch, so their poll is only a backstop.
func Setup(mgr ctrl.Manager, o controller.Options, eckPoll time.Duration) error {
	eck := o
	eck.PollInterval = eckPoll
	for _, s := range []struct {
		setup func(ctrl.Manager, controller.Options) error
		o     controller.Options
	}{
		{config.Setup, o},
		{crossclusterapikey.Setup, o},
		{remoteclusterserver.Setup, eck},
		{remoteclusterentry.Setup, eck},
	} {
		if err := s.setup(mgr, s.o); err != nil {
			return err
		}
	}
	return nil
}
