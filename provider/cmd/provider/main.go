// Command provider runs the eslink Crossplane provider: the controllers of
// CrossClusterAPIKey, the ECK remote cluster kinds and the provider configs.
// It runs in a cluster, or outside one with --kubeconfig (or KUBECONFIG).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"os"
	"time"

	corev1 "k8s.io/api/core/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/config"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	"github.com/crossplane/crossplane-runtime/v2/pkg/controller"
	"github.com/crossplane/crossplane-runtime/v2/pkg/feature"
	"github.com/crossplane/crossplane-runtime/v2/pkg/gate"
	"github.com/crossplane/crossplane-runtime/v2/pkg/logging"
	"github.com/crossplane/crossplane-runtime/v2/pkg/ratelimiter"
	"github.com/crossplane/crossplane-runtime/v2/pkg/reconciler/customresourcesgate"

	"github.com/eslink/eslink/apis"
	"github.com/eslink/eslink/internal/eckschema"
	"github.com/eslink/eslink/internal/keylifetime"
	"github.com/eslink/eslink/provider/internal/clients/kube"
	providercontroller "github.com/eslink/eslink/provider/internal/controller"
	"github.com/eslink/eslink/provider/internal/controller/elasticsearch/crossclusterapikey"
)

type options struct {
	debug                   bool
	pollInterval            time.Duration
	eckPollInterval         time.Duration
	syncInterval            time.Duration
	maxReconcileRate        int
	leaderElection          bool
	leaderElectionNamespace string
	metricsAddress          string
	healthAddress           string
	minKeyLifetime          time.Duration
}

func parseFlags(fs *flag.FlagSet, args []string) (*options, error) {
	o := &options{}
	fs.BoolVar(&o.debug, "debug", false, "Log at debug level.")
	fs.DurationVar(&o.pollInterval, "poll", time.Minute, "How often each managed resource is checked for drift from the external system.")
	fs.DurationVar(&o.eckPollInterval, "eck-poll", 10*time.Minute, "How often RemoteClusterServers and RemoteClusterEntries are checked although nothing changed: they watch the ECK Elasticsearch objects they depend on, so this is a backstop.")
	fs.DurationVar(&o.syncInterval, "sync", time.Hour, "How often all watched resources are re-listed from the API server.")
	fs.IntVar(&o.maxReconcileRate, "max-reconcile-rate", 100, "Maximum number of reconciles per second across all controllers; also the concurrent reconciles of each controller, and a fifth of the API requests per second the provider allows itself.")
	fs.BoolVar(&o.leaderElection, "leader-election", false, "Use leader election, so that only one replica reconciles.")
	fs.StringVar(&o.leaderElectionNamespace, "leader-election-namespace", "", "Namespace of the leader election lease; defaults to the pod's namespace in a cluster.")
	fs.StringVar(&o.metricsAddress, "metrics-bind-address", ":8080", "Address of the Prometheus metrics endpoint; 0 disables it.")
	fs.StringVar(&o.healthAddress, "health-probe-bind-address", ":8081", "Address of the health and readiness probes; 0 disables them.")
	fs.DurationVar(&o.minKeyLifetime, "min-key-lifetime", keylifetime.DefaultMinKeyLifetime,
		"How long a cross-cluster API key the provider owns must serve before it is replaced: a key's expiration minus its rotateBefore may not be shorter. Keep it equal to the function input's minimumKeyLifetime.")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	switch {
	case o.pollInterval <= 0:
		return nil, fmt.Errorf("--poll must be positive, got %s", o.pollInterval)
	case o.eckPollInterval <= 0:
		return nil, fmt.Errorf("--eck-poll must be positive, got %s", o.eckPollInterval)
	case o.syncInterval <= 0:
		return nil, fmt.Errorf("--sync must be positive, got %s", o.syncInterval)
	case o.maxReconcileRate < 1:
		return nil, fmt.Errorf("--max-reconcile-rate must be at least 1, got %d", o.maxReconcileRate)
	case o.minKeyLifetime <= 0:
		return nil, fmt.Errorf("--min-key-lifetime must be positive, got %s", o.minKeyLifetime)
	}
	return o, nil
}

// cacheOptions scope the informers to what the provider reads. The only
// Secrets it watches are ECK's keystore Secrets, by label and metadata only
// (the crossclusterapikey controller's watch): their data holds encoded keys.
// Managed fields are dropped from cached objects, which never read them.
func cacheOptions(sync time.Duration) cache.Options {
	return cache.Options{
		SyncPeriod:       &sync,
		DefaultTransform: cache.TransformStripManagedFields(),
		ByObject: map[client.Object]cache.ByObject{
			&corev1.Secret{}: {Label: labels.SelectorFromSet(labels.Set{eckschema.LabelECKType: eckschema.ECKTypeRemoteAPIKeys})},
		},
	}
}

// managerOptions are the controller manager's options. owned is the cache
// of the provider's own Secrets (kube.NewOwnedSecrets).
func managerOptions(o *options, scheme *runtime.Scheme, owned client.Reader) ctrl.Options {
	return ctrl.Options{
		Scheme:                  scheme,
		LeaderElection:          o.leaderElection,
		LeaderElectionID:        "crossplane-leader-election-provider-eslink",
		LeaderElectionNamespace: o.leaderElectionNamespace,
		Metrics:                 metricsserver.Options{BindAddress: o.metricsAddress},
		HealthProbeBindAddress:  o.healthAddress,
		Cache:                   cacheOptions(o.syncInterval),
		Client:                  client.Options{Cache: kube.CacheOptions()},
		NewClient:               kube.NewClientWithOwnedSecrets(owned),
	}
}

func main() {
	o, err := parseFlags(flag.CommandLine, os.Args[1:])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	if err := run(o); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

func run(o *options) error {
	// Development mode logs at debug level, where the managed reconciler
	// explains each step.
	zl := zap.New(zap.UseDevMode(o.debug))
	ctrl.SetLogger(zl)
	log := logging.NewLogrLogger(zl.WithName("provider-eslink"))

	// GetConfig honours --kubeconfig, KUBECONFIG, in-cluster config and
	// ~/.kube/config, in that order.
	cfg, err := config.GetConfig()
	if err != nil {
		return fmt.Errorf("cannot get API server config: %w", err)
	}
	scheme := runtime.NewScheme()
	if err := clientgoscheme.AddToScheme(scheme); err != nil {
		return fmt.Errorf("cannot add Kubernetes types to scheme: %w", err)
	}
	if err := apiextensionsv1.AddToScheme(scheme); err != nil {
		return fmt.Errorf("cannot add CRD types to scheme: %w", err)
	}
	if err := apis.AddToScheme(scheme); err != nil {
		return fmt.Errorf("cannot add provider types to scheme: %w", err)
	}

	// Crossplane providers allow five API requests per reconcile per
	// second; client-go's default of 20 per second would hold thousands of
	// resources back.
	cfg = ratelimiter.LimitRESTConfig(cfg, o.maxReconcileRate)
	owned, err := kube.NewOwnedSecrets(cfg, scheme)
	if err != nil {
		return fmt.Errorf("cannot create the cache of the provider's Secrets: %w", err)
	}
	mgr, err := ctrl.NewManager(cfg, managerOptions(o, scheme, owned))
	if err != nil {
		return fmt.Errorf("cannot create controller manager: %w", err)
	}
	if err := mgr.Add(owned); err != nil {
		return fmt.Errorf("cannot run the cache of the provider's Secrets: %w", err)
	}
	if o.healthAddress != "0" {
		if err := mgr.AddHealthzCheck("ping", func(_ *http.Request) error { return nil }); err != nil {
			return fmt.Errorf("cannot add health check: %w", err)
		}
		if err := mgr.AddReadyzCheck("ping", func(_ *http.Request) error { return nil }); err != nil {
			return fmt.Errorf("cannot add readiness check: %w", err)
		}
	}

	co := controller.Options{
		Logger:                  log,
		PollInterval:            o.pollInterval,
		MaxConcurrentReconciles: o.maxReconcileRate,
		GlobalRateLimiter:       ratelimiter.NewGlobal(o.maxReconcileRate),
		Features:                &feature.Flags{},
	}
	co.Features.Enable(feature.EnableBetaManagementPolicies)
	// Safe start, as the package declares: Crossplane creates a managed
	// kind's CRD only once an activation policy activates it, so each
	// controller starts when the CRDs it needs are established.
	co.Gate = new(gate.Gate[schema.GroupVersionKind])
	if err := customresourcesgate.Setup(mgr, co); err != nil {
		return fmt.Errorf("cannot set up the CRD gate: %w", err)
	}
	ctx, stop := context.WithCancelCause(ctrl.SetupSignalHandler())
	defer stop(nil)
	if err := providercontroller.Setup(mgr, co, o.eckPollInterval, crossclusterapikey.Options{MinKeyLifetime: o.minKeyLifetime, OwnedSecrets: owned}, stop); err != nil {
		return fmt.Errorf("cannot set up controllers: %w", err)
	}
	log.Info("Starting provider", "poll", o.pollInterval, "eck-poll", o.eckPollInterval, "max-reconcile-rate", o.maxReconcileRate, "leader-election", o.leaderElection, "min-key-lifetime", o.minKeyLifetime)
	if err := mgr.Start(ctx); err != nil {
		return fmt.Errorf("cannot run controller manager: %w", err)
	}
	if err := context.Cause(ctx); !errors.Is(err, context.Canceled) {
		return err
	}
	return nil
}
