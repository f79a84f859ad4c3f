package remoteclustertrust

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/crossplane/crossplane-runtime/v2/pkg/reconciler/managed"
	xpv2 "github.com/crossplane/crossplane/apis/v2/core/v2"
	corev1 "k8s.io/api/core/v1"
	kerrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"

	commonv1alpha1 "github.com/eslink/eslink/apis/common/v1alpha1"
	"github.com/eslink/eslink/apis/eck/v1alpha1"
	"github.com/eslink/eslink/provider/internal/clients/eck"
	"github.com/eslink/eslink/provider/internal/controller/conditions"
	"github.com/eslink/eslink/provider/internal/controller/controllertest"
	"github.com/eslink/eslink/test/controlplane"
)

func TestMain(m *testing.M) { controllertest.Main(m) }

func trust(ns, name string, src v1alpha1.CertificateAuthoritySource) *v1alpha1.RemoteClusterTrust {
	return &v1alpha1.RemoteClusterTrust{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec: v1alpha1.RemoteClusterTrustSpec{ForProvider: v1alpha1.RemoteClusterTrustParameters{
			ElasticsearchRef:     commonv1alpha1.ElasticsearchReference{Name: "c1"},
			CertificateAuthority: src,
		}},
	}
}

func get(t *testing.T, h *controllertest.Harness, mg *v1alpha1.RemoteClusterTrust) *v1alpha1.RemoteClusterTrust {
	t.Helper()
	out := &v1alpha1.RemoteClusterTrust{}
	if err := h.Kube.Get(context.Background(), types.NamespacedName{Namespace: mg.Namespace, Name: mg.Name}, out); err != nil {
		t.Fatal(err)
	}
	return out
}

func ready(t *testing.T, h *controllertest.Harness, mg *v1alpha1.RemoteClusterTrust) xpv2.Condition {
	return controllertest.Condition(get(t, h, mg).Status.Conditions, xpv2.TypeReady)
}

// TestOneRestartPerCluster mounts the bundle with the first CA (a spec
// change, so a rolling restart), adds a second CA without touching the
// spec again, never touches the transport layer's trust, and removes each
// CA with its resource; the last one, asked to, unmounts the bundle.
func TestOneRestartPerCluster(t *testing.T) {
	h := controllertest.Start(t, 2, Setup)
	ns := h.Namespace(t, "trust")
	h.Elasticsearch(t, ns, "c1", "9.3.2", nil, map[string]any{
		"nodeSets": []any{map[string]any{"name": "hot", "count": int64(1)}, map[string]any{"name": "warm", "count": int64(1)}},
	})
	h.Elasticsearch(t, ns, "c2", "9.3.2", nil, nil)
	own := h.TransportCA(t, ns, "c1")
	remoteCA := h.TransportCA(t, ns, "c2")
	externalCA := controllertest.NewCA(t, "external remote CA")
	h.Secret(t, ns, "external-ca", map[string][]byte{"ca.crt": externalCA})
	mount := eck.BundleMount("c1", v1alpha1.TrustRemoteClusterClient)

	first := trust(ns, "eck-remote", v1alpha1.CertificateAuthoritySource{ElasticsearchRef: &commonv1alpha1.ElasticsearchReference{Name: "c2"}})
	if err := h.Kube.Create(context.Background(), first); err != nil {
		t.Fatal(err)
	}
	controllertest.WaitFor(t, "the bundle mounted into every nodeSet, waiting for the rollout", func() (bool, string) {
		wired, _ := mount.Wired(h.GetES(t, ns, "c1"))
		c := ready(t, h, first)
		return wired && c.Reason == conditions.ReasonRollingOut, fmt.Sprintf("wired %v, Ready %s/%s %s", wired, c.Status, c.Reason, c.Message)
	})
	h.Reconciled(t, ns, "c1")
	controllertest.WaitFor(t, "the first CA ready", func() (bool, string) {
		c := ready(t, h, first)
		return c.Status == corev1.ConditionTrue, c.Message
	})
	generation := h.GetES(t, ns, "c1").GetGeneration()

	second := trust(ns, "external", v1alpha1.CertificateAuthoritySource{SecretRef: &v1alpha1.LocalSecretKeySelector{Name: "external-ca"}})
	second.Spec.ForProvider.RemoveWiringOnDelete = true
	if err := h.Kube.Create(context.Background(), second); err != nil {
		t.Fatal(err)
	}
	controllertest.WaitFor(t, "the second CA ready", func() (bool, string) {
		c := ready(t, h, second)
		return c.Status == corev1.ConditionTrue, c.Message
	})
	if g := h.GetES(t, ns, "c1").GetGeneration(); g != generation {
		t.Errorf("the second CA changed the spec of c1 (generation %d to %d): it would restart the cluster again", generation, g)
	}
	bundle := h.GetSecret(t, ns, mount.SecretName)
	for name, ca := range map[string][]byte{"own": own, "remote": remoteCA, "external": externalCA} {
		if !bytes.Contains(bundle.Data[eck.BundleFile], bytes.TrimSpace(ca)) {
			t.Errorf("the bundle file lacks the %s CA", name)
		}
	}
	if spec, _, _ := unstructured.NestedMap(h.GetES(t, ns, "c1").Object, "spec"); spec["transport"] != nil {
		t.Errorf("spec.transport of c1 was changed: %v", spec["transport"])
	}

	// A person scrubs the remote's CA from the bundle: the resource puts it
	// back.
	entry := eck.BundleEntryKey(string(get(t, h, first).GetUID()))
	if err := controlplane.Update(context.Background(), h.Kube, bundle, func() error {
		delete(bundle.Data, entry)
		bundle.Data[eck.BundleFile] = eck.BundleData(own, eck.BundleEntries(bundle.Data))[eck.BundleFile]
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	controllertest.WaitFor(t, "the scrubbed CA restored", func() (bool, string) {
		c := ready(t, h, first)
		b := h.GetSecret(t, ns, mount.SecretName)
		back := b != nil && bytes.Contains(b.Data[eck.BundleFile], bytes.TrimSpace(remoteCA))
		return back && c.Status == corev1.ConditionTrue, fmt.Sprintf("CA back %v, Ready %s/%s %s", back, c.Status, c.Reason, c.Message)
	})

	if err := h.Kube.Delete(context.Background(), first); err != nil {
		t.Fatal(err)
	}
	controllertest.WaitFor(t, "the first CA removed, the mount kept", func() (bool, string) {
		b := h.GetSecret(t, ns, mount.SecretName)
		wired, _ := mount.Wired(h.GetES(t, ns, "c1"))
		gone := b != nil && !bytes.Contains(b.Data[eck.BundleFile], bytes.TrimSpace(remoteCA))
		return gone && wired, fmt.Sprintf("remote CA removed %v, wired %v", gone, wired)
	})
	if err := h.Kube.Delete(context.Background(), second); err != nil {
		t.Fatal(err)
	}
	controllertest.WaitFor(t, "the last CA removed with the mount", func() (bool, string) {
		wired, _ := mount.Wired(h.GetES(t, ns, "c1"))
		sets, _, _ := unstructured.NestedSlice(h.GetES(t, ns, "c1").Object, "spec", "nodeSets")
		bare := fmt.Sprint(sets) == "[map[count:1 name:hot] map[count:1 name:warm]]"
		return !wired && bare && h.GetSecret(t, ns, mount.SecretName) == nil, fmt.Sprintf("nodeSets %v, bundle %v", sets, h.GetSecret(t, ns, mount.SecretName) != nil)
	})
}

// TestRefused never copies a Secret's other content into a bundle, and
// never adds a team's own CA to a cluster that granted it only as local:
// nothing is written.
func TestRefused(t *testing.T) {
	h := controllertest.Start(t, 1, Setup)
	cases := map[string]struct {
		ca        []byte
		otherTeam bool
		reason    xpv2.ConditionReason
	}{
		"NotACA": {
			ca:     []byte("-----BEGIN PRIVATE KEY-----\nMIIBVAIBADANBgkqhkiG9w0BAQEFAASCAT4wggE6AgEAAkEA\n-----END PRIVATE KEY-----\n"),
			reason: conditions.ReasonInvalidSpec,
		},
		"CAOfAnotherTeam": {ca: controllertest.NewCA(t, "team CA"), otherTeam: true, reason: conditions.ReasonNotAuthorized},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			ns := h.Namespace(t, "refused")
			esNS := ns
			if tc.otherTeam {
				esNS = h.Namespace(t, "platform")
			}
			h.Elasticsearch(t, esNS, "c1", "9.3.2", map[string]string{"eslink.io/allowed-namespaces": ns}, nil)
			h.TransportCA(t, esNS, "c1")
			h.Secret(t, ns, "creds", map[string][]byte{"ca.crt": tc.ca})
			mg := trust(ns, "bad", v1alpha1.CertificateAuthoritySource{SecretRef: &v1alpha1.LocalSecretKeySelector{Name: "creds"}})
			mg.Spec.ForProvider.ElasticsearchRef.Namespace = esNS
			if err := h.Kube.Create(context.Background(), mg); err != nil {
				t.Fatal(err)
			}
			controllertest.WaitFor(t, "the refusal", func() (bool, string) {
				c := ready(t, h, mg)
				return c.Reason == tc.reason, fmt.Sprintf("%s/%s: %s", c.Status, c.Reason, c.Message)
			})
			if c := ready(t, h, mg); bytes.Contains([]byte(c.Message), []byte("MIIB")) {
				t.Errorf("the condition quotes the Secret: %s", c.Message)
			}
			mount := eck.BundleMount("c1", v1alpha1.TrustRemoteClusterClient)
			if h.GetSecret(t, esNS, mount.SecretName) != nil {
				t.Error("a bundle was written for a refused CA")
			}
			if wired, _ := mount.Wired(h.GetES(t, esNS, "c1")); wired {
				t.Error("c1 was wired for a refused CA")
			}
		})
	}
}

// mountRemoteCA creates clusters c1 and c2 in ns and a trust of c2's CA on
// c1, and waits until c1 mounts its bundle.
func mountRemoteCA(t *testing.T, h *controllertest.Harness, ns string, removeWiringOnDelete bool) (*v1alpha1.RemoteClusterTrust, eck.Mount) {
	t.Helper()
	h.Elasticsearch(t, ns, "c1", "9.3.2", nil, nil)
	h.Elasticsearch(t, ns, "c2", "9.3.2", nil, nil)
	h.TransportCA(t, ns, "c1")
	h.TransportCA(t, ns, "c2")
	mount := eck.BundleMount("c1", v1alpha1.TrustRemoteClusterClient)
	mg := trust(ns, "eck-remote", v1alpha1.CertificateAuthoritySource{ElasticsearchRef: &commonv1alpha1.ElasticsearchReference{Name: "c2"}})
	mg.Spec.ForProvider.RemoveWiringOnDelete = removeWiringOnDelete
	if err := h.Kube.Create(context.Background(), mg); err != nil {
		t.Fatal(err)
	}
	controllertest.WaitFor(t, "the bundle mounted", func() (bool, string) {
		wired, _ := mount.Wired(h.GetES(t, ns, "c1"))
		c := ready(t, h, mg)
		return wired, fmt.Sprintf("wired %v, Ready %s/%s %s", wired, c.Status, c.Reason, c.Message)
	})
	return mg, mount
}

// TestUnmountSurvivesAFailure: when the last CA is gone from the bundle but
// unmounting it fails (here an admission policy refuses the change), the
// deletion waits and retries; it never lets go with the mount left behind.
func TestUnmountSurvivesAFailure(t *testing.T) {
	h := controllertest.Start(t, 2, Setup)
	ns := h.Namespace(t, "unmount")
	mg, mount := mountRemoteCA(t, h, ns, true)
	h.Reconciled(t, ns, "c1")
	controllertest.WaitFor(t, "the CA ready", func() (bool, string) {
		c := ready(t, h, mg)
		return c.Status == corev1.ConditionTrue, c.Message
	})

	thaw := h.Freeze(t, ns, "c1")
	if err := h.Kube.Delete(context.Background(), mg); err != nil {
		t.Fatal(err)
	}
	controllertest.WaitFor(t, "the CA removed and the refused unmount reported", func() (bool, string) {
		b := h.GetSecret(t, ns, mount.SecretName)
		emptied := b != nil && len(eck.BundleEntries(b.Data)) == 0
		synced := controllertest.Condition(get(t, h, mg).Status.Conditions, xpv2.TypeSynced)
		return emptied && strings.Contains(synced.Message, "cannot unmount CA bundle"), fmt.Sprintf("bundle emptied %v, Synced %s", emptied, synced.Message)
	})
	// Retries see a bundle without CAs: the deletion must hold until the
	// mount is gone too.
	time.Sleep(4 * controllertest.PollInterval)
	if wired, _ := mount.Wired(h.GetES(t, ns, "c1")); !wired {
		t.Fatal("the mount went while the cluster refused every change")
	}
	get(t, h, mg)

	thaw()
	controllertest.WaitFor(t, "the mount and the bundle removed, then the resource", func() (bool, string) {
		wired, _ := mount.Wired(h.GetES(t, ns, "c1"))
		bundle := h.GetSecret(t, ns, mount.SecretName) != nil
		err := h.Kube.Get(context.Background(), types.NamespacedName{Namespace: ns, Name: mg.Name}, &v1alpha1.RemoteClusterTrust{})
		return !wired && !bundle && kerrors.IsNotFound(err), fmt.Sprintf("wired %v, bundle %v, resource %v", wired, bundle, err)
	})
}

// TestUnmountNeedsAGrant: a cluster keeps an empty bundle mounted after its
// team's last trust went without removeWiringOnDelete. Another team's
// hand-written trust, refused there, with the reconciler's finalizer and
// removeWiringOnDelete written by hand, must not unmount it when deleted:
// unmounting restarts the cluster.
func TestUnmountNeedsAGrant(t *testing.T) {
	h := controllertest.Start(t, 2, Setup)
	ns := h.Namespace(t, "owner")
	own, mount := mountRemoteCA(t, h, ns, false)
	if err := h.Kube.Delete(context.Background(), own); err != nil {
		t.Fatal(err)
	}
	controllertest.WaitFor(t, "the team's CA removed, the mount kept", func() (bool, string) {
		b := h.GetSecret(t, ns, mount.SecretName)
		return b != nil && len(eck.BundleEntries(b.Data)) == 0, fmt.Sprintf("bundle %v", b != nil)
	})
	generation := h.GetES(t, ns, "c1").GetGeneration()

	other := h.Namespace(t, "other")
	h.Secret(t, other, "ca", map[string][]byte{"ca.crt": controllertest.NewCA(t, "other team's CA")})
	attack := trust(other, "unmount", v1alpha1.CertificateAuthoritySource{SecretRef: &v1alpha1.LocalSecretKeySelector{Name: "ca"}})
	attack.Spec.ForProvider.ElasticsearchRef.Namespace = ns
	attack.Spec.ForProvider.RemoveWiringOnDelete = true
	attack.SetFinalizers([]string{managed.FinalizerName})
	if err := h.Kube.Create(context.Background(), attack); err != nil {
		t.Fatal(err)
	}
	controllertest.WaitFor(t, "the refusal", func() (bool, string) {
		c := ready(t, h, attack)
		return c.Reason == conditions.ReasonNotAuthorized, fmt.Sprintf("%s/%s: %s", c.Status, c.Reason, c.Message)
	})
	if err := h.Kube.Delete(context.Background(), attack); err != nil {
		t.Fatal(err)
	}
	controllertest.WaitFor(t, "the refused resource gone", func() (bool, string) {
		err := h.Kube.Get(context.Background(), types.NamespacedName{Namespace: other, Name: attack.Name}, &v1alpha1.RemoteClusterTrust{})
		return kerrors.IsNotFound(err), fmt.Sprint(err)
	})
	if wired, _ := mount.Wired(h.GetES(t, ns, "c1")); !wired {
		t.Error("a resource the cluster never allowed unmounted its bundle")
	}
	if g := h.GetES(t, ns, "c1").GetGeneration(); g != generation {
		t.Errorf("a resource the cluster never allowed changed the spec of c1 (generation %d to %d)", generation, g)
	}
	if h.GetSecret(t, ns, mount.SecretName) == nil {
		t.Error("a resource the cluster never allowed deleted its bundle")
	}
}
