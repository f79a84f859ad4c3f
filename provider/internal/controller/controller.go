// Package controller registers every controller of the eslink provider.
package controller

import (
	ctrl "sigs.k8s.io/controller-runtime"

	"github.com/crossplane/crossplane-runtime/v2/pkg/controller"

	"github.com/eslink/eslink/provider/internal/controller/config"
	"github.com/eslink/eslink/provider/internal/controller/crossclusterapikey"
	"github.com/eslink/eslink/provider/internal/controller/eck/remoteclusterentry"
	"github.com/eslink/eslink/provider/internal/controller/eck/remoteclusterserver"
)

// Setup adds the provider's controllers to mgr.
func Setup(mgr ctrl.Manager, o controller.Options) error {
	for _, setup := range []func(ctrl.Manager, controller.Options) error{
		config.Setup,
		crossclusterapikey.Setup,
		remoteclusterserver.Setup,
		remoteclusterentry.Setup,
	} {
		if err := setup(mgr, o); err != nil {
			return err
		}
	}
	return nil
}
