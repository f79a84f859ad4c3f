package crossclusterapikey

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"strings"
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
	"github.com/eslink/eslink/provider/internal/clients/elasticsearch"
	"github.com/eslink/eslink/test/fakeelasticsearch/esfake"
)

const (
	adminUser = "provider"
	adminPass = "provider-password-1"
)

type harness struct {
	t    *testing.T
	srv  *esfake.Server
	es   *elasticsearch.Client
	kube client.Client
	ext  *external
}

func newHarness(t *testing.T, opts esfake.Options, objs ...client.Object) *harness {
	t.Helper()
	opts.TLS = true
	if opts.Users == nil {
		opts.Users = []esfake.User{{Name: adminUser, Password: adminPass, Privileges: []string{"manage_security", "monitor"}}}
	}
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
	h := &harness{t: t, srv: srv, es: es, kube: kube}
	v, err := es.Version(context.Background())
	if err != nil && elasticsearch.ReasonOf(err) != elasticsearch.ReasonVersion {
		t.Fatal(err)
	}
	h.ext = &external{kube: kube, publisher: managed.NewAPILocalSecretPublisher(kube, s), es: es, version: v,
		record: event.NewNopRecorder(), log: logging.NewNopLogger(), now: time.Now}
	return h
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

func TestOwnedLifecycle(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t, esfake.Options{})
	cr := newKey()
	if err := h.kube.Create(ctx, cr); err != nil {
		t.Fatal(err)
	}

	obs, err := h.ext.Observe(ctx, cr)
	if err != nil || obs.ResourceExists {
		t.Fatalf("Observe() without external name = %+v, %v, want not existing", obs, err)
	}
	if n := len(h.srv.Requests()); n != 1 {
		t.Errorf("Observe() without external name sent %d requests, want only the GET / of setup", n)
	}

	cre, err := h.ext.Create(ctx, cr)
	if err != nil {
		t.Fatal(err)
	}
	id := meta.GetExternalName(cr)
	if id == "" {
		t.Fatal("Create() did not set the external name")
	}
	cd := cre.ConnectionDetails
	if string(cd["id"]) != id || string(cd["name"]) != "orders-to-logs" || len(cd["api_key"]) == 0 || len(cd["encoded"]) == 0 {
		t.Fatalf("Create() connection details have keys id=%q name=%q api_key? %v encoded? %v", cd["id"], cd["name"], len(cd["api_key"]) > 0, len(cd["encoded"]) > 0)
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
	if md[esv1alpha1.MetadataAccessHash] == "" {
		t.Error("key metadata has no access hash")
	}

	// Publish as the reconciler would; Observe must then hand back the same
	// details so the publisher has nothing to write on each poll.
	if _, err := h.ext.publisher.PublishConnection(ctx, cr, cd); err != nil {
		t.Fatal(err)
	}
	h.srv.ResetRequests()
	obs, err = h.ext.Observe(ctx, cr)
	if err != nil || !obs.ResourceExists || !obs.ResourceUpToDate {
		t.Fatalf("Observe() after create = %+v, %v, want existing and up to date", obs, err)
	}
	if diff := cmp.Diff(map[string]int{"GET /_security/api_key": 1}, h.srv.Counts()); diff != "" {
		t.Errorf("Observe() requests: -want +got:\n%s", diff)
	}
	if diff := cmp.Diff(cd, obs.ConnectionDetails); diff != "" {
		t.Errorf("Observe() connection details differ from the published ones: -want +got:\n%s", diff)
	}
	if c := readyCondition(cr); c.Status != corev1.ConditionTrue {
		t.Errorf("Ready = %+v, want True", c)
	}
	ap := cr.Status.AtProvider
	if ap.ID != id || ap.Name != "orders-to-logs" || ap.Creation == nil || !ap.AccessMatches || ap.Invalidated {
		t.Errorf("atProvider = %+v, want the key's id, name, creation and matching access", ap)
	}
	wantQuery := `{"term":{"category":"shared"}}`
	if ap.Access == nil || len(ap.Access.Search) != 1 || string(ap.Access.Search[0].Query.Raw) != wantQuery {
		t.Errorf("atProvider.access = %+v, want the query object %s", ap.Access, wantQuery)
	}
	noSecrets(t, cr, nil, string(cd["api_key"]), string(cd["encoded"]))

	// Change access: out of date, then updated, then up to date.
	cr.Spec.ForProvider.Access = &esv1alpha1.CrossClusterAccess{Replication: []commonv1alpha1.ReplicationAccess{{Names: []string{"archive-*"}}}}
	obs, err = h.ext.Observe(ctx, cr)
	if err != nil || obs.ResourceUpToDate || !strings.Contains(obs.Diff, "access") {
		t.Fatalf("Observe() after access change = %+v, %v, want an access diff", obs, err)
	}
	if _, err := h.ext.Update(ctx, cr); err != nil {
		t.Fatal(err)
	}
	if got := string(h.srv.Keys()[0].Access); got != `{"replication":[{"names":["archive-*"],"allow_restricted_indices":false}]}` {
		t.Errorf("access in Elasticsearch after update = %s", got)
	}
	if obs, err = h.ext.Observe(ctx, cr); err != nil || !obs.ResourceUpToDate {
		t.Fatalf("Observe() after update = %+v, %v, want up to date", obs, err)
	}
	// A second update of the same access is a noop for Elasticsearch.
	if _, err := h.ext.Update(ctx, cr); err != nil {
		t.Fatal(err)
	}

	if _, err := h.ext.Delete(ctx, cr); err != nil {
		t.Fatal(err)
	}
	if !h.srv.Keys()[0].Invalidated {
		t.Error("key not invalidated after Delete()")
	}
	err = h.kube.Get(ctx, types.NamespacedName{Namespace: "team-a", Name: "orders-key"}, &corev1.Secret{})
	if !resourceNotFound(err) {
		t.Errorf("connection Secret after Delete(): %v, want not found", err)
	}
	if obs, err = h.ext.Observe(ctx, cr); err != nil || obs.ResourceExists {
		t.Errorf("Observe() after delete = %+v, %v, want not existing", obs, err)
	}
	// Deleting again (key already invalid) is fine.
	if _, err := h.ext.Delete(ctx, cr); err != nil {
		t.Errorf("second Delete() = %v, want nil", err)
	}
}

func resourceNotFound(err error) bool { return err != nil && client.IgnoreNotFound(err) == nil }

func TestCreateReplacesUnrecordedKey(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t, esfake.Options{})
	cr := newKey()
	// A create whose id never reached the API server: same uid tag.
	access, err := desiredAccess(cr.Spec.ForProvider.Access)
	if err != nil {
		t.Fatal(err)
	}
	md, err := desiredMetadata(cr, access)
	if err != nil {
		t.Fatal(err)
	}
	lost, err := h.es.CreateCrossClusterAPIKey(ctx, elasticsearch.CreateRequest{Name: cr.Spec.ForProvider.Name, Access: access, Metadata: md})
	if err != nil {
		t.Fatal(err)
	}
	// Another resource's key with the same name must survive.
	other := newKey()
	other.UID = "other-uid"
	omd, _ := desiredMetadata(other, access)
	kept, err := h.es.CreateCrossClusterAPIKey(ctx, elasticsearch.CreateRequest{Name: cr.Spec.ForProvider.Name, Access: access, Metadata: omd})
	if err != nil {
		t.Fatal(err)
	}

	if _, err := h.ext.Create(ctx, cr); err != nil {
		t.Fatal(err)
	}
	state := map[string]bool{}
	for _, k := range h.srv.Keys() {
		state[k.ID] = k.Invalidated
	}
	want := map[string]bool{lost.ID: true, kept.ID: false, meta.GetExternalName(cr): false}
	if diff := cmp.Diff(want, state); diff != "" {
		t.Errorf("keys (id → invalidated) after Create(): -want +got:\n%s", diff)
	}
}

func TestOwnedKeyInvalidatedOutsideIsRecreated(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t, esfake.Options{})
	cr := newKey()
	if _, err := h.ext.Create(ctx, cr); err != nil {
		t.Fatal(err)
	}
	if err := h.es.InvalidateAPIKey(ctx, meta.GetExternalName(cr)); err != nil {
		t.Fatal(err)
	}
	obs, err := h.ext.Observe(ctx, cr)
	if err != nil || obs.ResourceExists {
		t.Fatalf("Observe() of an invalidated owned key = %+v, %v, want not existing so it is recreated", obs, err)
	}
	if !cr.Status.AtProvider.Invalidated || cr.Status.AtProvider.Invalidation == nil {
		t.Errorf("atProvider = %+v, want invalidated with a time", cr.Status.AtProvider)
	}
}

func TestObserveOnly(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t, esfake.Options{})
	cr := newKey(xpv2.ManagementActionObserve)
	cr.Spec.ForProvider.Name = "eck-ns1-cluster1-logs"
	cr.Spec.WriteConnectionSecretToReference = nil

	obs, err := h.ext.Observe(ctx, cr)
	if err != nil || obs.ResourceExists {
		t.Fatalf("Observe() with no key = %+v, %v, want not existing", obs, err)
	}
	if c := readyCondition(cr); c.Reason != ReasonKeyNotFound || !strings.Contains(c.Message, "key not found in observe mode") || !strings.Contains(c.Message, "eck-ns1-cluster1-logs") {
		t.Errorf("Ready = %+v, want reason %s naming the key", c, ReasonKeyNotFound)
	}

	access, _ := desiredAccess(cr.Spec.ForProvider.Access)
	k1, err := h.es.CreateCrossClusterAPIKey(ctx, elasticsearch.CreateRequest{Name: cr.Spec.ForProvider.Name, Access: access,
		Metadata: map[string]json.RawMessage{"elasticsearch.k8s.elastic.co/config-hash": json.RawMessage(`"1"`)}})
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
	if c := readyCondition(cr); c.Reason != ReasonAccessMismatch || cr.Status.AtProvider.AccessMatches {
		t.Errorf("Ready = %+v, accessMatches %v, want reason %s", c, cr.Status.AtProvider.AccessMatches, ReasonAccessMismatch)
	}

	k2, err := h.es.CreateCrossClusterAPIKey(ctx, elasticsearch.CreateRequest{Name: cr.Spec.ForProvider.Name, Access: access})
	if err != nil {
		t.Fatal(err)
	}
	_, err = h.ext.Observe(ctx, cr)
	if err == nil || !strings.Contains(err.Error(), k1.ID) || !strings.Contains(err.Error(), k2.ID) {
		t.Fatalf("Observe() with two keys error = %v, want one listing %s and %s", err, k1.ID, k2.ID)
	}
	if c := readyCondition(cr); c.Reason != ReasonAmbiguousKey {
		t.Errorf("Ready = %+v, want reason %s", c, ReasonAmbiguousKey)
	}

	// Pinned by id and invalidated outside: reported, not recreated.
	meta.SetExternalName(cr, k1.ID)
	if err := h.es.InvalidateAPIKey(ctx, k1.ID); err != nil {
		t.Fatal(err)
	}
	if obs, err = h.ext.Observe(ctx, cr); err != nil || obs.ResourceExists {
		t.Fatalf("Observe() of invalidated pinned key = %+v, %v, want not existing", obs, err)
	}
	if c := readyCondition(cr); c.Reason != ReasonKeyInvalid || !strings.Contains(c.Message, k1.ID) {
		t.Errorf("Ready = %+v, want reason %s naming %s", c, ReasonKeyInvalid, k1.ID)
	}
	// Observing never wrote to Elasticsearch beyond the test's own calls.
	for _, r := range h.srv.Requests() {
		if r.Method != http.MethodGet && r.Endpoint != "DELETE /_security/api_key" && r.Endpoint != "POST /_security/cross_cluster/api_key" {
			t.Errorf("observe-only sent %s", r.Endpoint)
		}
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
			reason: xpv2.ConditionReason(elasticsearch.ReasonPrivilege), substr: "manage_security",
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
			setup: func(h *harness, cr *esv1alpha1.CrossClusterAPIKey) {
				meta.SetExternalName(cr, "abcdefghijklmnopqrst")
				h.srv.Close()
			},
			op: func(h *harness, cr *esv1alpha1.CrossClusterAPIKey) error {
				_, err := h.ext.Observe(ctx, cr)
				return err
			},
			reason: xpv2.ConditionReason(elasticsearch.ReasonUnreachable), substr: "unreachable",
		},
		"ServerErrorDelete": {
			setup: func(h *harness, cr *esv1alpha1.CrossClusterAPIKey) {
				meta.SetExternalName(cr, "abcdefghijklmnopqrst")
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

func TestRotation(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t, esfake.Options{})
	cr := newKey()
	cr.Spec.ForProvider.Expiration = ptr("2d")
	cr.Spec.ForProvider.RotateBefore = ptr("1d")
	if err := h.kube.Create(ctx, cr); err != nil {
		t.Fatal(err)
	}
	cre, err := h.ext.Create(ctx, cr)
	if err != nil {
		t.Fatal(err)
	}
	oldID := meta.GetExternalName(cr)
	if err := h.kube.Update(ctx, cr); err != nil {
		t.Fatal(err)
	}
	if _, err := h.ext.publisher.PublishConnection(ctx, cr, cre.ConnectionDetails); err != nil {
		t.Fatal(err)
	}
	if obs, err := h.ext.Observe(ctx, cr); err != nil || !obs.ResourceUpToDate {
		t.Fatalf("Observe() of a fresh key = %+v, %v, want up to date", obs, err)
	}

	// A day and a minute later the key is within rotateBefore of expiring.
	h.ext.now = func() time.Time { return time.Now().Add(25 * time.Hour) }
	obs, err := h.ext.Observe(ctx, cr)
	if err != nil || obs.ResourceUpToDate || !strings.Contains(obs.Diff, "rotation") {
		t.Fatalf("Observe() near expiry = %+v, %v, want rotation due", obs, err)
	}
	upd, err := h.ext.Update(ctx, cr)
	if err != nil {
		t.Fatal(err)
	}
	newID := meta.GetExternalName(cr)
	if newID == "" || newID == oldID {
		t.Fatalf("external name after rotation = %q, want a new id", newID)
	}
	stored := &esv1alpha1.CrossClusterAPIKey{}
	if err := h.kube.Get(ctx, types.NamespacedName{Namespace: "team-a", Name: "orders"}, stored); err != nil {
		t.Fatal(err)
	}
	if meta.GetExternalName(stored) != newID {
		t.Errorf("stored external name = %q, want %q persisted before the old key is invalidated", meta.GetExternalName(stored), newID)
	}
	secret := &corev1.Secret{}
	if err := h.kube.Get(ctx, types.NamespacedName{Namespace: "team-a", Name: "orders-key"}, secret); err != nil {
		t.Fatal(err)
	}
	if string(secret.Data["id"]) != newID || !bytes.Equal(secret.Data["encoded"], upd.ConnectionDetails["encoded"]) {
		t.Errorf("connection Secret holds id %q, want the new key %s and its encoded value", secret.Data["id"], newID)
	}
	state := map[string]bool{}
	for _, k := range h.srv.Keys() {
		state[k.ID] = k.Invalidated
	}
	if diff := cmp.Diff(map[string]bool{oldID: true, newID: false}, state); diff != "" {
		t.Errorf("keys (id → invalidated) after rotation: -want +got:\n%s", diff)
	}
}

var _ resource.Managed = &esv1alpha1.CrossClusterAPIKey{}
