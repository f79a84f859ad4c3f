package crossclusterapikey

import (
	"context"
	"encoding/base64"
	"fmt"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/crossplane/crossplane-runtime/v2/pkg/meta"
	xpv2 "github.com/crossplane/crossplane/apis/v2/core/v2"

	commonv1alpha1 "github.com/eslink/eslink/apis/common/v1alpha1"
	esv1alpha1 "github.com/eslink/eslink/apis/elasticsearch/v1alpha1"
	v1alpha1 "github.com/eslink/eslink/apis/v1alpha1"
	"github.com/eslink/eslink/internal/eckschema"
	"github.com/eslink/eslink/internal/grants"
	"github.com/eslink/eslink/provider/internal/controller/conditions"
	"github.com/eslink/eslink/provider/internal/controller/controllertest"
	"github.com/eslink/eslink/test/controlplane"
	"github.com/eslink/eslink/test/fakeelasticsearch/esfake"
)

// secretKey returns the id the connection Secret holds, "" unless it holds
// a whole, consistent key.
func (c *cluster) secretKey(t *testing.T, ns, name string) string {
	t.Helper()
	s := &corev1.Secret{}
	if err := c.kube.Get(context.Background(), types.NamespacedName{Namespace: ns, Name: name}, s); err != nil {
		if client.IgnoreNotFound(err) == nil {
			return ""
		}
		t.Fatal(err)
	}
	id, key := string(s.Data["id"]), string(s.Data["api_key"])
	if id == "" || key == "" || string(s.Data["encoded"]) != base64.StdEncoding.EncodeToString([]byte(id+":"+key)) {
		return ""
	}
	return id
}

// activeKeys are the ids of the keys the fake would accept at now.
func activeKeys(srv *esfake.Server, now time.Time) []string {
	out := []string{}
	for _, k := range srv.Keys() {
		if !k.Invalidated && (k.Expiration == nil || now.Before(*k.Expiration)) {
			out = append(out, k.ID)
		}
	}
	return out
}

// TestIntegrationSecretDeleted: deleting the connection Secret of a Ready
// key ends with a new key in a whole Secret and the old key invalidated,
// within the next poll.
func TestIntegrationSecretDeleted(t *testing.T) {
	ctx := context.Background()
	c := startProvider(t)
	srv := newFakeES(t, esfake.Options{})
	ns := c.namespace(t, "secret-lost")
	c.endpointConfig(t, ns, "es", srv, itUser, itPass)
	c.create(t, ownedKey(ns, "orders", "es"))
	old := meta.GetExternalName(c.waitReady(t, ns, "orders"))
	if got := c.secretKey(t, ns, "orders-key"); got != old {
		t.Fatalf("Secret holds %q, want %s", got, old)
	}
	creates := srv.Counts()["POST /_security/cross_cluster/api_key"]

	start := time.Now()
	if err := c.kube.Delete(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "orders-key"}}); err != nil {
		t.Fatal(err)
	}
	var id string
	controllertest.WaitFor(t, "a new key in a whole Secret, the old key invalidated", func() (bool, string) {
		id = c.secretKey(t, ns, "orders-key")
		k := keyByID(srv, old)
		return id != "" && id != old && k != nil && k.Invalidated, fmt.Sprintf("Secret holds %q; old key %+v", id, k)
	})
	t.Logf("the Secret held a new key %s after %s (poll %s)", id, time.Since(start).Round(time.Millisecond), testPoll)
	// The resource was Ready before the Secret went, so wait for the
	// status to name the new key rather than for Ready alone.
	controllertest.WaitFor(t, "the resource to record and report the new key", func() (bool, string) {
		cr := c.waitReady(t, ns, "orders")
		got := meta.GetExternalName(cr)
		return got == id && cr.Status.AtProvider.ID == id, fmt.Sprintf("external name %q, atProvider.id %q, want %s", got, cr.Status.AtProvider.ID, id)
	})
	if diff := activeKeys(srv, time.Now()); len(diff) != 1 || diff[0] != id {
		t.Errorf("active keys = %v, want only %s", diff, id)
	}
	if n := srv.Counts()["POST /_security/cross_cluster/api_key"] - creates; n != 1 {
		t.Errorf("%d keys created to replace one lost Secret, want 1", n)
	}
	controllertest.WaitFor(t, "an event about the replacement", func() (bool, string) {
		ev := c.events(t, ns)
		for _, e := range ev {
			if strings.HasPrefix(e, string(reasonReplaced)) && strings.Contains(e, id) {
				return true, ""
			}
		}
		return false, strings.Join(ev, "\n")
	})
}

// TestIntegrationRotationOnClock: a one-minute key with rotateBefore 20s
// rotates exactly when due, on the clock the fake and the provider share,
// and never twice for one due date.
func TestIntegrationRotationOnClock(t *testing.T) {
	clk := newClock()
	c := startProvider(t, Options{MinKeyLifetime: 30 * time.Second, Now: clk.Now})
	srv := newFakeES(t, esfake.Options{Clock: clk.Now})
	ns := c.namespace(t, "rotation")
	c.endpointConfig(t, ns, "es", srv, itUser, itPass)
	cr := ownedKey(ns, "orders", "es")
	cr.Spec.ForProvider.Expiration = ptr("1m")
	cr.Spec.ForProvider.RotateBefore = ptr("20s")
	start := clk.Now()
	c.create(t, cr)
	k1 := meta.GetExternalName(c.waitReady(t, ns, "orders"))
	controllertest.WaitFor(t, "nextRotation in status", func() (bool, string) {
		nr := c.get(t, ns, "orders").Status.AtProvider.NextRotation
		return nr != nil && nr.Time.Equal(start.Add(40*time.Second)), fmt.Sprintf("nextRotation %v", nr)
	})

	creates := func() int { return srv.Counts()["POST /_security/cross_cluster/api_key"] }
	polls := func(n int) {
		t.Helper()
		from := srv.Counts()["POST /_security/_query/api_key"]
		controllertest.WaitFor(t, fmt.Sprintf("%d polls", n), func() (bool, string) {
			got := srv.Counts()["POST /_security/_query/api_key"] - from
			return got >= n, fmt.Sprintf("%d polls", got)
		})
	}
	clk.Set(start.Add(39 * time.Second))
	polls(3)
	if n := creates(); n != 1 {
		t.Fatalf("%d keys created a second before the due date, want 1", n)
	}
	clk.Set(start.Add(40 * time.Second))
	var k2 string
	controllertest.WaitFor(t, "the rotation at the due date", func() (bool, string) {
		k2 = c.secretKey(t, ns, "orders-key")
		return k2 != "" && k2 != k1, fmt.Sprintf("Secret holds %q", k2)
	})
	for _, d := range []time.Duration{41 * time.Second, 60 * time.Second, 79 * time.Second} {
		clk.Set(start.Add(d))
		polls(2)
	}
	if n := creates(); n != 2 {
		t.Errorf("%d keys created by +79s, want 2: one rotation for one due date", n)
	}
	if got := activeKeys(srv, clk.Now()); len(got) != 1 || got[0] != k2 {
		t.Errorf("active keys at +79s = %v, want only %s", got, k2)
	}
	if k := keyByID(srv, k1); k == nil || !k.Invalidated {
		t.Errorf("replaced key %s = %+v, want invalidated", k1, k)
	}
	clk.Set(start.Add(80 * time.Second))
	controllertest.WaitFor(t, "the successor's own rotation", func() (bool, string) {
		k3 := c.secretKey(t, ns, "orders-key")
		return k3 != "" && k3 != k2, fmt.Sprintf("Secret holds %q", k3)
	})
	if n := creates(); n != 3 {
		t.Errorf("%d keys created by +80s, want 3", n)
	}
}

// eckRemote is an ECK cluster reached through an ECK-mode
// ClusterProviderConfig, with the Secrets ECK writes.
type eckRemote struct {
	srv        *esfake.Server
	ns, name   string
	configName string
}

const eckElasticPass = "eck-elastic-pw-7"

func (c *cluster) eckRemote(t *testing.T, opts esfake.Options, allowed string) *eckRemote {
	t.Helper()
	if opts.Users == nil {
		opts.Users = []esfake.User{{Name: "elastic", Password: eckElasticPass}}
	}
	r := &eckRemote{srv: newFakeES(t, opts), ns: c.namespace(t, "platform"), name: "cluster2"}
	r.configName = "eck-" + r.ns
	c.eckCluster(t, r.ns, r.name, map[string]string{grants.AnnotationAllowedNamespaces: allowed})
	c.create(t,
		&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: r.ns, Name: r.name + "-es-elastic-user"}, Data: map[string][]byte{"elastic": []byte(eckElasticPass)}},
		&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: r.ns, Name: r.name + "-es-http-certs-public"}, Data: map[string][]byte{"ca.crt": r.srv.CACertPEM}},
		&v1alpha1.ClusterProviderConfig{ObjectMeta: metav1.ObjectMeta{Name: r.configName},
			Spec: v1alpha1.ClusterProviderConfigSpec{AllowedNamespaces: []string{"*"}, ECK: &v1alpha1.ECKEndpoint{URLOverride: r.srv.URL}}},
	)
	return r
}

// key is an owned key resource on the remote, through its ECK-mode config.
func (r *eckRemote) key(ns, name string) *esv1alpha1.CrossClusterAPIKey {
	cr := ownedKey(ns, name, r.configName)
	cr.Spec.ProviderConfigReference = &xpv2.ProviderConfigReference{Kind: v1alpha1.ClusterProviderConfigKind, Name: r.configName}
	cr.Spec.ForProvider.ElasticsearchRef = &commonv1alpha1.ElasticsearchReference{Namespace: r.ns, Name: r.name}
	return cr
}

func (c *cluster) waitGone(t *testing.T, ns, name string) {
	t.Helper()
	controllertest.WaitFor(t, "CrossClusterAPIKey "+ns+"/"+name+" to be gone", func() (bool, string) {
		cr := &esv1alpha1.CrossClusterAPIKey{}
		err := c.kube.Get(context.Background(), types.NamespacedName{Namespace: ns, Name: name}, cr)
		if err == nil {
			return false, fmt.Sprintf("conditions %+v", cr.Status.Conditions)
		}
		return client.IgnoreNotFound(err) == nil, err.Error()
	})
}

// TestIntegrationCleanup: deleting a key resource invalidates its key even
// after the remote's grant was revoked, and lets go with a Warning event
// when the remote is gone.
func TestIntegrationCleanup(t *testing.T) {
	ctx := context.Background()
	c := startProvider(t)

	t.Run("GrantRevoked", func(t *testing.T) {
		team := c.namespace(t, "team")
		r := c.eckRemote(t, esfake.Options{}, team)
		c.create(t, r.key(team, "orders"))
		id := meta.GetExternalName(c.waitReady(t, team, "orders"))

		es := eckschema.NewElasticsearch()
		if err := c.kube.Get(ctx, types.NamespacedName{Namespace: r.ns, Name: r.name}, es); err != nil {
			t.Fatal(err)
		}
		// The platform team changes its grant; the provider's own record
		// (eslink.io/key-namespaces) stays, as a team cannot write it.
		if err := controlplane.Update(ctx, c.kube, es, func() error {
			a := es.GetAnnotations()
			a[grants.AnnotationAllowedNamespaces] = "someone-else"
			es.SetAnnotations(a)
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		controllertest.WaitFor(t, "the revoked grant to show", func() (bool, string) {
			r := controllertest.Condition(c.get(t, team, "orders").Status.Conditions, xpv2.TypeReady)
			return r.Reason == conditions.ReasonNotAuthorized, fmt.Sprintf("%+v", r)
		})
		if err := c.kube.Delete(ctx, c.get(t, team, "orders")); err != nil {
			t.Fatal(err)
		}
		c.waitGone(t, team, "orders")
		if k := keyByID(r.srv, id); k == nil || !k.Invalidated {
			t.Errorf("key %s after delete = %+v, want invalidated although the grant is gone", id, k)
		}
	})

	// The platform points a config that fixes the cluster at another one:
	// the key cannot follow, so the resource says so, makes nothing on the
	// new cluster, and its deletion waits until the config reaches the
	// keys again, then invalidates them.
	t.Run("ConfigMoved", func(t *testing.T) {
		team := c.namespace(t, "team")
		a := c.eckRemote(t, esfake.Options{}, team)
		b := c.eckRemote(t, esfake.Options{}, team)
		fixed := func(r *eckRemote) v1alpha1.ClusterProviderConfigSpec {
			return v1alpha1.ClusterProviderConfigSpec{AllowedNamespaces: []string{team}, ECK: &v1alpha1.ECKEndpoint{
				URLOverride: r.srv.URL, ElasticsearchRef: &commonv1alpha1.ElasticsearchReference{Namespace: r.ns, Name: r.name},
			}}
		}
		pc := &v1alpha1.ClusterProviderConfig{ObjectMeta: metav1.ObjectMeta{Name: "fixed-" + team}, Spec: fixed(a)}
		c.create(t, pc)
		cr := ownedKey(team, "orders", pc.Name)
		cr.Spec.ProviderConfigReference.Kind = v1alpha1.ClusterProviderConfigKind
		c.create(t, cr)
		id := meta.GetExternalName(c.waitReady(t, team, "orders"))
		moveTo := func(r *eckRemote) {
			t.Helper()
			if err := controlplane.Update(ctx, c.kube, pc, func() error { pc.Spec = fixed(r); return nil }); err != nil {
				t.Fatal(err)
			}
		}
		held := a.ns + "/" + a.name
		refused := func(what string) {
			t.Helper()
			controllertest.WaitFor(t, what, func() (bool, string) {
				r := controllertest.Condition(c.get(t, team, "orders").Status.Conditions, xpv2.TypeReady)
				return r.Reason == conditions.ReasonClusterChanged && strings.Contains(r.Message, "are on Elasticsearch "+held) &&
					strings.Contains(r.Message, "set spec.providerConfigRef back to a config that reaches "+held), fmt.Sprintf("%+v", r)
			})
		}

		moveTo(b)
		refused("the move refused")
		if err := c.kube.Delete(ctx, c.get(t, team, "orders")); err != nil {
			t.Fatal(err)
		}
		refused("the deletion held")
		if n := len(b.srv.Keys()); n != 0 {
			t.Errorf("the new cluster holds %d keys of a resource whose keys are elsewhere", n)
		}
		if k := keyByID(a.srv, id); k == nil || k.Invalidated {
			t.Errorf("key %s = %+v, want still valid while the config reaches another cluster", id, k)
		}

		moveTo(a)
		c.waitGone(t, team, "orders")
		if k := keyByID(a.srv, id); k == nil || !k.Invalidated {
			t.Errorf("key %s after delete = %+v, want invalidated once the config reaches it again", id, k)
		}
	})

	t.Run("RemoteGone", func(t *testing.T) {
		team := c.namespace(t, "team")
		r := c.eckRemote(t, esfake.Options{}, team)
		c.create(t, r.key(team, "orders"))
		c.waitReady(t, team, "orders")
		es := eckschema.NewElasticsearch()
		es.SetNamespace(r.ns)
		es.SetName(r.name)
		if err := c.kube.Delete(ctx, es); err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		if err := c.kube.Delete(ctx, c.get(t, team, "orders")); err != nil {
			t.Fatal(err)
		}
		c.waitGone(t, team, "orders")
		t.Logf("let go %s after the delete", time.Since(start).Round(time.Millisecond))
		controllertest.WaitFor(t, "a Warning event saying the cluster is gone", func() (bool, string) {
			ev := c.events(t, team)
			for _, e := range ev {
				if strings.HasPrefix(e, string(conditions.ReasonTargetGone)) && strings.Contains(e, "the cluster that held it is gone") {
					return true, ""
				}
			}
			return false, strings.Join(ev, "\n")
		})
	})
}
