package connection

import (
	"context"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"

	xpv2 "github.com/crossplane/crossplane/apis/v2/core/v2"

	"github.com/eslink/eslink/apis"
	commonv1alpha1 "github.com/eslink/eslink/apis/common/v1alpha1"
	v1alpha1 "github.com/eslink/eslink/apis/v1alpha1"
	"github.com/eslink/eslink/internal/eckschema"
	"github.com/eslink/eslink/internal/grants"
	"github.com/eslink/eslink/test/fakeelasticsearch/esfake"
)

const elasticPassword = "eck-elastic-password-1"

func secret(ns, name string, data map[string]string) *corev1.Secret {
	s := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}, Data: map[string][]byte{}}
	for k, v := range data {
		s.Data[k] = []byte(v)
	}
	return s
}

func eckCluster(ns, name string, annotations map[string]string) client.Object {
	es := eckschema.NewElasticsearch()
	es.SetNamespace(ns)
	es.SetName(name)
	es.SetAnnotations(annotations)
	return es
}

// env is a fake API server holding one ECK cluster ns2/cluster2 served by a
// fake Elasticsearch, plus provider configs of both kinds and modes.
type env struct {
	srv         *esfake.Server
	kube        client.Client
	secretReads *int
}

func newEnv(t *testing.T, esAnnotations map[string]string) *env {
	t.Helper()
	srv := esfake.NewServer(t, esfake.Options{TLS: true, Users: []esfake.User{{Name: "elastic", Password: elasticPassword}, {Name: "admin", Password: "admin-pass-1"}}})
	s := runtime.NewScheme()
	_ = clientgoscheme.AddToScheme(s)
	_ = apis.AddToScheme(s)
	objs := []client.Object{
		eckCluster("ns2", "cluster2", esAnnotations),
		eckCluster("team-a", "local", nil),
		eckCluster("team-a", "bare", nil),
		secret("ns2", "cluster2-es-elastic-user", map[string]string{"elastic": elasticPassword}),
		secret("ns2", "cluster2-es-http-certs-public", map[string]string{"ca.crt": string(srv.CACertPEM)}),
		secret("team-a", "local-es-elastic-user", map[string]string{"elastic": elasticPassword}),
		secret("team-a", "local-es-http-certs-public", map[string]string{"ca.crt": string(srv.CACertPEM)}),
		secret("team-a", "creds", map[string]string{"username": "admin", "password": "admin-pass-1"}),
		secret("team-a", "ca", map[string]string{"ca.crt": string(srv.CACertPEM)}),
		&v1alpha1.ClusterProviderConfig{ObjectMeta: metav1.ObjectMeta{Name: "eck"},
			Spec: v1alpha1.ClusterProviderConfigSpec{AllowedNamespaces: []string{"*"}, ECK: &v1alpha1.ECKEndpoint{URLOverride: srv.URL + "/"}}},
		// A platform team's admin config, for team-b only.
		&v1alpha1.ClusterProviderConfig{ObjectMeta: metav1.ObjectMeta{Name: "admin"},
			Spec: v1alpha1.ClusterProviderConfigSpec{AllowedNamespaces: []string{"team-b"}, Endpoint: &v1alpha1.ClusterURLEndpoint{
				URL: srv.URL, CredentialsSecretRef: v1alpha1.SecretKeyRef{Namespace: "team-a", Name: "creds"},
				CASecretRef: &v1alpha1.SecretKeyRef{Namespace: "team-a", Name: "ca"},
			}}},
		&v1alpha1.ClusterProviderConfig{ObjectMeta: metav1.ObjectMeta{Name: "unlisted"},
			Spec: v1alpha1.ClusterProviderConfigSpec{ECK: &v1alpha1.ECKEndpoint{URLOverride: srv.URL}}},
		&v1alpha1.ClusterProviderConfig{ObjectMeta: metav1.ObjectMeta{Name: "url"},
			Spec: v1alpha1.ClusterProviderConfigSpec{AllowedNamespaces: []string{"team-a"}, Endpoint: &v1alpha1.ClusterURLEndpoint{
				URL: srv.URL, CredentialsSecretRef: v1alpha1.SecretKeyRef{Namespace: "team-a", Name: "creds"},
				CASecretRef: &v1alpha1.SecretKeyRef{Namespace: "team-a", Name: "ca"},
			}}},
		&v1alpha1.ClusterProviderConfig{ObjectMeta: metav1.ObjectMeta{Name: "eck-http"},
			Spec: v1alpha1.ClusterProviderConfigSpec{AllowedNamespaces: []string{"*"}, ECK: &v1alpha1.ECKEndpoint{URLOverride: "http://127.0.0.1:1"}}},
		&v1alpha1.ProviderConfig{ObjectMeta: metav1.ObjectMeta{Namespace: "team-a", Name: "eck"},
			Spec: v1alpha1.ProviderConfigSpec{ECK: &v1alpha1.ECKEndpoint{URLOverride: srv.URL}}},
		&v1alpha1.ProviderConfig{ObjectMeta: metav1.ObjectMeta{Namespace: "team-a", Name: "url"},
			Spec: v1alpha1.ProviderConfigSpec{Endpoint: &v1alpha1.URLEndpoint{
				URL: srv.URL, CredentialsType: v1alpha1.CredentialsBasic,
				CredentialsSecretRef: v1alpha1.LocalSecretKeyRef{Name: "creds"}, CASecretRef: &v1alpha1.LocalSecretKeyRef{Name: "ca"},
			}}},
		&v1alpha1.ProviderConfig{ObjectMeta: metav1.ObjectMeta{Namespace: "team-a", Name: "pinned"},
			Spec: v1alpha1.ProviderConfigSpec{Endpoint: &v1alpha1.URLEndpoint{
				URL: srv.URL, CredentialsSecretRef: v1alpha1.LocalSecretKeyRef{Name: "creds"},
				TLS: &v1alpha1.TLS{CertificateFingerprint: srv.CertFingerprint},
			}}},
		urlConfig("userinfo", "https://admin:admin-pass-1@127.0.0.1:1"),
		urlConfig("unparsable", "https://admin:admin-pass-1%zz@127.0.0.1:1"),
		urlConfig("query", "https://127.0.0.1:1/?password=admin-pass-1"),
		urlConfig("http", "http://127.0.0.1:1"),
		&v1alpha1.ProviderConfig{ObjectMeta: metav1.ObjectMeta{Namespace: "team-a", Name: "apikey"},
			Spec: v1alpha1.ProviderConfigSpec{Endpoint: &v1alpha1.URLEndpoint{
				URL: srv.URL, CredentialsType: v1alpha1.CredentialsAPIKey, CredentialsSecretRef: v1alpha1.LocalSecretKeyRef{Name: "creds"},
			}}},
	}
	reads := 0
	kube := fake.NewClientBuilder().WithScheme(s).WithObjects(objs...).WithInterceptorFuncs(interceptor.Funcs{
		Get: func(ctx context.Context, c client.WithWatch, key client.ObjectKey, obj client.Object, opts ...client.GetOption) error {
			if _, ok := obj.(*corev1.Secret); ok {
				reads++
			}
			return c.Get(ctx, key, obj, opts...)
		},
	}).Build()
	return &env{srv: srv, kube: kube, secretReads: &reads}
}

// urlConfig is a namespaced URL-mode config of team-a with basic
// credentials and no CA.
func urlConfig(name, url string) *v1alpha1.ProviderConfig {
	return &v1alpha1.ProviderConfig{ObjectMeta: metav1.ObjectMeta{Namespace: "team-a", Name: name},
		Spec: v1alpha1.ProviderConfigSpec{Endpoint: &v1alpha1.URLEndpoint{URL: url, CredentialsSecretRef: v1alpha1.LocalSecretKeyRef{Name: "creds"}}}}
}

func pc(kind, name string) *xpv2.ProviderConfigReference {
	return &xpv2.ProviderConfigReference{Kind: kind, Name: name}
}

func TestResolve(t *testing.T) {
	ctx := context.Background()
	cluster2 := &commonv1alpha1.ElasticsearchReference{Name: "cluster2", Namespace: "ns2"}
	search := func(names ...string) []grants.AccessEntry {
		return []grants.AccessEntry{{Field: "spec.forProvider.access.search[0]", Kind: grants.AccessSearch, Names: names}}
	}
	cases := map[string]struct {
		annotations map[string]string
		req         Request
		wantErr     string
		wantDenied  bool
		wantGone    bool
		// noSecretRead asserts that a denial read no credential.
		noSecretRead bool
	}{
		"EndpointBasicWithCA": {req: Request{Namespace: "team-a", ProviderConfig: pc("ProviderConfig", "url")}},
		"EndpointFingerprint": {req: Request{Namespace: "team-a", ProviderConfig: pc("ProviderConfig", "pinned")}},
		"ClusterECKGranted": {
			annotations: map[string]string{grants.AnnotationAllowedNamespaces: "team-a"},
			req:         Request{Namespace: "team-a", ProviderConfig: pc("ClusterProviderConfig", "eck"), ElasticsearchRef: cluster2, Access: search("logs-*")},
		},
		"ClusterECKSameNamespaceDefault": {
			req: Request{Namespace: "team-a", ProviderConfig: pc("ClusterProviderConfig", "eck"), ElasticsearchRef: &commonv1alpha1.ElasticsearchReference{Name: "local"}},
		},
		"NamespacedECK": {
			req: Request{Namespace: "team-a", ProviderConfig: pc("ProviderConfig", "eck"), ElasticsearchRef: &commonv1alpha1.ElasticsearchReference{Name: "local"}},
		},
		"ClusterECKNotGranted": {
			req:     Request{Namespace: "team-a", ProviderConfig: pc("ClusterProviderConfig", "eck"), ElasticsearchRef: cluster2},
			wantErr: "namespace team-a is not allowed to link ns2/cluster2", wantDenied: true, noSecretRead: true,
		},
		"ClusterECKIndexPatternDenied": {
			annotations: map[string]string{grants.AnnotationAllowedNamespaces: "*", grants.AnnotationAllowedIndexPatterns: "logs-*"},
			req:         Request{Namespace: "team-a", ProviderConfig: pc("ClusterProviderConfig", "eck"), ElasticsearchRef: cluster2, Access: search("metrics-*")},
			wantErr:     `index pattern "metrics-*"`, wantDenied: true, noSecretRead: true,
		},
		"ClusterECKAccessKindDenied": {
			annotations: map[string]string{grants.AnnotationAllowedNamespaces: "*", grants.AnnotationAllowedAccess: "search"},
			req: Request{Namespace: "team-a", ProviderConfig: pc("ClusterProviderConfig", "eck"), ElasticsearchRef: cluster2,
				Access: []grants.AccessEntry{{Field: "spec.forProvider.access.replication[0]", Kind: grants.AccessReplication, Names: []string{"a"}}}},
			wantErr: "spec.forProvider.access.replication[0]: access kind replication is not allowed", wantDenied: true, noSecretRead: true,
		},
		"ClusterECKRegexDenied": {
			annotations: map[string]string{grants.AnnotationAllowedNamespaces: "*"},
			req:         Request{Namespace: "team-a", ProviderConfig: pc("ClusterProviderConfig", "eck"), ElasticsearchRef: cluster2, Access: search("/.*/")},
			wantErr:     "is a regular expression", wantDenied: true, noSecretRead: true,
		},
		"ClusterECKRestrictedIndicesDenied": {
			annotations: map[string]string{grants.AnnotationAllowedNamespaces: "*"},
			req: Request{Namespace: "team-a", ProviderConfig: pc("ClusterProviderConfig", "eck"), ElasticsearchRef: cluster2,
				Access: []grants.AccessEntry{{Field: "spec.forProvider.access.replication[0]", Kind: grants.AccessReplication, Names: []string{".security-7"}, AllowRestrictedIndices: true}}},
			wantErr: "spec.forProvider.access.replication[0].allowRestrictedIndices", wantDenied: true, noSecretRead: true,
		},
		"ClusterECKCleanupSkipsGrantsOfTheClusterThatAllowedIt": {
			annotations: map[string]string{grants.AnnotationAllowedIndexPatterns: "none"},
			req: Request{Namespace: "team-a", ProviderConfig: pc("ClusterProviderConfig", "eck"), ElasticsearchRef: cluster2, Access: search("metrics-*"),
				Cleanup: true, AllowedOn: "ns2/cluster2"},
		},
		"ClusterECKCleanupWithoutProofChecksGrants": {
			annotations: map[string]string{grants.AnnotationAllowedIndexPatterns: "none"},
			req:         Request{Namespace: "team-a", ProviderConfig: pc("ClusterProviderConfig", "eck"), ElasticsearchRef: cluster2, Access: search("metrics-*"), Cleanup: true},
			wantErr:     "namespace team-a is not allowed to link ns2/cluster2", wantDenied: true, noSecretRead: true,
		},
		"ClusterECKLocalRoleChecksNamespaceOnly": {
			annotations: map[string]string{grants.AnnotationAllowedNamespaces: "team-a", grants.AnnotationAllowedAccess: "search"},
			req: Request{Namespace: "team-a", ProviderConfig: pc("ClusterProviderConfig", "eck"), ElasticsearchRef: cluster2, Role: grants.RoleLocal,
				Access: []grants.AccessEntry{{Kind: grants.AccessReplication, Names: []string{"x"}}}},
		},
		"ClusterECKLocalRoleNotGranted": {
			req:     Request{Namespace: "team-a", ProviderConfig: pc("ClusterProviderConfig", "eck"), ElasticsearchRef: cluster2, Role: grants.RoleLocal},
			wantErr: "namespace team-a is not allowed to link ns2/cluster2 as local cluster", wantDenied: true, noSecretRead: true,
		},
		"ClusterConfigNotAllowingNamespace": {
			req:     Request{Namespace: "team-a", ProviderConfig: pc("ClusterProviderConfig", "admin")},
			wantErr: "spec.providerConfigRef: ClusterProviderConfig admin does not allow namespace team-a", wantDenied: true, noSecretRead: true,
		},
		"ClusterConfigWithoutAllowedNamespaces": {
			annotations: map[string]string{grants.AnnotationAllowedNamespaces: "*"},
			req:         Request{Namespace: "team-a", ProviderConfig: pc("ClusterProviderConfig", "unlisted"), ElasticsearchRef: cluster2},
			wantErr:     "ClusterProviderConfig unlisted does not allow namespace team-a", wantDenied: true, noSecretRead: true,
		},
		"ClusterConfigDeniedEvenForCleanup": {
			req:     Request{Namespace: "team-a", ProviderConfig: pc("ClusterProviderConfig", "admin"), Cleanup: true},
			wantErr: "does not allow namespace team-a", wantDenied: true, noSecretRead: true,
		},
		"ClusterURLAllowed": {req: Request{Namespace: "team-a", ProviderConfig: pc("ClusterProviderConfig", "url")}},
		"ECKPlainHTTPNeedsOptIn": {
			annotations:  map[string]string{grants.AnnotationAllowedNamespaces: "*"},
			req:          Request{Namespace: "team-a", ProviderConfig: pc("ClusterProviderConfig", "eck-http"), ElasticsearchRef: cluster2},
			wantErr:      `spec.eck.urlOverride of ClusterProviderConfig eck-http "http://127.0.0.1:1" uses http://, which would send the credentials in clear: use https://, or set spec.eck.allowInsecureHTTP: true`,
			noSecretRead: true,
		},
		"EndpointPlainHTTPNeedsOptIn": {
			req:     Request{Namespace: "team-a", ProviderConfig: pc("ProviderConfig", "http")},
			wantErr: "set spec.endpoint.allowInsecureHTTP: true", noSecretRead: true,
		},
		"UnparsableURLNotEchoed": {
			req:     Request{Namespace: "team-a", ProviderConfig: pc("ProviderConfig", "unparsable")},
			wantErr: "spec.endpoint.url of ProviderConfig team-a/unparsable is not a valid URL", noSecretRead: true,
		},
		"QueryRefused": {
			req:     Request{Namespace: "team-a", ProviderConfig: pc("ProviderConfig", "query")},
			wantErr: "must not hold a query or a fragment", noSecretRead: true,
		},
		"NamespacedECKOtherNamespace": {
			req:     Request{Namespace: "team-a", ProviderConfig: pc("ProviderConfig", "eck"), ElasticsearchRef: cluster2},
			wantErr: "reads Secrets in namespace team-a only", noSecretRead: true,
		},
		"ECKMissingCluster": {
			req:     Request{Namespace: "team-a", ProviderConfig: pc("ClusterProviderConfig", "eck"), ElasticsearchRef: &commonv1alpha1.ElasticsearchReference{Name: "nope"}},
			wantErr: "cannot get Elasticsearch team-a/nope: not found", wantGone: true,
		},
		"ECKMissingSecrets": {
			req:     Request{Namespace: "team-a", ProviderConfig: pc("ClusterProviderConfig", "eck"), ElasticsearchRef: &commonv1alpha1.ElasticsearchReference{Name: "bare"}},
			wantErr: "cannot get Secret team-a/bare-es-elastic-user: not found",
		},
		"ECKNoRef": {
			req:     Request{Namespace: "team-a", ProviderConfig: pc("ClusterProviderConfig", "eck")},
			wantErr: "spec.forProvider.elasticsearchRef is required",
		},
		"URLWithCredentials": {
			req:     Request{Namespace: "team-a", ProviderConfig: pc("ProviderConfig", "userinfo")},
			wantErr: "must not hold credentials",
		},
		"APIKeySecretWithoutKey": {
			req:     Request{Namespace: "team-a", ProviderConfig: pc("ProviderConfig", "apikey")},
			wantErr: "must hold the key api_key",
		},
		"MissingConfig": {
			req:     Request{Namespace: "team-b", ProviderConfig: pc("ProviderConfig", "url")},
			wantErr: "cannot get ProviderConfig team-b/url",
		},
		"UnknownKind": {
			req:     Request{Namespace: "team-a", ProviderConfig: pc("Other", "url")},
			wantErr: `spec.providerConfigRef.kind "Other" is not supported`,
		},
		"NoRef": {req: Request{Namespace: "team-a"}, wantErr: "spec.providerConfigRef is not set"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			e := newEnv(t, tc.annotations)
			r := NewResolver(e.kube)
			c, err := r.Resolve(ctx, tc.req)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("Resolve() error = %v, want one containing %q", err, tc.wantErr)
				}
				if IsDenied(err) != tc.wantDenied {
					t.Errorf("IsDenied() = %v, want %v", IsDenied(err), tc.wantDenied)
				}
				if IsTargetGone(err) != tc.wantGone {
					t.Errorf("IsTargetGone() = %v, want %v", IsTargetGone(err), tc.wantGone)
				}
				if tc.noSecretRead && *e.secretReads != 0 {
					t.Errorf("Resolve() read %d Secrets before failing, want none", *e.secretReads)
				}
				for _, p := range []string{elasticPassword, "admin-pass-1"} {
					if strings.Contains(err.Error(), p) {
						t.Errorf("error %q leaks a password", err)
					}
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			// The resolved client works against the cluster.
			if _, err := c.Version(ctx); err != nil {
				t.Fatalf("Version() with the resolved client: %v", err)
			}
		})
	}
}

func TestResolveCachesPerCredentialsVersion(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, nil)
	r := NewResolver(e.kube)
	req := Request{Namespace: "team-a", ProviderConfig: pc("ProviderConfig", "url")}
	c1, err := r.Resolve(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	c2, err := r.Resolve(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	if c1 != c2 {
		t.Error("Resolve() built a second client for unchanged config and Secrets")
	}
	s := &corev1.Secret{}
	if err := e.kube.Get(ctx, client.ObjectKey{Namespace: "team-a", Name: "creds"}, s); err != nil {
		t.Fatal(err)
	}
	s.Data["password"] = []byte("rotated-pass-2")
	if err := e.kube.Update(ctx, s); err != nil {
		t.Fatal(err)
	}
	// Within SecretReuse, the Secrets read last are reused.
	if c, err := r.Resolve(ctx, req); err != nil || c != c1 {
		t.Errorf("Resolve() within SecretReuse = %p, %v; want the client built from the Secret read before (%p)", c, err, c1)
	}
	r.reuse = 0
	c3, err := r.Resolve(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	if c3 == c1 {
		t.Error("Resolve() reused the client after the credentials Secret changed")
	}
	if n := r.CachedClients(); n != 1 {
		t.Errorf("CachedClients() = %d, want 1 (the new client replaces the old)", n)
	}
}

func TestTransportCondition(t *testing.T) {
	ctx := context.Background()
	plain := esfake.NewServer(t, esfake.Options{Users: []esfake.User{{Name: "admin", Password: "admin-pass-1"}}})
	e := newEnv(t, nil)
	if err := e.kube.Create(ctx, &v1alpha1.ProviderConfig{ObjectMeta: metav1.ObjectMeta{Namespace: "team-a", Name: "plain"},
		Spec: v1alpha1.ProviderConfigSpec{Endpoint: &v1alpha1.URLEndpoint{
			URL: plain.URL, AllowInsecureHTTP: true, CredentialsSecretRef: v1alpha1.LocalSecretKeyRef{Name: "creds"},
		}}}); err != nil {
		t.Fatal(err)
	}
	r := NewResolver(e.kube)

	// The condition each client gives is checked with the condition
	// (TestTransportConditionStates, beside the condition); here, that the
	// resolver's clients say how they travel.
	secure, err := r.Resolve(ctx, Request{Namespace: "team-a", ProviderConfig: pc("ProviderConfig", "url")})
	if err != nil {
		t.Fatal(err)
	}
	if secure.PlaintextHTTP() {
		t.Errorf("the https config's client says it sends credentials in clear")
	}

	insecure, err := r.Resolve(ctx, Request{Namespace: "team-a", ProviderConfig: pc("ProviderConfig", "plain")})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := insecure.Version(ctx); err != nil {
		t.Fatalf("the allowed plain http config does not work: %v", err)
	}
	if !insecure.PlaintextHTTP() {
		t.Errorf("the plain http config's client does not say it sends credentials in clear")
	}
}
