package tenant

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/crossplane/crossplane-runtime/v2/pkg/reconciler/managed"
	"github.com/crossplane/crossplane-runtime/v2/pkg/resource"
	xpv2 "github.com/crossplane/crossplane/apis/v2/core/v2"
	corev1 "k8s.io/api/core/v1"
	kerrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/utils/ptr"

	commonv1alpha1 "github.com/eslink/eslink/apis/common/v1alpha1"
	esv1alpha1 "github.com/eslink/eslink/apis/elasticsearch/v1alpha1"
	v1alpha1 "github.com/eslink/eslink/apis/v1alpha1"
	"github.com/eslink/eslink/internal/eckschema"
	"github.com/eslink/eslink/internal/grants"
	"github.com/eslink/eslink/test/fakeelasticsearch/esfake"
)

// TestTenantRBAC checks the premise of the suite: the tenant may write
// eslink's managed resources, but not the platform team's objects.
func TestTenantRBAC(t *testing.T) {
	t.Parallel()
	ns := adminNamespace(t, "rbac")
	c := newCluster(t, ns, "c", nil, false)
	es := getES(t, c)
	es.SetAnnotations(map[string]string{grants.AnnotationAllowedNamespaces: "*"})
	if err := tenant.Update(t.Context(), es); !kerrors.IsForbidden(err) {
		t.Errorf("tenant updating an Elasticsearch object: error %v, want Forbidden", err)
	}
	pc := &v1alpha1.ClusterProviderConfig{ObjectMeta: metav1.ObjectMeta{Name: unique("tenant-made")},
		Spec: v1alpha1.ClusterProviderConfigSpec{AllowedNamespaces: []string{"*"}, ECK: &v1alpha1.ECKEndpoint{}}}
	if err := tenant.Create(t.Context(), pc); !kerrors.IsForbidden(err) {
		t.Errorf("tenant creating a ClusterProviderConfig: error %v, want Forbidden", err)
	}
	probe := server(tenantNS, unique("rbac-probe"), c, false)
	if err := tenant.Create(t.Context(), probe); err != nil {
		t.Errorf("tenant creating a managed resource in its namespace: %v, want allowed (the RBAC mistake)", err)
	}
	_ = tenant.Delete(t.Context(), probe)
}

// attack is a managed resource a tenant writes, and what the provider must
// answer: a refusal naming the field and the grant (want), with no request
// at all to the quiet fakes (refused before any credential is read).
type attack struct {
	mr    resource.Managed
	want  []string
	quiet []*esfake.Server
}

// TestAttacks runs the attacks of issue 10 on resources the tenant writes
// by hand. Each is refused with a condition that names the field and the
// grant to ask for; no fake Elasticsearch sees a write, no Elasticsearch
// object changes, and deleting the refused resources changes nothing
// either.
func TestAttacks(t *testing.T) {
	t.Parallel()
	ns := adminNamespace(t, "attack")
	// open grants both teams and restricts nothing; restricted grants
	// the tenant search on logs-* only; private grants only the victim.
	open := newCluster(t, ns, "open", map[string]string{grants.AnnotationAllowedNamespaces: tenantNS + "," + victimNS}, true)
	restricted := newCluster(t, ns, "restricted", map[string]string{
		grants.AnnotationAllowedNamespaces:    tenantNS,
		grants.AnnotationAllowedIndexPatterns: "logs-*",
		grants.AnnotationAllowedAccess:        "search",
	}, true)
	private := newCluster(t, ns, "private", map[string]string{grants.AnnotationAllowedNamespaces: victimNS}, true)
	local := newCluster(t, ns, "local", map[string]string{grants.AnnotationAllowedNamespaces: tenantNS + "," + victimNS}, false)
	plain := esfake.NewServer(t, esfake.Options{Users: []esfake.User{{Name: "elastic", Password: elasticPassword}}})

	// The platform team's configs: an ECK-mode one that follows each
	// resource's elasticsearchRef (here always to the private cluster's
	// fake, which no tenant request may reach), an admin config for the
	// victim's team only, and a plain-http one without the opt-in.
	eckAny, adminCfg, plainCfg := unique("eck-any"), unique("platform-admin"), unique("plain-http")
	clusterConfig(t, eckAny, map[string]any{"allowedNamespaces": []any{"*"}, "eck": map[string]any{"urlOverride": private.Fake.URL}})
	if err := admin.Create(t.Context(), &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "admin-credentials"},
		Data: map[string][]byte{"username": []byte("elastic"), "password": []byte(elasticPassword), "ca.crt": private.Fake.CACertPEM}}); err != nil {
		t.Fatal(err)
	}
	creds := map[string]any{"name": "admin-credentials", "namespace": ns}
	clusterConfig(t, adminCfg, map[string]any{"allowedNamespaces": []any{victimNS},
		"endpoint": map[string]any{"url": private.Fake.URL, "credentialsSecretRef": creds, "caSecretRef": creds}})
	clusterConfig(t, plainCfg, map[string]any{"allowedNamespaces": []any{"*"},
		"endpoint": map[string]any{"url": plain.URL, "credentialsSecretRef": creds}})

	// The victim's link holds alias "shared" on the local cluster.
	victimEntry := entry(victimNS, unique("victim-entry"), "shared", local, open, search("logs-*"))
	if err := admin.Create(t.Context(), victimEntry); err != nil {
		t.Fatal(err)
	}
	waitReady(t, victimEntry)
	t.Cleanup(func() { _ = admin.Delete(t.Context(), victimEntry) })

	name := func(s string) string { return unique("atk-" + s) }
	restrictedIdx := &commonv1alpha1.LinkAccess{Search: &commonv1alpha1.SearchAccess{Names: []string{".security*"}, AllowRestrictedIndices: ptr.To(true)}}
	quietAll := []*esfake.Server{private.Fake, restricted.Fake, plain}
	const (
		nsGrant       = grants.AnnotationAllowedNamespaces
		patternGrant  = grants.AnnotationAllowedIndexPatterns
		accessGrant   = grants.AnnotationAllowedAccess
		regexGrant    = grants.AnnotationAllowedIndexRegexes
		anyCharGrant  = grants.AnnotationAllowSingleCharacterWildcards
		restrictGrant = grants.AnnotationAllowRestrictedIndices
	)
	attacks := map[string]attack{
		// Leak 4 and the namespace rule, on each kind.
		"EntryToUngrantedRemote": {
			mr:   entry(tenantNS, name("entry-private"), "private", local, private, search("logs-*")),
			want: []string{"spec.forProvider.remoteElasticsearchRef: namespace tenant is not allowed to link " + private.String(), nsGrant},
		},
		"ServerOnUngrantedRemote": {
			mr:   server(tenantNS, name("server-private"), private, false),
			want: []string{"spec.forProvider.elasticsearchRef: namespace tenant is not allowed to link " + private.String(), nsGrant},
		},
		"KeyOnUngrantedRemoteThroughECKConfig": {
			mr:    key(tenantNS, name("key-private"), "steal", eckAny, ptr.To(private.ref()), keySearch("logs-*")),
			want:  []string{"spec.forProvider.elasticsearchRef: namespace tenant is not allowed to link " + private.String(), nsGrant},
			quiet: quietAll,
		},
		// The reconciler's finalizer, written by hand, makes the provider
		// handle the deletion of a resource it never accepted.
		"KeyWithHandWrittenFinalizer": {
			mr: func() resource.Managed {
				k := key(tenantNS, name("key-finalizer"), "steal", eckAny, ptr.To(private.ref()), keySearch("logs-*"))
				k.SetFinalizers([]string{managed.FinalizerName})
				return k
			}(),
			want:  []string{"spec.forProvider.elasticsearchRef: namespace tenant is not allowed to link " + private.String(), nsGrant},
			quiet: quietAll,
		},
		"ObservingKeyWithHandWrittenFinalizer": {
			mr: func() resource.Managed {
				k := key(tenantNS, name("key-observe-finalizer"), "victims-key", eckAny, ptr.To(private.ref()), nil)
				k.Spec.ManagementPolicies = xpv2.ManagementPolicies{xpv2.ManagementActionObserve}
				k.SetFinalizers([]string{managed.FinalizerName})
				return k
			}(),
			want:  []string{"spec.forProvider.elasticsearchRef: namespace tenant is not allowed to link " + private.String(), nsGrant},
			quiet: quietAll,
		},
		"KeyThroughAnotherTeamsConfig": {
			mr:    key(tenantNS, name("key-admin"), "steal", adminCfg, nil, keySearch("logs-*")),
			want:  []string{"spec.providerConfigRef: ClusterProviderConfig " + adminCfg + " does not allow namespace tenant", "spec.allowedNamespaces"},
			quiet: quietAll,
		},
		"KeyOverPlainHTTP": {
			mr:    key(tenantNS, name("key-plain"), "clear", plainCfg, nil, keySearch("logs-*")),
			want:  []string{"spec.endpoint.url of ClusterProviderConfig " + plainCfg, "uses http://", "spec.endpoint.allowInsecureHTTP: true"},
			quiet: quietAll,
		},
		// Index names outside the grant, regex names, ? and restricted
		// indices (leak 3).
		"KeyPatternOutsideGrant": {
			mr:    key(tenantNS, name("key-metrics"), "metrics", restricted.Config, nil, keySearch("metrics-*")),
			want:  []string{`spec.forProvider.access.search[0].names[0]: index pattern "metrics-*" is outside what remote ` + restricted.String(), patternGrant},
			quiet: quietAll,
		},
		"EntryWildcardOutsideGrant": {
			mr:   entry(tenantNS, name("entry-star"), "star", local, restricted, search("logs-app-*", "*")),
			want: []string{`spec.forProvider.apiKey.access.search.names[1]: index pattern "*" is outside`, patternGrant},
		},
		"KeyRegexMatchingEverything": {
			mr:    key(tenantNS, name("key-regex"), "regex", restricted.Config, nil, keySearch("/.*logs.*|.*/")),
			want:  []string{`spec.forProvider.access.search[0].names[0]: index name "/.*logs.*|.*/" is a regular expression`, regexGrant},
			quiet: quietAll,
		},
		"EntryRegexOnUnrestrictedRemote": {
			mr:   entry(tenantNS, name("entry-regex"), "regex", local, open, search("/.*/")),
			want: []string{`spec.forProvider.apiKey.access.search.names[0]: index name "/.*/" is a regular expression`, regexGrant},
		},
		"KeySingleCharacterWildcard": {
			mr:    key(tenantNS, name("key-anychar"), "anychar", restricted.Config, nil, keySearch("logs-?")),
			want:  []string{`spec.forProvider.access.search[0].names[0]: index pattern "logs-?" uses the single-character wildcard ?`, anyCharGrant},
			quiet: quietAll,
		},
		"EntryRestrictedIndices": {
			mr:   entry(tenantNS, name("entry-security"), "security", local, open, restrictedIdx),
			want: []string{"spec.forProvider.apiKey.access.search.allowRestrictedIndices: true lets the patterns match restricted indices", restrictGrant},
		},
		"KeyReplicatesRestrictedIndices": {
			mr: key(tenantNS, name("key-security"), "security", open.Config, nil, &esv1alpha1.CrossClusterAccess{
				Replication: []commonv1alpha1.ReplicationAccess{{Names: []string{".security-7"}, AllowRestrictedIndices: ptr.To(true)}},
			}),
			want: []string{"spec.forProvider.access.replication[0].allowRestrictedIndices: true", restrictGrant},
		},
		"KeyAccessKindNotGranted": {
			mr: key(tenantNS, name("key-replication"), "replication", restricted.Config, nil, &esv1alpha1.CrossClusterAccess{
				Replication: []commonv1alpha1.ReplicationAccess{{Names: []string{"logs-*"}}},
			}),
			want:  []string{"spec.forProvider.access.replication[0]: access kind replication is not allowed on remote " + restricted.String(), accessGrant},
			quiet: quietAll,
		},
		// The certificate model (leak 2), on a restricted remote and on
		// one that restricts nothing but never granted the model.
		"CertificateModelOnRestrictedRemote": {
			mr:   entry(tenantNS, name("entry-cert"), "cert", local, restricted, nil),
			want: []string{"spec.forProvider.apiKey: the certificate security model is not allowed on remote " + restricted.String(), "add certificate to " + accessGrant},
		},
		"CertificateModelNeverImplicit": {
			mr:   entry(tenantNS, name("entry-cert-open"), "cert-open", local, open, nil),
			want: []string{"spec.forProvider.apiKey: the certificate security model is not allowed on remote " + open.String(), "add certificate to " + accessGrant},
		},
		// Another team's alias on a shared local cluster.
		"AliasOfAnotherTeam": {
			mr:   entry(tenantNS, name("entry-alias"), "shared", local, open, search("logs-*")),
			want: []string{`spec.forProvider.alias: remote cluster alias "shared" already exists on Elasticsearch ` + local.String() + " and is owned by another resource"},
		},
		// A namespaced ProviderConfig the tenant writes itself cannot
		// borrow another namespace's ECK Secrets.
		"OwnECKConfigOnAnotherNamespace": {
			mr: func() resource.Managed {
				k := key(tenantNS, name("key-own-config"), "own", "", ptr.To(private.ref()), keySearch("logs-*"))
				k.Spec.ProviderConfigReference = &xpv2.ProviderConfigReference{Kind: v1alpha1.ProviderConfigKind, Name: "borrowed"}
				return k
			}(),
			want:  []string{"spec.forProvider.elasticsearchRef targets Elasticsearch " + private.String(), "reads Secrets in namespace tenant only"},
			quiet: quietAll,
		},
	}
	borrowed := &v1alpha1.ProviderConfig{ObjectMeta: metav1.ObjectMeta{Namespace: tenantNS, Name: "borrowed"},
		Spec: v1alpha1.ProviderConfigSpec{ECK: &v1alpha1.ECKEndpoint{URLOverride: private.Fake.URL}}}
	if err := tenant.Create(t.Context(), borrowed); err != nil && !kerrors.IsAlreadyExists(err) {
		t.Fatalf("tenant creating its own ProviderConfig: %v", err)
	}

	clusters := []*cluster{open, restricted, private, local}
	fakes := []*esfake.Server{open.Fake, restricted.Fake, private.Fake, plain}
	before := versions(t, clusters...)
	keysBefore := map[*esfake.Server]int{}
	for _, f := range fakes {
		keysBefore[f] = len(f.Keys())
	}

	// All attacks at once, as the provider sees a busy cluster; then each
	// refusal, which must hold over the following polls, and must not
	// have reached a quiet fake.
	for name, a := range attacks {
		if err := tenant.Create(t.Context(), a.mr); err != nil {
			t.Fatalf("%s: tenant cannot write %T: %v", name, a.mr, err)
		}
	}
	for name, a := range attacks {
		t.Run(name, func(t *testing.T) {
			msg := waitDenied(t, a.mr, a.want...)
			if strings.Contains(msg, elasticPassword) {
				t.Errorf("condition %q holds a secret", msg)
			}
			for _, f := range a.quiet {
				if n := len(f.Requests()); n != 0 {
					t.Errorf("the provider sent %d requests to a cluster it refused to reach: %v", n, f.Requests()[0])
				}
			}
		})
	}
	// The provider retries refused resources; let it, then look again,
	// without waiting: each refusal must still stand, and the quiet fakes
	// must still have heard nothing.
	time.Sleep(3 * poll)
	for name, a := range attacks {
		if msg, ok := refused(t, a.mr, func(m string) bool { return containsAll(m, a.want) }); !ok {
			t.Errorf("%s: the refusal did not hold: %s", name, msg)
		}
		for _, f := range a.quiet {
			if n := len(f.Requests()); n != 0 {
				t.Errorf("%s: after %s of retries the provider sent %d requests to a cluster it refused to reach: %v", name, 3*poll, n, f.Requests()[0])
			}
		}
	}
	checkNothingWritten(t, "the attacks", before, clusters, fakes, keysBefore)

	// Deleting the refused resources undoes nothing of anyone else's, and
	// reaches no cluster the resources were refused: a deletion is no way
	// around a grant.
	for _, a := range attacks {
		deleteAndWait(t, tenant, a.mr)
	}
	checkNothingWritten(t, "deleting the refused resources", before, clusters, fakes, keysBefore)
	for _, f := range quietAll {
		if n := len(f.Requests()); n != 0 {
			t.Errorf("deleting the refused resources sent %d requests to a cluster they were refused, the first: %v", n, f.Requests()[0])
		}
	}
	if l := getES(t, local); !strings.Contains(fmt.Sprint(l.Object["spec"]), "shared") {
		t.Errorf("the victim's entry is gone from %s: %v", local, l.Object["spec"])
	}
}

func checkNothingWritten(t *testing.T, when string, before map[string]string, clusters []*cluster, fakes []*esfake.Server, keys map[*esfake.Server]int) {
	t.Helper()
	for k, v := range versions(t, clusters...) {
		if before[k] != v {
			t.Errorf("after %s, Elasticsearch %s was written (resourceVersion %s -> %s)", when, k, before[k], v)
		}
	}
	for _, f := range fakes {
		if w := writes(f); len(w) != 0 {
			t.Errorf("after %s, a fake Elasticsearch got writes: %v", when, w)
		}
		if n := len(f.Keys()); n != keys[f] {
			t.Errorf("after %s, a fake Elasticsearch holds %d keys, had %d", when, n, keys[f])
		}
	}
}

// TestServerEnabledByOthers is leak 6: a tenant's claim on a remote
// cluster server that someone else turned on, with disableOnDelete, must
// never turn it off. One eslink turned on is turned off by the last claim
// that asks.
func TestServerEnabledByOthers(t *testing.T) {
	t.Parallel()
	ns := adminNamespace(t, "server")
	byHand := newCluster(t, ns, "by-hand", map[string]string{grants.AnnotationAllowedNamespaces: tenantNS}, false)
	es := getES(t, byHand)
	if err := unstructured.SetNestedField(es.Object, true, "spec", "remoteClusterServer", "enabled"); err != nil {
		t.Fatal(err)
	}
	if err := admin.Update(t.Context(), es); err != nil {
		t.Fatal(err)
	}
	byEslink := newCluster(t, ns, "by-eslink", map[string]string{grants.AnnotationAllowedNamespaces: tenantNS}, false)

	serverState := func(c *cluster) (bool, string) {
		es := getES(t, c)
		enabled, _, _ := unstructured.NestedBool(es.Object, "spec", "remoteClusterServer", "enabled")
		return enabled, es.GetAnnotations()[eckschema.AnnotationRemoteClusterServerEnabledBy]
	}

	s := server(tenantNS, unique("claim-by-hand"), byHand, true)
	if err := tenant.Create(t.Context(), s); err != nil {
		t.Fatal(err)
	}
	waitReady(t, s)
	if _, by := serverState(byHand); by != "" {
		t.Errorf("claiming a server someone else enabled recorded %s=%q", eckschema.AnnotationRemoteClusterServerEnabledBy, by)
	}
	deleteAndWait(t, tenant, s)
	if enabled, _ := serverState(byHand); !enabled {
		t.Errorf("deleting a claim with disableOnDelete turned off the server of %s, which eslink did not turn on", byHand)
	}

	s = server(tenantNS, unique("claim-by-eslink"), byEslink, true)
	if err := tenant.Create(t.Context(), s); err != nil {
		t.Fatal(err)
	}
	waitReady(t, s)
	if enabled, by := serverState(byEslink); !enabled || by != eckschema.RemoteClusterServerEnabledByEslink {
		t.Errorf("after the claim: enabled %v, %s=%q; want true and %q in the same write", enabled, eckschema.AnnotationRemoteClusterServerEnabledBy, by, eckschema.RemoteClusterServerEnabledByEslink)
	}
	deleteAndWait(t, tenant, s)
	if enabled, by := serverState(byEslink); enabled || by != "" {
		t.Errorf("after the last claim asked to disable: enabled %v, %s=%q; want the server off and the record gone", enabled, eckschema.AnnotationRemoteClusterServerEnabledBy, by)
	}
}
