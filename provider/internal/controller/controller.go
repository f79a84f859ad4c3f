// Package controller registers every controller of the eslink provider.
package controller

import (
	"errors"
	"fmt"
	"time"

	apimeta "k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime/schema"
	ctrl "sigs.k8s.io/controller-runtime"

	"github.com/crossplane/crossplane-runtime/v2/pkg/controller"

	eckv1alpha1 "github.com/eslink/eslink/apis/eck/v1alpha1"
	esv1alpha1 "github.com/eslink/eslink/apis/elasticsearch/v1alpha1"
	"github.com/eslink/eslink/internal/eckschema"
	"github.com/eslink/eslink/provider/internal/controller/config"
	"github.com/eslink/eslink/provider/internal/controller/eck/remoteclustercredentials"
	"github.com/eslink/eslink/provider/internal/controller/eck/remoteclusterentry"
	"github.com/eslink/eslink/provider/internal/controller/eck/remoteclusterserver"
	"github.com/eslink/eslink/provider/internal/controller/eck/remoteclustersigning"
	"github.com/eslink/eslink/provider/internal/controller/eck/remoteclustertrust"
	"github.com/eslink/eslink/provider/internal/controller/elasticsearch/crossclusterapikey"
	"github.com/eslink/eslink/provider/internal/controller/elasticsearch/remoteclusterconnectivity"
	"github.com/eslink/eslink/provider/internal/controller/elasticsearch/remoteclustersettings"
)

// Setup adds the provider's controllers to mgr. keys are the provider's
// rules for the cross-cluster API keys it owns. RemoteClusterServer and
// RemoteClusterEntry poll every eckPoll instead of o.PollInterval:
// everything they depend on is an API object they watch, so their poll is
// only a backstop. The flow 3 kinds wait on ECK's rollouts and the local
// cluster's own view, which no watch brings, and keep o.PollInterval.
//
// With o.Gate set (the provider declares Crossplane's safe-start
// capability), a managed kind's controller starts once its CRD and ECK's
// Elasticsearch CRD are established: Crossplane creates a managed kind's
// CRD only when an activation policy activates it, which may be long after
// the provider started, and the controllers index and watch both kinds. A
// gated controller that cannot be set up then calls fail: the manager runs
// already, and a kind left without its controller would go unnoticed.
func Setup(mgr ctrl.Manager, o controller.Options, eckPoll time.Duration, keys crossclusterapikey.Options, fail func(error)) error {
	if err := config.Setup(mgr, o); err != nil {
		return err
	}
	eck := o
	eck.PollInterval = eckPoll
	for _, s := range []struct {
		setup func(ctrl.Manager, controller.Options) error
		o     controller.Options
		kind  schema.GroupVersionKind
	}{
		{func(mgr ctrl.Manager, o controller.Options) error { return crossclusterapikey.Setup(mgr, o, keys) }, o, esv1alpha1.CrossClusterAPIKeyGroupVersionKind},
		{remoteclusterserver.Setup, eck, eckv1alpha1.RemoteClusterServerGroupVersionKind},
		{remoteclusterentry.Setup, eck, eckv1alpha1.RemoteClusterEntryGroupVersionKind},
		{remoteclustercredentials.Setup, o, eckv1alpha1.RemoteClusterCredentialsGroupVersionKind},
		{remoteclustertrust.Setup, o, eckv1alpha1.RemoteClusterTrustGroupVersionKind},
		{remoteclustersigning.Setup, o, eckv1alpha1.RemoteClusterSigningGroupVersionKind},
		{remoteclustersettings.Setup, o, esv1alpha1.RemoteClusterSettingsGroupVersionKind},
		{remoteclusterconnectivity.Setup, o, esv1alpha1.RemoteClusterConnectivityGroupVersionKind},
	} {
		if o.Gate == nil {
			if err := s.setup(mgr, s.o); err != nil {
				return err
			}
			continue
		}
		s.o.Gate.Register(func() {
			if err := setupEstablished(mgr, s.o, s.setup); err != nil {
				fail(fmt.Errorf("cannot set up the controller of %s: %w", s.kind.Kind, err))
			}
		}, s.kind, eckschema.ElasticsearchGVK)
	}
	return nil
}

// setupEstablished runs setup, again while the API server's discovery does
// not serve a kind yet: it lags a moment behind the CRD's Established
// condition, which opened the gate.
func setupEstablished(mgr ctrl.Manager, o controller.Options, setup func(ctrl.Manager, controller.Options) error) error {
	var err error
	for range 30 {
		if err = setup(mgr, o); err == nil || !isNoMatch(err) {
			return err
		}
		time.Sleep(time.Second)
	}
	return err
}

func isNoMatch(err error) bool {
	var kind *apimeta.NoKindMatchError
	var resource *apimeta.NoResourceMatchError
	return errors.As(err, &kind) || errors.As(err, &resource)
}
