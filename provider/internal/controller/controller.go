// Package controller registers every controller of the eslink provider.
package controller

import (
	"time"

	ctrl "sigs.k8s.io/controller-runtime"

	"github.com/crossplane/crossplane-runtime/v2/pkg/controller"

	"github.com/eslink/eslink/provider/internal/controller/config"
	"github.com/eslink/eslink/provider/internal/controller/crossclusterapikey"
	"github.com/eslink/eslink/provider/internal/controller/eck/remoteclustercredentials"
	"github.com/eslink/eslink/provider/internal/controller/eck/remoteclusterentry"
	"github.com/eslink/eslink/provider/internal/controller/eck/remoteclusterserver"
	"github.com/eslink/eslink/provider/internal/controller/eck/remoteclustersigning"
	"github.com/eslink/eslink/provider/internal/controller/eck/remoteclustertrust"
	"github.com/eslink/eslink/provider/internal/controller/remoteclusterconnectivity"
	"github.com/eslink/eslink/provider/internal/controller/remoteclustersettings"
)

// Setup adds the provider's controllers to mgr. keys are the provider's
// rules for the cross-cluster API keys it owns. RemoteClusterServer and
// RemoteClusterEntry poll every eckPoll instead of o.PollInterval:
// everything they depend on is an API object they watch, so their poll is
// only a backstop. The flow 3 kinds wait on ECK's rollouts and the local
// cluster's own view, which no watch brings, and keep o.PollInterval.
func Setup(mgr ctrl.Manager, o controller.Options, eckPoll time.Duration, keys crossclusterapikey.Options) error {
	eck := o
	eck.PollInterval = eckPoll
	for _, s := range []struct {
		setup func(ctrl.Manager, controller.Options) error
		o     controller.Options
	}{
		{config.Setup, o},
		{func(mgr ctrl.Manager, o controller.Options) error { return crossclusterapikey.Setup(mgr, o, keys) }, o},
		{remoteclusterserver.Setup, eck},
		{remoteclusterentry.Setup, eck},
		{remoteclustercredentials.Setup, o},
		{remoteclustertrust.Setup, o},
		{remoteclustersigning.Setup, o},
		{remoteclustersettings.Setup, o},
		{remoteclusterconnectivity.Setup, o},
	} {
		if err := s.setup(mgr, s.o); err != nil {
			return err
		}
	}
	return nil
}
