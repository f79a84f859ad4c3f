package tenant

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/crossplane/crossplane-runtime/v2/pkg/resource"
	xpv2 "github.com/crossplane/crossplane/apis/v2/core/v2"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	eckv1alpha1 "github.com/eslink/eslink/apis/eck/v1alpha1"
	esv1alpha1 "github.com/eslink/eslink/apis/elasticsearch/v1alpha1"
	"github.com/eslink/eslink/internal/grants"
	"github.com/eslink/eslink/test/fakeelasticsearch/esfake"
)

// TestSecretHygiene runs every error path of the provider config resolver
// and of the Elasticsearch client, through the provider binary, with
// secret-looking values where each path could pick one up: passwords in
// URLs and in Secrets, an API key, a CA Secret that is no certificate, and
// servers whose error bodies repeat the credentials and another key. None
// of these values, nor the encoded key of a key that was created, may show
// in the provider's log, in any event, or in any resource's status.
func TestSecretHygiene(t *testing.T) {
	t.Parallel()
	ns := adminNamespace(t, "hygiene")
	const (
		urlPassword  = "UrlPa55-Secret-q8vK"
		credPassword = "CredPa55-Secret-w3nB"
		echoPassword = "EchoPa55-Secret-e5Rt"
		notPEM       = "CaNotPem-Secret-z7Lp"
		// foreignKey is some other key's encoded form, echoed by a server.
		foreignKey = "VnVhQ2ZHY0JDZGJrUW0tZTVhT3g6dWkybHAyYXhUTm1zeWFrdzl0dk5udw=="
	)
	apiKeySecret := "ApiK3y-Secret-Value-x9Tq"
	apiKey := base64.StdEncoding.EncodeToString([]byte("keyid0000000000000001:" + apiKeySecret))
	echoBasic := base64.StdEncoding.EncodeToString([]byte("elastic:" + echoPassword))

	users := func(pass string) []esfake.User { return []esfake.User{{Name: "elastic", Password: pass}} }
	wrongPass := esfake.NewServer(t, esfake.Options{TLS: true, Users: users("another-password")})
	echo403 := esfake.NewServer(t, esfake.Options{TLS: true, Users: users(echoPassword)})
	echo500 := esfake.NewServer(t, esfake.Options{TLS: true, Users: users(echoPassword)})
	good := esfake.NewServer(t, esfake.Options{TLS: true, Users: users(echoPassword)})
	echo := "request rejected: password [" + echoPassword + "] header [Authorization: Basic " + echoBasic + "] " +
		"[ApiKey " + apiKey + "] key [" + foreignKey + "] secret [" + apiKeySecret + "]"
	for _, f := range []struct {
		s      *esfake.Server
		status int
	}{{echo403, 403}, {echo500, 500}} {
		f.s.InjectFault(esfake.Fault{Method: "POST", PathPrefix: "/_security/cross_cluster/api_key", Status: f.status, Reason: echo})
	}

	secret := func(name string, data map[string]string) {
		s := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}, Data: map[string][]byte{}}
		for k, v := range data {
			s.Data[k] = []byte(v)
		}
		if err := admin.Create(t.Context(), s); err != nil {
			t.Fatal(err)
		}
	}
	secret("cred", map[string]string{"username": "elastic", "password": credPassword})
	secret("echo-cred", map[string]string{"username": "elastic", "password": echoPassword})
	secret("misnamed", map[string]string{"username": "elastic", "pass": credPassword})
	secret("apikey", map[string]string{"api_key": apiKey})
	secret("not-pem", map[string]string{"ca.crt": notPEM})
	secret("wrong-ca", map[string]string{"ca.crt": string(echo500.CACertPEM)})
	// caOf names the CA Secret of a fake.
	caOf := func(f *esfake.Server) string {
		return strings.NewReplacer("https://", "ca-", ".", "-", ":", "-").Replace(f.URL)
	}
	for _, f := range []*esfake.Server{wrongPass, echo403, echo500, good} {
		secret(caOf(f), map[string]string{"ca.crt": string(f.CACertPEM)})
	}

	// A cluster whose ECK Secret lacks the elastic key, and a reference
	// to one that does not exist.
	noKey := newCluster(t, ns, "no-key", map[string]string{grants.AnnotationAllowedNamespaces: "*"}, false)
	secret("no-key-es-elastic-user", map[string]string{"elastic-password": credPassword})

	endpoint := func(url, cred, ca string, extra map[string]any) map[string]any {
		e := map[string]any{"url": url, "credentialsSecretRef": map[string]any{"name": cred, "namespace": ns}}
		if ca != "" {
			e["caSecretRef"] = map[string]any{"name": ca, "namespace": ns}
		}
		for k, v := range extra {
			e[k] = v
		}
		return map[string]any{"allowedNamespaces": []any{ns}, "endpoint": e}
	}
	host := strings.TrimPrefix(good.URL, "https://")
	configs := map[string]map[string]any{
		"userinfo":          endpoint("https://elastic:"+urlPassword+"@"+host, "cred", caOf(good), nil),
		"unparsable":        endpoint("https://elastic:"+urlPassword+"%zz@"+host, "cred", caOf(good), nil),
		"query":             endpoint("https://"+host+"/?password="+urlPassword, "cred", caOf(good), nil),
		"plain-http":        endpoint("http://"+host, "cred", "", nil),
		"wrong-password":    endpoint(wrongPass.URL, "cred", caOf(wrongPass), nil),
		"misnamed-key":      endpoint(good.URL, "misnamed", caOf(good), nil),
		"missing-secret":    endpoint(good.URL, "nope", caOf(good), nil),
		"ca-not-pem":        endpoint(good.URL, "echo-cred", "not-pem", nil),
		"wrong-ca":          endpoint(good.URL, "echo-cred", "wrong-ca", nil),
		"wrong-fingerprint": endpoint(good.URL, "echo-cred", "", map[string]any{"tls": map[string]any{"certificateFingerprint": echo500.LeafFingerprint}}),
		"api-key-401":       endpoint(good.URL, "apikey", caOf(good), map[string]any{"credentialsType": "APIKey"}),
		"echo-403":          endpoint(echo403.URL, "echo-cred", caOf(echo403), nil),
		"echo-500":          endpoint(echo500.URL, "echo-cred", caOf(echo500), nil),
		"unreachable":       endpoint("https://127.0.0.1:1", "echo-cred", caOf(good), nil),
		"eck-no-key":        {"allowedNamespaces": []any{ns}, "eck": map[string]any{"urlOverride": good.URL}},
		"eck-gone":          {"allowedNamespaces": []any{ns}, "eck": map[string]any{"urlOverride": good.URL}},
		"works":             endpoint(good.URL, "echo-cred", caOf(good), nil),
		"not-allowed":       {"allowedNamespaces": []any{"someone-else"}, "endpoint": endpoint(good.URL, "echo-cred", caOf(good), nil)["endpoint"]},
	}
	var keys []*esv1alpha1.CrossClusterAPIKey
	for name, spec := range configs {
		cfg := unique("hygiene-" + name)
		clusterConfig(t, cfg, spec)
		k := key(ns, name, "hygiene-"+name, cfg, nil, keySearch("logs-*"))
		switch name {
		case "eck-no-key":
			k.Spec.ForProvider.ElasticsearchRef = ptr.To(noKey.ref())
		case "eck-gone":
			k.Spec.ForProvider.ElasticsearchRef = ptr.To((&cluster{NS: ns, Name: "never-was"}).ref())
		}
		if err := admin.Create(t.Context(), k); err != nil {
			t.Fatal(err)
		}
		keys = append(keys, k)
	}

	created := ""
	for _, k := range keys {
		if k.Name == "works" {
			waitReady(t, k)
			s := &corev1.Secret{}
			if err := admin.Get(t.Context(), client.ObjectKey{Namespace: ns, Name: k.Name + "-key"}, s); err != nil {
				t.Fatal(err)
			}
			created = string(s.Data[esv1alpha1.ConnectionKeyEncoded])
			if created == "" {
				t.Fatal("the working config published no encoded key")
			}
			continue
		}
		waitFor(t, "key "+k.Name+" to report its failure", func() (bool, string) {
			got, ok := fresh(t, k)
			if !ok {
				return false, "not found"
			}
			c := got.GetCondition(xpv2.TypeSynced)
			return c.Status == corev1.ConditionFalse && c.Message != "", conditions(got)
		})
	}
	// Let every failure go round a few times, through the reconciler's
	// logs and events.
	waitFor(t, "more reconciles of the failing keys", func() (bool, string) {
		n := strings.Count(prov.Log(), "hygiene-echo-403")
		return n >= 3, fmt.Sprintf("%d log lines about hygiene-echo-403", n)
	})

	secrets := []string{urlPassword, credPassword, echoPassword, notPEM, foreignKey, apiKey, apiKeySecret, echoBasic, elasticPassword, created}
	if found := leaks(t, secrets); len(found) > 0 {
		t.Errorf("secrets leaked:\n%s", strings.Join(found, "\n"))
	}
	if !strings.Contains(prov.Log(), "[redacted]") {
		t.Errorf("the provider log never shows a redacted error body; the echoing servers were not reached")
	}
}

// leaks returns where any of secrets shows in the provider's log, in any
// event, or in the status of any managed resource of the cluster.
func leaks(t *testing.T, secrets []string) []string {
	t.Helper()
	texts := map[string]string{"provider log": prov.Log()}
	var evs corev1.EventList
	if err := admin.List(t.Context(), &evs); err != nil {
		t.Fatal(err)
	}
	for _, e := range evs.Items {
		texts["event "+e.Namespace+"/"+e.Name] = e.Reason + " " + e.Message
	}
	lists := []client.ObjectList{&esv1alpha1.CrossClusterAPIKeyList{}, &eckv1alpha1.RemoteClusterEntryList{}, &eckv1alpha1.RemoteClusterServerList{}}
	for _, l := range lists {
		if err := admin.List(t.Context(), l); err != nil {
			t.Fatal(err)
		}
	}
	status := func(kind string, mg resource.Managed, st any) {
		b, err := json.Marshal(st)
		if err != nil {
			t.Fatal(err)
		}
		texts[kind+" "+mg.GetNamespace()+"/"+mg.GetName()] = string(b)
	}
	for i := range lists[0].(*esv1alpha1.CrossClusterAPIKeyList).Items {
		k := &lists[0].(*esv1alpha1.CrossClusterAPIKeyList).Items[i]
		status("CrossClusterAPIKey", k, k.Status)
	}
	for i := range lists[1].(*eckv1alpha1.RemoteClusterEntryList).Items {
		e := &lists[1].(*eckv1alpha1.RemoteClusterEntryList).Items[i]
		status("RemoteClusterEntry", e, e.Status)
	}
	for i := range lists[2].(*eckv1alpha1.RemoteClusterServerList).Items {
		s := &lists[2].(*eckv1alpha1.RemoteClusterServerList).Items[i]
		status("RemoteClusterServer", s, s.Status)
	}
	var out []string
	for where, text := range texts {
		for _, s := range secrets {
			if s != "" && strings.Contains(text, s) {
				i := strings.Index(text, s)
				out = append(out, fmt.Sprintf("%s holds %q: ...%s...", where, s, text[max(0, i-200):min(len(text), i+len(s)+50)]))
			}
		}
	}
	return out
}
