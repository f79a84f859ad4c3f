package crossclusterapikey

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	"github.com/crossplane/crossplane-runtime/v2/pkg/event"
	"github.com/crossplane/crossplane-runtime/v2/pkg/logging"
	"github.com/crossplane/crossplane-runtime/v2/pkg/meta"
	"github.com/crossplane/crossplane-runtime/v2/pkg/reconciler/managed"
	"github.com/crossplane/crossplane-runtime/v2/pkg/resource"
	xpv2 "github.com/crossplane/crossplane/apis/v2/core/v2"

	"github.com/eslink/eslink/apis"
	commonv1alpha1 "github.com/eslink/eslink/apis/common/v1alpha1"
	esv1alpha1 "github.com/eslink/eslink/apis/elasticsearch/v1alpha1"
	"github.com/eslink/eslink/internal/eckschema"
	"github.com/eslink/eslink/internal/grants"
	"github.com/eslink/eslink/provider/internal/clients/elasticsearch"
	"github.com/eslink/eslink/provider/internal/controller/conditions"
	"github.com/eslink/eslink/test/fakeelasticsearch/esfake"
)

const (
	adminUser = "provider"
	adminPass = "provider-password-1"
)

// clock is the time of the fake Elasticsearch and of the provider alike.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Now().UTC().Truncate(time.Second)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

type harness struct {
	t           *testing.T
	srv         *esfake.Server
	es          *elasticsearch.Client
	kube        client.Client
	ext         *external
	clock       *clock
	minLifetime time.Duration
}

func newHarness(t *testing.T, opts esfake.Options, objs ...client.Object) *harness {
	t.Helper()
	opts.TLS = true
	if opts.Users == nil {
		opts.Users = []esfake.User{{Name: adminUser, Password: adminPass, Privileges: []string{"manage_security", "monitor"}}}
	}
	clk := newClock()
	opts.Clock = clk.Now
	srv := esfake.NewServer(t, opts)
	es, err := elasticsearch.New(elasticsearch.Config{URL: srv.URL, Username: opts.Users[0].Name, Password: opts.Users[0].Password, CACert: srv.CACertPEM})
	if err != nil {
		t.Fatal(err)
	}
	s := runtime.NewScheme()
	if err := clientgoscheme.AddToScheme(s); err != nil {
		t.Fatal(err)
	}
	if err := apis.AddToScheme(s); err != nil {
		t.Fatal(err)
	}
	kube := fake.NewClientBuilder().WithScheme(s).WithObjects(objs...).Build()
	h := &harness{t: t, srv: srv, es: es, kube: kube, clock: clk, minLifetime: time.Minute}
	v, err := es.Version(context.Background())
	if err != nil && elasticsearch.ReasonOf(err) != elasticsearch.ReasonVersion {
		t.Fatal(err)
	}
	h.ext = h.external(v)
	return h
}

// external is a fresh client, as Connect makes one for each reconcile.
func (h *harness) external(v eckschema.Version) *external {
	return &external{kube: h.kube, secrets: h.kube,
		es: h.es, keys: liveKeys{h.es}, version: v, record: event.NewNopRecorder(), log: logging.NewNopLogger(),
		now: h.clock.Now, minLifetime: h.minLifetime}
}

// reconcile plays one pass of the managed reconciler on cr as the test
// left it: Observe, then Create or Update as the observation asks, then
// the reconciler's publish.
func (h *harness) reconcile(cr *esv1alpha1.CrossClusterAPIKey) managed.ExternalObservation {
	h.t.Helper()
	ctx := context.Background()
	if err := h.kube.Update(ctx, cr); err != nil {
		h.t.Fatal(err)
	}
	e := h.external(h.ext.version)
	obs, err := e.Observe(ctx, cr)
	if err != nil {
		h.t.Fatalf("Observe() = %v", err)
	}
	switch {
	case !obs.ResourceExists:
		cre, err := e.Create(ctx, cr)
		if err != nil {
			h.t.Fatalf("Create() = %v", err)
		}
		obs.ConnectionDetails = cre.ConnectionDetails
	case !obs.ResourceUpToDate:
		upd, err := e.Update(ctx, cr)
		if err != nil {
			h.t.Fatalf("Update() = %v", err)
		}
		obs.ConnectionDetails = upd.ConnectionDetails
	}
	// The managed reconciler publishes through crossplane-runtime's
	// publisher.
	if _, err := managed.NewAPILocalSecretPublisher(h.kube, h.kube.Scheme()).PublishConnection(ctx, cr, obs.ConnectionDetails); err != nil {
		h.t.Fatal(err)
	}
	return obs
}

func (h *harness) secret() *corev1.Secret {
	h.t.Helper()
	s := &corev1.Secret{}
	err := h.kube.Get(context.Background(), types.NamespacedName{Namespace: "team-a", Name: "orders-key"}, s)
	if resourceNotFound(err) {
		return nil
	}
	if err != nil {
		h.t.Fatal(err)
	}
	return s
}

// active returns the ids of the keys Elasticsearch would accept.
func (h *harness) active() []string {
	out := []string{}
	for _, k := range h.srv.Keys() {
		if !k.Invalidated && (k.Expiration == nil || h.clock.Now().Before(*k.Expiration)) {
			out = append(out, k.ID)
		}
	}
	return out
}

// assertOneValidKey checks the end state every path must reach: exactly
// one active key, held whole by the Secret and recorded as external name.
func (h *harness) assertOneValidKey(cr *esv1alpha1.CrossClusterAPIKey) string {
	h.t.Helper()
	active := h.active()
	if len(active) != 1 {
		h.t.Fatalf("active keys = %v, want exactly one", active)
	}
	s := h.secret()
	if s == nil {
		h.t.Fatal("no connection Secret")
	}
	id := string(s.Data["id"])
	if id != active[0] {
		h.t.Errorf("Secret holds %s, the active key is %s", id, active[0])
	}
	if enc := base64.StdEncoding.EncodeToString([]byte(id + ":" + string(s.Data["api_key"]))); string(s.Data["encoded"]) != enc {
		h.t.Errorf("Secret's encoded is not base64(id:api_key) of %s", id)
	}
	if got := meta.GetExternalName(cr); got != id {
		h.t.Errorf("external name = %q, want %q", got, id)
	}
	return id
}

func newKey(policies ...xpv2.ManagementAction) *esv1alpha1.CrossClusterAPIKey {
	cr := &esv1alpha1.CrossClusterAPIKey{
		TypeMeta:   metav1.TypeMeta{APIVersion: esv1alpha1.SchemeGroupVersion.String(), Kind: esv1alpha1.CrossClusterAPIKeyKind},
		ObjectMeta: metav1.ObjectMeta{Namespace: "team-a", Name: "orders", UID: "5f1e3c0a-uid"},
	}
	cr.Spec.ForProvider.Name = "orders-to-logs"
	cr.Spec.ForProvider.Access = &esv1alpha1.CrossClusterAccess{Search: []commonv1alpha1.SearchAccess{{
		Names: []string{"logs-*"}, Query: raw(`{"term":{"category":"shared"}}`),
	}}}
	if len(policies) > 0 {
		cr.Spec.ManagementPolicies = policies
	}
	cr.Spec.WriteConnectionSecretToReference = &xpv2.LocalSecretReference{Name: "orders-key"}
	return cr
}

// ownKey creates a key tagged with cr's uid directly on Elasticsearch, as a
// crashed provider would have left it.
func (h *harness) ownKey(cr *esv1alpha1.CrossClusterAPIKey, replaces string) *elasticsearch.CreatedKey {
	h.t.Helper()
	access, err := desiredAccess(cr.Spec.ForProvider.Access)
	if err != nil {
		h.t.Fatal(err)
	}
	md, err := desiredMetadata(cr, access, replaces)
	if err != nil {
		h.t.Fatal(err)
	}
	k, err := h.es.CreateCrossClusterAPIKey(context.Background(), elasticsearch.CreateRequest{
		Name: cr.Spec.ForProvider.Name, Access: access, Metadata: md, Expiration: desiredExpiration(cr)})
	if err != nil {
		h.t.Fatal(err)
	}
	return k
}

func (h *harness) publishKey(cr *esv1alpha1.CrossClusterAPIKey, k *elasticsearch.CreatedKey) {
	h.t.Helper()
	if err := h.ext.publish(context.Background(), cr, k); err != nil {
		h.t.Fatal(err)
	}
}

func readyCondition(cr *esv1alpha1.CrossClusterAPIKey) xpv2.Condition {
	return cr.GetCondition(xpv2.TypeReady)
}

// noSecrets fails when a condition, error or status of cr holds a secret.
func noSecrets(t *testing.T, cr *esv1alpha1.CrossClusterAPIKey, err error, secrets ...string) {
	t.Helper()
	st, _ := json.Marshal(cr.Status)
	texts := []string{string(st)}
	if err != nil {
		texts = append(texts, err.Error())
	}
	for _, text := range texts {
		for _, s := range secrets {
			if s != "" && strings.Contains(text, s) {
				t.Errorf("%q leaks a secret", text)
			}
		}
	}
}

func resourceNotFound(err error) bool { return err != nil && client.IgnoreNotFound(err) == nil }

// esWrites lists the requests that changed something on Elasticsearch.
func esWrites(srv *esfake.Server) []string {
	var out []string
	for _, r := range srv.Requests() {
		if r.Method != http.MethodGet && r.Endpoint != "POST /_security/_query/api_key" {
			out = append(out, r.Endpoint)
		}
	}
	return out
}

func TestOwnedLifecycle(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t, esfake.Options{})
	cr := newKey()
	if err := h.kube.Create(ctx, cr); err != nil {
		t.Fatal(err)
	}

	obs, err := h.ext.Observe(ctx, cr)
	if err != nil || obs.ResourceExists {
		t.Fatalf("Observe() without keys = %+v, %v, want not existing", obs, err)
	}
	cre, err := h.ext.Create(ctx, cr)
	if err != nil {
		t.Fatal(err)
	}
	id := meta.GetExternalName(cr)
	cd := cre.ConnectionDetails
	if id == "" || string(cd["id"]) != id || string(cd["name"]) != "orders-to-logs" || len(cd["api_key"]) == 0 || len(cd["encoded"]) == 0 {
		t.Fatalf("Create() external name %q, connection details id=%q name=%q api_key? %v encoded? %v", id, cd["id"], cd["name"], len(cd["api_key"]) > 0, len(cd["encoded"]) > 0)
	}
	// Create published the Secret and recorded the id itself, before the
	// managed reconciler does, so that a crash in between loses nothing.
	stored := &esv1alpha1.CrossClusterAPIKey{}
	if err := h.kube.Get(ctx, types.NamespacedName{Namespace: "team-a", Name: "orders"}, stored); err != nil {
		t.Fatal(err)
	}
	if meta.GetExternalName(stored) != id {
		t.Errorf("stored external name = %q, want %q", meta.GetExternalName(stored), id)
	}
	if s := h.secret(); s == nil || string(s.Data["id"]) != id {
		t.Fatalf("Create() did not publish the Secret whole: %v", s)
	}
	keys := h.srv.Keys()
	if len(keys) != 1 {
		t.Fatalf("fake holds %d keys, want 1", len(keys))
	}
	var md map[string]string
	if err := json.Unmarshal(keys[0].Metadata, &md); err != nil {
		t.Fatal(err)
	}
	for k, want := range map[string]string{
		esv1alpha1.MetadataManagedBy: "eslink", esv1alpha1.MetadataNamespace: "team-a",
		esv1alpha1.MetadataName: "orders", esv1alpha1.MetadataUID: "5f1e3c0a-uid",
	} {
		if md[k] != want {
			t.Errorf("key metadata %s = %q, want %q", k, md[k], want)
		}
	}

	h.srv.ResetRequests()
	obs, err = h.external(h.ext.version).Observe(ctx, cr)
	if err != nil || !obs.ResourceExists || !obs.ResourceUpToDate {
		t.Fatalf("Observe() after create = %+v, %v, want existing and up to date", obs, err)
	}
	// One request per poll: the owner query; the Secret says which key.
	if diff := cmp.Diff(map[string]int{"POST /_security/_query/api_key": 1}, h.srv.Counts()); diff != "" {
		t.Errorf("Observe() requests: -want +got:\n%s", diff)
	}
	if diff := cmp.Diff(cd, obs.ConnectionDetails); diff != "" {
		t.Errorf("Observe() connection details differ from the published ones (the reconciler would rewrite the Secret): -want +got:\n%s", diff)
	}
	if c := readyCondition(cr); c.Status != corev1.ConditionTrue {
		t.Errorf("Ready = %+v, want True", c)
	}
	ap := cr.Status.AtProvider
	if ap.ID != id || ap.Name != "orders-to-logs" || ap.Creation == nil || !ap.AccessMatches || ap.Invalidated || ap.NextRotation != nil {
		t.Errorf("atProvider = %+v, want the key's id, name, creation, matching access and no rotation", ap)
	}
	noSecrets(t, cr, nil, string(cd["api_key"]), string(cd["encoded"]))

	// Change access: out of date, then updated in place, then up to date.
	cr.Spec.ForProvider.Access = &esv1alpha1.CrossClusterAccess{Replication: []commonv1alpha1.ReplicationAccess{{Names: []string{"archive-*"}}}}
	obs = h.reconcile(cr)
	if obs.ResourceUpToDate || !strings.Contains(obs.Diff, "access") {
		t.Fatalf("Observe() after access change = %+v, want an access diff", obs)
	}
	if got := string(h.srv.Keys()[0].Access); got != `{"replication":[{"names":["archive-*"],"allow_restricted_indices":false}]}` {
		t.Errorf("access in Elasticsearch after update = %s", got)
	}
	if obs = h.reconcile(cr); !obs.ResourceUpToDate {
		t.Fatalf("Observe() after update = %+v, want up to date", obs)
	}
	h.assertOneValidKey(cr)

	now := metav1.Now()
	cr.SetDeletionTimestamp(&now)
	e := h.external(h.ext.version)
	if obs, err = e.Observe(ctx, cr); err != nil || !obs.ResourceExists {
		t.Fatalf("Observe() while deleting = %+v, %v, want existing", obs, err)
	}
	if _, err := e.Delete(ctx, cr); err != nil {
		t.Fatal(err)
	}
	if active := h.active(); len(active) != 0 {
		t.Errorf("active keys after Delete() = %v, want none", active)
	}
	if h.secret() != nil {
		t.Error("connection Secret still exists after Delete()")
	}
	if obs, err = h.external(h.ext.version).Observe(ctx, cr); err != nil || obs.ResourceExists {
		t.Errorf("Observe() after delete = %+v, %v, want not existing so the finalizer goes", obs, err)
	}
}

// TestRecovery starts from the state each crash leaves behind, and checks
// that one reconcile reaches one valid key held by the Secret.
func TestRecovery(t *testing.T) {
	cases := map[string]struct {
		reason string
		// crash builds the state; it returns keys that must end invalidated
		// and the key that must end current ("" for a new one).
		crash func(h *harness, cr *esv1alpha1.CrossClusterAPIKey) (dead []string, current string)
	}{
		"CreatedNotPublished": {
			reason: "A key whose secret was never published is replaced: its secret cannot be read back.",
			crash: func(h *harness, cr *esv1alpha1.CrossClusterAPIKey) ([]string, string) {
				k := h.ownKey(cr, "")
				meta.SetExternalCreatePending(cr, time.Now())
				return []string{k.ID}, ""
			},
		},
		"PublishedNotRecorded": {
			reason: "The key the Secret holds is adopted and recorded, not replaced.",
			crash: func(h *harness, cr *esv1alpha1.CrossClusterAPIKey) ([]string, string) {
				k := h.ownKey(cr, "")
				h.publishKey(cr, k)
				meta.SetExternalCreatePending(cr, time.Now())
				return nil, k.ID
			},
		},
		"RotationCreatedSuccessor": {
			reason: "A successor that never reached the Secret is a stray: invalidated, the current key stays.",
			crash: func(h *harness, cr *esv1alpha1.CrossClusterAPIKey) ([]string, string) {
				k1, k2 := h.ownKey(cr, ""), h.ownKey(cr, "")
				h.publishKey(cr, k1)
				meta.SetExternalName(cr, k1.ID)
				return []string{k2.ID}, k1.ID
			},
		},
		"RotationPublishedSuccessor": {
			reason: "Once the Secret holds the successor, it is current and the old key goes.",
			crash: func(h *harness, cr *esv1alpha1.CrossClusterAPIKey) ([]string, string) {
				k1, k2 := h.ownKey(cr, ""), h.ownKey(cr, "")
				h.publishKey(cr, k2)
				meta.SetExternalName(cr, k1.ID)
				return []string{k1.ID}, k2.ID
			},
		},
		"SecretDeleted": {
			reason: "A deleted Secret gets a new key, and only then is the old one invalidated.",
			crash: func(h *harness, cr *esv1alpha1.CrossClusterAPIKey) ([]string, string) {
				k1 := h.ownKey(cr, "")
				meta.SetExternalName(cr, k1.ID)
				return []string{k1.ID}, ""
			},
		},
		"SecretIDOfOtherKey": {
			reason: "A Secret whose id and encoded key belong to different keys is never trusted.",
			crash: func(h *harness, cr *esv1alpha1.CrossClusterAPIKey) ([]string, string) {
				k1, k2 := h.ownKey(cr, ""), h.ownKey(cr, "")
				mixed := *k1
				mixed.ID = k2.ID // the id of one key with the secret of the other
				h.publishKey(cr, &mixed)
				meta.SetExternalName(cr, k1.ID)
				return []string{k1.ID, k2.ID}, ""
			},
		},
		"SecretNamesExpiredKey": {
			reason: "An expired key in the Secret is no key: a new one is created.",
			crash: func(h *harness, cr *esv1alpha1.CrossClusterAPIKey) ([]string, string) {
				cr.Spec.ForProvider.Expiration = ptr("2m")
				k1 := h.ownKey(cr, "")
				h.publishKey(cr, k1)
				meta.SetExternalName(cr, k1.ID)
				h.clock.Set(h.clock.Now().Add(3 * time.Minute))
				return nil, ""
			},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			h := newHarness(t, esfake.Options{})
			cr := newKey()
			if err := h.kube.Create(ctx, cr); err != nil {
				t.Fatal(err)
			}
			dead, current := tc.crash(h, cr)
			if err := h.kube.Update(ctx, cr); err != nil {
				t.Fatal(err)
			}
			h.reconcile(cr)
			if obs := h.reconcile(cr); !obs.ResourceUpToDate {
				t.Fatalf("%s\nsecond reconcile = %+v, want up to date", tc.reason, obs)
			}
			id := h.assertOneValidKey(cr)
			if current != "" && id != current {
				t.Errorf("%s\ncurrent key = %s, want %s", tc.reason, id, current)
			}
			for _, d := range dead {
				if d == id {
					t.Errorf("%s\nkey %s is current, want it invalidated", tc.reason, d)
				}
			}
			if c := readyCondition(cr); c.Status != corev1.ConditionTrue {
				t.Errorf("%s\nReady = %+v, want True", tc.reason, c)
			}
		})
	}
}

// TestSecretLossIsNotReady: between the loss and the replacement, the
// resource never reports Ready with a Secret that holds no valid key.
func TestSecretLossIsNotReady(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t, esfake.Options{})
	cr := newKey()
	if err := h.kube.Create(ctx, cr); err != nil {
		t.Fatal(err)
	}
	h.reconcile(cr)
	old := h.assertOneValidKey(cr)
	if err := h.kube.Delete(ctx, h.secret()); err != nil {
		t.Fatal(err)
	}
	obs, err := h.external(h.ext.version).Observe(ctx, cr)
	if err != nil || !obs.ResourceExists || obs.ResourceUpToDate || len(obs.ConnectionDetails) != 0 {
		t.Fatalf("Observe() with the Secret gone = %+v, %v, want an existing key that is out of date, with nothing to publish", obs, err)
	}
	if c := readyCondition(cr); c.Status != corev1.ConditionFalse || c.Reason != conditions.ReasonConnectionSecretBad || !strings.Contains(c.Message, "does not exist") {
		t.Errorf("Ready = %+v, want False with reason %s", c, conditions.ReasonConnectionSecretBad)
	}
	h.srv.ResetRequests()
	h.reconcile(cr)
	id := h.assertOneValidKey(cr)
	if id == old {
		t.Fatal("the old key is current again, though its secret was lost")
	}
	// The new key was created, then the old one invalidated: never the
	// other way round.
	if diff := cmp.Diff([]string{"POST /_security/cross_cluster/api_key", "DELETE /_security/api_key"}, esWrites(h.srv)); diff != "" {
		t.Errorf("writes to Elasticsearch: -want +got:\n%s", diff)
	}
}

func TestHandover(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t, esfake.Options{})
	cr := newKey()
	cr.Spec.ForProvider.Expiration = ptr("2m")
	cr.Spec.ForProvider.RotateBefore = ptr("1m")
	cr.Spec.ForProvider.Handover = &esv1alpha1.KeyHandover{}
	if err := h.kube.Create(ctx, cr); err != nil {
		t.Fatal(err)
	}
	h.reconcile(cr)
	k1 := h.assertOneValidKey(cr)
	cr.Spec.ForProvider.Handover.ConsumerKeyID = k1
	start := h.clock.Now()

	// Rotation: the successor is published, the replaced key stays valid.
	h.clock.Set(start.Add(61 * time.Second))
	h.reconcile(cr)
	k2 := string(h.secret().Data["id"])
	if k2 == k1 {
		t.Fatal("no rotation when due")
	}
	if diff := cmp.Diff([]string{k1, k2}, h.active()); diff != "" {
		t.Errorf("active keys during handover: -want +got:\n%s", diff)
	}
	obs := h.reconcile(cr)
	if !obs.ResourceUpToDate || cr.Status.AtProvider.AwaitingHandoverKeyID != k1 || cr.Status.AtProvider.ID != k2 {
		t.Fatalf("while the consumer uses %s: observation %+v, atProvider %+v, want up to date, %s awaiting handover", k1, obs, cr.Status.AtProvider, k1)
	}

	// A crash or a lost Secret keeps the key the consumer still uses.
	if err := h.kube.Delete(ctx, h.secret()); err != nil {
		t.Fatal(err)
	}
	h.reconcile(cr)
	k3 := string(h.secret().Data["id"])
	active := h.active()
	if k3 == k2 || len(active) != 2 || active[0] != k2 || active[1] != k3 {
		t.Fatalf("after the Secret was lost during handover: active %v, Secret %s, want %s kept and a new key", active, k3, k2)
	}

	// The consumer takes up the current key: the replaced key goes.
	cr.Spec.ForProvider.Handover.ConsumerKeyID = k3
	h.reconcile(cr)
	if diff := cmp.Diff([]string{k3}, h.active()); diff != "" {
		t.Errorf("active keys after handover: -want +got:\n%s", diff)
	}
	if obs := h.reconcile(cr); !obs.ResourceUpToDate || cr.Status.AtProvider.AwaitingHandoverKeyID != "" {
		t.Errorf("after handover = %+v, atProvider %+v, want up to date and nothing awaiting", obs, cr.Status.AtProvider)
	}
}

func TestRotationWaitsForHandover(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t, esfake.Options{})
	cr := newKey()
	cr.Spec.ForProvider.Expiration = ptr("2m")
	cr.Spec.ForProvider.RotateBefore = ptr("1m")
	cr.Spec.ForProvider.Handover = &esv1alpha1.KeyHandover{}
	if err := h.kube.Create(ctx, cr); err != nil {
		t.Fatal(err)
	}
	h.reconcile(cr)
	start := h.clock.Now()
	h.clock.Set(start.Add(61 * time.Second))
	h.reconcile(cr)
	k2 := string(h.secret().Data["id"])
	// k2 is due too, but its predecessor still awaits handover.
	h.clock.Set(start.Add(119 * time.Second))
	if obs := h.reconcile(cr); !obs.ResourceUpToDate {
		t.Fatalf("rotation while a handover is pending: %+v", obs)
	}
	if got := string(h.secret().Data["id"]); got != k2 {
		t.Errorf("Secret holds %s, want %s: no rotation before the last one finished", got, k2)
	}
}

func TestRotation(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t, esfake.Options{})
	cr := newKey()
	cr.Spec.ForProvider.Expiration = ptr("1m")
	cr.Spec.ForProvider.RotateBefore = ptr("20s")
	h.minLifetime = 30 * time.Second
	if err := h.kube.Create(ctx, cr); err != nil {
		t.Fatal(err)
	}
	start := h.clock.Now()
	h.reconcile(cr)
	k1 := h.assertOneValidKey(cr)
	if nr := cr.Status.AtProvider.NextRotation; nr != nil {
		t.Errorf("nextRotation before the first observation = %v", nr)
	}
	h.reconcile(cr)
	if nr := cr.Status.AtProvider.NextRotation; nr == nil || !nr.Time.Equal(start.Add(40*time.Second)) {
		t.Errorf("nextRotation = %v, want %s", nr, start.Add(40*time.Second))
	}

	creates := func() int { return h.srv.Counts()["POST /_security/cross_cluster/api_key"] }
	h.srv.ResetRequests()
	h.clock.Set(start.Add(39 * time.Second))
	if obs := h.reconcile(cr); !obs.ResourceUpToDate || creates() != 0 {
		t.Fatalf("a second before the due date: %+v, %d creates", obs, creates())
	}
	h.clock.Set(start.Add(40 * time.Second))
	if obs := h.reconcile(cr); obs.ResourceUpToDate || !strings.Contains(obs.Diff, "rotation") {
		t.Fatalf("at the due date: %+v, want a rotation", obs)
	}
	k2 := h.assertOneValidKey(cr)
	if k2 == k1 || creates() != 1 {
		t.Fatalf("after rotation: current %s (was %s), %d creates, want one new key", k2, k1, creates())
	}
	// The successor is due 40s after its own creation, not before.
	for _, d := range []time.Duration{41 * time.Second, 50 * time.Second, 79 * time.Second} {
		h.clock.Set(start.Add(d))
		if obs := h.reconcile(cr); !obs.ResourceUpToDate {
			t.Fatalf("at +%s: %+v, want up to date", d, obs)
		}
	}
	if creates() != 1 {
		t.Errorf("%d creates for one due date, want 1", creates())
	}
	h.clock.Set(start.Add(80 * time.Second))
	h.reconcile(cr)
	if creates() != 2 {
		t.Errorf("%d creates by the successor's due date, want 2", creates())
	}
	h.assertOneValidKey(cr)
}

// keyExpiringIn30d creates a key resource with expiration 30d and its key.
func (h *harness) keyExpiringIn30d() (*esv1alpha1.CrossClusterAPIKey, string) {
	h.t.Helper()
	cr := newKey()
	cr.Spec.ForProvider.Expiration = ptr("30d")
	if err := h.kube.Create(context.Background(), cr); err != nil {
		h.t.Fatal(err)
	}
	h.reconcile(cr)
	return cr, h.assertOneValidKey(cr)
}

func TestExpirationChange(t *testing.T) {
	for _, tc := range []struct {
		version string
		rotates bool
	}{
		{version: "9.3.2"},
		{version: "8.13.0"},
		{version: "8.12.2", rotates: true},
	} {
		t.Run(tc.version, func(t *testing.T) {
			h := newHarness(t, esfake.Options{Version: tc.version})
			cr, k1 := h.keyExpiringIn30d()
			cr.Spec.ForProvider.Expiration = ptr("2d")
			h.clock.Set(h.clock.Now().Add(time.Hour))
			if obs := h.reconcile(cr); obs.ResourceUpToDate {
				t.Fatal("a changed expiration is up to date")
			}
			k := h.assertOneValidKey(cr)
			if (k != k1) != tc.rotates {
				t.Fatalf("current key %s (was %s): rotated %v, want %v", k, k1, k != k1, tc.rotates)
			}
			var exp time.Time
			for _, s := range h.srv.Keys() {
				if s.ID == k {
					exp = *s.Expiration
				}
			}
			if want := h.clock.Now().Add(48 * time.Hour); !exp.Equal(want) {
				t.Errorf("key %s expires at %s, want %s (2d from the change)", k, exp, want)
			}
			if obs := h.reconcile(cr); !obs.ResourceUpToDate {
				t.Errorf("after the change = %+v, want up to date", obs)
			}
		})
	}
}

// TestSpecChangeWaitsForMinLifetime: a change of spec that needs a new key
// (removing expiration) does not replace a key younger than the minimum
// lifetime, so toggling the field cannot churn keys; forceReplaceBefore
// replaces it at once, and once.
func TestSpecChangeWaitsForMinLifetime(t *testing.T) {
	h := newHarness(t, esfake.Options{})
	cr, k1 := h.keyExpiringIn30d()
	for i := range 4 {
		if i%2 == 0 {
			cr.Spec.ForProvider.Expiration = nil
		} else {
			cr.Spec.ForProvider.Expiration = ptr("30d")
		}
		h.clock.Set(h.clock.Now().Add(5 * time.Second))
		h.reconcile(cr)
		if k := h.assertOneValidKey(cr); k != k1 {
			t.Fatalf("change %d replaced key %s by %s before it served the minimum lifetime", i, k1, k)
		}
	}
	if n := len(h.srv.Keys()); n != 1 {
		t.Fatalf("toggling expiration made %d keys, want 1", n)
	}
	// Forced: replaced once the time has come (the updates before it do
	// not mark the key as already replaced), and only once.
	cr.Spec.ForProvider.Expiration = nil
	cr.Spec.ForProvider.ForceReplaceBefore = timeOf(h.clock.Now().Add(2 * time.Second))
	h.reconcile(cr)
	if k := h.assertOneValidKey(cr); k != k1 {
		t.Fatalf("forceReplaceBefore replaced key %s before its time", k1)
	}
	h.clock.Set(h.clock.Now().Add(3 * time.Second))
	h.reconcile(cr)
	k2 := h.assertOneValidKey(cr)
	if k2 == k1 {
		t.Fatalf("forceReplaceBefore did not replace key %s", k1)
	}
	h.clock.Set(h.clock.Now().Add(time.Second))
	h.reconcile(cr)
	if k := h.assertOneValidKey(cr); k != k2 || len(h.srv.Keys()) != 2 {
		t.Errorf("after the forced replacement: current %s (want %s), %d keys (want 2)", k, k2, len(h.srv.Keys()))
	}
}

// TestKeyOfAnotherESUser: only the Elasticsearch user that created a key
// may update it; after a change of credentials the key is replaced.
func TestKeyOfAnotherESUser(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t, esfake.Options{Users: []esfake.User{
		{Name: adminUser, Password: adminPass, Privileges: []string{"manage_security", "monitor"}},
		{Name: "successor", Password: "successor-pass-2", Privileges: []string{"manage_security", "monitor"}},
	}})
	cr := newKey()
	if err := h.kube.Create(ctx, cr); err != nil {
		t.Fatal(err)
	}
	h.reconcile(cr)
	k1 := h.assertOneValidKey(cr)
	es, err := elasticsearch.New(elasticsearch.Config{URL: h.srv.URL, Username: "successor", Password: "successor-pass-2", CACert: h.srv.CACertPEM})
	if err != nil {
		t.Fatal(err)
	}
	h.es = es
	cr.Spec.ForProvider.Access = &esv1alpha1.CrossClusterAccess{Replication: []commonv1alpha1.ReplicationAccess{{Names: []string{"archive-*"}}}}
	h.reconcile(cr)
	k2 := h.assertOneValidKey(cr)
	if k2 == k1 {
		t.Fatal("the key of another Elasticsearch user was not replaced")
	}
	for _, k := range h.srv.Keys() {
		if k.ID == k2 && k.Owner != "successor" {
			t.Errorf("new key owned by %s, want successor", k.Owner)
		}
	}
}

// TestOwnershipRefused: a hand-written external name that points at
// another resource's key is never adopted, updated or invalidated.
func TestOwnershipRefused(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t, esfake.Options{})
	victim := newKey()
	victim.Name, victim.UID = "victim", "victim-uid"
	victimKey := h.ownKey(victim, "")

	cr := newKey()
	meta.SetExternalName(cr, victimKey.ID)
	if err := h.kube.Create(ctx, cr); err != nil {
		t.Fatal(err)
	}
	h.srv.ResetRequests()
	_, err := h.external(h.ext.version).Observe(ctx, cr)
	if err == nil {
		t.Fatal("Observe() adopted another resource's key")
	}
	c := readyCondition(cr)
	if c.Reason != conditions.ReasonKeyNotOwned || !strings.Contains(c.Message, "crossplane.io/external-name") || !strings.Contains(c.Message, victimKey.ID) {
		t.Errorf("Ready = %+v, want reason %s naming the annotation and the key", c, conditions.ReasonKeyNotOwned)
	}
	if cr.Status.AtProvider.ID != "" || cr.Status.AtProvider.Access != nil {
		t.Errorf("atProvider reports the other key: %+v", cr.Status.AtProvider)
	}

	// Deleting the resource invalidates only what it owns: nothing.
	now := metav1.Now()
	cr.SetDeletionTimestamp(&now)
	e := h.external(h.ext.version)
	obs, err := e.Observe(ctx, cr)
	if err != nil || obs.ResourceExists {
		t.Fatalf("Observe() while deleting = %+v, %v, want nothing of its own", obs, err)
	}
	if w := esWrites(h.srv); len(w) != 0 {
		t.Errorf("writes to Elasticsearch: %v, want none", w)
	}
	if diff := cmp.Diff([]string{victimKey.ID}, h.active()); diff != "" {
		t.Errorf("active keys: -want +got:\n%s", diff)
	}
}

// TestOwnershipRefusedRevealsNothing: a hand-written external name gets
// the same answer whether it names another resource's key or no key at
// all, so that it tells a team nothing about the remote's keys; the id
// the resource's own Secret holds, gone from the remote, is replaced.
func TestOwnershipRefusedRevealsNothing(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t, esfake.Options{})
	victim := newKey()
	victim.Name, victim.UID = "victim", "victim-uid"
	victimKey := h.ownKey(victim, "")
	const madeUp = "AAAAAAAAAAAAAAAAAAAA"

	answer := func(id string) (managed.ExternalObservation, xpv2.Condition, error) {
		cr := newKey()
		meta.SetExternalName(cr, id)
		obs, err := h.ext.Observe(ctx, cr)
		return obs, readyCondition(cr), err
	}
	obsV, cV, errV := answer(victimKey.ID)
	obsM, cM, errM := answer(madeUp)
	if errV == nil || cV.Reason != conditions.ReasonKeyNotOwned || !strings.Contains(cV.Message, "crossplane.io/external-name") {
		t.Fatalf("Observe() of another resource's key = %v, Ready = %+v, want reason %s", errV, cV, conditions.ReasonKeyNotOwned)
	}
	if obsV.ResourceExists != obsM.ResourceExists || (errM == nil) || cV.Reason != cM.Reason || cV.Message != strings.ReplaceAll(cM.Message, madeUp, victimKey.ID) {
		t.Errorf("another resource's key and a made-up id get different answers:\n%+v, %v, %s: %s\n%+v, %v, %s: %s", obsV, errV, cV.Reason, cV.Message, obsM, errM, cM.Reason, cM.Message)
	}

	// The resource's own Secret holds the id: its key is gone from the
	// remote, and a new one replaces it.
	cr := newKey()
	if err := h.kube.Create(ctx, cr); err != nil {
		t.Fatal(err)
	}
	const gone = "BBBBBBBBBBBBBBBBBBBB"
	h.publishKey(cr, &elasticsearch.CreatedKey{ID: gone, Name: cr.Spec.ForProvider.Name, APIKey: "purged-secret",
		Encoded: base64.StdEncoding.EncodeToString([]byte(gone + ":purged-secret"))})
	meta.SetExternalName(cr, gone)
	if obs, err := h.ext.Observe(ctx, cr); err != nil || obs.ResourceExists {
		t.Errorf("Observe() of the resource's own key, gone from the remote = %+v, %v, want a new key to be created", obs, err)
	}
}

func TestPoliciesRefused(t *testing.T) {
	ctx := context.Background()
	for _, policies := range []xpv2.ManagementPolicies{
		{xpv2.ManagementActionObserve, xpv2.ManagementActionDelete},
		{xpv2.ManagementActionObserve, xpv2.ManagementActionUpdate, xpv2.ManagementActionLateInitialize},
	} {
		t.Run(strings.Trim(strings.ReplaceAll(strings.Join(policyStrings(policies), ""), " ", ""), "[]"), func(t *testing.T) {
			h := newHarness(t, esfake.Options{})
			other := newKey()
			other.UID = "other-uid"
			k := h.ownKey(other, "")
			cr := newKey(policies...)
			cr.Spec.ForProvider.Name = other.Spec.ForProvider.Name
			_, err := h.ext.Observe(ctx, cr)
			c := readyCondition(cr)
			if err == nil || c.Reason != conditions.ReasonPoliciesRefused || !strings.Contains(c.Message, "spec.managementPolicies") {
				t.Errorf("Observe() = %v, Ready = %+v, want reason %s naming spec.managementPolicies", err, c, conditions.ReasonPoliciesRefused)
			}
			now := metav1.Now()
			cr.SetDeletionTimestamp(&now)
			if obs, err := h.ext.Observe(ctx, cr); err != nil || obs.ResourceExists {
				t.Errorf("Observe() while deleting = %+v, %v, want nothing to delete", obs, err)
			}
			if _, err := h.ext.Delete(ctx, cr); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff([]string{k.ID}, h.active()); diff != "" {
				t.Errorf("active keys: -want +got:\n%s", diff)
			}
			if w := esWrites(h.srv); len(w) != 1 {
				t.Errorf("writes to Elasticsearch: %v, want only the test's own create", w)
			}
		})
	}
}

func policyStrings(p xpv2.ManagementPolicies) []string {
	out := make([]string, 0, len(p))
	for _, a := range p {
		out = append(out, string(a))
	}
	return out
}

func TestInvalidSpec(t *testing.T) {
	cases := map[string]struct {
		mutate func(*esv1alpha1.CrossClusterAPIKey)
		want   string
	}{
		"RotateBeforeNotShorter": {
			mutate: func(cr *esv1alpha1.CrossClusterAPIKey) {
				cr.Spec.ForProvider.Expiration, cr.Spec.ForProvider.RotateBefore = ptr("1d"), ptr("2d")
			},
			want: "spec.forProvider.rotateBefore 2d must be shorter than spec.forProvider.expiration 1d",
		},
		"BelowMinimumLifetime": {
			mutate: func(cr *esv1alpha1.CrossClusterAPIKey) { cr.Spec.ForProvider.Expiration = ptr("30s") },
			want:   "shorter than the minimum key lifetime 1m0s that the provider's --min-key-lifetime sets",
		},
		"NoConnectionSecret": {
			mutate: func(cr *esv1alpha1.CrossClusterAPIKey) { cr.Spec.WriteConnectionSecretToReference = nil },
			want:   "spec.writeConnectionSecretToReference is required",
		},
		"ECKPrefix": {
			mutate: func(cr *esv1alpha1.CrossClusterAPIKey) { cr.Spec.ForProvider.Name = "eck-ns1-cluster1-logs" },
			want:   "spec.forProvider.name \"eck-ns1-cluster1-logs\" begins with eck-",
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			h := newHarness(t, esfake.Options{})
			cr := newKey()
			tc.mutate(cr)
			h.srv.ResetRequests()
			_, err := h.ext.Observe(context.Background(), cr)
			c := readyCondition(cr)
			if err == nil || c.Reason != conditions.ReasonInvalidSpec || !strings.Contains(c.Message, tc.want) {
				t.Errorf("Observe() = %v, Ready = %+v, want reason %s with %q", err, c, conditions.ReasonInvalidSpec, tc.want)
			}
			if n := len(h.srv.Requests()); n != 0 {
				t.Errorf("%d requests to Elasticsearch for an invalid spec, want none", n)
			}
		})
	}
}

func TestObserveOnly(t *testing.T) {
	ctx := context.Background()
	local := eckschema.NewElasticsearch()
	local.SetNamespace("team-a")
	local.SetName("cluster1")
	h := newHarness(t, esfake.Options{}, local)
	cr := newKey(xpv2.ManagementActionObserve)
	cr.Spec.ForProvider.Name = "eck-team-a-cluster1-logs"
	cr.Spec.WriteConnectionSecretToReference = nil

	obs, err := h.ext.Observe(ctx, cr)
	if err != nil || obs.ResourceExists {
		t.Fatalf("Observe() with no key = %+v, %v, want not existing", obs, err)
	}
	if c := readyCondition(cr); c.Reason != conditions.ReasonKeyNotFound || !strings.Contains(c.Message, "key not found in observe mode") || !strings.Contains(c.Message, "eck-team-a-cluster1-logs") {
		t.Errorf("Ready = %+v, want reason %s naming the key", c, conditions.ReasonKeyNotFound)
	}

	access, _ := desiredAccess(cr.Spec.ForProvider.Access)
	eckMD := map[string]json.RawMessage{eckMetadataNamespace: json.RawMessage(`"team-a"`), eckMetadataName: json.RawMessage(`"cluster1"`)}
	k1, err := h.es.CreateCrossClusterAPIKey(ctx, elasticsearch.CreateRequest{Name: cr.Spec.ForProvider.Name, Access: access, Metadata: eckMD})
	if err != nil {
		t.Fatal(err)
	}
	h.srv.ResetRequests()
	obs, err = h.ext.Observe(ctx, cr)
	if err != nil || !obs.ResourceExists || !obs.ResourceUpToDate {
		t.Fatalf("Observe() with one key = %+v, %v, want existing and up to date", obs, err)
	}
	if cr.Status.AtProvider.ID != k1.ID || !cr.Status.AtProvider.AccessMatches {
		t.Errorf("atProvider = %+v, want id %s with matching access", cr.Status.AtProvider, k1.ID)
	}
	if meta.GetExternalName(cr) != "" {
		t.Error("Observe() set the external name; an observing resource follows the key by name")
	}
	if c := readyCondition(cr); c.Status != corev1.ConditionTrue {
		t.Errorf("Ready = %+v, want True", c)
	}
	if diff := cmp.Diff(map[string]int{"GET /_security/api_key": 1}, h.srv.Counts()); diff != "" {
		t.Errorf("observe-only requests: -want +got:\n%s", diff)
	}

	// Access that differs from what the key grants is reported, not fixed.
	cr.Spec.ForProvider.Access = &esv1alpha1.CrossClusterAccess{Replication: []commonv1alpha1.ReplicationAccess{{Names: []string{"other"}}}}
	if obs, err = h.ext.Observe(ctx, cr); err != nil || !obs.ResourceUpToDate {
		t.Fatalf("Observe() with other access = %+v, %v", obs, err)
	}
	if c := readyCondition(cr); c.Reason != conditions.ReasonAccessMismatch || cr.Status.AtProvider.AccessMatches {
		t.Errorf("Ready = %+v, accessMatches %v, want reason %s", c, cr.Status.AtProvider.AccessMatches, conditions.ReasonAccessMismatch)
	}

	k2, err := h.es.CreateCrossClusterAPIKey(ctx, elasticsearch.CreateRequest{Name: cr.Spec.ForProvider.Name, Access: access, Metadata: eckMD})
	if err != nil {
		t.Fatal(err)
	}
	_, err = h.ext.Observe(ctx, cr)
	if err == nil || !strings.Contains(err.Error(), k1.ID) || !strings.Contains(err.Error(), k2.ID) {
		t.Fatalf("Observe() with two keys error = %v, want one listing %s and %s", err, k1.ID, k2.ID)
	}
	if c := readyCondition(cr); c.Reason != conditions.ReasonAmbiguousKey {
		t.Errorf("Ready = %+v, want reason %s", c, conditions.ReasonAmbiguousKey)
	}

	// Pinned by id and invalidated outside: reported, not recreated.
	meta.SetExternalName(cr, k1.ID)
	if err := h.es.InvalidateAPIKeys(ctx, k1.ID); err != nil {
		t.Fatal(err)
	}
	if obs, err = h.ext.Observe(ctx, cr); err != nil || obs.ResourceExists {
		t.Fatalf("Observe() of invalidated pinned key = %+v, %v, want not existing", obs, err)
	}
	if c := readyCondition(cr); c.Reason != conditions.ReasonKeyInvalidated || !strings.Contains(c.Message, k1.ID) {
		t.Errorf("Ready = %+v, want reason %s naming %s", c, conditions.ReasonKeyInvalidated, k1.ID)
	}
	// Observing never wrote to Elasticsearch beyond the test's own calls.
	for _, r := range h.srv.Requests() {
		if r.Method != http.MethodGet && r.Endpoint != "DELETE /_security/api_key" && r.Endpoint != "POST /_security/cross_cluster/api_key" {
			t.Errorf("observe-only sent %s", r.Endpoint)
		}
	}
}

// TestObserveOnlyLeastPrivilege: observing ECK's keys needs read_security
// (they belong to ECK's user) and monitor, not manage_security.
func TestObserveOnlyLeastPrivilege(t *testing.T) {
	ctx := context.Background()
	local := eckschema.NewElasticsearch()
	local.SetNamespace("team-a")
	local.SetName("cluster1")
	for _, tc := range []struct {
		privileges []string
		ok         bool
	}{
		{privileges: []string{"read_security", "monitor"}, ok: true},
		{privileges: []string{"manage_own_api_key", "monitor"}, ok: false},
	} {
		t.Run(strings.Join(tc.privileges, "+"), func(t *testing.T) {
			h := newHarness(t, esfake.Options{Users: []esfake.User{
				{Name: "observer", Password: "observer-pass-1", Privileges: tc.privileges},
				{Name: "elastic", Password: "changeme"},
			}}, local)
			eck, err := elasticsearch.New(elasticsearch.Config{URL: h.srv.URL, Username: "elastic", Password: "changeme", CACert: h.srv.CACertPEM})
			if err != nil {
				t.Fatal(err)
			}
			cr := newKey(xpv2.ManagementActionObserve)
			cr.Spec.WriteConnectionSecretToReference = nil
			access, _ := desiredAccess(cr.Spec.ForProvider.Access)
			k, err := eck.CreateCrossClusterAPIKey(ctx, elasticsearch.CreateRequest{Name: cr.Spec.ForProvider.Name, Access: access,
				Metadata: map[string]json.RawMessage{eckMetadataNamespace: json.RawMessage(`"team-a"`), eckMetadataName: json.RawMessage(`"cluster1"`)}})
			if err != nil {
				t.Fatal(err)
			}
			obs, err := h.ext.Observe(ctx, cr)
			found := err == nil && obs.ResourceExists && cr.Status.AtProvider.ID == k.ID
			if found != tc.ok {
				t.Errorf("Observe() with %v = %+v, %v, Ready %+v: found ECK's key %v, want %v", tc.privileges, obs, err, readyCondition(cr), found, tc.ok)
			}
		})
	}
}

// TestObserveOnlyVisibility: an observing resource reports only keys made
// for a local cluster its namespace may use.
func TestObserveOnlyVisibility(t *testing.T) {
	cluster := func(ns, name, allowed string) client.Object {
		es := eckschema.NewElasticsearch()
		es.SetNamespace(ns)
		es.SetName(name)
		if allowed != "" {
			es.SetAnnotations(map[string]string{grants.AnnotationAllowedNamespaces: allowed})
		}
		return es
	}
	eck := func(ns, name string) map[string]json.RawMessage {
		return map[string]json.RawMessage{eckMetadataNamespace: json.RawMessage(`"` + ns + `"`), eckMetadataName: json.RawMessage(`"` + name + `"`)}
	}
	eslink := func(ns string) map[string]json.RawMessage {
		return map[string]json.RawMessage{esv1alpha1.MetadataManagedBy: json.RawMessage(`"eslink"`), esv1alpha1.MetadataNamespace: json.RawMessage(`"` + ns + `"`), esv1alpha1.MetadataUID: json.RawMessage(`"u"`)}
	}
	cases := map[string]struct {
		metadata map[string]json.RawMessage
		visible  bool
	}{
		"ECKKeyOfOwnNamespace":       {metadata: eck("team-a", "mine"), visible: true},
		"ECKKeyOfGrantingCluster":    {metadata: eck("shared", "granting"), visible: true},
		"ECKKeyOfOtherTeam":          {metadata: eck("team-b", "theirs"), visible: false},
		"ECKKeyOfMissingCluster":     {metadata: eck("team-a", "gone"), visible: false},
		"EslinkKeyOfOwnNamespace":    {metadata: eslink("team-a"), visible: true},
		"EslinkKeyOfOtherNamespace":  {metadata: eslink("team-b"), visible: false},
		"EslinkKeyClaimingECKOrigin": {metadata: func() map[string]json.RawMessage { m := eslink("team-b"); maps(m, eck("team-a", "mine")); return m }(), visible: false},
		"KeyWithoutProvenance":       {metadata: map[string]json.RawMessage{"owner": json.RawMessage(`"team-a"`)}, visible: false},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			h := newHarness(t, esfake.Options{},
				cluster("team-a", "mine", ""), cluster("shared", "granting", "team-c,team-a"), cluster("team-b", "theirs", "team-b"))
			cr := newKey(xpv2.ManagementActionObserve)
			cr.Spec.WriteConnectionSecretToReference = nil
			access, _ := desiredAccess(cr.Spec.ForProvider.Access)
			k, err := h.es.CreateCrossClusterAPIKey(ctx, elasticsearch.CreateRequest{Name: cr.Spec.ForProvider.Name, Access: access, Metadata: tc.metadata})
			if err != nil {
				t.Fatal(err)
			}
			_, err = h.ext.Observe(ctx, cr)
			c := readyCondition(cr)
			if tc.visible {
				if err != nil || c.Status != corev1.ConditionTrue || cr.Status.AtProvider.ID != k.ID {
					t.Errorf("Observe() = %v, Ready = %+v, atProvider id %q, want the key %s", err, c, cr.Status.AtProvider.ID, k.ID)
				}
				return
			}
			// A key the namespace may not see gets the answer of a key
			// that does not exist: the same observation and condition.
			missing := newKey(xpv2.ManagementActionObserve)
			missing.Spec.WriteConnectionSecretToReference = nil
			missing.Spec.ForProvider.Name = "no-such-key"
			wantObs, wantErr := h.ext.Observe(ctx, missing)
			want := strings.ReplaceAll(readyCondition(missing).Message, `"no-such-key"`, fmt.Sprintf("%q", cr.Spec.ForProvider.Name))
			obs, err := h.ext.Observe(ctx, cr)
			c = readyCondition(cr)
			if obs.ResourceExists != wantObs.ResourceExists || (err == nil) != (wantErr == nil) || c.Reason != conditions.ReasonKeyNotFound || c.Message != want {
				t.Errorf("Observe() = %+v, %v, Ready = %+v; want what a missing key gets: %+v, %v, %q", obs, err, c, wantObs, wantErr, want)
			}
			if ap := cr.Status.AtProvider; ap.ID != "" || ap.Access != nil || strings.Contains(c.Message, k.ID) {
				t.Errorf("a key the namespace may not see is reported: atProvider %+v, message %q", ap, c.Message)
			}
			// The same holds when the id is pinned by hand: a real id and
			// a made-up one get the same answer.
			meta.SetExternalName(missing, "no-such-id")
			wantObs, wantErr = h.ext.Observe(ctx, missing)
			want = strings.ReplaceAll(readyCondition(missing).Message, "no-such-id", k.ID)
			want = strings.ReplaceAll(want, `"no-such-key"`, fmt.Sprintf("%q", cr.Spec.ForProvider.Name))
			meta.SetExternalName(cr, k.ID)
			obs, err = h.ext.Observe(ctx, cr)
			if obs.ResourceExists != wantObs.ResourceExists || (err == nil) != (wantErr == nil) || readyCondition(cr).Reason != conditions.ReasonKeyNotFound || readyCondition(cr).Message != want || cr.Status.AtProvider.ID != "" {
				t.Errorf("pinned by id: Observe() = %+v, %v, Ready = %+v, atProvider %+v; want %+v, %v, %q", obs, err, readyCondition(cr), cr.Status.AtProvider, wantObs, wantErr, want)
			}
		})
	}
}

func maps(dst, src map[string]json.RawMessage) {
	for k, v := range src {
		dst[k] = v
	}
}

func TestErrorsBecomeConditions(t *testing.T) {
	ctx := context.Background()
	cases := map[string]struct {
		opts   esfake.Options
		setup  func(*harness, *esv1alpha1.CrossClusterAPIKey)
		op     func(*harness, *esv1alpha1.CrossClusterAPIKey) error
		reason xpv2.ConditionReason
		substr string
	}{
		"LicenseBasic": {
			opts:   esfake.Options{License: "basic"},
			op:     func(h *harness, cr *esv1alpha1.CrossClusterAPIKey) error { _, err := h.ext.Create(ctx, cr); return err },
			reason: xpv2.ConditionReason(elasticsearch.ReasonLicense), substr: "license",
		},
		"MissingPrivilege": {
			opts:   esfake.Options{Users: []esfake.User{{Name: "limited", Password: "limited-pass-1", Privileges: []string{"manage_own_api_key", "monitor"}}}},
			op:     func(h *harness, cr *esv1alpha1.CrossClusterAPIKey) error { _, err := h.ext.Create(ctx, cr); return err },
			reason: xpv2.ConditionReason(elasticsearch.ReasonPrivilege), substr: "granted by the cluster privileges [manage_security,all]",
		},
		"CertificateIdentityTooOld": {
			opts: esfake.Options{Version: "9.2.1"},
			setup: func(_ *harness, cr *esv1alpha1.CrossClusterAPIKey) {
				cr.Spec.ForProvider.CertificateIdentity = ptr("^CN=local$")
			},
			op:     func(h *harness, cr *esv1alpha1.CrossClusterAPIKey) error { _, err := h.ext.Create(ctx, cr); return err },
			reason: xpv2.ConditionReason(elasticsearch.ReasonVersion), substr: "spec.forProvider.certificateIdentity",
		},
		"UnreachableObserve": {
			setup: func(h *harness, _ *esv1alpha1.CrossClusterAPIKey) { h.srv.Close() },
			op: func(h *harness, cr *esv1alpha1.CrossClusterAPIKey) error {
				_, err := h.ext.Observe(ctx, cr)
				return err
			},
			reason: xpv2.ConditionReason(elasticsearch.ReasonUnreachable), substr: "unreachable",
		},
		"ServerErrorDelete": {
			setup: func(h *harness, cr *esv1alpha1.CrossClusterAPIKey) {
				h.ownKey(cr, "")
				now := metav1.Now()
				cr.SetDeletionTimestamp(&now)
				if _, err := h.ext.Observe(ctx, cr); err != nil {
					h.t.Fatal(err)
				}
				h.srv.InjectFault(esfake.Fault{Method: "DELETE", Status: 500})
			},
			op:     func(h *harness, cr *esv1alpha1.CrossClusterAPIKey) error { _, err := h.ext.Delete(ctx, cr); return err },
			reason: xpv2.ConditionReason(elasticsearch.ReasonServer), substr: "invalidate",
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			h := newHarness(t, tc.opts)
			cr := newKey()
			if err := h.kube.Create(ctx, cr); err != nil {
				t.Fatal(err)
			}
			if tc.setup != nil {
				tc.setup(h, cr)
			}
			err := tc.op(h, cr)
			if err == nil {
				t.Fatal("want an error")
			}
			c := readyCondition(cr)
			if c.Reason != tc.reason || c.Status != corev1.ConditionFalse {
				t.Errorf("Ready = %+v, want False with reason %s", c, tc.reason)
			}
			if h := cr.GetCondition(xpv2.TypeHealthy); h.Reason != tc.reason || h.Status != corev1.ConditionFalse {
				t.Errorf("Healthy = %+v, want False with reason %s", h, tc.reason)
			}
			if !strings.Contains(c.Message, tc.substr) || !strings.Contains(err.Error(), tc.substr) {
				t.Errorf("message %q / error %q does not mention %q", c.Message, err, tc.substr)
			}
			noSecrets(t, cr, err, adminPass, "limited-pass-1")
		})
	}
}

var _ resource.Managed = &esv1alpha1.CrossClusterAPIKey{}
