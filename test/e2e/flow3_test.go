package e2e

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	kerrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/util/retry"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/eslink/eslink/internal/linkrules"
	"github.com/eslink/eslink/test/e2e/harness"
	"github.com/eslink/eslink/test/fakeelasticsearch/esfake"
)

// flow3Timeout bounds each wait of flow 3, whose wiring restarts the local
// cluster (the simulated ECK takes seconds per rolling restart).
const flow3Timeout = 3 * time.Minute

// flow3Spec is a link whose key the provider owns, from local (ns/name)
// to the ECK cluster cluster2.
func flow3Spec(alias string, local [2]string, names ...string) map[string]any {
	s := flow1Spec(alias, names...)
	s["local"] = map[string]any{"elasticsearchRef": map[string]any{"namespace": local[0], "name": local[1]}}
	s["keyManagement"] = "Provider"
	return s
}

var cluster1 = [2]string{harness.LocalNamespace, harness.LocalName}

func ownedKeyName(link *unstructured.Unstructured, alias string) string {
	return fmt.Sprintf("eslink-%s-%s-%s", link.GetNamespace(), link.GetName(), alias)
}

// wiring is what a flow 3 link put on its local cluster, read from its
// composed resources while they exist.
type wiring struct {
	local         [2]string
	alias         string
	secret        string // the credentials Secret in the local namespace
	trustUID      string // the key of the link's CA in the CA bundle
	bundle        string // the CA bundle Secret
	trustedCA     []byte // the CA the link made the local cluster trust
	signingTrust  string // uid of the remote's signature trust, "" without
	signingBundle string
}

func wiringOf(t *testing.T, h *harness.Harness, link *unstructured.Unstructured, local [2]string, alias string, trustedCA []byte) wiring {
	t.Helper()
	w := wiring{local: local, alias: alias, trustedCA: trustedCA}
	for _, c := range composedOf(t, h, link, mustGet(t, h, link)) {
		switch c.GetKind() {
		case "RemoteClusterCredentials":
			w.secret = statusString(c, "atProvider", "secretName")
		case "RemoteClusterTrust":
			purpose, _, _ := unstructured.NestedString(c.Object, "spec", "forProvider", "purpose")
			if purpose == "CrossClusterSigning" {
				w.signingTrust, w.signingBundle = string(c.GetUID()), statusString(c, "atProvider", "bundleSecretName")
				continue
			}
			w.trustUID, w.bundle = string(c.GetUID()), statusString(c, "atProvider", "bundleSecretName")
		}
	}
	if w.secret == "" || w.trustUID == "" || w.bundle == "" {
		t.Fatalf("the link's credentials and trust do not report their Secrets: %+v", w)
	}
	return w
}

// checkWired checks on the local cluster's object, its Secrets and its
// fake that the link's wiring is in place, with the key keyID.
func checkWired(t *testing.T, h *harness.Harness, local *esfake.Server, w wiring, keyID, proxyAddress string) {
	t.Helper()
	es, err := h.Elasticsearch(t.Context(), w.local[0], w.local[1])
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(secureSettingsSecrets(es), w.secret) {
		t.Errorf("spec.secureSettings of %s/%s lacks the credentials Secret %s", w.local[0], w.local[1], w.secret)
	}
	s := &corev1.Secret{}
	if err := h.Kube.Get(t.Context(), client.ObjectKey{Namespace: w.local[0], Name: w.secret}, s); err != nil {
		t.Errorf("credentials Secret %s/%s: %v", w.local[0], w.secret, err)
	}
	if got := loadedKeyID(local, w.alias); got != keyID {
		t.Errorf("%s/%s uses key %q for alias %s, want %s", w.local[0], w.local[1], got, w.alias, keyID)
	}
	persistent, _ := local.ClusterSettings()
	for k, want := range map[string]string{"mode": "proxy", "proxy_address": proxyAddress} {
		if got := persistent["cluster.remote."+w.alias+"."+k]; got != want {
			t.Errorf("persistent setting cluster.remote.%s.%s of %s/%s = %v, want %s", w.alias, k, w.local[0], w.local[1], got, want)
		}
	}
	if !bundleHolds(t, h, w.local[0], w.bundle, w.trustUID, w.trustedCA) {
		t.Errorf("CA bundle %s/%s does not hold the remote cluster server's CA", w.local[0], w.bundle)
	}
}

// checkUnwired checks that a deleted link left nothing of its own on the
// local cluster: no secure settings entry, no Secret, no cluster settings
// under its alias, no CA of its own in the bundle, no signing settings.
func checkUnwired(t *testing.T, h *harness.Harness, local *esfake.Server, w wiring) {
	t.Helper()
	es, err := h.Elasticsearch(t.Context(), w.local[0], w.local[1])
	if err != nil {
		t.Fatal(err)
	}
	if slices.Contains(secureSettingsSecrets(es), w.secret) {
		t.Errorf("spec.secureSettings of %s/%s still lists %s", w.local[0], w.local[1], w.secret)
	}
	err = h.Kube.Get(t.Context(), client.ObjectKey{Namespace: w.local[0], Name: w.secret}, &corev1.Secret{})
	if !kerrors.IsNotFound(err) {
		t.Errorf("credentials Secret %s/%s: got %v, want it deleted", w.local[0], w.secret, err)
	}
	persistent, transient := local.ClusterSettings()
	for k := range persistent {
		if strings.HasPrefix(k, "cluster.remote."+w.alias+".") {
			t.Errorf("%s/%s still has persistent setting %s", w.local[0], w.local[1], k)
		}
	}
	for k := range transient {
		if strings.HasPrefix(k, "cluster.remote."+w.alias+".") {
			t.Errorf("%s/%s still has transient setting %s", w.local[0], w.local[1], k)
		}
	}
	// The nodes drop the credentials when ECK restarts them without the
	// entry (keystore) or reloads the file settings without it.
	deadline := time.Now().Add(flow3Timeout)
	for {
		_, ok := local.SecureSetting("cluster.remote." + w.alias + ".credentials")
		if !ok {
			break
		}
		if time.Now().After(deadline) {
			t.Errorf("%s/%s still holds credentials for alias %s after %s", w.local[0], w.local[1], w.alias, flow3Timeout)
			break
		}
		time.Sleep(250 * time.Millisecond)
	}
	if bundleHolds(t, h, w.local[0], w.bundle, w.trustUID, w.trustedCA) {
		t.Errorf("CA bundle %s/%s still trusts the remote cluster server's CA", w.local[0], w.bundle)
	}
	sets, _, _ := unstructured.NestedSlice(es.Object, "spec", "nodeSets")
	if strings.Contains(fmt.Sprint(sets), "cluster.remote."+w.alias+".signing") {
		t.Errorf("nodeSets of %s/%s still sign for alias %s: %v", w.local[0], w.local[1], w.alias, sets)
	}
	if w.signingTrust != "" {
		s := &corev1.Secret{}
		err := h.Kube.Get(t.Context(), client.ObjectKey{Namespace: harness.RemoteNamespace, Name: w.signingBundle}, s)
		if err == nil && s.Data[w.signingTrust+".crt"] != nil {
			t.Errorf("signature CA bundle %s/%s still holds the link's CA", harness.RemoteNamespace, w.signingBundle)
		}
	}
}

func secureSettingsSecrets(es *unstructured.Unstructured) []string {
	entries, _, _ := unstructured.NestedSlice(es.Object, "spec", "secureSettings")
	var out []string
	for _, e := range entries {
		if m, ok := e.(map[string]any); ok {
			n, _ := m["secretName"].(string)
			out = append(out, n)
		}
	}
	return out
}

// bundleHolds reports whether the CA bundle holds ca under the entry of
// the trust resource uid and in the file the nodes read.
func bundleHolds(t *testing.T, h *harness.Harness, ns, name, uid string, ca []byte) bool {
	t.Helper()
	s := &corev1.Secret{}
	if err := h.Kube.Get(t.Context(), client.ObjectKey{Namespace: ns, Name: name}, s); err != nil {
		if kerrors.IsNotFound(err) {
			return false
		}
		t.Fatal(err)
	}
	return s.Data[uid+".crt"] != nil && bytes.Contains(s.Data["ca.crt"], bytes.TrimSpace(ca))
}

// loadedKeyID is the id of the key the local node uses for alias now.
func loadedKeyID(local *esfake.Server, alias string) string {
	enc, ok := local.SecureSetting("cluster.remote." + alias + ".credentials")
	if !ok {
		return ""
	}
	raw, err := base64.StdEncoding.DecodeString(enc)
	if err != nil {
		return "(not an encoded key)"
	}
	id, _, _ := strings.Cut(string(raw), ":")
	return id
}

// keyByID returns the key id of es, nil when it does not exist.
func keyByID(t *testing.T, es *esfake.Server, name, id string) *harness.Key {
	t.Helper()
	keys, err := harness.Keys(t.Context(), es, name)
	if err != nil {
		t.Fatal(err)
	}
	for i := range keys {
		if keys[i].ID == id {
			return &keys[i]
		}
	}
	return nil
}

// linkWatch polls a link while something breaks and is repaired, and
// records every LinkReady message it shows while not Ready: the repair may
// be quick, and a person would have seen the link in between.
type linkWatch struct {
	mu       sync.Mutex
	notReady []string
	// readyDisconnected counts polls that saw the link Ready while the
	// local cluster's GET /_remote/info did not say connected.
	readyDisconnected int
	// disconnected counts polls whose GET /_remote/info of the local
	// cluster did not say connected, Ready or not; outageStart is when the
	// current run of them began, longestOutage the longest run so far.
	disconnected  int
	outageStart   time.Time
	longestOutage time.Duration
	stop          chan struct{}
	done          chan struct{}
}

func watchLink(t *testing.T, h *harness.Harness, link *unstructured.Unstructured, local *esfake.Server, alias string) *linkWatch {
	t.Helper()
	w := &linkWatch{stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(w.done)
		for {
			if got, err := h.Get(context.Background(), link); err == nil {
				connected := local.RemoteConnection(alias).Connected
				w.mu.Lock()
				if !connected {
					w.disconnected++
					if w.outageStart.IsZero() {
						w.outageStart = time.Now()
					}
					w.longestOutage = max(w.longestOutage, time.Since(w.outageStart))
				} else {
					w.outageStart = time.Time{}
				}
				if harness.Ready(got) {
					if !connected {
						w.readyDisconnected++
					}
				} else if _, _, msg := harness.Condition(got, "LinkReady"); msg != "" && !slices.Contains(w.notReady, msg) {
					w.notReady = append(w.notReady, msg)
				}
				w.mu.Unlock()
			}
			select {
			case <-w.stop:
				return
			case <-time.After(100 * time.Millisecond):
			}
		}
	}()
	t.Cleanup(w.Stop)
	return w
}

// saw returns the first not-Ready message that holds want.
func (w *linkWatch) saw(want string) (string, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, m := range w.notReady {
		if strings.Contains(m, want) {
			return m, true
		}
	}
	return "", false
}

func (w *linkWatch) messages() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return slices.Clone(w.notReady)
}

func (w *linkWatch) Stop() {
	select {
	case <-w.stop:
	default:
		close(w.stop)
	}
	<-w.done
}

// breakAndRepair breaks one piece of a Ready link, then waits until eslink
// repaired it: the link Ready and connected again, and repaired true. While
// the local cluster is disconnected, the link must say why, with a
// not-Ready reason holding want. A repair that beats the outage (eslink
// re-enabled a server before ECK acted on it) leaves nothing to report.
func breakAndRepair(t *testing.T, h *harness.Harness, link *unstructured.Unstructured, local *esfake.Server, alias string,
	breakIt func(), want string, repaired func() (bool, string)) {
	t.Helper()
	w := watchLink(t, h, link, local, alias)
	breakIt()
	deadline := time.Now().Add(flow3Timeout)
	for {
		if msg, ok := w.saw(want); ok {
			t.Logf("the link said: %s", msg)
			break
		}
		ok, _ := repaired()
		if ok && harness.Ready(mustGet(t, h, link)) && local.RemoteConnection(alias).Connected {
			// The link learns of an outage no watch reports within one
			// provider poll, so one shorter than that, repaired by eslink,
			// may go unreported; a longer one must be explained.
			w.mu.Lock()
			lost, longest := w.disconnected, w.longestOutage
			w.mu.Unlock()
			if longest >= harness.ProviderPoll {
				t.Fatalf("%s lost alias %s for %s (%d polls), longer than one provider poll (%s), yet the link never said why (%q); it showed while not Ready: %q",
					link.GetName(), alias, longest.Round(time.Millisecond), lost, harness.ProviderPoll, want, w.messages())
			}
			t.Logf("eslink repaired it within %s, before the link could report the outage (%d polls disconnected, under one provider poll of %s)", longest.Round(time.Millisecond), lost, harness.ProviderPoll)
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the link never said why it broke (%q); it showed while not Ready: %q\n%s", want, w.messages(), h.Messages(mustGet(t, h, link)))
		}
		time.Sleep(100 * time.Millisecond)
	}
	var last string
	for {
		ok, why := repaired()
		got := mustGet(t, h, link)
		if ok && harness.Ready(got) && local.RemoteConnection(alias).Connected {
			break
		}
		last = fmt.Sprintf("%s; the link is Ready: %v", why, harness.Ready(got))
		if time.Now().After(deadline) {
			t.Fatalf("not repaired after %s: %s; connection: %+v\n%s", flow3Timeout, last, local.RemoteConnection(alias), h.Messages(got))
		}
		time.Sleep(250 * time.Millisecond)
	}
	w.Stop()
}

// waitFlow3Ready waits for the link to be Ready, and checks that it never
// was before the local cluster said it is connected.
func waitFlow3Ready(t *testing.T, h *harness.Harness, link *unstructured.Unstructured, local *esfake.Server, alias string) *unstructured.Unstructured {
	t.Helper()
	w := watchLink(t, h, link, local, alias)
	got, err := h.WaitFor(t.Context(), link, flow3Timeout, "Ready", harness.Ready)
	if err != nil {
		t.Fatalf("%v\nconnection: %+v", err, local.RemoteConnection(alias))
	}
	w.Stop()
	if w.readyDisconnected > 0 {
		t.Errorf("the link was Ready in %d polls while GET /_remote/info of the local cluster did not say connected", w.readyDisconnected)
	}
	if _, err := harness.WaitConnected(t.Context(), local, alias, 10*time.Second); err != nil {
		t.Errorf("the link is Ready, but: %v", err)
	}
	if !statusConnected(got) {
		t.Error("link status.connected is not true")
	}
	return got
}

// TestFlow3ECKRemote runs a flow 3 link to an ECK remote, its key bound to
// the local cluster's ECK transport certificates: it is Ready only once
// the local cluster is connected; breaking the key, the CA or the remote's
// server turns it not Ready with a reason naming the piece until eslink
// repaired it; deleting it removes everything it added.
func TestFlow3ECKRemote(t *testing.T) {
	h := sharedHarness(t)
	const alias = "orders3"
	spec := flow3Spec(alias, cluster1, "logs-*")
	spec["certificateIdentity"] = map[string]any{}
	link := harness.Link(harness.TeamNamespace, "flow3-eck", false, spec)
	keyName := ownedKeyName(link, alias)
	remoteCA := h.Remote.TransportCACertPEM()
	proxyAddress := linkrules.RemoteClusterServerAddress(harness.RemoteName, harness.RemoteNamespace)

	create(t, h, link)
	var w wiring
	t.Run("ReadyOnlyWhenConnected", func(t *testing.T) {
		got := waitFlow3Ready(t, h, link, h.Local, alias)
		key := activeKey(t, h, keyName)
		if id := statusString(got, "apiKey", "id"); id != key.ID {
			t.Errorf("status.apiKey.id = %q, want the remote's key %s", id, key.ID)
		}
		local, err := h.Elasticsearch(t.Context(), harness.LocalNamespace, harness.LocalName)
		if err != nil {
			t.Fatal(err)
		}
		if want := linkrules.DefaultCertificateIdentity(local); key.CertificateIdentity == nil || *key.CertificateIdentity != want {
			t.Errorf("the key's certificate_identity = %v, want %s (the subjects of %s/%s's ECK transport certificates)", key.CertificateIdentity, want, harness.LocalNamespace, harness.LocalName)
		}
		for path, want := range map[string]string{"flow": "ProviderAPIKey", "remoteClusterServer": "Enabled", "local.credentials": "Delivered",
			"local.connectionSettings": "Present", "local.trust": "Present", "local.signing": "Present", "local.keyID": key.ID} {
			if got := statusString(got, strings.Split(path, ".")...); got != want {
				t.Errorf("status.%s = %q, want %q", path, got, want)
			}
		}
		want := []string{"CrossClusterAPIKey", "RemoteClusterConnectivity", "RemoteClusterCredentials", "RemoteClusterServer",
			"RemoteClusterSettings", "RemoteClusterSigning", "RemoteClusterTrust", "RemoteClusterTrust"}
		if got := kinds(composedOf(t, h, link, got)); !slices.Equal(got, want) {
			t.Errorf("Crossplane composed %v, want %v", got, want)
		}
		w = wiringOf(t, h, link, cluster1, alias, remoteCA)
		checkWired(t, h, h.Local, w, key.ID, proxyAddress)
	})
	if t.Failed() {
		return
	}

	t.Run("KeyInvalidatedByHand", func(t *testing.T) {
		old := activeKey(t, h, keyName)
		breakAndRepair(t, h, link, h.Local, alias,
			func() {
				if err := harness.InvalidateKey(t.Context(), h.Remote, old.ID); err != nil {
					t.Fatal(err)
				}
			},
			keyName,
			func() (bool, string) {
				keys, err := harness.Keys(t.Context(), h.Remote, keyName)
				if err != nil {
					return false, err.Error()
				}
				for _, k := range keys {
					if !k.Invalidated && k.ID != old.ID && loadedKeyID(h.Local, alias) == k.ID {
						return true, ""
					}
				}
				return false, fmt.Sprintf("no new key taken up by %s/%s (it uses %q)", harness.LocalNamespace, harness.LocalName, loadedKeyID(h.Local, alias))
			})
		checkWired(t, h, h.Local, w, activeKey(t, h, keyName).ID, proxyAddress)
	})

	t.Run("CARemovedFromTheBundle", func(t *testing.T) {
		breakAndRepair(t, h, link, h.Local, alias,
			func() {
				// A person scrubs the remote's CA: its entry, and the file
				// the nodes read, which keeps the cluster's own CA.
				err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
					s := &corev1.Secret{}
					if err := h.Kube.Get(t.Context(), client.ObjectKey{Namespace: harness.LocalNamespace, Name: w.bundle}, s); err != nil {
						return err
					}
					delete(s.Data, w.trustUID+".crt")
					s.Data["ca.crt"] = s.Data["cluster-ca.pem"]
					return h.Kube.Update(t.Context(), s)
				})
				if err != nil {
					t.Fatal(err)
				}
			},
			"CA bundle",
			func() (bool, string) {
				holds := bundleHolds(t, h, harness.LocalNamespace, w.bundle, w.trustUID, remoteCA)
				return holds, fmt.Sprintf("the bundle holds the remote's CA: %v", holds)
			})
	})

	t.Run("RemoteClusterServerDisabled", func(t *testing.T) {
		setServer := func(enabled bool) error {
			return retry.RetryOnConflict(retry.DefaultRetry, func() error {
				es, err := h.Elasticsearch(t.Context(), harness.RemoteNamespace, harness.RemoteName)
				if err != nil {
					return err
				}
				if err := unstructured.SetNestedField(es.Object, enabled, "spec", "remoteClusterServer", "enabled"); err != nil {
					return err
				}
				return h.Kube.Update(t.Context(), es)
			})
		}
		breakAndRepair(t, h, link, h.Local, alias,
			func() {
				if err := setServer(false); err != nil {
					t.Fatal(err)
				}
			},
			"remote cluster server",
			func() (bool, string) {
				es, err := h.Elasticsearch(t.Context(), harness.RemoteNamespace, harness.RemoteName)
				if err != nil {
					return false, err.Error()
				}
				on, _, _ := unstructured.NestedBool(es.Object, "spec", "remoteClusterServer", "enabled")
				return on, fmt.Sprintf("spec.remoteClusterServer.enabled of the remote is %v", on)
			})
	})

	t.Run("DeletingRemovesItsWiring", func(t *testing.T) {
		deleteAndWait(t, h, link)
		waitComposedGone(t, h, link)
		waitNoActiveKey(t, h, keyName)
		checkUnwired(t, h, h.Local, w)
		if c := h.Local.RemoteConnection(alias); c.Connected {
			t.Errorf("%s/%s is still connected to %s", harness.LocalNamespace, harness.LocalName, alias)
		}
	})
}

// TestFlow3ExternalRemote links to a cluster outside ECK: a provider config
// of the team's namespace reaches its REST API with a manage_security user,
// the link names the CA of its remote cluster server, and eslink wires the
// local cluster as for an ECK remote.
func TestFlow3ExternalRemote(t *testing.T) {
	h := sharedHarness(t)
	const alias, host = "cloud-logs", "logs.example.com"
	ext, err := h.StartExternal(host)
	if err != nil {
		t.Fatal(err)
	}
	ns := harness.TeamNamespace
	// The platform team: the team's provider config and Secrets, and the
	// grant to add a CA of the team's own to cluster1's remote trust.
	for _, s := range []*corev1.Secret{
		{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "logs-remote-cluster-ca"}, Data: map[string][]byte{"ca.crt": ext.TransportCACertPEM()}},
		{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "logs-http-ca"}, Data: map[string][]byte{"ca.crt": ext.CACertPEM}},
		{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "logs-credentials"}, Data: map[string][]byte{"username": []byte(ext.Username), "password": []byte(ext.Password)}},
	} {
		if err := h.Kube.Create(t.Context(), s); err != nil {
			t.Fatal(err)
		}
	}
	pc := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "m.eslink.io/v1alpha1", "kind": "ProviderConfig",
		"metadata": map[string]any{"name": "logs", "namespace": ns},
		"spec": map[string]any{"endpoint": map[string]any{
			"url": "https://" + host + ":9200", "credentialsType": "Basic",
			"credentialsSecretRef": map[string]any{"name": "logs-credentials"},
			"caSecretRef":          map[string]any{"name": "logs-http-ca", "key": "ca.crt"},
		}},
	}}
	if err := h.Kube.Create(t.Context(), pc); err != nil {
		t.Fatal(err)
	}
	es, err := h.Elasticsearch(t.Context(), harness.LocalNamespace, harness.LocalName)
	if err != nil {
		t.Fatal(err)
	}
	grant := es.GetAnnotations()[linkrules.AnnotationAllowedExternalCANamespaces]
	annotate(t, h, harness.LocalNamespace, harness.LocalName, linkrules.AnnotationAllowedExternalCANamespaces, ns)
	defer annotate(t, h, harness.LocalNamespace, harness.LocalName, linkrules.AnnotationAllowedExternalCANamespaces, grant)

	spec := flow3Spec(alias, cluster1, "logs-*")
	spec["remote"] = map[string]any{"external": map[string]any{
		"address":           host + ":9443",
		"caSecretRef":       map[string]any{"name": "logs-remote-cluster-ca"},
		"providerConfigRef": map[string]any{"kind": "ProviderConfig", "name": "logs"},
	}}
	spec["expiration"] = "30d"
	link := harness.Link(ns, "flow3-external", false, spec)
	keyName := ownedKeyName(link, alias)
	create(t, h, link)

	got := waitFlow3Ready(t, h, link, h.Local, alias)
	keys, err := harness.Keys(t.Context(), ext.Server, keyName)
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) != 1 || keys[0].Invalidated || keys[0].Expiration == nil {
		t.Fatalf("want one active key %s with an expiration on %s, got %+v", keyName, host, keys)
	}
	if id := statusString(got, "apiKey", "id"); id != keys[0].ID {
		t.Errorf("status.apiKey.id = %q, want %s", id, keys[0].ID)
	}
	if s := statusString(got, "remoteClusterServer"); s != "NotRequired" {
		t.Errorf("status.remoteClusterServer = %q, want NotRequired for a remote outside ECK", s)
	}
	w := wiringOf(t, h, link, cluster1, alias, ext.TransportCACertPEM())
	checkWired(t, h, h.Local, w, keys[0].ID, host+":9443")

	deleteAndWait(t, h, link)
	waitComposedGone(t, h, link)
	keys, err = harness.Keys(t.Context(), ext.Server, keyName)
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range keys {
		if !k.Invalidated {
			t.Errorf("key %s (%s) is still active on %s", k.ID, k.Name, host)
		}
	}
	checkUnwired(t, h, h.Local, w)
}

// annotate sets (or, with "", removes) an annotation of an Elasticsearch
// object, as its platform team does.
func annotate(t *testing.T, h *harness.Harness, ns, name, key, value string) {
	t.Helper()
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		es, err := h.Elasticsearch(context.Background(), ns, name)
		if err != nil {
			return err
		}
		a := es.GetAnnotations()
		if a == nil {
			a = map[string]string{}
		}
		if value == "" {
			delete(a, key)
		} else {
			a[key] = value
		}
		es.SetAnnotations(a)
		return h.Kube.Update(context.Background(), es)
	})
	if err != nil {
		t.Fatalf("cannot annotate %s/%s: %v", ns, name, err)
	}
}

// TestFlow3Rotation lets keys expire within minutes (the shared harness's
// minimum key lifetime, through its short-keys Composition) and watches a
// rotation from the local cluster: GET /_remote/info, polled every second,
// never says disconnected, and the replaced key is invalidated only once
// the local cluster has taken up its successor. With keystore secure
// settings each rotation is a rolling restart of the local cluster, and
// the link says so; on Elasticsearch 9.5 with file-based secure settings
// the key is reloaded in place: no restart.
func TestFlow3Rotation(t *testing.T) {
	h := sharedHarness(t)
	cluster3, err := h.AddCluster(t.Context(), harness.LocalNamespace, "cluster3", "9.5.0", map[string]string{
		linkrules.AnnotationAllowedNamespaces:           harness.TeamNamespace,
		linkrules.AnnotationAllowedExternalCANamespaces: harness.TeamNamespace,
		linkrules.AnnotationFileBasedSecureSettings:     "true",
	})
	if err != nil {
		t.Fatal(err)
	}
	cases := map[string]struct {
		local    [2]string
		fake     *esfake.Server
		restarts bool
		message  string
	}{
		"KeystoreRestartsTheLocalCluster": {local: cluster1, fake: h.Local, restarts: true,
			message: "each key rotation restarts " + harness.LocalNamespace + "/" + harness.LocalName},
		"FileBasedSecureSettingsReloadInPlace": {local: [2]string{harness.LocalNamespace, "cluster3"}, fake: cluster3, restarts: false,
			message: "key rotations reload in place on " + harness.LocalNamespace + "/cluster3"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			alias := "rotating-" + tc.local[1]
			spec := flow3Spec(alias, tc.local, "logs-*")
			// The key is replaced a minute after its creation.
			spec["expiration"], spec["rotateBefore"] = "3m", "2m"
			spec["crossplane"] = map[string]any{"compositionRef": map[string]any{"name": harness.ShortKeysComposition}}
			link := harness.Link(harness.TeamNamespace, "rotating-"+tc.local[1], false, spec)
			keyName := ownedKeyName(link, alias)
			create(t, h, link)
			got := waitFlow3Ready(t, h, link, tc.fake, alias)
			first := statusString(got, "apiKey", "id")
			if _, _, msg := harness.Condition(got, "LinkReady"); !strings.Contains(msg, tc.message) {
				t.Errorf("LinkReady says %q, want it to say %q", msg, tc.message)
			}
			if r, _, _ := unstructured.NestedBool(got.Object, "status", "local", "rotationRestartsLocal"); r != tc.restarts {
				t.Errorf("status.local.rotationRestartsLocal = %v, want %v", r, tc.restarts)
			}
			if statusString(got, "apiKey", "nextRotation") == "" || statusString(got, "apiKey", "expiration") == "" {
				t.Errorf("status.apiKey shows no expiration or next rotation: %v", got.Object["status"])
			}
			restarts := h.ECK.Restarts(tc.local[0], tc.local[1])

			// The local cluster's view, through the rotation.
			ctx, stop := context.WithCancel(t.Context())
			var (
				mu           sync.Mutex
				disconnected []string
				early        []string
			)
			var loops sync.WaitGroup
			loops.Add(2)
			go func() {
				defer loops.Done()
				for ctx.Err() == nil {
					info, err := harness.RemoteInfoOf(ctx, tc.fake)
					if err == nil && !info[alias].Connected {
						mu.Lock()
						disconnected = append(disconnected, fmt.Sprintf("%s: %s", time.Now().Format(time.RFC3339), tc.fake.RemoteConnection(alias).Reason))
						mu.Unlock()
					}
					select {
					case <-ctx.Done():
					case <-time.After(time.Second):
					}
				}
			}()
			go func() {
				// Whether the first key is invalidated while it is still
				// the one the local cluster uses.
				defer loops.Done()
				for ctx.Err() == nil {
					loaded := loadedKeyID(tc.fake, alias)
					if k := keyByID(t, h.Remote, keyName, first); k != nil && k.Invalidated && loaded == first {
						mu.Lock()
						early = append(early, time.Now().Format(time.RFC3339Nano))
						mu.Unlock()
					}
					select {
					case <-ctx.Done():
					case <-time.After(200 * time.Millisecond):
					}
				}
			}()

			var second string
			_, err := h.WaitFor(t.Context(), link, flow3Timeout, "rotated, the first key invalidated", func(u *unstructured.Unstructured) bool {
				second = statusString(u, "apiKey", "id")
				k := keyByID(t, h.Remote, keyName, first)
				return second != "" && second != first && k != nil && k.Invalidated && harness.Ready(u)
			})
			stop()
			loops.Wait()
			if err != nil {
				t.Fatalf("%v\nconnection: %+v", err, tc.fake.RemoteConnection(alias))
			}
			t.Logf("key %s replaced by %s", first, second)
			if len(disconnected) > 0 {
				t.Errorf("GET /_remote/info of %s/%s said %s is not connected during the rotation: %q", tc.local[0], tc.local[1], alias, disconnected)
			}
			if len(early) > 0 {
				t.Errorf("the replaced key %s was invalidated while %s/%s still used it, at %q", first, tc.local[0], tc.local[1], early)
			}
			if got := loadedKeyID(tc.fake, alias); got != second {
				t.Errorf("%s/%s uses key %q after the rotation, want %s", tc.local[0], tc.local[1], got, second)
			}
			after := h.ECK.Restarts(tc.local[0], tc.local[1])
			switch {
			case tc.restarts && after <= restarts:
				t.Errorf("the simulated ECK counted no rolling restart of %s/%s for the rotation, want one", tc.local[0], tc.local[1])
			case !tc.restarts && after != restarts:
				t.Errorf("the simulated ECK counted %d rolling restarts of %s/%s for the rotation, want none", after-restarts, tc.local[0], tc.local[1])
			}
			t.Logf("rolling restarts of %s/%s for the rotation: %d", tc.local[0], tc.local[1], after-restarts)

			deleteAndWait(t, h, link)
			waitComposedGone(t, h, link)
			waitNoActiveKey(t, h, keyName)
		})
	}
}
