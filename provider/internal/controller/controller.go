// Package controller registers every controller of the eslink provider.
package controller

import (
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
// rules for the cross-cluster API keys it owns.
func Setup(mgr ctrl.Manager, o controller.Options, keys crossclusterapikey.Options) error {
	for _, setup := range []func(ctrl.Manager, controller.Options) error{
		config.Setup,
		func(mgr ctrl.Manager, o controller.Options) error { return crossclusterapikey.Setup(mgr, o, keys) },
		remoteclusterserver.Setup,
		remoteclusterentry.Setup,
		remoteclustercredentials.Setup,
		remoteclustertrust.Setup,
		remoteclustersigning.Setup,
		remoteclustersettings.Setup,
		remoteclusterconnectivity.Setup,
	} {
		if err := setup(mgr, o); err != nil {
			return err
		}
	}
	return nil
}
