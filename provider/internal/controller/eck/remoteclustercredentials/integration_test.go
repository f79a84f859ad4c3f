package remoteclustercredentials

import (
	"context"
	"encoding/base64"
	"fmt"
	"strings"
	"testing"

	xpv2 "github.com/crossplane/crossplane/apis/v2/core/v2"
	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"

	commonv1alpha1 "github.com/eslink/eslink/apis/common/v1alpha1"
	"github.com/eslink/eslink/apis/eck/v1alpha1"
	"github.com/eslink/eslink/internal/linkrules"
	"github.com/eslink/eslink/provider/internal/clients/eck"
	"github.com/eslink/eslink/provider/internal/controller/eck/ecktest"
	"github.com/eslink/eslink/test/controlplane"
	"github.com/eslink/eslink/test/fakeelasticsearch/esfake"
)

func TestMain(m *testing.M) { ecktest.Main(m) }

func encoded(id string) string {
	return base64.StdEncoding.EncodeToString([]byte(id + ":secret-of-" + id))
}

func publishKey(t *testing.T, h *ecktest.Harness, ns, id string) {
	t.Helper()
	s := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "link-api-key"}}
	err := h.Kube.Get(context.Background(), types.NamespacedName{Namespace: ns, Name: s.Name}, s)
	s.Data = map[string][]byte{"id": []byte(id), "encoded": []byte(encoded(id)), "name": []byte("k")}
	if err != nil {
		err = h.Kube.Create(context.Background(), s)
	} else {
		err = h.Kube.Update(context.Background(), s)
	}
	if err != nil {
		t.Fatal(err)
	}
}

// link is the link the credentials belong to.
const link = "logs-link"

// settingsOfLink are the records a local cluster holds once the link's
// RemoteClusterSettings, in namespace ns, set the connection settings of
// alias logs: credentials are delivered only then.
func settingsOfLink(ns string, annotations map[string]string) map[string]string {
	out := map[string]string{
		linkrules.AnnotationAliasOwners:                 `{"logs":"` + ns + "/" + link + `"}`,
		linkrules.AnnotationRemoteClusterSettingsOwners: `{"logs":"uid-of-the-settings"}`,
	}
	for k, v := range annotations {
		out[k] = v
	}
	return out
}

func credentials(ns, local string) *v1alpha1.RemoteClusterCredentials {
	return &v1alpha1.RemoteClusterCredentials{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "logs-credentials", Labels: map[string]string{linkrules.LabelComposite: link}},
		Spec: v1alpha1.RemoteClusterCredentialsSpec{ForProvider: v1alpha1.RemoteClusterCredentialsParameters{
			ElasticsearchRef: commonv1alpha1.ElasticsearchReference{Name: local},
			Alias:            "logs",
			APIKeySecretRef:  v1alpha1.LocalSecretReference{Name: "link-api-key"},
		}},
	}
}

func get(t *testing.T, h *ecktest.Harness, mg *v1alpha1.RemoteClusterCredentials) *v1alpha1.RemoteClusterCredentials {
	t.Helper()
	out := &v1alpha1.RemoteClusterCredentials{}
	if err := h.Kube.Get(context.Background(), types.NamespacedName{Namespace: mg.Namespace, Name: mg.Name}, out); err != nil {
		t.Fatal(err)
	}
	return out
}

func secureSettings(t *testing.T, h *ecktest.Harness, ns, name string) []any {
	t.Helper()
	l, _, _ := unstructured.NestedSlice(h.GetES(t, ns, name).Object, "spec", "secureSettings")
	return l
}

func entryFor(id string) []any {
	return []any{map[string]any{"secretName": eck.CredentialsSecretName("logs"), "entries": []any{map[string]any{"key": id, "path": "cluster.remote.logs.credentials"}}}}
}

func dataKeys(s *corev1.Secret) string {
	if s == nil {
		return "<no Secret>"
	}
	var keys []string
	for k, v := range s.Data {
		if string(v) != encoded(k) {
			return "wrong value under " + k
		}
		keys = append(keys, k)
	}
	if len(keys) == 2 && keys[0] > keys[1] {
		keys[0], keys[1] = keys[1], keys[0]
	}
	return strings.Join(keys, ",")
}

// TestDeliverAndRotate delivers a key through the keystore, then a
// replacement: the entry names each key in turn (a spec change ECK's status
// reports on), the loaded key stays in the Secret until the new one is
// taken up, and deleting the resource removes the entry and the Secret.
func TestDeliverAndRotate(t *testing.T) {
	h := ecktest.Start(t, 2, Setup)
	ns := h.Namespace(t, "creds")
	h.Elasticsearch(t, ns, "c1", "9.3.2", settingsOfLink(ns, nil), map[string]any{"secureSettings": []any{map[string]any{"secretName": "hand-written"}}})
	publishKey(t, h, ns, "KEY1aaaaaaaaaaaaaaaa")
	mg := credentials(ns, "c1")
	if err := h.Kube.Create(context.Background(), mg); err != nil {
		t.Fatal(err)
	}
	secret := eck.CredentialsSecretName("logs")
	handWritten := map[string]any{"secretName": "hand-written"}

	state := func(wantEntry, wantData, wantTakenUp string) func() (bool, string) {
		return func() (bool, string) {
			got := get(t, h, mg)
			ss := secureSettings(t, h, ns, "c1")
			data := dataKeys(h.GetSecret(t, ns, secret))
			ok := cmp.Equal(append([]any{handWritten}, entryFor(wantEntry)...), ss) && data == wantData && got.Status.AtProvider.TakenUpKeyID == wantTakenUp
			return ok, fmt.Sprintf("secureSettings %v, Secret keys %s, atProvider %+v", ss, data, got.Status.AtProvider)
		}
	}
	ecktest.WaitFor(t, "the first key delivered, not taken up before ECK rolled it out", state("KEY1aaaaaaaaaaaaaaaa", "KEY1aaaaaaaaaaaaaaaa", ""))
	ecktest.WaitFor(t, "Ready=False while ECK rolls the key out", func() (bool, string) {
		c := ecktest.Condition(get(t, h, mg).Status.Conditions, xpv2.TypeReady)
		return c.Status == corev1.ConditionFalse && c.Reason == ReasonRollingOut, fmt.Sprintf("%s/%s: %s", c.Status, c.Reason, c.Message)
	})
	h.Reconciled(t, ns, "c1")
	ecktest.WaitFor(t, "the first key taken up", state("KEY1aaaaaaaaaaaaaaaa", "KEY1aaaaaaaaaaaaaaaa", "KEY1aaaaaaaaaaaaaaaa"))

	generation := h.GetES(t, ns, "c1").GetGeneration()
	publishKey(t, h, ns, "KEY2bbbbbbbbbbbbbbbb")
	ecktest.WaitFor(t, "the second key delivered next to the first, which stays in use", state("KEY2bbbbbbbbbbbbbbbb", "KEY1aaaaaaaaaaaaaaaa,KEY2bbbbbbbbbbbbbbbb", "KEY1aaaaaaaaaaaaaaaa"))
	if g := h.GetES(t, ns, "c1").GetGeneration(); g == generation {
		t.Errorf("delivering a new key left the generation at %d: ECK's status could not tell when it is rolled out", g)
	}
	if c := ecktest.Condition(get(t, h, mg).Status.Conditions, xpv2.TypeReady); c.Status != corev1.ConditionTrue {
		t.Errorf("Ready during the rollout = %s, want True: the loaded key still works", c.Status)
	}
	h.Reconciled(t, ns, "c1")
	ecktest.WaitFor(t, "the second key taken up and the first dropped", state("KEY2bbbbbbbbbbbbbbbb", "KEY2bbbbbbbbbbbbbbbb", "KEY2bbbbbbbbbbbbbbbb"))

	for _, c := range get(t, h, mg).Status.Conditions {
		if strings.Contains(c.Message, encoded("KEY2bbbbbbbbbbbbbbbb")) {
			t.Errorf("condition %s carries the encoded key", c.Type)
		}
	}
	if err := h.Kube.Delete(context.Background(), mg); err != nil {
		t.Fatal(err)
	}
	ecktest.WaitFor(t, "the entry and the Secret removed", func() (bool, string) {
		es := h.GetES(t, ns, "c1")
		ss := secureSettings(t, h, ns, "c1")
		_, owned := es.GetAnnotations()[linkrules.AnnotationSecureSettingsOwners]
		return cmp.Equal([]any{handWritten}, ss) && !owned && h.GetSecret(t, ns, secret) == nil,
			fmt.Sprintf("secureSettings %v, owners annotation %v, Secret %v", ss, owned, h.GetSecret(t, ns, secret) != nil)
	})
}

// TestRefused shows that nothing is written for a namespace the local
// cluster does not grant, an alias ECK configures, or a Secret that does
// not hold a key.
func TestRefused(t *testing.T) {
	h := ecktest.Start(t, 2, Setup)
	cases := map[string]struct {
		annotations map[string]string
		spec        map[string]any
		otherNS     bool
		encoded     string
		reason      xpv2.ConditionReason
	}{
		"NotGranted": {otherNS: true, reason: eck.ReasonNotAuthorized},
		"AliasOfECK": {
			spec:   map[string]any{"remoteClusters": []any{map[string]any{"name": "logs", "elasticsearchRef": map[string]any{"name": "c2"}}}},
			reason: eck.ReasonEntryConflict,
		},
		"NotAKey": {encoded: base64.StdEncoding.EncodeToString([]byte("another-id:x")), reason: eck.ReasonInvalidSpec},
		// Nobody, a person or another link set the alias's connection
		// settings: the cluster would send the key wherever they point.
		"SettingsNotOfTheLink": {reason: ReasonWaitingForSettings},
		"AliasOfAnotherLink": {
			annotations: map[string]string{linkrules.AnnotationAliasOwners: `{"logs":"elsewhere/other-link"}`, linkrules.AnnotationRemoteClusterSettingsOwners: `{"logs":"uid-other"}`},
			reason:      eck.ReasonEntryConflict,
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			ns := h.Namespace(t, "refused")
			esNS := ns
			if tc.otherNS {
				esNS = h.Namespace(t, "other")
			}
			h.Elasticsearch(t, esNS, "c1", "9.3.2", tc.annotations, tc.spec)
			publishKey(t, h, ns, "KEY1aaaaaaaaaaaaaaaa")
			if tc.encoded != "" {
				s := h.GetSecret(t, ns, "link-api-key")
				s.Data["encoded"] = []byte(tc.encoded)
				if err := h.Kube.Update(context.Background(), s); err != nil {
					t.Fatal(err)
				}
			}
			mg := credentials(ns, "c1")
			mg.Spec.ForProvider.ElasticsearchRef.Namespace = esNS
			if err := h.Kube.Create(context.Background(), mg); err != nil {
				t.Fatal(err)
			}
			ecktest.WaitFor(t, "the refusal", func() (bool, string) {
				c := ecktest.Condition(get(t, h, mg).Status.Conditions, xpv2.TypeReady)
				return c.Reason == tc.reason && c.Status == corev1.ConditionFalse, fmt.Sprintf("Ready %s/%s: %s", c.Status, c.Reason, c.Message)
			})
			if ss := secureSettings(t, h, esNS, "c1"); ss != nil || h.GetSecret(t, esNS, eck.CredentialsSecretName("logs")) != nil {
				t.Errorf("a refused delivery wrote secureSettings %v or the Secret", ss)
			}
		})
	}
}

// TestFileBased takes a key as up only once Elasticsearch reports that it
// applied the file-based settings ECK wrote, and says that no restart is
// needed.
func TestFileBased(t *testing.T) {
	h := ecktest.Start(t, 2, Setup)
	ns := h.Namespace(t, "filebased")
	h.Elasticsearch(t, ns, "c1", "9.5.0", settingsOfLink(ns, map[string]string{linkrules.AnnotationFileBasedSecureSettings: "true"}), nil)
	srv := h.LocalAPI(t, ns, "c1", esfake.Options{Version: "9.5.0"})
	h.Secret(t, ns, linkrules.FileSettingsSecret("c1"), map[string][]byte{"settings.json": []byte(`{"metadata":{"version":"1000","compatibility":"8.6.1"},"state":{}}`)})
	publishKey(t, h, ns, "KEY1aaaaaaaaaaaaaaaa")
	mg := credentials(ns, "c1")
	mg.Spec.ProviderConfigReference = &xpv2.ProviderConfigReference{Kind: "ProviderConfig", Name: "eck"}
	if err := h.Kube.Create(context.Background(), mg); err != nil {
		t.Fatal(err)
	}
	ecktest.WaitFor(t, "the key delivered", func() (bool, string) {
		at := get(t, h, mg).Status.AtProvider
		return at.DeliveredKeyID == "KEY1aaaaaaaaaaaaaaaa", fmt.Sprintf("%+v", at)
	})
	h.Reconciled(t, ns, "c1")
	if err := srv.ApplyFileSettings(999, nil); err != nil {
		t.Fatal(err)
	}
	reads := h.Log.ESReads.Load()
	ecktest.WaitFor(t, "two polls with ECK done but the file not applied", func() (bool, string) {
		n := h.Log.ESReads.Load()
		return n >= reads+2, fmt.Sprintf("%d reads of the local cluster since", n-reads)
	})
	if at := get(t, h, mg).Status.AtProvider; at.TakenUpKeyID != "" {
		t.Fatalf("key taken up before Elasticsearch applied the file: %+v", at)
	}
	if err := srv.ApplyFileSettings(1000, nil); err != nil {
		t.Fatal(err)
	}
	ecktest.WaitFor(t, "the key taken up", func() (bool, string) {
		at := get(t, h, mg).Status.AtProvider
		return at.TakenUpKeyID == "KEY1aaaaaaaaaaaaaaaa", fmt.Sprintf("%+v", at)
	})
	if at := get(t, h, mg).Status.AtProvider; at.Delivery != v1alpha1.DeliveryFileBased || at.RestartsOnChange {
		t.Errorf("delivery %s, restarts %v; want %s without restarts", at.Delivery, at.RestartsOnChange, v1alpha1.DeliveryFileBased)
	}
}

// TestCleanupAfterRevokedGrant removes the entry and the Secret of a link
// whose namespace the local cluster no longer grants.
func TestCleanupAfterRevokedGrant(t *testing.T) {
	h := ecktest.Start(t, 1, Setup)
	ns := h.Namespace(t, "team")
	esNS := h.Namespace(t, "platform")
	h.Elasticsearch(t, esNS, "c1", "9.3.2", settingsOfLink(ns, map[string]string{linkrules.AnnotationAllowedNamespaces: ns}), nil)
	publishKey(t, h, ns, "KEY1aaaaaaaaaaaaaaaa")
	mg := credentials(ns, "c1")
	mg.Spec.ForProvider.ElasticsearchRef.Namespace = esNS
	if err := h.Kube.Create(context.Background(), mg); err != nil {
		t.Fatal(err)
	}
	ecktest.WaitFor(t, "the key delivered", func() (bool, string) {
		return len(secureSettings(t, h, esNS, "c1")) == 1, fmt.Sprint(secureSettings(t, h, esNS, "c1"))
	})
	es := h.GetES(t, esNS, "c1")
	if err := controlplane.Update(context.Background(), h.Kube, es, func() error {
		a := es.GetAnnotations()
		delete(a, linkrules.AnnotationAllowedNamespaces)
		es.SetAnnotations(a)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if err := h.Kube.Delete(context.Background(), mg); err != nil {
		t.Fatal(err)
	}
	ecktest.WaitFor(t, "the entry and the Secret removed despite the revoked grant", func() (bool, string) {
		ss := secureSettings(t, h, esNS, "c1")
		s := h.GetSecret(t, esNS, eck.CredentialsSecretName("logs"))
		return ss == nil && s == nil, fmt.Sprintf("secureSettings %v, Secret %v", ss, s != nil)
	})
}
