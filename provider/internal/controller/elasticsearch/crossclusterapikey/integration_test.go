package crossclusterapikey

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/crossplane/crossplane-runtime/v2/pkg/meta"
	"github.com/crossplane/crossplane-runtime/v2/pkg/resource"
	xpv2 "github.com/crossplane/crossplane/apis/v2/core/v2"

	commonv1alpha1 "github.com/eslink/eslink/apis/common/v1alpha1"
	esv1alpha1 "github.com/eslink/eslink/apis/elasticsearch/v1alpha1"
	v1alpha1 "github.com/eslink/eslink/apis/v1alpha1"
	"github.com/eslink/eslink/provider/internal/clients/elasticsearch"
	"github.com/eslink/eslink/provider/internal/controller/conditions"
	"github.com/eslink/eslink/provider/internal/controller/controllertest"
	"github.com/eslink/eslink/test/controlplane"
	"github.com/eslink/eslink/test/fakeelasticsearch/esfake"
)

const (
	itUser = "eslink-provider"
	itPass = "it-provider-password-7"
	// queryEndpoint reads a remote's keys together.
	queryEndpoint = "POST /_security/_query/api_key"
)

// endpointConfig creates, in ns, the Secrets and a ProviderConfig named
// name that reach srv by URL with basic auth and a CA Secret.
func (c *cluster) endpointConfig(t *testing.T, ns, name string, srv *esfake.Server, user, pass string) {
	t.Helper()
	c.create(t,
		&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name + "-creds"},
			Data: map[string][]byte{"username": []byte(user), "password": []byte(pass)}},
		&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name + "-ca"},
			Data: map[string][]byte{"ca.crt": srv.CACertPEM}},
		&v1alpha1.ProviderConfig{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
			Spec: v1alpha1.ProviderConfigSpec{Endpoint: &v1alpha1.URLEndpoint{
				URL: srv.URL, CredentialsType: v1alpha1.CredentialsBasic,
				CredentialsSecretRef: v1alpha1.LocalSecretKeyRef{Name: name + "-creds"},
				CASecretRef:          &v1alpha1.LocalSecretKeyRef{Name: name + "-ca"},
			}}},
	)
}

func ownedKey(ns, name, config string) *esv1alpha1.CrossClusterAPIKey {
	cr := &esv1alpha1.CrossClusterAPIKey{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}}
	cr.Spec.ProviderConfigReference = &xpv2.ProviderConfigReference{Kind: v1alpha1.ProviderConfigKind, Name: config}
	cr.Spec.WriteConnectionSecretToReference = &xpv2.LocalSecretReference{Name: name + "-key"}
	cr.Spec.ForProvider.Name = name
	cr.Spec.ForProvider.Access = &esv1alpha1.CrossClusterAccess{Search: []commonv1alpha1.SearchAccess{{
		Names: []string{"logs-*"}, Query: raw(`{"term":{"category":"shared"}}`),
	}}}
	return cr
}

func (c *cluster) get(t *testing.T, ns, name string) *esv1alpha1.CrossClusterAPIKey {
	t.Helper()
	cr := &esv1alpha1.CrossClusterAPIKey{}
	if err := c.kube.Get(context.Background(), types.NamespacedName{Namespace: ns, Name: name}, cr); err != nil {
		t.Fatal(err)
	}
	return cr
}

func (c *cluster) waitReady(t *testing.T, ns, name string) *esv1alpha1.CrossClusterAPIKey {
	t.Helper()
	var cr *esv1alpha1.CrossClusterAPIKey
	controllertest.WaitFor(t, "CrossClusterAPIKey "+ns+"/"+name+" Ready and Synced", func() (bool, string) {
		cr = c.get(t, ns, name)
		r, s := controllertest.Condition(cr.Status.Conditions, xpv2.TypeReady), controllertest.Condition(cr.Status.Conditions, xpv2.TypeSynced)
		return r.Status == corev1.ConditionTrue && s.Status == corev1.ConditionTrue, fmt.Sprintf("Ready=%+v Synced=%+v", r, s)
	})
	return cr
}

func keyByID(srv *esfake.Server, id string) *esfake.KeySnapshot {
	for _, k := range srv.Keys() {
		if k.ID == id {
			return &k
		}
	}
	return nil
}

// waitUsers waits until the provider config pc (its name set) counts n
// users: it counts them a while after a usage comes or goes, so a key's
// creation ends with that write.
func (c *cluster) waitUsers(t *testing.T, pc resource.ProviderConfig, n int64) {
	t.Helper()
	controllertest.WaitFor(t, fmt.Sprintf("%T %s counting %d users", pc, pc.GetName(), n), func() (bool, string) {
		if err := c.kube.Get(context.Background(), client.ObjectKeyFromObject(pc), pc); err != nil {
			return false, err.Error()
		}
		return pc.GetUsers() == n, fmt.Sprintf("%d users", pc.GetUsers())
	})
}

func newFakeES(t *testing.T, opts esfake.Options) *esfake.Server {
	opts.TLS = true
	if opts.Users == nil {
		opts.Users = []esfake.User{{Name: itUser, Password: itPass, Privileges: []string{"manage_security", "monitor"}}}
	}
	return esfake.NewServer(t, opts)
}

func TestIntegrationOwnedKey(t *testing.T) {
	ctx := context.Background()
	c := startProvider(t)
	srv := newFakeES(t, esfake.Options{})
	ns := c.namespace(t, "owned")
	c.endpointConfig(t, ns, "es", srv, itUser, itPass)
	c.create(t, ownedKey(ns, "orders", "es"))

	cr := c.waitReady(t, ns, "orders")
	c.waitUsers(t, &v1alpha1.ProviderConfig{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "es"}}, 1)
	id := meta.GetExternalName(cr)
	k := keyByID(srv, id)
	if k == nil || k.Invalidated {
		t.Fatalf("Elasticsearch holds no active key %q (external name)", id)
	}
	secret := &corev1.Secret{}
	if err := c.kube.Get(ctx, types.NamespacedName{Namespace: ns, Name: "orders-key"}, secret); err != nil {
		t.Fatal(err)
	}
	if string(secret.Data["id"]) != id || string(secret.Data["name"]) != "orders" {
		t.Errorf("connection Secret id/name = %q/%q, want %q/orders", secret.Data["id"], secret.Data["name"], id)
	}
	decoded, err := base64.StdEncoding.DecodeString(string(secret.Data["encoded"]))
	if err != nil || string(decoded) != id+":"+string(secret.Data["api_key"]) {
		t.Errorf("connection Secret's encoded is not base64(id:api_key) of key %s", id)
	}
	secrets := []string{string(secret.Data["api_key"]), string(secret.Data["encoded"]), itPass}

	t.Run("SteadyState", func(t *testing.T) {
		// Let the first reconciles after create settle, then watch polls.
		controllertest.WaitFor(t, "the resource to stop changing", func() (bool, string) {
			rv := c.get(t, ns, "orders").ResourceVersion
			srv.ResetRequests()
			before := len(c.writes.Snapshot())
			controllertest.WaitFor(t, "two polls", func() (bool, string) {
				n := srv.Counts()["POST /_security/_query/api_key"]
				return n >= 2, fmt.Sprintf("%d GETs", n)
			})
			return c.get(t, ns, "orders").ResourceVersion == rv && len(c.writes.Snapshot()) == before, "resource still changing"
		})
		srv.ResetRequests()
		before := c.writes.Snapshot()
		rv := c.get(t, ns, "orders").ResourceVersion
		controllertest.WaitFor(t, "three polls", func() (bool, string) {
			n := srv.Counts()["POST /_security/_query/api_key"]
			return n >= 3, fmt.Sprintf("%d queries", n)
		})
		reqs := srv.Requests()
		for _, r := range reqs {
			if r.Endpoint != "POST /_security/_query/api_key" {
				t.Errorf("steady state sent %s %s, want only the query for the resource's keys", r.Method, r.Path)
			}
		}
		if diff := cmp.Diff(before, c.writes.Snapshot()); diff != "" {
			t.Errorf("steady state wrote to the API server: -before +after:\n%s", diff)
		}
		if got := c.get(t, ns, "orders").ResourceVersion; got != rv {
			t.Errorf("resourceVersion changed in steady state: %s → %s", rv, got)
		}
		t.Logf("steady state: %d Elasticsearch requests over %d polls, all one query for the resource's keys; 0 API server writes", len(reqs), srv.Counts()["POST /_security/_query/api_key"])
	})

	t.Run("ChangeAccess", func(t *testing.T) {
		cr := c.get(t, ns, "orders")
		if err := controlplane.Update(ctx, c.kube, cr, func() error {
			cr.Spec.ForProvider.Access = &esv1alpha1.CrossClusterAccess{Replication: []commonv1alpha1.ReplicationAccess{{Names: []string{"archive-*"}}}}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		want := `{"replication":[{"names":["archive-*"],"allow_restricted_indices":false}]}`
		controllertest.WaitFor(t, "Elasticsearch to hold the new access", func() (bool, string) {
			k := keyByID(srv, id)
			return k != nil && string(k.Access) == want, fmt.Sprintf("access %s", k.Access)
		})
		controllertest.WaitFor(t, "atProvider to report the new access", func() (bool, string) {
			cr := c.get(t, ns, "orders")
			ap := cr.Status.AtProvider
			return ap.AccessMatches && ap.Access != nil && len(ap.Access.Replication) == 1, fmt.Sprintf("%+v", ap)
		})
		if got := meta.GetExternalName(c.get(t, ns, "orders")); got != id {
			t.Errorf("external name changed on update: %s → %s", id, got)
		}
	})

	t.Run("Delete", func(t *testing.T) {
		if err := c.kube.Delete(ctx, c.get(t, ns, "orders")); err != nil {
			t.Fatal(err)
		}
		controllertest.WaitFor(t, "the resource to be gone", func() (bool, string) {
			err := c.kube.Get(ctx, types.NamespacedName{Namespace: ns, Name: "orders"}, &esv1alpha1.CrossClusterAPIKey{})
			return client.IgnoreNotFound(err) == nil && err != nil, fmt.Sprintf("get: %v", err)
		})
		if k := keyByID(srv, id); k == nil || !k.Invalidated {
			t.Errorf("key %s after delete = %+v, want invalidated", id, k)
		}
		err := c.kube.Get(ctx, types.NamespacedName{Namespace: ns, Name: "orders-key"}, &corev1.Secret{})
		if client.IgnoreNotFound(err) != nil || err == nil {
			t.Errorf("connection Secret after delete: %v, want not found", err)
		}
	})

	assertNoSecrets(t, c, ns, secrets)
}

// assertNoSecrets checks events, conditions and logs for any secret.
func assertNoSecrets(t *testing.T, c *cluster, ns string, secrets []string) {
	t.Helper()
	texts := c.events(t, ns)
	list := &esv1alpha1.CrossClusterAPIKeyList{}
	if err := c.kube.List(context.Background(), list, client.InNamespace(ns)); err != nil {
		t.Fatal(err)
	}
	for _, cr := range list.Items {
		b, _ := json.Marshal(cr.Status)
		texts = append(texts, string(b))
	}
	texts = append(texts, c.logs.String())
	for _, text := range texts {
		for _, s := range secrets {
			if s != "" && strings.Contains(text, s) {
				t.Errorf("a secret appears in events, status or logs: %.200q", text)
			}
		}
	}
}

func TestIntegrationObserveOnly(t *testing.T) {
	ctx := context.Background()
	c := startProvider(t)
	const elasticPass = "eck-elastic-pw-3"
	srv := newFakeES(t, esfake.Options{Users: []esfake.User{{Name: "elastic", Password: elasticPass}}})
	ns := c.namespace(t, "observe")
	// An ECK cluster reached through a cluster-wide ECK-mode config.
	c.eckCluster(t, ns, "cluster2", nil)
	c.eckCluster(t, ns, "cluster1", nil)
	c.create(t,
		&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "cluster2-es-elastic-user"}, Data: map[string][]byte{"elastic": []byte(elasticPass)}},
		&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "cluster2-es-http-certs-public"}, Data: map[string][]byte{"ca.crt": srv.CACertPEM}},
		&v1alpha1.ClusterProviderConfig{ObjectMeta: metav1.ObjectMeta{Name: "eck-" + ns},
			Spec: v1alpha1.ClusterProviderConfigSpec{AllowedNamespaces: []string{"*"}, ECK: &v1alpha1.ECKEndpoint{URLOverride: srv.URL}}},
	)
	keyName := "eck-" + ns + "-cluster1-logs"
	cr := &esv1alpha1.CrossClusterAPIKey{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: keyName}}
	cr.Spec.ManagementPolicies = xpv2.ManagementPolicies{xpv2.ManagementActionObserve}
	cr.Spec.ProviderConfigReference = &xpv2.ProviderConfigReference{Kind: v1alpha1.ClusterProviderConfigKind, Name: "eck-" + ns}
	cr.Spec.ForProvider.Name = keyName
	cr.Spec.ForProvider.ElasticsearchRef = &commonv1alpha1.ElasticsearchReference{Name: "cluster2"}
	c.create(t, cr)

	controllertest.WaitFor(t, "a KeyNotFound condition", func() (bool, string) {
		r := controllertest.Condition(c.get(t, ns, keyName).Status.Conditions, xpv2.TypeReady)
		return r.Reason == conditions.ReasonKeyNotFound && strings.Contains(r.Message, "key not found in observe mode"), fmt.Sprintf("%+v", r)
	})

	// ECK creates its key.
	es, err := elasticsearch.New(elasticsearch.Config{URL: srv.URL, Username: "elastic", Password: elasticPass, CACert: srv.CACertPEM})
	if err != nil {
		t.Fatal(err)
	}
	eckKey, err := es.CreateCrossClusterAPIKey(ctx, elasticsearch.CreateRequest{Name: keyName,
		Access: elasticsearch.Access{Search: []elasticsearch.SearchAccess{{Names: []string{"logs-*"}}}},
		Metadata: map[string]json.RawMessage{
			"elasticsearch.k8s.elastic.co/config-hash": json.RawMessage(`"42"`),
			eckMetadataNamespace:                       json.RawMessage(`"` + ns + `"`),
			eckMetadataName:                            json.RawMessage(`"cluster1"`),
		}})
	if err != nil {
		t.Fatal(err)
	}
	srv.ResetRequests()
	got := c.waitReady(t, ns, keyName)
	if got.Status.AtProvider.ID != eckKey.ID || got.Status.AtProvider.Access == nil || got.Status.AtProvider.Creation == nil {
		t.Errorf("atProvider = %+v, want ECK's key %s with its access and creation", got.Status.AtProvider, eckKey.ID)
	}
	// The key is read with the remote's other keys, once per poll.
	controllertest.WaitFor(t, "two more polls", func() (bool, string) {
		n := srv.Counts()[queryEndpoint]
		return n >= 3, fmt.Sprintf("%d queries", n)
	})
	for _, r := range srv.Requests() {
		if r.Method != http.MethodGet && r.Endpoint != queryEndpoint {
			t.Errorf("observe-only sent %s %s to Elasticsearch", r.Method, r.Path)
		}
	}
	if k := keyByID(srv, eckKey.ID); k == nil || k.Invalidated || !strings.Contains(string(k.Metadata), `"elasticsearch.k8s.elastic.co/config-hash":"42"`) {
		t.Errorf("ECK's key changed: %+v", k)
	}

	t.Run("DeniedNamespace", func(t *testing.T) {
		other := c.namespace(t, "intruder")
		denied := cr.DeepCopy()
		denied.ObjectMeta = metav1.ObjectMeta{Namespace: other, Name: keyName}
		denied.Spec.ForProvider.ElasticsearchRef = &commonv1alpha1.ElasticsearchReference{Name: "cluster2", Namespace: ns}
		srv.ResetRequests()
		c.create(t, denied)
		controllertest.WaitFor(t, "a NotAuthorized condition", func() (bool, string) {
			r := controllertest.Condition(c.get(t, other, keyName).Status.Conditions, xpv2.TypeReady)
			return r.Reason == conditions.ReasonNotAuthorized && strings.Contains(r.Message, "eslink.io/allowed-namespaces"), fmt.Sprintf("%+v", r)
		})
		// The denied resource never reached the cluster: nothing observed,
		// and nothing but the other resource's reads was sent.
		if ap := c.get(t, other, keyName).Status.AtProvider; ap.ID != "" {
			t.Errorf("denied resource observed key %s", ap.ID)
		}
		for _, r := range srv.Requests() {
			if r.Method != http.MethodGet && r.Endpoint != queryEndpoint {
				t.Errorf("unexpected request %s %s", r.Method, r.Path)
			}
		}
		controllertest.WaitFor(t, "a warning event", func() (bool, string) {
			ev := c.events(t, other)
			for _, e := range ev {
				if strings.Contains(e, "not allowed to link") {
					return true, ""
				}
			}
			return false, strings.Join(ev, "\n")
		})
	})
	assertNoSecrets(t, c, ns, []string{eckKey.APIKey, eckKey.Encoded, elasticPass})
}

func TestIntegrationBlockingConditions(t *testing.T) {
	c := startProvider(t)
	cases := map[string]struct {
		opts   esfake.Options
		reason xpv2.ConditionReason
		substr string
	}{
		"LicenseBasic": {
			opts:   esfake.Options{License: "basic"},
			reason: xpv2.ConditionReason(elasticsearch.ReasonLicense), substr: "non-compliant for [advanced-remote-cluster-security]",
		},
		"MissingPrivilege": {
			opts:   esfake.Options{Users: []esfake.User{{Name: itUser, Password: itPass, Privileges: []string{"manage_api_key", "monitor"}}}},
			reason: xpv2.ConditionReason(elasticsearch.ReasonPrivilege), substr: "manage_security",
		},
		"VersionTooOld": {
			opts:   esfake.Options{Version: "8.9.1"},
			reason: xpv2.ConditionReason(elasticsearch.ReasonVersion), substr: "below 8.10",
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			srv := newFakeES(t, tc.opts)
			ns := c.namespace(t, strings.ToLower(name))
			c.endpointConfig(t, ns, "es", srv, itUser, itPass)
			c.create(t, ownedKey(ns, "orders", "es"))
			controllertest.WaitFor(t, "Healthy=False with reason "+string(tc.reason), func() (bool, string) {
				// A failed create leaves Ready=Creating (the managed
				// reconciler's); the reason is on Healthy.
				cr := c.get(t, ns, "orders")
				h, s := controllertest.Condition(cr.Status.Conditions, xpv2.TypeHealthy), controllertest.Condition(cr.Status.Conditions, xpv2.TypeSynced)
				return h.Status == corev1.ConditionFalse && h.Reason == tc.reason && strings.Contains(h.Message, tc.substr) &&
					s.Status == corev1.ConditionFalse && strings.Contains(s.Message, tc.substr), fmt.Sprintf("Healthy=%+v Synced=%+v", h, s)
			})
			controllertest.WaitFor(t, "a warning event", func() (bool, string) {
				ev := c.events(t, ns)
				for _, e := range ev {
					if strings.Contains(e, tc.substr) {
						return true, ""
					}
				}
				return false, strings.Join(ev, "\n")
			})
			for _, k := range srv.Keys() {
				if !k.Invalidated {
					t.Errorf("an active key %s exists although creation was blocked", k.ID)
				}
			}
			assertNoSecrets(t, c, ns, []string{itPass})
		})
	}
}
