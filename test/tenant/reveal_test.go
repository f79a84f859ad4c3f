package tenant

import (
	"crypto/x509/pkix"
	"encoding/pem"
	"strings"
	"testing"
	"time"

	"github.com/crossplane/crossplane-runtime/v2/pkg/meta"
	xpv2 "github.com/crossplane/crossplane/apis/v2/core/v2"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	eckv1alpha1 "github.com/eslink/eslink/apis/eck/v1alpha1"
	esv1alpha1 "github.com/eslink/eslink/apis/elasticsearch/v1alpha1"
	"github.com/eslink/eslink/internal/eckschema"
	"github.com/eslink/eslink/internal/grants"
	"github.com/eslink/eslink/test/fakeelasticsearch/esfake"
)

// The leaks of issue 18 item 5: what a team points a resource at, and may
// not read, must not come back to it in a condition, event or error, its
// existence included.

// TestTransportCARevealsNothing: a trust whose source is an ECK cluster in
// the platform team's namespace reads ECK's transport CA Secret there,
// which the tenant cannot read. Whatever that Secret holds (a private key,
// a certificate that is no CA, anything but PEM) or whether it exists at
// all, the tenant gets the same answer, naming the field, and nothing of
// the Secret's content; nothing is written.
func TestTransportCARevealsNothing(t *testing.T) {
	t.Parallel()
	ns := adminNamespace(t, "ca-reveal")
	grant := map[string]string{grants.AnnotationAllowedNamespaces: tenantNS}
	target := newCluster(t, ns, "target", grant, false)
	secret := func(c *cluster, data []byte) {
		s := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: eckschema.TransportCAPublicSecret(c.Name)},
			Data: map[string][]byte{eckschema.TransportCAKey: data}}
		if err := admin.Create(t.Context(), s); err != nil {
			t.Fatal(err)
		}
	}
	// A fake's CAs are real ones: it issues the leaf below.
	issuer := esfake.NewServer(t, esfake.Options{})
	secret(target, issuer.TransportCACertPEM())

	const subject = "Subject-Only-The-Platform-Team-Knows"
	leaf, _, err := issuer.IssueTransportCertificate(pkix.Name{CommonName: subject}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	privateKey := pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: []byte("Private-Key-Bytes-z8Qw")})
	sources := map[string][]byte{
		"missing":     nil,
		"private-key": privateKey,
		"leaf":        leaf,
		"not-pem":     []byte("Not-PEM-Content-k4Vb"),
	}
	var clusters []*cluster
	trusts := map[string]*eckv1alpha1.RemoteClusterTrust{}
	for name, data := range sources {
		src := newCluster(t, ns, name, grant, false)
		if data != nil {
			secret(src, data)
		}
		clusters = append(clusters, src)
		tr := &eckv1alpha1.RemoteClusterTrust{ObjectMeta: metav1.ObjectMeta{Namespace: tenantNS, Name: unique("ca-" + name)}}
		tr.Spec.ForProvider = eckv1alpha1.RemoteClusterTrustParameters{
			ElasticsearchRef:     target.ref(),
			CertificateAuthority: eckv1alpha1.CertificateAuthoritySource{ElasticsearchRef: ptr.To(src.ref())},
		}
		trusts[name] = tr
	}
	clusters = append(clusters, target)
	before := versions(t, clusters...)
	for _, tr := range trusts {
		if err := tenant.Create(t.Context(), tr); err != nil {
			t.Fatal(err)
		}
	}

	field := "spec.forProvider.certificateAuthority.elasticsearchRef"
	answers := map[string]string{}
	for name, tr := range trusts {
		msg := waitRefused(t, tr, "the transport CA cannot be used", func(m string) bool {
			return strings.HasPrefix(m, field+": the transport CA of Elasticsearch "+ns+"/"+name+" cannot be used")
		})
		answers[name] = strings.ReplaceAll(msg, name, "<source>")
		for _, leak := range []string{subject, "Private-Key-Bytes", "Not-PEM-Content", "private key", "not a CA", "does not parse", "not published", "not found"} {
			if strings.Contains(strings.Join(append(events(t, tenantNS, tr.Name), msg), "\n"), leak) {
				t.Errorf("the answer for a source Secret that is %s tells %q: %s", name, leak, msg)
			}
		}
		got, _ := fresh(t, tr)
		if fp := got.(*eckv1alpha1.RemoteClusterTrust).Status.AtProvider.Fingerprints; len(fp) != 0 {
			t.Errorf("the trust of source %s reports fingerprints %v", name, fp)
		}
	}
	if want := answers["missing"]; !strings.Contains(want, "ask the platform team") {
		t.Errorf("the answer %q does not say who can check the Secret", want)
	}
	for name, a := range answers {
		if a != answers["missing"] {
			t.Errorf("a source Secret that is %s and a missing one get different answers:\n%s\n%s", name, a, answers["missing"])
		}
	}
	checkNothingWritten(t, "the trusts of unusable CAs", before, clusters, nil, nil)
	var bundles corev1.SecretList
	if err := admin.List(t.Context(), &bundles, client.InNamespace(ns), client.MatchingLabels{"eslink.io/managed-by": "eslink"}); err != nil {
		t.Fatal(err)
	}
	if len(bundles.Items) != 0 {
		t.Errorf("a CA bundle was written for the refused trusts: %s", bundles.Items[0].Name)
	}
	for _, tr := range trusts {
		deleteAndWait(t, tenant, tr)
	}
	checkNothingWritten(t, "deleting the refused trusts", before, clusters, nil, nil)
}

// TestOwnedExternalNameRevealsNothing: an owned key whose external name
// the tenant wrote by hand gets the same answer whether the id is another
// team's key or no key at all: neither is adopted, and no key is made.
func TestOwnedExternalNameRevealsNothing(t *testing.T) {
	t.Parallel()
	c, victim, writesBefore := victimSetup(t, "owned-reveal", "victim-owned-reveal", map[string]string{grants.AnnotationAllowedNamespaces: tenantNS + "," + victimNS})
	keysBefore := len(c.Fake.Keys())
	const madeUpID = "AAAAAAAAAAAAAAAAAAAA"
	owned := func(name, id string) *esv1alpha1.CrossClusterAPIKey {
		k := key(tenantNS, name, "tenant-"+name, c.Config, ptr.To(c.ref()), keySearch("logs-tenant-*"))
		meta.SetExternalName(k, id)
		if err := tenant.Create(t.Context(), k); err != nil {
			t.Fatal(err)
		}
		return k
	}
	// Names of one length, so that the answers differ only by them.
	real, made := owned(unique("ext-real"), victim.ID), owned(unique("ext-made"), madeUpID)
	want := []string{"crossplane.io/external-name", "remove the annotation"}
	for _, k := range []*esv1alpha1.CrossClusterAPIKey{real, made} {
		waitDenied(t, k, want...)
	}
	time.Sleep(3 * poll)
	r, _ := fresh(t, real)
	m, _ := fresh(t, made)
	rc, mc := r.GetCondition(xpv2.TypeReady), m.GetCondition(xpv2.TypeReady)
	as := strings.NewReplacer(madeUpID, victim.ID, made.Name, real.Name)
	if rc.Reason != mc.Reason || rc.Message != as.Replace(mc.Message) {
		t.Errorf("another team's key and a made-up id get different answers:\nreal:    %s: %s\nmade up: %s: %s", rc.Reason, rc.Message, mc.Reason, mc.Message)
	}
	if ap := r.(*esv1alpha1.CrossClusterAPIKey).Status.AtProvider; ap.ID != "" || ap.Access != nil {
		t.Errorf("the victim's key is reported: %+v", ap)
	}
	if n := len(c.Fake.Keys()); n != keysBefore {
		t.Errorf("the remote holds %d keys, had %d: a resource with a hand-written external name made one", n, keysBefore)
	}
	unchanged(t, c.Fake, victim, writesBefore)
	for _, k := range []*esv1alpha1.CrossClusterAPIKey{real, made} {
		deleteAndWait(t, tenant, k)
	}
	unchanged(t, c.Fake, victim, writesBefore)
	if n := len(c.Fake.Keys()); n != keysBefore {
		t.Errorf("after the deletions the remote holds %d keys, had %d", n, keysBefore)
	}
}
