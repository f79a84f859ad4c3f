package crossclusterapikey

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/crossplane/crossplane-runtime/v2/pkg/meta"
	xpv2 "github.com/crossplane/crossplane/apis/v2/core/v2"

	esv1alpha1 "github.com/eslink/eslink/apis/elasticsearch/v1alpha1"
	"github.com/eslink/eslink/provider/internal/clients/elasticsearch"
	"github.com/eslink/eslink/provider/internal/controller/conditions"
	"github.com/eslink/eslink/provider/internal/controller/controllertest"
	"github.com/eslink/eslink/test/controlplane"
	"github.com/eslink/eslink/test/fakeelasticsearch/esfake"
)

// keyWrites lists the requests that wrote to Elasticsearch.
func keyWrites(srv *esfake.Server) []string {
	var out []string
	for _, r := range srv.Requests() {
		if r.Method != http.MethodGet && r.Endpoint != "POST /_security/_query/api_key" {
			out = append(out, r.Method+" "+r.Path)
		}
	}
	return out
}

func (c *cluster) waitCondition(t *testing.T, ns, name string, reason xpv2.ConditionReason, substrs ...string) xpv2.Condition {
	t.Helper()
	var got xpv2.Condition
	controllertest.WaitFor(t, fmt.Sprintf("Ready=False with reason %s on %s/%s", reason, ns, name), func() (bool, string) {
		got = controllertest.Condition(c.get(t, ns, name).Status.Conditions, xpv2.TypeReady)
		if got.Status != corev1.ConditionFalse || got.Reason != reason {
			return false, fmt.Sprintf("%+v", got)
		}
		for _, s := range substrs {
			if !strings.Contains(got.Message, s) {
				return false, fmt.Sprintf("%+v lacks %q", got, s)
			}
		}
		return true, ""
	})
	return got
}

// TestIntegrationOwnershipAttacks: a team granted on the same remote as
// another tries to reach the other team's keys by writing key resources by
// hand. Each attempt ends with a condition that says why, and nothing is
// written to Elasticsearch.
func TestIntegrationOwnershipAttacks(t *testing.T) {
	ctx := context.Background()
	c := startProvider(t)
	teamA, teamB := c.namespace(t, "team-a"), c.namespace(t, "team-b")
	r := c.eckRemote(t, esfake.Options{}, teamA+","+teamB)
	// Team A's local cluster, which does not grant team B.
	c.eckCluster(t, teamA, "cluster1", nil)

	c.create(t, r.key(teamA, "orders"))
	victim := meta.GetExternalName(c.waitReady(t, teamA, "orders"))
	victimKey := *keyByID(r.srv, victim)
	// And the key ECK made for team A's local cluster.
	admin, err := elasticsearch.New(elasticsearch.Config{URL: r.srv.URL, Username: "elastic", Password: eckElasticPass, CACert: r.srv.CACertPEM})
	if err != nil {
		t.Fatal(err)
	}
	eckName := "eck-" + teamA + "-cluster1-logs"
	eckKey, err := admin.CreateCrossClusterAPIKey(ctx, elasticsearch.CreateRequest{Name: eckName,
		Access: elasticsearch.Access{Search: []elasticsearch.SearchAccess{{Names: []string{"logs-*"}}}},
		Metadata: map[string]json.RawMessage{
			eckMetadataNamespace: json.RawMessage(`"` + teamA + `"`), eckMetadataName: json.RawMessage(`"cluster1"`),
			"elasticsearch.k8s.elastic.co/managed-by": json.RawMessage(`"eck"`),
		}})
	if err != nil {
		t.Fatal(err)
	}

	attacks := map[string]struct {
		key    func() *esv1alpha1.CrossClusterAPIKey
		reason xpv2.ConditionReason
		want   []string
	}{
		"ExternalNameOfAnotherResourcesKey": {
			// Adopting the key would let B rewrite its access, or invalidate
			// it on delete; its secret B could never get.
			key: func() *esv1alpha1.CrossClusterAPIKey {
				cr := r.key(teamB, "hijack")
				meta.SetExternalName(cr, victim)
				return cr
			},
			reason: conditions.ReasonKeyNotOwned, want: []string{"crossplane.io/external-name", victim, "eslink.io/uid"},
		},
		"ObserveAndDeleteAnotherTeamsKey": {
			key: func() *esv1alpha1.CrossClusterAPIKey {
				cr := r.key(teamB, "observe-delete")
				cr.Spec.ManagementPolicies = xpv2.ManagementPolicies{xpv2.ManagementActionObserve, xpv2.ManagementActionDelete}
				cr.Spec.ForProvider.Name = victimKey.Name
				cr.Spec.WriteConnectionSecretToReference = nil
				return cr
			},
			reason: conditions.ReasonPoliciesRefused, want: []string{"spec.managementPolicies", "[Observe Delete]"},
		},
		"ObserveAnotherTeamsOwnedKey": {
			key: func() *esv1alpha1.CrossClusterAPIKey {
				cr := r.key(teamB, "observe-owned")
				cr.Spec.ManagementPolicies = xpv2.ManagementPolicies{xpv2.ManagementActionObserve}
				cr.Spec.ForProvider.Name = victimKey.Name
				cr.Spec.WriteConnectionSecretToReference = nil
				return cr
			},
			reason: conditions.ReasonKeyNotFound, want: []string{"key not found in observe mode", "that namespace " + teamB + " may see"},
		},
		"ObserveECKKeyOfAnotherTeamsCluster": {
			key: func() *esv1alpha1.CrossClusterAPIKey {
				cr := r.key(teamB, "observe-eck")
				cr.Spec.ManagementPolicies = xpv2.ManagementPolicies{xpv2.ManagementActionObserve}
				cr.Spec.ForProvider.Name = eckName
				cr.Spec.WriteConnectionSecretToReference = nil
				return cr
			},
			reason: conditions.ReasonKeyNotFound, want: []string{"key not found in observe mode", "that namespace " + teamB + " may see"},
		},
	}
	for name, a := range attacks {
		t.Run(name, func(t *testing.T) {
			r.srv.ResetRequests()
			cr := a.key()
			c.create(t, cr)
			cond := c.waitCondition(t, teamB, cr.Name, a.reason, a.want...)
			got := c.get(t, teamB, cr.Name)
			if ap := got.Status.AtProvider; ap.ID != "" || ap.Access != nil {
				t.Errorf("the attacking resource reports a key: %+v", ap)
			}
			if strings.Contains(cond.Message, eckKey.ID) {
				t.Errorf("the condition reveals ECK's key %s: %q", eckKey.ID, cond.Message)
			}
			if err := c.kube.Delete(ctx, got); err != nil {
				t.Fatal(err)
			}
			c.waitGone(t, teamB, cr.Name)
			if w := keyWrites(r.srv); len(w) != 0 {
				t.Errorf("the attack wrote to Elasticsearch: %v", w)
			}
			for _, id := range []string{victim, eckKey.ID} {
				k := keyByID(r.srv, id)
				if k == nil || k.Invalidated {
					t.Errorf("key %s after the attack = %+v, want it valid", id, k)
				}
			}
			if k := keyByID(r.srv, victim); string(k.Access) != string(victimKey.Access) || string(k.Metadata) != string(victimKey.Metadata) {
				t.Errorf("team A's key changed: access %s metadata %s", k.Access, k.Metadata)
			}
		})
	}
	if cr := c.waitReady(t, teamA, "orders"); meta.GetExternalName(cr) != victim {
		t.Errorf("team A's resource now holds %s, want %s", meta.GetExternalName(cr), victim)
	}
}

// esAdmin sends a request to the fake as its elastic superuser.
func esAdmin(t *testing.T, srv *esfake.Server, method, path, body string) {
	t.Helper()
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(srv.CACertPEM)
	hc := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}}}
	req, err := http.NewRequest(method, srv.URL+path, bytes.NewBufferString(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.SetBasicAuth("elastic", eckElasticPass)
	res, err := hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = res.Body.Close() }()
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("%s %s: %d %s", method, path, res.StatusCode, b)
	}
}

// TestIntegrationLeastPrivilege: the provider config's user needs monitor
// and manage_security, no more; each missing privilege is named.
func TestIntegrationLeastPrivilege(t *testing.T) {
	c := startProvider(t)
	srv := newFakeES(t, esfake.Options{Users: []esfake.User{{Name: "elastic", Password: eckElasticPass}}})
	// As a platform team would: a role and a user, through the API.
	esAdmin(t, srv, "PUT", "/_security/role/eslink_provider", `{"cluster":["manage_own_api_key"]}`)
	esAdmin(t, srv, "PUT", "/_security/user/eslink", `{"password":"eslink-password-1","roles":["eslink_provider"]}`)
	ns := c.namespace(t, "privileges")
	c.endpointConfig(t, ns, "es", srv, "eslink", "eslink-password-1")
	c.create(t, ownedKey(ns, "orders", "es"))

	steps := []struct {
		cluster []string
		denied  string // the request Elasticsearch refuses
		missing string
	}{
		{cluster: []string{"manage_own_api_key"}, denied: "GET /", missing: "granted by the cluster privileges [monitor,manage,all]"},
		{cluster: []string{"manage_own_api_key", "monitor"}, denied: "POST /_security/cross_cluster/api_key", missing: "granted by the cluster privileges [manage_security,all]"},
		{cluster: []string{"manage_api_key", "monitor"}, denied: "POST /_security/cross_cluster/api_key", missing: "granted by the cluster privileges [manage_security,all]"},
	}
	// nudge reconciles at once instead of at the next backoff, as a person
	// who just fixed the role would do by editing the resource.
	nudge := func(v string) {
		t.Helper()
		cr := c.get(t, ns, "orders")
		if err := controlplane.Update(context.Background(), c.kube, cr, func() error {
			meta.AddAnnotations(cr, map[string]string{"test.eslink.io/nudge": v})
			return nil
		}); err != nil {
			t.Fatal(err)
		}
	}
	for i, s := range steps {
		b, _ := json.Marshal(map[string]any{"cluster": s.cluster})
		srv.ResetRequests()
		esAdmin(t, srv, "PUT", "/_security/role/eslink_provider", string(b))
		stepStart := time.Now()
		nudge(fmt.Sprint(i))
		controllertest.WaitFor(t, fmt.Sprintf("a condition naming what %v lacks", s.cluster), func() (bool, string) {
			refused := false
			for _, r := range srv.Requests() {
				refused = refused || (r.Endpoint == s.denied && r.Status == http.StatusForbidden)
			}
			h := controllertest.Condition(c.get(t, ns, "orders").Status.Conditions, xpv2.TypeHealthy)
			return refused && h.Reason == xpv2.ConditionReason(elasticsearch.ReasonPrivilege) && strings.Contains(h.Message, s.missing) &&
				strings.Contains(h.Message, "needs the cluster privileges manage_security and monitor"), fmt.Sprintf("refused %v, Healthy=%+v", refused, h)
		})
		t.Logf("cluster privileges %v: missing privilege named after %s", s.cluster, time.Since(stepStart).Round(time.Millisecond))
		for _, k := range srv.Keys() {
			t.Errorf("a key %s exists with privileges %v", k.ID, s.cluster)
		}
	}
	esAdmin(t, srv, "PUT", "/_security/role/eslink_provider", `{"cluster":["manage_security","monitor"]}`)
	nudge("done")
	cr := c.waitReady(t, ns, "orders")
	if k := keyByID(srv, meta.GetExternalName(cr)); k == nil || k.Owner != "eslink" {
		t.Errorf("key = %+v, want one owned by the least-privilege user eslink", k)
	}
	assertNoSecrets(t, c, ns, []string{"eslink-password-1", eckElasticPass})
}
