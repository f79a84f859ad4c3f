package remoteclustersettings

import (
	"context"
	"fmt"
	"testing"

	xpv2 "github.com/crossplane/crossplane/apis/v2/core/v2"
	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	commonv1alpha1 "github.com/eslink/eslink/apis/common/v1alpha1"
	"github.com/eslink/eslink/apis/elasticsearch/v1alpha1"
	"github.com/eslink/eslink/internal/eckschema"
	"github.com/eslink/eslink/provider/internal/clients/elasticsearch"
	"github.com/eslink/eslink/provider/internal/controller/conditions"
	"github.com/eslink/eslink/provider/internal/controller/controllertest"
	"github.com/eslink/eslink/test/fakeelasticsearch/esfake"
)

func TestMain(m *testing.M) { controllertest.Main(m) }

func settings(ns string) *v1alpha1.RemoteClusterSettings {
	return &v1alpha1.RemoteClusterSettings{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "logs-settings"},
		Spec: v1alpha1.RemoteClusterSettingsSpec{
			ManagedResourceSpec: xpv2.ManagedResourceSpec{ProviderConfigReference: &xpv2.ProviderConfigReference{Kind: "ProviderConfig", Name: "eck"}},
			ForProvider: v1alpha1.RemoteClusterSettingsParameters{
				ElasticsearchRef: commonv1alpha1.ElasticsearchReference{Name: "c1"},
				Alias:            "logs",
				ProxyAddress:     "c2-es-remote-cluster.ns2.svc:9443",
				ServerName:       "c2-es-remote-cluster.ns2.svc",
			},
		},
	}
}

func ready(t *testing.T, h *controllertest.Harness, mg *v1alpha1.RemoteClusterSettings) xpv2.Condition {
	t.Helper()
	out := &v1alpha1.RemoteClusterSettings{}
	if err := h.Kube.Get(context.Background(), types.NamespacedName{Namespace: mg.Namespace, Name: mg.Name}, out); err != nil {
		t.Fatal(err)
	}
	return controllertest.Condition(out.Status.Conditions, xpv2.TypeReady)
}

func aliasSettings(srv *esfake.Server) map[string]any {
	p, _ := srv.ClusterSettings()
	out := map[string]any{}
	for k, v := range p {
		if len(k) > len("cluster.remote.logs.") && k[:len("cluster.remote.logs.")] == "cluster.remote.logs." {
			out[k] = v
		}
	}
	return out
}

func put(t *testing.T, srv *esfake.Server, settings map[string]*string) {
	t.Helper()
	c, err := elasticsearch.New(elasticsearch.Config{URL: srv.URL, Username: "elastic", Password: "changeme", CACert: srv.CACertPEM})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.PutPersistentSettings(context.Background(), settings); err != nil {
		t.Fatal(err)
	}
}

var want = map[string]any{
	"cluster.remote.logs.mode":          "proxy",
	"cluster.remote.logs.proxy_address": "c2-es-remote-cluster.ns2.svc:9443",
	"cluster.remote.logs.server_name":   "c2-es-remote-cluster.ns2.svc",
}

// TestOwnedSettings sets the alias, records its owner on the ECK object,
// corrects a person's change, and nulls the alias when deleted.
func TestOwnedSettings(t *testing.T) {
	h := controllertest.Start(t, 2, Setup)
	ns := h.Namespace(t, "settings")
	h.Elasticsearch(t, ns, "c1", "9.3.2", nil, nil)
	srv := h.LocalAPI(t, ns, "c1", esfake.Options{})
	mg := settings(ns)
	if err := h.Kube.Create(context.Background(), mg); err != nil {
		t.Fatal(err)
	}
	controllertest.WaitFor(t, "the alias set and owned", func() (bool, string) {
		got := aliasSettings(srv)
		owner := h.GetES(t, ns, "c1").GetAnnotations()[eckschema.AnnotationRemoteClusterSettingsOwners]
		return cmp.Equal(want, got) && ready(t, h, mg).Status == corev1.ConditionTrue && owner != "", fmt.Sprintf("%v, owners %s", got, owner)
	})
	drifted := "evil.example.com"
	put(t, srv, map[string]*string{"cluster.remote.logs.server_name": &drifted})
	controllertest.WaitFor(t, "the drift corrected", func() (bool, string) {
		got := aliasSettings(srv)
		return cmp.Equal(want, got), fmt.Sprint(got)
	})
	if err := h.Kube.Delete(context.Background(), mg); err != nil {
		t.Fatal(err)
	}
	controllertest.WaitFor(t, "the alias nulled and released", func() (bool, string) {
		got := aliasSettings(srv)
		_, owned := h.GetES(t, ns, "c1").GetAnnotations()[eckschema.AnnotationRemoteClusterSettingsOwners]
		return len(got) == 0 && !owned, fmt.Sprintf("%v, owned %v", got, owned)
	})
}

// TestRefusedAliases never overwrites an alias a person or ECK configured,
// nor sets one for a namespace the remote does not grant.
func TestRefusedAliases(t *testing.T) {
	h := controllertest.Start(t, 2, Setup)
	handSeeds := "10.1.1.1:9300"
	cases := map[string]struct {
		annotations map[string]string
		before      map[string]*string
		remoteNS    bool
		reason      xpv2.ConditionReason
	}{
		"ByHand":           {before: map[string]*string{"cluster.remote.logs.seeds": &handSeeds}, reason: conditions.ReasonEntryConflict},
		"ByECK":            {annotations: map[string]string{eckschema.AnnotationECKManagedRemoteClusters: "other,logs"}, reason: conditions.ReasonEntryConflict},
		"RemoteNotGranted": {remoteNS: true, reason: conditions.ReasonNotAuthorized},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			ns := h.Namespace(t, "refused")
			h.Elasticsearch(t, ns, "c1", "9.3.2", tc.annotations, nil)
			srv := h.LocalAPI(t, ns, "c1", esfake.Options{})
			if tc.before != nil {
				put(t, srv, tc.before)
			}
			before := aliasSettings(srv)
			mg := settings(ns)
			if tc.remoteNS {
				other := h.Namespace(t, "remote")
				h.Elasticsearch(t, other, "c2", "9.3.2", nil, nil)
				mg.Spec.ForProvider.RemoteElasticsearchRef = &commonv1alpha1.ElasticsearchReference{Name: "c2", Namespace: other}
			}
			if err := h.Kube.Create(context.Background(), mg); err != nil {
				t.Fatal(err)
			}
			controllertest.WaitFor(t, "the refusal", func() (bool, string) {
				c := ready(t, h, mg)
				return c.Reason == tc.reason, fmt.Sprintf("%s/%s: %s", c.Status, c.Reason, c.Message)
			})
			if got := aliasSettings(srv); !cmp.Equal(before, got) {
				t.Errorf("a refused resource changed the alias: %v, was %v", got, before)
			}
		})
	}
}
