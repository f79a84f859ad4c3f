// Package remoteclustercredentials reconciles RemoteClusterCredentials
// managed resources: each delivers a cross-cluster API key to a local ECK
// cluster as the secure setting cluster.remote.<alias>.credentials, and
// tells when the cluster has loaded it, so that the key it replaces can be
// invalidated without cutting the connection.
package remoteclustercredentials

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/crossplane/crossplane-runtime/v2/pkg/controller"
	"github.com/crossplane/crossplane-runtime/v2/pkg/event"
	"github.com/crossplane/crossplane-runtime/v2/pkg/meta"
	"github.com/crossplane/crossplane-runtime/v2/pkg/reconciler/managed"
	xpv2 "github.com/crossplane/crossplane/apis/v2/core/v2"
	corev1 "k8s.io/api/core/v1"
	kerrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/eslink/eslink/apis/eck/v1alpha1"
	esv1alpha1 "github.com/eslink/eslink/apis/elasticsearch/v1alpha1"
	"github.com/eslink/eslink/internal/eckschema"
	"github.com/eslink/eslink/provider/internal/clients/connection"
	"github.com/eslink/eslink/provider/internal/clients/eck"
	"github.com/eslink/eslink/provider/internal/clients/kube"
	"github.com/eslink/eslink/provider/internal/controller/conditions"
	"github.com/eslink/eslink/provider/internal/controller/setup"
)

const (
	fieldLocal = eck.FieldLocal
	fieldKey   = "spec.forProvider.apiKeySecretRef"
	fieldAlias = "spec.forProvider.alias"
)

// Metadata of the credentials Secret in the local cluster's namespace.
const (
	LabelManagedBy      = kube.LabelManagedBy
	AnnotationOwnerUID  = "eslink.io/owner-uid"
	AnnotationOwnerName = "eslink.io/owner"
)

// keyIDPattern is the form of a cross-cluster API key id; it is also a
// valid Secret data key.
var keyIDPattern = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)

// Setup adds a controller that reconciles RemoteClusterCredentials.
func Setup(mgr ctrl.Manager, o controller.Options) error {
	return setup.Setup(mgr, o, v1alpha1.RemoteClusterCredentialsGroupVersionKind, &v1alpha1.RemoteClusterCredentials{},
		func(kube client.Client, live client.Reader, record event.Recorder) managed.TypedExternalConnector[*v1alpha1.RemoteClusterCredentials] {
			return &connector{kube: kube, live: live, record: record, resolver: connection.NewResolver(kube), usage: connection.NewUsageTracker(kube)}
		}, nil)
}

type connector struct {
	kube     client.Client
	live     client.Reader
	record   event.Recorder
	resolver *connection.Resolver
	usage    *connection.UsageTracker
}

// Connect needs no credentials: the Secret and the entry are written with
// the provider's own Kubernetes identity, which is why every change is
// authorized first. The local cluster's REST API is reached only to tell
// when file-based secure settings were reloaded.
func (c *connector) Connect(_ context.Context, _ *v1alpha1.RemoteClusterCredentials) (managed.TypedExternalClient[*v1alpha1.RemoteClusterCredentials], error) {
	return &external{kube: c.kube, eck: eck.NewClient(c.kube, c.live), record: c.record, resolver: c.resolver, usage: c.usage}, nil
}

type external struct {
	kube     client.Client
	eck      *eck.Client
	record   event.Recorder
	resolver *connection.Resolver
	usage    *connection.UsageTracker
}

func ref(mg *v1alpha1.RemoteClusterCredentials) string {
	return fmt.Sprintf("RemoteClusterCredentials %s/%s", mg.GetNamespace(), mg.GetName())
}

func isNotFound(err error) bool {
	var nf *eck.NotFoundError
	return errors.As(err, &nf)
}

// apiKey is the key to deliver, as its Secret holds it. encoded is secret.
type apiKey struct {
	id, encoded string
}

func (e *external) Observe(ctx context.Context, mg *v1alpha1.RemoteClusterCredentials) (managed.ExternalObservation, error) {
	p := mg.Spec.ForProvider
	uid := string(mg.GetUID())
	name := eck.CredentialsSecretName(p.Alias)
	local, err := e.eck.Get(ctx, eck.Ref(p.ElasticsearchRef, mg.GetNamespace()), fieldLocal)

	if meta.WasDeleted(mg) {
		// Removing our own entry and Secret needs no grant. The Secret is
		// owned by the local cluster's object and goes with it.
		var nf *eck.NotFoundError
		if errors.As(err, &nf) {
			e.record.Event(mg, conditions.TargetGoneEvent(nf, fmt.Sprintf("credentials of alias %s", p.Alias)))
			return managed.ExternalObservation{ResourceExists: false}, nil
		}
		if err != nil {
			return managed.ExternalObservation{}, err
		}
		owns, err := eck.SecureSettings.Owns(local, uid)
		if err != nil {
			return managed.ExternalObservation{}, err
		}
		s, err := e.ownSecret(ctx, local.GetNamespace(), name, uid)
		return managed.ExternalObservation{ResourceExists: owns || s != nil}, err
	}
	if err != nil {
		return managed.ExternalObservation{}, conditions.Blocked(mg, err, xpv2.ReasonReconcileError)
	}
	if err := e.check(ctx, mg, local); err != nil {
		return managed.ExternalObservation{}, conditions.Blocked(mg, err, xpv2.ReasonReconcileError)
	}
	entry, own, err := eck.SecureSettings.Lookup(local, name, uid)
	if err != nil {
		return managed.ExternalObservation{}, conditions.Blocked(mg, err, xpv2.ReasonReconcileError)
	}
	if own == eck.Foreign {
		return managed.ExternalObservation{}, conditions.Blocked(mg, eck.SecureSettings.Conflict(local, name, uid), xpv2.ReasonReconcileError)
	}
	secret, err := e.ownSecret(ctx, local.GetNamespace(), name, uid)
	if err != nil {
		return managed.ExternalObservation{}, conditions.Blocked(mg, err, xpv2.ReasonReconcileError)
	}

	at := &mg.Status.AtProvider
	at.SecretName = name
	at.Delivery, at.RestartsOnChange = v1alpha1.DeliveryKeystore, true
	fileBased := eckschema.FileBasedSecureSettings(local)
	if fileBased {
		at.Delivery, at.RestartsOnChange = v1alpha1.DeliveryFileBased, false
	}
	at.DeliveredKeyID = ""
	if own == eck.Owned && entry != nil && secret != nil && len(secret.Data[eck.EntryKeyID(entry)]) > 0 {
		at.DeliveredKeyID = eck.EntryKeyID(entry)
	}
	exists := at.DeliveredKeyID != ""
	if err := e.observeTakeUp(ctx, mg, local, fileBased); err != nil {
		return managed.ExternalObservation{}, err
	}

	key, err := e.apiKey(ctx, mg)
	if err != nil {
		// Nothing to deliver: what was delivered stays until a valid key
		// is published.
		var w *waitError
		if errors.As(err, &w) {
			mg.SetConditions(conditions.Ready(exists && at.TakenUpKeyID != "", conditions.ReasonWaitingForKey, err.Error()))
			return managed.ExternalObservation{ResourceExists: exists, ResourceUpToDate: true}, nil
		}
		return managed.ExternalObservation{}, conditions.Blocked(mg, err, xpv2.ReasonReconcileError)
	}
	at.KeyID = key.id
	if err := settingsOurs(local, mg); err != nil {
		// What was delivered stays; nothing new goes to an address this
		// link did not set. Reported as existing and up to date, so the
		// reconciler neither calls Create (which would show Creating
		// instead of this reason) nor Update.
		mg.SetConditions(conditions.Ready(false, conditions.ReasonWaitingForSettings, err.Error()))
		return managed.ExternalObservation{ResourceExists: true, ResourceUpToDate: true}, nil
	}
	holds, err := eck.SecureSettings.Holds(local, name, uid, eck.RenderSecureSettingsEntry(name, key.id, p.Alias))
	if err != nil {
		return managed.ExternalObservation{}, conditions.Blocked(mg, err, xpv2.ReasonReconcileError)
	}
	upToDate := holds && secret != nil && string(secret.Data[key.id]) == key.encoded &&
		(at.TakenUpKeyID != key.id || len(secret.Data) == 1)

	switch {
	case at.TakenUpKeyID == "":
		mg.SetConditions(conditions.Ready(false, conditions.ReasonRollingOut, rollingOut(local, fileBased, key.id)))
	case at.TakenUpKeyID != key.id:
		// Still connected with the key it loaded: the link keeps working
		// while the new one rolls out.
		mg.SetConditions(conditions.Ready(true, conditions.ReasonRollingOut, rollingOut(local, fileBased, key.id)+"; it still uses key "+at.TakenUpKeyID))
	default:
		mg.SetConditions(conditions.Ready(true, xpv2.ReasonAvailable, ""))
	}
	return managed.ExternalObservation{ResourceExists: exists, ResourceUpToDate: upToDate}, nil
}

func rollingOut(local *unstructured.Unstructured, fileBased bool, id string) string {
	name := local.GetNamespace() + "/" + local.GetName()
	if fileBased {
		return fmt.Sprintf("waiting for %s to reload key %s from its file-based secure settings", name, id)
	}
	return fmt.Sprintf("waiting for ECK to roll key %s out to %s (each change of the keystore restarts the cluster)", id, name)
}

// observeTakeUp records the delivered key as taken up once the cluster has
// loaded it. It is sticky: while a later change rolls out, or the cluster
// restarts for an unrelated reason, the key loaded before is still in use.
func (e *external) observeTakeUp(ctx context.Context, mg *v1alpha1.RemoteClusterCredentials, local *unstructured.Unstructured, fileBased bool) error {
	at := &mg.Status.AtProvider
	if at.DeliveredKeyID == "" || at.DeliveredKeyID == at.TakenUpKeyID {
		return nil
	}
	// The entry names the delivered key, so once ECK has reconciled this
	// generation the keystore it built, or the file-based settings it
	// wrote, hold it.
	if ok, _ := eckschema.Reconciled(local); !ok {
		return nil
	}
	if fileBased {
		applied, err := e.fileSettingsApplied(ctx, mg, local)
		if err != nil || !applied {
			return err
		}
	}
	at.TakenUpKeyID = at.DeliveredKeyID
	return nil
}

// fileSettingsApplied reports whether Elasticsearch applied the file-based
// settings ECK wrote last: the version ECK put into the file-settings
// Secret against the version the cluster reports in its metadata
// (reserved_state.file_settings), as ECK's own client models it.
func (e *external) fileSettingsApplied(ctx context.Context, mg *v1alpha1.RemoteClusterCredentials, local *unstructured.Unstructured) (bool, error) {
	if mg.GetProviderConfigReference() == nil {
		return false, conditions.Blocked(mg, &eck.InvalidSpecError{Msg: fmt.Sprintf(
			"spec.providerConfigRef is required: Elasticsearch %s/%s reloads its secure settings from file-based settings, and the provider reads its REST API to tell when it did",
			local.GetNamespace(), local.GetName())}, xpv2.ReasonReconcileError)
	}
	s := &corev1.Secret{}
	nn := types.NamespacedName{Namespace: local.GetNamespace(), Name: eckschema.FileSettingsSecret(local.GetName())}
	if err := e.kube.Get(ctx, nn, s); err != nil {
		if kerrors.IsNotFound(err) {
			return false, nil
		}
		return false, conditions.Blocked(mg, fmt.Errorf("cannot read ECK's file-based settings Secret %s: %w", nn, err), xpv2.ReasonReconcileError)
	}
	// Only the version is read: the rest holds every secure setting.
	var settings struct {
		Metadata struct {
			Version string `json:"version"`
		} `json:"metadata"`
	}
	if err := json.Unmarshal(s.Data["settings.json"], &settings); err != nil {
		return false, conditions.Blocked(mg, fmt.Errorf("ECK's file-based settings Secret %s holds no valid settings.json", nn), xpv2.ReasonReconcileError)
	}
	want, err := strconv.ParseInt(settings.Metadata.Version, 10, 64)
	if err != nil {
		return false, conditions.Blocked(mg, fmt.Errorf("ECK's file-based settings Secret %s holds no valid metadata.version", nn), xpv2.ReasonReconcileError)
	}
	es, err := e.resolver.ResolveLocal(ctx, mg, mg.Spec.ForProvider.ElasticsearchRef)
	if err != nil {
		return false, conditions.Blocked(mg, fmt.Errorf("cannot connect to the local cluster's Elasticsearch API for %s: %w", ref(mg), err), xpv2.ReasonReconcileError)
	}
	// Tracked only once the config allowed the namespace: a usage holds
	// the config, so a denied namespace must not be able to pin it.
	if err := e.usage.Track(ctx, mg); err != nil {
		return false, conditions.Blocked(mg, fmt.Errorf("cannot track provider config usage of %s: %w", ref(mg), err), xpv2.ReasonReconcileError)
	}
	state, err := es.FileSettings(ctx)
	if err != nil {
		return false, conditions.Blocked(mg, fmt.Errorf("cannot tell whether %s reloaded its file-based settings: %w", nn.Namespace+"/"+local.GetName(), err), xpv2.ReasonReconcileError)
	}
	if state == nil {
		return false, nil
	}
	if state.Errors != nil && state.Errors.Version >= want {
		// The errors may name settings; they never hold their values, but
		// only the kind is repeated here.
		err := fmt.Errorf("file-based settings version %d failed to apply on Elasticsearch %s/%s (%s): see its logs", state.Errors.Version, local.GetNamespace(), local.GetName(), state.Errors.ErrorKind)
		mg.SetConditions(conditions.Ready(false, conditions.ReasonFileSettingsFailed, err.Error()))
		return false, err
	}
	return state.Version >= want, nil
}

// check authorizes the namespace on both clusters and refuses an alias ECK
// delivers credentials for itself.
func (e *external) check(ctx context.Context, mg *v1alpha1.RemoteClusterCredentials, local *unstructured.Unstructured) error {
	p := mg.Spec.ForProvider
	return e.eck.AuthorizeAlias(ctx, mg, local, p.RemoteElasticsearchRef, p.Alias)
}

// settingsOurs returns an error unless this link owns the alias and its
// connection settings on local are set by the link (its
// RemoteClusterSettings holds them): the local cluster sends the
// credentials wherever cluster.remote.<alias>.proxy_address points, so a
// key is never delivered to an alias whose settings a person, another
// link, or nobody any more set.
func settingsOurs(local *unstructured.Unstructured, mg *v1alpha1.RemoteClusterCredentials) error {
	alias := mg.Spec.ForProvider.Alias
	owns, err := eck.OwnsAlias(local, alias, mg)
	if err != nil {
		return err
	}
	settings, err := eck.SettingsOwners.Owners(local)
	if err != nil {
		return err
	}
	if _, set := settings[alias]; owns && set {
		return nil
	}
	return &waitError{msg: fmt.Sprintf(
		"%s: waiting for this link's RemoteClusterSettings (label %s=%s) to set the connection settings of alias %s on Elasticsearch %s/%s: credentials are delivered only to an alias whose settings the same link set",
		fieldAlias, eckschema.LabelComposite, mg.GetLabels()[eckschema.LabelComposite], alias, local.GetNamespace(), local.GetName())}
}

// waitError says the key to deliver is not published yet.
type waitError struct{ msg string }

func (e *waitError) Error() string { return e.msg }

// apiKey reads the key to deliver. Its errors never quote the Secret's data.
func (e *external) apiKey(ctx context.Context, mg *v1alpha1.RemoteClusterCredentials) (*apiKey, error) {
	nn := types.NamespacedName{Namespace: mg.GetNamespace(), Name: mg.Spec.ForProvider.APIKeySecretRef.Name}
	s := &corev1.Secret{}
	if err := e.kube.Get(ctx, nn, s); err != nil {
		if kerrors.IsNotFound(err) {
			return nil, &waitError{msg: fmt.Sprintf("waiting for Secret %s (%s), which the CrossClusterAPIKey publishes", nn, fieldKey)}
		}
		return nil, fmt.Errorf("cannot read Secret %s (%s): %w", nn, fieldKey, err)
	}
	id, encoded := string(s.Data[esv1alpha1.ConnectionKeyID]), string(s.Data[esv1alpha1.ConnectionKeyEncoded])
	if id == "" || encoded == "" {
		return nil, &waitError{msg: fmt.Sprintf("waiting for Secret %s (%s) to hold the keys %s and %s", nn, fieldKey, esv1alpha1.ConnectionKeyID, esv1alpha1.ConnectionKeyEncoded)}
	}
	invalid := func(why string) error {
		return &eck.InvalidSpecError{Msg: fmt.Sprintf("Secret %s (%s) does not hold a cross-cluster API key: %s", nn, fieldKey, why)}
	}
	if !keyIDPattern.MatchString(id) {
		return nil, invalid("its id is not a key id")
	}
	raw, err := base64.StdEncoding.DecodeString(encoded)
	if err != nil {
		return nil, invalid("its encoded value is not base64")
	}
	if kid, secret, ok := strings.Cut(string(raw), ":"); !ok || kid != id || secret == "" {
		return nil, invalid("its encoded value is not the base64 of <id>:<api_key> for its id")
	}
	return &apiKey{id: id, encoded: encoded}, nil
}

// ownSecret returns the credentials Secret when this resource owns it, nil
// when it does not exist, and a conflict when someone else's Secret has its
// name.
func (e *external) ownSecret(ctx context.Context, ns, name, uid string) (*corev1.Secret, error) {
	s := &corev1.Secret{}
	if err := e.kube.Get(ctx, types.NamespacedName{Namespace: ns, Name: name}, s); err != nil {
		if kerrors.IsNotFound(err) {
			return nil, nil
		}
		return nil, fmt.Errorf("cannot read Secret %s/%s: %w", ns, name, err)
	}
	if s.Annotations[AnnotationOwnerUID] != uid {
		return nil, &eck.ConflictError{What: "Secret", Key: name, Object: ns, OtherOwner: s.Annotations[AnnotationOwnerUID]}
	}
	return s, nil
}

func (e *external) Create(ctx context.Context, mg *v1alpha1.RemoteClusterCredentials) (managed.ExternalCreation, error) {
	return managed.ExternalCreation{}, e.deliver(ctx, mg)
}

func (e *external) Update(ctx context.Context, mg *v1alpha1.RemoteClusterCredentials) (managed.ExternalUpdate, error) {
	return managed.ExternalUpdate{}, e.deliver(ctx, mg)
}

// deliver writes the key into the Secret first, then points the entry at
// it: ECK refuses an entry whose key the Secret lacks. The key the cluster
// has loaded stays in the Secret until the new one is taken up.
func (e *external) deliver(ctx context.Context, mg *v1alpha1.RemoteClusterCredentials) error {
	p := mg.Spec.ForProvider
	key, err := e.apiKey(ctx, mg)
	if err != nil {
		var w *waitError
		if errors.As(err, &w) {
			return nil
		}
		return conditions.Blocked(mg, err, xpv2.ReasonReconcileError)
	}
	lname := eck.Ref(p.ElasticsearchRef, mg.GetNamespace())
	local, err := e.eck.Get(ctx, lname, fieldLocal)
	if err != nil {
		return conditions.Blocked(mg, err, xpv2.ReasonReconcileError)
	}
	if err := e.check(ctx, mg, local); err != nil {
		return conditions.Blocked(mg, err, xpv2.ReasonReconcileError)
	}
	if err := settingsOurs(local, mg); err != nil {
		return nil //nolint:nilerr // Observe reports WaitingForSettings; nothing is delivered until the link's settings hold the alias.
	}
	name := eck.CredentialsSecretName(p.Alias)
	if err := e.writeSecret(ctx, mg, local, name, key); err != nil {
		return conditions.Blocked(mg, err, xpv2.ReasonReconcileError)
	}
	_, err = e.eck.Mutate(ctx, lname, fieldLocal, func(local *unstructured.Unstructured) (bool, error) {
		if err := e.check(ctx, mg, local); err != nil {
			return false, err
		}
		if err := settingsOurs(local, mg); err != nil {
			return false, err
		}
		return eck.SecureSettings.Put(local, name, string(mg.GetUID()), eck.RenderSecureSettingsEntry(name, key.id, p.Alias))
	})
	if err != nil {
		return conditions.Blocked(mg, fmt.Errorf("cannot deliver the credentials of alias %s for %s: %w", p.Alias, ref(mg), err), xpv2.ReasonReconcileError)
	}
	return nil
}

func (e *external) writeSecret(ctx context.Context, mg *v1alpha1.RemoteClusterCredentials, local *unstructured.Unstructured, name string, key *apiKey) error {
	uid := string(mg.GetUID())
	s, err := e.ownSecret(ctx, local.GetNamespace(), name, uid)
	if err != nil {
		return err
	}
	data := map[string][]byte{key.id: []byte(key.encoded)}
	if s != nil && mg.Status.AtProvider.TakenUpKeyID != key.id {
		// The key loaded now stays until the new one is taken up.
		if old := s.Data[mg.Status.AtProvider.TakenUpKeyID]; len(old) > 0 {
			data[mg.Status.AtProvider.TakenUpKeyID] = old
		}
	}
	if s == nil {
		s = &corev1.Secret{ObjectMeta: metav1.ObjectMeta{
			Namespace: local.GetNamespace(),
			Name:      name,
			Labels:    map[string]string{LabelManagedBy: kube.ManagedBy},
			Annotations: map[string]string{
				AnnotationOwnerUID:  uid,
				AnnotationOwnerName: mg.GetNamespace() + "/" + mg.GetName(),
			},
			// Deleted with the local cluster, like ECK's own Secrets.
			OwnerReferences: []metav1.OwnerReference{{
				APIVersion: eckschema.ElasticsearchGVK.GroupVersion().String(), Kind: eckschema.ElasticsearchGVK.Kind,
				Name: local.GetName(), UID: local.GetUID(), BlockOwnerDeletion: ptr.To(false),
			}},
		}, Type: corev1.SecretTypeOpaque, Data: data}
		if err := e.kube.Create(ctx, s); err != nil {
			return fmt.Errorf("cannot create Secret %s/%s for %s: %w", s.Namespace, name, ref(mg), err)
		}
		return nil
	}
	s.Data = data
	if err := e.kube.Update(ctx, s); err != nil {
		return fmt.Errorf("cannot update Secret %s/%s for %s: %w", s.Namespace, name, ref(mg), err)
	}
	return nil
}

// Delete removes the entry, then the Secret, so that ECK never reads an
// entry without its Secret. No grant is needed: both carry this uid.
func (e *external) Delete(ctx context.Context, mg *v1alpha1.RemoteClusterCredentials) (managed.ExternalDelete, error) {
	p := mg.Spec.ForProvider
	uid := string(mg.GetUID())
	local, err := e.eck.Mutate(ctx, eck.Ref(p.ElasticsearchRef, mg.GetNamespace()), fieldLocal, func(local *unstructured.Unstructured) (bool, error) {
		removed, err := eck.SecureSettings.Remove(local, uid)
		if err != nil {
			return false, err
		}
		released, err := eck.ReleaseAliases(local)
		return removed || released, err
	})
	if isNotFound(err) {
		return managed.ExternalDelete{}, nil
	}
	if err != nil {
		return managed.ExternalDelete{}, fmt.Errorf("cannot remove the credentials entry of alias %s for %s: %w", p.Alias, ref(mg), err)
	}
	s, err := e.ownSecret(ctx, local.GetNamespace(), eck.CredentialsSecretName(p.Alias), uid)
	var ce *eck.ConflictError
	switch {
	case errors.As(err, &ce):
		// Someone else's Secret of that name: not ours to delete.
		return managed.ExternalDelete{}, nil
	case err != nil:
		return managed.ExternalDelete{}, err
	case s == nil:
		return managed.ExternalDelete{}, nil
	}
	if err := client.IgnoreNotFound(e.kube.Delete(ctx, s, client.Preconditions{UID: &s.UID})); err != nil {
		return managed.ExternalDelete{}, fmt.Errorf("cannot delete Secret %s/%s of %s: %w", s.Namespace, s.Name, ref(mg), err)
	}
	return managed.ExternalDelete{}, nil
}

func (e *external) Disconnect(context.Context) error { return nil }
