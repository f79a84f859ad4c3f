package tenant

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/crossplane/crossplane-runtime/v2/pkg/resource"
	xpv2 "github.com/crossplane/crossplane/apis/v2/core/v2"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"

	commonv1alpha1 "github.com/eslink/eslink/apis/common/v1alpha1"
	eckv1alpha1 "github.com/eslink/eslink/apis/eck/v1alpha1"
	esv1alpha1 "github.com/eslink/eslink/apis/elasticsearch/v1alpha1"
	v1alpha1 "github.com/eslink/eslink/apis/v1alpha1"
	"github.com/eslink/eslink/internal/linkrules"
	"github.com/eslink/eslink/test/controlplane"
	"github.com/eslink/eslink/test/fakeelasticsearch/esfake"
)

// The attacks of issue 18 on remote cluster aliases: one owner per alias
// per local cluster across every piece, and local pieces acting only on
// the cluster they name.

// victimLink is the link whose pieces the victim's team runs; Crossplane
// labels every piece of a link with it.
const victimLink = "victim-link"

func inLink(o client.Object, link string) {
	o.SetLabels(map[string]string{linkrules.LabelComposite: link})
}

// settingsFor sets alias on local's settings, pointing at proxy, reached
// through the provider config pc.
func settingsFor(ns, name, alias string, local *cluster, pc xpv2.ProviderConfigReference, proxy string) *esv1alpha1.RemoteClusterSettings {
	s := &esv1alpha1.RemoteClusterSettings{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}}
	s.Spec.ProviderConfigReference = &pc
	host, _, _ := strings.Cut(proxy, ":")
	s.Spec.ForProvider = esv1alpha1.RemoteClusterSettingsParameters{ElasticsearchRef: local.ref(), Alias: alias, ProxyAddress: proxy, ServerName: host}
	return s
}

func clusterPC(name string) xpv2.ProviderConfigReference {
	return xpv2.ProviderConfigReference{Kind: v1alpha1.ClusterProviderConfigKind, Name: name}
}

// credentialsFor delivers a key to alias on local, from a key Secret that c
// writes in ns as the CrossClusterAPIKey would.
func credentialsFor(t *testing.T, c client.Client, ns, name, alias string, local *cluster) *eckv1alpha1.RemoteClusterCredentials {
	t.Helper()
	id := strings.ReplaceAll(name, ".", "-")
	key := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name + "-key"}, Data: map[string][]byte{
		esv1alpha1.ConnectionKeyID:      []byte(id),
		esv1alpha1.ConnectionKeyEncoded: []byte(base64.StdEncoding.EncodeToString([]byte(id + ":not-a-real-key"))),
	}}
	if err := c.Create(t.Context(), key); err != nil {
		t.Fatal(err)
	}
	cr := &eckv1alpha1.RemoteClusterCredentials{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}}
	cr.Spec.ForProvider = eckv1alpha1.RemoteClusterCredentialsParameters{
		ElasticsearchRef: local.ref(), Alias: alias, APIKeySecretRef: eckv1alpha1.LocalSecretReference{Name: key.Name},
	}
	return cr
}

// victimFlow3 creates the local pieces of the victim's flow 3 link for
// alias on local: its connection settings and its credentials.
func victimFlow3(t *testing.T, local *cluster, alias string) (*esv1alpha1.RemoteClusterSettings, *eckv1alpha1.RemoteClusterCredentials) {
	t.Helper()
	s := settingsFor(victimNS, unique("victim-settings"), alias, local, clusterPC(local.Config), "victims-remote.example.com:9443")
	c := credentialsFor(t, admin, victimNS, unique("victim-credentials"), alias, local)
	for _, o := range []client.Object{s, c} {
		inLink(o, victimLink)
		if err := admin.Create(t.Context(), o); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = admin.Delete(t.Context(), o) })
	}
	return s, c
}

// notDelivered checks that no credentials reached local: no secure
// settings entry on its object, and no credentials Secret in its namespace.
func notDelivered(t *testing.T, local *cluster) {
	t.Helper()
	if ss, found, _ := unstructured.NestedSlice(getES(t, local).Object, "spec", "secureSettings"); found {
		t.Errorf("credentials were delivered to %s: spec.secureSettings %v", local, ss)
	}
	var secrets corev1.SecretList
	if err := admin.List(t.Context(), &secrets, client.InNamespace(local.NS)); err != nil {
		t.Fatal(err)
	}
	for _, s := range secrets.Items {
		if strings.HasPrefix(s.Name, "eslink-remote-credentials-") {
			t.Errorf("a credentials Secret %s/%s was written for %s", s.Namespace, s.Name, local)
		}
	}
}

// aliasSettings returns the persistent settings of alias on fake.
func aliasSettings(fake *esfake.Server, alias string) map[string]any {
	p, _ := fake.ClusterSettings()
	out := map[string]any{}
	for k, v := range p {
		if strings.HasPrefix(k, "cluster.remote."+alias+".") {
			out[k] = v
		}
	}
	return out
}

// waitReason waits until mg's Ready condition has reason and a message
// holding every one of want, and returns the message.
func waitReason(t *testing.T, mg resource.Managed, reason xpv2.ConditionReason, want ...string) string {
	t.Helper()
	var msg string
	waitFor(t, fmt.Sprintf("%T %s/%s to say %s: %v", mg, mg.GetNamespace(), mg.GetName(), reason, want), func() (bool, string) {
		got, ok := fresh(t, mg)
		if !ok {
			return false, "not found"
		}
		c := got.GetCondition(xpv2.TypeReady)
		msg = c.Message
		return c.Reason == reason && containsAll(c.Message, want), fmt.Sprintf("%s: %s", c.Reason, c.Message)
	})
	return msg
}

// TestAliasTakenByAnotherTeam is issue 18 item 1: a team that set an
// alias's connection settings on a shared local cluster first, pointing at
// its own address, must not get another team's link to deliver its key
// under that alias. Every piece of the other link is refused, and the
// refusal does not name the tenant's resources.
func TestAliasTakenByAnotherTeam(t *testing.T) {
	t.Parallel()
	ns := adminNamespace(t, "alias-taken")
	local := newCluster(t, ns, "shared", map[string]string{linkrules.AnnotationAllowedNamespaces: tenantNS + "," + victimNS}, true)

	atk := settingsFor(tenantNS, unique("atk-settings"), "payments", local, clusterPC(local.Config), "attacker.example.com:9443")
	if err := tenant.Create(t.Context(), atk); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = tenant.Delete(t.Context(), atk) })
	waitReady(t, atk)
	if err := admin.Get(t.Context(), client.ObjectKeyFromObject(atk), atk); err != nil {
		t.Fatal(err)
	}
	writesBefore, before := writes(local.Fake), versions(t, local)

	vs, vc := victimFlow3(t, local, "payments")
	want := []string{`remote cluster alias "payments" already exists on Elasticsearch ` + local.String(), "a link in another namespace", "pick another remote cluster alias"}
	msgs := []string{waitDenied(t, vs, want...), waitDenied(t, vc, want...)}
	time.Sleep(3 * poll)
	for _, m := range msgs {
		if strings.Contains(m, string(atk.GetUID())) || strings.Contains(m, atk.GetName()) {
			t.Errorf("the refusal names the tenant's resource: %s", m)
		}
	}
	notDelivered(t, local)
	if w := writes(local.Fake); !slices.Equal(w, writesBefore) {
		t.Errorf("the victim's pieces wrote to %s: %v, before %v", local, w, writesBefore)
	}
	checkNothingWritten(t, "the victim's link came", before, []*cluster{local}, nil, nil)
}

// TestAliasLeftBehind is the path of issue 18 item 1: a team points its
// settings at a provider config whose cluster does not exist and deletes
// them, to leave its address behind with no owner. The provider config is
// refused, the deletion waits, the alias stays owned, and another team's
// link for the alias delivers nothing.
func TestAliasLeftBehind(t *testing.T) {
	t.Parallel()
	ns := adminNamespace(t, "alias-left")
	local := newCluster(t, ns, "shared", map[string]string{linkrules.AnnotationAllowedNamespaces: tenantNS + "," + victimNS}, true)

	atk := settingsFor(tenantNS, unique("atk-settings"), "orders", local, clusterPC(local.Config), "attacker.example.com:9443")
	if err := tenant.Create(t.Context(), atk); err != nil {
		t.Fatal(err)
	}
	waitReady(t, atk)
	ghost := &v1alpha1.ProviderConfig{ObjectMeta: metav1.ObjectMeta{Namespace: tenantNS, Name: unique("ghost")},
		Spec: v1alpha1.ProviderConfigSpec{ECK: &v1alpha1.ECKEndpoint{ElasticsearchRef: &commonv1alpha1.ElasticsearchReference{Name: "ghost"}}}}
	if err := tenant.Create(t.Context(), ghost); err != nil {
		t.Fatal(err)
	}
	pointAt(t, tenant, atk, v1alpha1.ProviderConfigKind, ghost.Name)
	refusal := []string{"spec.providerConfigRef: ProviderConfig " + ghost.Name + " reaches Elasticsearch " + tenantNS + "/ghost, not " + local.String(),
		"use a provider config that reaches " + local.String()}
	waitDenied(t, atk, refusal...)
	if err := tenant.Delete(t.Context(), atk); err != nil {
		t.Fatal(err)
	}
	time.Sleep(3 * poll)
	if _, ok := fresh(t, atk); !ok {
		t.Fatalf("the tenant's settings let go of alias orders on %s without removing them", local)
	}
	waitDenied(t, atk, refusal...)
	if got := aliasSettings(local.Fake, "orders"); got["cluster.remote.orders.proxy_address"] != "attacker.example.com:9443" {
		t.Fatalf("the settings under test are not in place: %v", got)
	}
	owners, err := linkrules.AliasOwners(getES(t, local))
	if err != nil || !strings.HasPrefix(owners["orders"], tenantNS+"/") {
		t.Errorf("alias orders is no longer owned on %s while its settings are there: %v (%v)", local, owners, err)
	}
	writesBefore, before := writes(local.Fake), versions(t, local)

	vs, vc := victimFlow3(t, local, "orders")
	want := []string{`remote cluster alias "orders" already exists on Elasticsearch ` + local.String(), "a link in another namespace"}
	waitDenied(t, vs, want...)
	waitDenied(t, vc, want...)
	time.Sleep(3 * poll)
	notDelivered(t, local)
	if w := writes(local.Fake); !slices.Equal(w, writesBefore) {
		t.Errorf("the victim's pieces wrote to %s: %v, before %v", local, w, writesBefore)
	}
	checkNothingWritten(t, "the victim's link came", before, []*cluster{local}, nil, nil)

	// Pointed back at the cluster it names, the deletion removes the
	// settings and only then frees the alias.
	pointAt(t, tenant, atk, v1alpha1.ClusterProviderConfigKind, local.Config)
	deleteAndWait(t, tenant, atk)
	// The victim's link may take the freed alias at once: only the
	// tenant's address must be gone.
	if got := aliasSettings(local.Fake, "orders"); got["cluster.remote.orders.proxy_address"] == "attacker.example.com:9443" {
		t.Errorf("the deletion left the tenant's settings of alias orders behind: %v", got)
	}
}

// putByHand sets persistent cluster settings on fake through its REST API,
// as a person with the elastic user's password does.
func putByHand(t *testing.T, fake *esfake.Server, settings map[string]any) {
	t.Helper()
	body, err := json.Marshal(map[string]any{"persistent": settings})
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(fake.CACertPEM)
	hc := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}}, Timeout: 10 * time.Second}
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPut, fake.URL+"/_cluster/settings", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.SetBasicAuth("elastic", elasticPassword)
	req.Header.Set("Content-Type", "application/json")
	res, err := hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("PUT /_cluster/settings by hand: %s", res.Status)
	}
}

// TestHandWrittenSettingsGetNoCredentials: settings of an alias that a
// person (or a team, through a cluster it had the password of) set through
// the REST API carry no owner, so no link's credentials are delivered to
// the address they name, and they are never overwritten.
func TestHandWrittenSettingsGetNoCredentials(t *testing.T) {
	t.Parallel()
	ns := adminNamespace(t, "alias-hand")
	local := newCluster(t, ns, "shared", map[string]string{linkrules.AnnotationAllowedNamespaces: victimNS}, true)
	byHand := map[string]any{
		"cluster.remote.search.mode":          "proxy",
		"cluster.remote.search.proxy_address": "somewhere.example.com:9443",
	}
	putByHand(t, local.Fake, byHand)
	writesBefore, before := writes(local.Fake), versions(t, local)

	vs, vc := victimFlow3(t, local, "search")
	waitDenied(t, vs, `remote cluster alias "search" already exists on Elasticsearch `+local.String()+" and is not owned by this resource", "remove the hand-written entry")
	waitReason(t, vc, "WaitingForSettings", "spec.forProvider.alias", "RemoteClusterSettings", "credentials are delivered only to an alias whose settings the same link set")
	time.Sleep(3 * poll)
	notDelivered(t, local)
	if got := aliasSettings(local.Fake, "search"); fmt.Sprint(got) != fmt.Sprint(byHand) {
		t.Errorf("the hand-written settings were changed: %v", got)
	}
	if w := writes(local.Fake); !slices.Equal(w, writesBefore) {
		t.Errorf("the victim's pieces wrote to %s: %v, before %v", local, w, writesBefore)
	}
	checkNothingWritten(t, "the link came", before, []*cluster{local}, nil, nil)
}

// TestLocalPiecesActWhereTheyPoint is issue 18 item 2: a team records its
// settings on its own cluster, then switches providerConfigRef to a config
// that reaches a shared cluster (pinned ECK mode, or a URL), to overwrite
// or null another team's alias there. The config is refused, by the
// object it targets or by the cluster's uuid, and nothing reaches the
// shared cluster.
func TestLocalPiecesActWhereTheyPoint(t *testing.T) {
	t.Parallel()
	ns := adminNamespace(t, "pointing")
	shared := newCluster(t, ns, "shared", map[string]string{linkrules.AnnotationAllowedNamespaces: tenantNS + "," + victimNS}, true)
	own := newCluster(t, tenantNS, unique("own"), nil, true)
	for _, c := range []*cluster{shared, own} {
		es := getES(t, c)
		if err := controlplane.Update(t.Context(), admin, es, func() error {
			a := es.GetAnnotations()
			if a == nil {
				a = map[string]string{}
			}
			a[linkrules.AnnotationECKClusterUUID] = c.Fake.ClusterUUID()
			es.SetAnnotations(a)
			return nil
		}); err != nil {
			t.Fatal(err)
		}
	}
	// The platform team's URL-mode configs, one per cluster, usable from
	// every namespace.
	if err := admin.Create(t.Context(), &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "elastic"},
		Data: map[string][]byte{"username": []byte("elastic"), "password": []byte(elasticPassword)}}); err != nil {
		t.Fatal(err)
	}
	urlConfig := func(c *cluster) string {
		name := unique("url-" + c.Name)
		ca := "ca-" + name
		if err := admin.Create(t.Context(), &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: ca}, Data: map[string][]byte{"ca.crt": c.Fake.CACertPEM}}); err != nil {
			t.Fatal(err)
		}
		clusterConfig(t, name, map[string]any{"allowedNamespaces": []any{"*"}, "endpoint": map[string]any{
			"url": c.Fake.URL, "credentialsSecretRef": map[string]any{"name": "elastic", "namespace": ns}, "caSecretRef": map[string]any{"name": ca, "namespace": ns}}})
		return name
	}
	sharedURL, ownURL := urlConfig(shared), urlConfig(own)

	victim := settingsFor(victimNS, unique("victim-settings"), "billing", shared, clusterPC(shared.Config), "victims-remote.example.com:9443")
	inLink(victim, victimLink)
	if err := admin.Create(t.Context(), victim); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = admin.Delete(t.Context(), victim) })
	waitReady(t, victim)
	victimSettings := aliasSettings(shared.Fake, "billing")

	for name, tc := range map[string]struct {
		legit, moved string
		want         []string
	}{
		"PinnedECKConfig": {legit: own.Config, moved: shared.Config, want: []string{
			"spec.providerConfigRef: ClusterProviderConfig " + shared.Config + " reaches Elasticsearch " + shared.String() + ", not " + own.String(),
			"use a provider config that reaches " + own.String()}},
		"URLConfig": {legit: ownURL, moved: sharedURL, want: []string{
			"spec.providerConfigRef: ClusterProviderConfig " + sharedURL + " reaches " + shared.Fake.URL + ", a cluster other than Elasticsearch " + own.String(),
			linkrules.AnnotationECKClusterUUID, "use a provider config that reaches " + own.String()}},
	} {
		t.Run(name, func(t *testing.T) {
			atk := settingsFor(tenantNS, unique("atk-settings"), "billing", own, clusterPC(tc.legit), "attacker.example.com:9443")
			if err := tenant.Create(t.Context(), atk); err != nil {
				t.Fatal(err)
			}
			waitReady(t, atk)
			writesBefore, before := writes(shared.Fake), versions(t, shared)
			pointAt(t, tenant, atk, v1alpha1.ClusterProviderConfigKind, tc.moved)
			waitDenied(t, atk, tc.want...)
			// A deletion is no way around it: it would null the alias.
			if err := tenant.Delete(t.Context(), atk); err != nil {
				t.Fatal(err)
			}
			time.Sleep(3 * poll)
			waitDenied(t, atk, tc.want...)
			if got := aliasSettings(shared.Fake, "billing"); fmt.Sprint(got) != fmt.Sprint(victimSettings) {
				t.Errorf("the victim's settings of alias billing on %s changed: %v, were %v", shared, got, victimSettings)
			}
			if w := writes(shared.Fake); !slices.Equal(w, writesBefore) {
				t.Errorf("the tenant's settings wrote to %s: %v, before %v", shared, w, writesBefore)
			}
			checkNothingWritten(t, "the tenant moved its settings", before, []*cluster{shared}, nil, nil)

			pointAt(t, tenant, atk, v1alpha1.ClusterProviderConfigKind, tc.legit)
			deleteAndWait(t, tenant, atk)
			if got := aliasSettings(own.Fake, "billing"); len(got) != 0 {
				t.Errorf("the deletion left the settings on the tenant's own cluster: %v", got)
			}
		})
	}
}

// TestConnectivityShowsOnlyOwnAlias is issue 18 item 5: a
// RemoteClusterConnectivity the tenant writes for another team's alias on
// a shared cluster learns nothing about it, and says the same as for an
// alias nobody configured.
func TestConnectivityShowsOnlyOwnAlias(t *testing.T) {
	t.Parallel()
	ns := adminNamespace(t, "connectivity")
	local := newCluster(t, ns, "shared", map[string]string{linkrules.AnnotationAllowedNamespaces: tenantNS + "," + victimNS}, true)
	victim := settingsFor(victimNS, unique("victim-settings"), "metrics", local, clusterPC(local.Config), "victims-remote.example.com:9443")
	inLink(victim, victimLink)
	if err := admin.Create(t.Context(), victim); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = admin.Delete(t.Context(), victim) })
	waitReady(t, victim)

	msgs := map[string]string{}
	for _, alias := range []string{"metrics", "nothing-here"} {
		c := &esv1alpha1.RemoteClusterConnectivity{ObjectMeta: metav1.ObjectMeta{Namespace: tenantNS, Name: unique("atk-connectivity")}}
		c.Spec.ProviderConfigReference = &xpv2.ProviderConfigReference{Kind: v1alpha1.ClusterProviderConfigKind, Name: local.Config}
		c.Spec.ForProvider = esv1alpha1.RemoteClusterConnectivityParameters{ElasticsearchRef: local.ref(), Alias: alias}
		inLink(c, victimLink) // A label the tenant can copy: the namespace still tells the links apart.
		if err := tenant.Create(t.Context(), c); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = tenant.Delete(t.Context(), c) })
		msg := waitReason(t, c, "AliasNotOwned", "spec.forProvider.alias: alias "+alias+" is not configured on Elasticsearch "+local.String()+" by this resource's link")
		msgs[alias] = strings.ReplaceAll(msg, alias, "<alias>")
		if err := admin.Get(t.Context(), client.ObjectKeyFromObject(c), c); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(c.Status.AtProvider, esv1alpha1.RemoteClusterConnectivityObservation{}) {
			t.Errorf("the tenant's connectivity for alias %s shows %+v", alias, c.Status.AtProvider)
		}
	}
	if msgs["metrics"] != msgs["nothing-here"] {
		t.Errorf("another team's alias and an unknown one read differently:\n%s\n%s", msgs["metrics"], msgs["nothing-here"])
	}
	for _, r := range local.Fake.Requests() {
		if r.Endpoint == "GET /_remote/info" {
			t.Errorf("the provider read %s for a connectivity that owns no alias", r.Path)
		}
	}
}
