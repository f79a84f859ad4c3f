// Package crossclusterapikey reconciles CrossClusterAPIKey managed resources:
// cross-cluster API keys on a remote Elasticsearch cluster, either observed
// (ECK owns the key) or owned for their whole life by the provider.
//
// An owned key is identified on Elasticsearch by the resource's uid in its
// metadata (eslink.io/uid), never by name or by a recorded id alone, and the
// connection Secret decides which of the resource's keys is current: the
// one whose id and encoded key it holds. Every other key of the resource is
// invalidated, except a replaced key still awaiting handover. That makes
// recovery from a crash at any step a matter of reading Elasticsearch and
// the Secret again (see owned.go for the steps).
package crossclusterapikey

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	kerrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/crossplane/crossplane-runtime/v2/pkg/controller"
	xperrors "github.com/crossplane/crossplane-runtime/v2/pkg/errors"
	"github.com/crossplane/crossplane-runtime/v2/pkg/event"
	"github.com/crossplane/crossplane-runtime/v2/pkg/logging"
	"github.com/crossplane/crossplane-runtime/v2/pkg/meta"
	"github.com/crossplane/crossplane-runtime/v2/pkg/ratelimiter"
	"github.com/crossplane/crossplane-runtime/v2/pkg/reconciler/managed"
	"github.com/crossplane/crossplane-runtime/v2/pkg/resource"
	xpv2 "github.com/crossplane/crossplane/apis/v2/core/v2"

	esv1alpha1 "github.com/eslink/eslink/apis/elasticsearch/v1alpha1"
	"github.com/eslink/eslink/internal/linkrules"
	"github.com/eslink/eslink/provider/internal/clients/connection"
	"github.com/eslink/eslink/provider/internal/clients/elasticsearch"
	"github.com/eslink/eslink/provider/internal/metrics"
)

// Condition reasons a person can act on.
const (
	ReasonNotAuthorized      xpv2.ConditionReason = "NotAuthorized"
	ReasonClusterChanged     xpv2.ConditionReason = "ClusterChanged"
	ReasonConnectionError    xpv2.ConditionReason = "ProviderConfigError"
	ReasonKeyNotFound        xpv2.ConditionReason = "KeyNotFound"
	ReasonAmbiguousKey       xpv2.ConditionReason = "AmbiguousKey"
	ReasonKeyInvalid         xpv2.ConditionReason = "KeyInvalidated"
	ReasonAccessMismatch     xpv2.ConditionReason = "AccessMismatch"
	ReasonKeyNotOwned        xpv2.ConditionReason = "KeyNotOwned"
	ReasonPoliciesRefused    xpv2.ConditionReason = "ManagementPoliciesRefused"
	ReasonInvalidSpec        xpv2.ConditionReason = "InvalidSpec"
	ReasonSecretInvalid      xpv2.ConditionReason = "ConnectionSecretInvalid"
	reasonInvalidatedStray   event.Reason         = "InvalidatedStrayKey"
	reasonRotated            event.Reason         = "RotatedKey"
	reasonReplaced           event.Reason         = "ReplacedKey"
	reasonHandoverDone       event.Reason         = "HandoverComplete"
	reasonHandoverWait       event.Reason         = "RotationWaitsForHandover"
	reasonTargetGone         event.Reason         = "TargetGone"
	reasonNeverAllowed       event.Reason         = "NeverAllowed"
	reasonExpirationApplied  event.Reason         = "ExpirationApplied"
	reasonReplacementWaits   event.Reason         = "ReplacementWaitsForMinKeyLifetime"
	errNotCrossClusterAPIKey                      = "managed resource is not a CrossClusterAPIKey"
)

// Options are the provider's rules for the keys it owns.
type Options struct {
	// MinKeyLifetime is how long a key serves, at the least, before it is
	// replaced: spec.forProvider.expiration minus rotateBefore may not be
	// shorter. Zero means linkrules.DefaultMinKeyLifetime.
	MinKeyLifetime time.Duration
	// Now is the clock rotation is judged by. Nil means time.Now.
	Now func() time.Time
	// OwnedSecrets reads the Secrets the provider wrote from a cache
	// (kube.NewOwnedSecrets), so that a poll of a settled key reads none
	// from the API server. Nil reads them live.
	OwnedSecrets client.Reader
}

// Setup adds a controller that reconciles CrossClusterAPIKeys.
func Setup(mgr ctrl.Manager, o controller.Options, ko Options) error {
	if ko.MinKeyLifetime == 0 {
		ko.MinKeyLifetime = linkrules.DefaultMinKeyLifetime
	}
	if ko.Now == nil {
		ko.Now = time.Now
	}
	name := managed.ControllerName(esv1alpha1.CrossClusterAPIKeyGroupKind)
	recorder := event.NewAPIRecorder(mgr.GetEventRecorderFor(name)) // crossplane-runtime's recorder needs the legacy API.
	c := &connector{
		kube:        mgr.GetClient(),
		secrets:     mgr.GetAPIReader(),
		cached:      ko.OwnedSecrets,
		resolver:    connection.NewResolver(mgr.GetClient()),
		usage:       connection.NewUsageTracker(mgr.GetClient()),
		record:      recorder,
		log:         o.Logger.WithValues("controller", name),
		now:         ko.Now,
		minLifetime: ko.MinKeyLifetime,
	}
	if o.PollInterval > 0 {
		// Each resource polls its key once per interval; the keys on one
		// remote are read together as often.
		c.snapshots = newKeySnapshots(o.PollInterval)
	}
	opts := []managed.ReconcilerOption{
		managed.WithTypedExternalConnector[*esv1alpha1.CrossClusterAPIKey](c),
		// The key id is generated by Elasticsearch and set in Create.
		managed.WithInitializers(),
		// A create interrupted by a crash leaves the create-pending
		// annotation. The reconciler may proceed anyway: Observe finds
		// every key the resource made by its uid tag, so nothing leaks
		// and nothing is created twice.
		managed.WithDeterministicExternalName(true),
		// Observe needs no grace period after a create to trust that a key
		// is gone: it reads the key the Secret names by id, which a search
		// lagging behind the create cannot hide. Without this, a key
		// deleted within 30s of its creation would hold the finalizer that
		// long.
		managed.WithCreationGracePeriod(0),
		managed.WithLogger(o.Logger.WithValues("controller", name)),
		managed.WithPollInterval(o.PollInterval),
		managed.WithRecorder(recorder),
		managed.WithManagementPolicies(),
	}
	if o.MetricOptions != nil && o.MetricOptions.MRMetrics != nil {
		opts = append(opts, managed.WithMetricRecorder(o.MetricOptions.MRMetrics))
	}
	r := managed.NewReconciler(mgr, resource.ManagedKind(esv1alpha1.CrossClusterAPIKeyGroupVersionKind), opts...)
	metrics.WatchKeys(mgr.GetCache(), func(cr *esv1alpha1.CrossClusterAPIKey) bool { return !observeOnly(cr) })
	b, err := watch(mgr, ctrl.NewControllerManagedBy(mgr).Named(name).WithOptions(o.ForControllerRuntime()), o.Logger.WithValues("controller", name))
	if err != nil {
		return err
	}
	return b.Complete(ratelimiter.NewReconciler(name, xperrors.WithSilentRequeueOnConflict(r), o.GlobalRateLimiter))
}

type connector struct {
	kube client.Client
	// secrets reads connection Secrets from the API server, never from a
	// cache: a stale Secret would make a just-rotated key look like a
	// stray and have it invalidated.
	secrets client.Reader
	// cached, when set, serves the connection Secret for a first look:
	// only a settled key is observed from it (see observeOwned).
	cached      client.Reader
	resolver    *connection.Resolver
	usage       resource.ModernTracker
	record      event.Recorder
	log         logging.Logger
	now         func() time.Time
	minLifetime time.Duration
	// snapshots answers Observe from one read per remote and poll; nil
	// reads live.
	snapshots *keySnapshots
}

func (c *connector) Connect(ctx context.Context, cr *esv1alpha1.CrossClusterAPIKey) (managed.TypedExternalClient[*esv1alpha1.CrossClusterAPIKey], error) {
	deleting := meta.WasDeleted(cr)
	if deleting && observeOnly(cr) {
		// An observing resource never writes or invalidates a key, so its
		// deletion has nothing to do on any cluster and reaches none.
		return gone{}, nil
	}
	req := connection.Request{
		Namespace:        cr.GetNamespace(),
		ProviderConfig:   cr.GetProviderConfigReference(),
		ElasticsearchRef: cr.Spec.ForProvider.ElasticsearchRef,
		Cleanup:          deleting,
		// Not status.authorizedCluster: a team that may write the status
		// could forge it to reach a cluster that never granted it.
		AllowedBefore: linkrules.KeyNamespaceRecorded,
	}
	if !observeOnly(cr) {
		req.Access = linkAccess(cr.Spec.ForProvider.Access)
	}
	es, err := c.resolver.Resolve(ctx, req)
	if err != nil && deleting && connection.IsTargetGone(err) {
		// Judged before TargetGone: a config switched to a cluster that is
		// gone must not let the deletion skip the keys on the one that
		// still holds them.
		if merr := c.movedFromStaying(ctx, cr); merr != nil {
			setBlocked(cr, ReasonClusterChanged, merr)
			return nil, merr
		}
	}
	switch {
	case err != nil && deleting && connection.IsTargetGone(err):
		// Nothing is left to hold the key: say so, and let go rather than
		// keep the finalizer forever.
		c.record.Event(cr, event.Warning(reasonTargetGone, fmt.Errorf(
			"%s is deleted without invalidating its key: the cluster that held it is gone (%w)", ref(cr), err)))
		return gone{}, nil
	case err != nil && deleting && connection.IsDenied(err):
		// The config no longer allows the namespace, or reaches a cluster
		// that does not and holds no record of it. Only the cluster named
		// in the status can hold the keys; its own record (which a team
		// cannot write, unlike the status) says whether it does.
		held := cr.Status.AuthorizedCluster
		exists, recorded, gerr := c.heldKeys(ctx, held, cr.GetNamespace())
		switch {
		case gerr != nil:
			err = gerr
		case held != "" && !exists:
			c.record.Event(cr, event.Warning(reasonTargetGone, fmt.Errorf(
				"%s is deleted without invalidating its keys: Elasticsearch %s, which held them, is gone", ref(cr), held)))
			return gone{}, nil
		case !recorded:
			// The provider never wrote a key for the namespace there, so
			// the resource holds none: contacting a cluster that does not
			// allow the namespace, with the cluster's superuser, only to
			// look, would be the reach the grant denies.
			c.record.Event(cr, event.Normal(reasonNeverAllowed,
				fmt.Sprintf("%s is deleted without contacting Elasticsearch: no cluster it may reach holds a key of namespace %s (%s)", ref(cr), cr.GetNamespace(), err)))
			return gone{}, nil
		}
		err = fmt.Errorf("cannot invalidate the keys %s made on Elasticsearch %s: %w", ref(cr), held, err)
		markBlocked(cr, err)
		return nil, err
	}
	if err != nil {
		err = fmt.Errorf("cannot connect to Elasticsearch for %s: %w", ref(cr), err)
		markBlocked(cr, err)
		return nil, err
	}
	// Tracked only once the config allowed the namespace: a usage holds
	// the config, so a denied namespace must not be able to pin it.
	if err := c.usage.Track(ctx, cr); err != nil {
		setBlocked(cr, ReasonConnectionError, err)
		return nil, fmt.Errorf("cannot track provider config usage of %s: %w", ref(cr), err)
	}
	connection.SetTransportCondition(cr, es)
	if err := c.moved(ctx, cr, es); err != nil {
		setBlocked(cr, ReasonClusterChanged, err)
		return nil, err
	}
	if !deleting && es.Cluster() != "" {
		// Written with the status of the reconcile that first makes a key
		// there: the proof that lets this resource clean up after the
		// grant is revoked.
		cr.Status.AuthorizedCluster = es.Cluster()
	}
	// Cached with the client, so steady state sends no GET /.
	v, err := c.version(ctx, es)
	if err != nil {
		err = fmt.Errorf("cannot connect to Elasticsearch for %s: %w", ref(cr), err)
		markBlocked(cr, err)
		return nil, err
	}
	var (
		keys   keyReader = liveKeys{es}
		writes keyWriter = es
	)
	if c.snapshots != nil {
		writes = c.snapshots.writer(es)
		// A resource being deleted reads live: its invalidation is a
		// request anyway, and the finalizer goes only once a read that
		// cannot have missed a key finds none left.
		if !deleting {
			keys = c.snapshots.reader(es, c.now)
		}
	}
	return &external{
		kube: c.kube, secrets: c.secrets, cached: c.cached, es: writes, keys: keys, version: v, cluster: es.Cluster(),
		record: c.record, log: c.log, now: c.now, minLifetime: c.minLifetime,
	}, nil
}

func (c *connector) Disconnect(context.Context) error { return nil }

// heldKeys reports whether the Elasticsearch object named cluster
// (namespace/name, "" for none) exists, and whether the provider recorded
// there that it wrote keys for namespace ns.
func (c *connector) heldKeys(ctx context.Context, cluster, ns string) (exists, recorded bool, err error) {
	if cluster == "" {
		return false, false, nil
	}
	name := splitCluster(cluster)
	es := linkrules.NewElasticsearch()
	if err := c.kube.Get(ctx, name, es); err != nil {
		if kerrors.IsNotFound(err) {
			return false, false, nil
		}
		return false, false, fmt.Errorf("cannot tell whether Elasticsearch %s holds keys: %w", cluster, err)
	}
	return true, linkrules.KeyNamespaceRecorded(es.GetAnnotations(), ns), nil
}

// splitCluster parses namespace/name.
func splitCluster(cluster string) types.NamespacedName {
	ns, name, _ := strings.Cut(cluster, "/")
	return types.NamespacedName{Namespace: ns, Name: name}
}

// clusterGone reports whether the Elasticsearch object named
// namespace/name is gone, and with it every key it held.
func (c *connector) clusterGone(ctx context.Context, cluster string) (bool, error) {
	name := splitCluster(cluster)
	err := c.kube.Get(ctx, name, linkrules.NewElasticsearch())
	if kerrors.IsNotFound(err) {
		return true, nil
	}
	if err != nil {
		return false, fmt.Errorf("cannot tell whether Elasticsearch %s is gone: %w", cluster, err)
	}
	return false, nil
}

// movedFromStaying refuses the deletion of a resource whose provider
// config now reaches a cluster that is gone while the cluster that holds
// its keys stays (it exists and is not being deleted): the keys would be
// left valid there.
func (c *connector) movedFromStaying(ctx context.Context, cr *esv1alpha1.CrossClusterAPIKey) error {
	held := cr.Status.AuthorizedCluster
	if held == "" {
		return nil
	}
	name := splitCluster(held)
	es := linkrules.NewElasticsearch()
	if err := c.kube.Get(ctx, name, es); err != nil {
		if kerrors.IsNotFound(err) {
			return nil
		}
		return fmt.Errorf("cannot tell whether Elasticsearch %s, which holds the keys of %s, is gone: %w", held, ref(cr), err)
	}
	if es.GetDeletionTimestamp() != nil {
		return nil
	}
	return fmt.Errorf("the keys of %s are on Elasticsearch %s, but its provider config now reaches a cluster that is gone, and a key cannot move: set spec.providerConfigRef back to a config that reaches %s so that the deletion invalidates them",
		ref(cr), held, held)
}

// moved refuses a resource whose provider config now reaches another
// cluster than the one that holds its keys (a config changed or swapped):
// a key cannot move, and going on would leave the old keys valid for good,
// or let a deletion finish without invalidating them. A cluster whose
// Elasticsearch object is gone took its keys with it.
func (c *connector) moved(ctx context.Context, cr *esv1alpha1.CrossClusterAPIKey, es *elasticsearch.Client) error {
	held := cr.Status.AuthorizedCluster
	if held == "" || es.Cluster() == held {
		return nil
	}
	if gone, err := c.clusterGone(ctx, held); gone || err != nil {
		return err
	}
	now := es.Cluster()
	if now == "" {
		now = es.URL()
	}
	return fmt.Errorf("the keys of %s are on Elasticsearch %s, but its provider config now reaches %s, and a key cannot move: set spec.providerConfigRef back to a config that reaches %s; to hold a key elsewhere, delete this resource while it reaches %s, and create a new one",
		ref(cr), held, now, held, held)
}

// gone is the external client of a resource whose cluster no longer exists:
// there is nothing to observe or invalidate, so the finalizer can go.
type gone struct{}

func (gone) Observe(context.Context, *esv1alpha1.CrossClusterAPIKey) (managed.ExternalObservation, error) {
	return managed.ExternalObservation{ResourceExists: false}, nil
}

func (gone) Create(context.Context, *esv1alpha1.CrossClusterAPIKey) (managed.ExternalCreation, error) {
	return managed.ExternalCreation{}, errors.New("cannot create a key: the cluster is gone")
}

func (gone) Update(context.Context, *esv1alpha1.CrossClusterAPIKey) (managed.ExternalUpdate, error) {
	return managed.ExternalUpdate{}, nil
}

func (gone) Delete(context.Context, *esv1alpha1.CrossClusterAPIKey) (managed.ExternalDelete, error) {
	return managed.ExternalDelete{}, nil
}

func (gone) Disconnect(context.Context) error { return nil }

type external struct {
	kube    client.Client
	secrets client.Reader
	cached  client.Reader
	es      keyWriter
	keys    keyReader
	version linkrules.Version
	// cluster is the ECK Elasticsearch object (namespace/name) that holds
	// the keys, "" for a cluster reached by URL.
	cluster     string
	record      event.Recorder
	log         logging.Logger
	now         func() time.Time
	minLifetime time.Duration

	// owned is what Observe found for an owned key, for the Create, Update
	// or Delete that follows it in the same reconcile.
	owned *ownedState
}

// observeOnly reports whether the provider may not create the key, so that
// it must be found (by name when no id is known) and is never written.
func observeOnly(cr *esv1alpha1.CrossClusterAPIKey) bool {
	p := cr.GetManagementPolicies()
	if len(p) == 0 {
		return false
	}
	return !slices.Contains(p, xpv2.ManagementActionAll) && !slices.Contains(p, xpv2.ManagementActionCreate)
}

// refusedPolicies explains why an observing resource's policies are
// refused: Update or Delete would rewrite or invalidate a key that the
// resource found by name and did not create.
func refusedPolicies(cr *esv1alpha1.CrossClusterAPIKey) error {
	p := cr.GetManagementPolicies()
	if !observeOnly(cr) || (!slices.Contains(p, xpv2.ManagementActionUpdate) && !slices.Contains(p, xpv2.ManagementActionDelete)) {
		return nil
	}
	return fmt.Errorf("spec.managementPolicies %v would let %s update or invalidate key %q, which it does not own (it only observes it): an observing resource may use [Observe] (and LateInitialize); include Create (or *) for a key the resource creates and owns",
		p, ref(cr), cr.Spec.ForProvider.Name)
}

func ref(cr *esv1alpha1.CrossClusterAPIKey) string {
	return fmt.Sprintf("CrossClusterAPIKey %s/%s", cr.GetNamespace(), cr.GetName())
}

func (e *external) Observe(ctx context.Context, cr *esv1alpha1.CrossClusterAPIKey) (managed.ExternalObservation, error) {
	if observeOnly(cr) {
		return e.observeFound(ctx, cr)
	}
	return e.observeOwned(ctx, cr)
}

func (e *external) Create(ctx context.Context, cr *esv1alpha1.CrossClusterAPIKey) (managed.ExternalCreation, error) {
	if observeOnly(cr) {
		return managed.ExternalCreation{}, fmt.Errorf("%s only observes its key and never creates one", ref(cr))
	}
	created, err := e.createOwned(ctx, cr)
	if err != nil {
		orig := cr.DeepCopy()
		markBlocked(cr, err)
		// The managed reconciler rereads the resource after a failed create,
		// dropping conditions set here; persist the reason first. Only a
		// failing create writes this.
		if perr := e.kube.Status().Patch(ctx, cr, client.MergeFrom(orig)); perr != nil {
			e.log.Debug("Cannot record why the create failed", "error", perr)
		}
		return managed.ExternalCreation{}, err
	}
	return managed.ExternalCreation{ConnectionDetails: connectionDetails(created)}, nil
}

func (e *external) Update(ctx context.Context, cr *esv1alpha1.CrossClusterAPIKey) (managed.ExternalUpdate, error) {
	if observeOnly(cr) {
		return managed.ExternalUpdate{}, nil
	}
	return e.updateOwned(ctx, cr)
}

func (e *external) Delete(ctx context.Context, cr *esv1alpha1.CrossClusterAPIKey) (managed.ExternalDelete, error) {
	if observeOnly(cr) {
		return managed.ExternalDelete{}, nil
	}
	return managed.ExternalDelete{}, e.deleteOwned(ctx, cr)
}

func (e *external) Disconnect(context.Context) error { return nil }

// reportedError already set its own condition.
type reportedError struct{ error }

func (e *reportedError) Unwrap() error { return e.error }

func atProvider(k *elasticsearch.APIKey, now time.Time) esv1alpha1.CrossClusterAPIKeyObservation {
	o := esv1alpha1.CrossClusterAPIKeyObservation{
		ID:                  k.ID,
		Name:                k.Name,
		Invalidated:         k.Invalidated,
		Expired:             k.Expired(now),
		Access:              observedAccess(k.Access),
		CertificateIdentity: k.CertificateIdentity,
		Username:            k.Username,
	}
	if k.Creation != 0 {
		o.Creation = millis(k.Creation)
	}
	if k.Expiration != nil {
		o.Expiration = millis(*k.Expiration)
	}
	if k.Invalidation != nil {
		o.Invalidation = millis(*k.Invalidation)
	}
	return o
}

// millis is an epoch in milliseconds as a metav1.Time, truncated to the
// second metav1.Time serialises, so a re-read status compares equal.
func millis(ms int64) *metav1.Time {
	return timeOf(time.UnixMilli(ms))
}

func timeOf(t time.Time) *metav1.Time {
	m := metav1.NewTime(t.UTC().Truncate(time.Second))
	return &m
}

func stringPtrEqual(a, b *string) bool {
	if a == nil || b == nil {
		return a == b
	}
	return *a == *b
}

func unavailable(reason xpv2.ConditionReason, err error) xpv2.Condition {
	c := xpv2.Unavailable()
	c.Reason = reason
	c.Message = err.Error()
	return c
}

// unhealthy carries the same reason as Healthy=False. The managed reconciler
// overwrites Ready with Creating when Create fails, so the reason of a
// blocked create (license, privilege) survives only here.
func unhealthy(reason xpv2.ConditionReason, err error) xpv2.Condition {
	c := unavailable(reason, err)
	c.Type = xpv2.TypeHealthy
	return c
}

func healthy() xpv2.Condition {
	c := xpv2.Available()
	c.Type = xpv2.TypeHealthy
	return c
}

func setBlocked(cr *esv1alpha1.CrossClusterAPIKey, reason xpv2.ConditionReason, err error) {
	cr.SetConditions(unavailable(reason, err), unhealthy(reason, err))
}

func available(cr *esv1alpha1.CrossClusterAPIKey) {
	cr.SetConditions(xpv2.Available(), healthy())
}

// markBlocked sets Ready=False with a reason that names what to fix.
func markBlocked(cr *esv1alpha1.CrossClusterAPIKey, err error) {
	reason := ReasonConnectionError
	switch r := elasticsearch.ReasonOf(err); {
	case connection.IsDenied(err):
		reason = ReasonNotAuthorized
	case r != "":
		reason = xpv2.ConditionReason(r)
	}
	setBlocked(cr, reason, err)
}

// blocked sets the condition and returns an error that says it already did.
func blocked(cr *esv1alpha1.CrossClusterAPIKey, reason xpv2.ConditionReason, err error) error {
	setBlocked(cr, reason, err)
	return &reportedError{err}
}
