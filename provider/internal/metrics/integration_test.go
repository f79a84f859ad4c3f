package metrics_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"sort"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/crossplane/crossplane-runtime/v2/pkg/controller"
	"github.com/crossplane/crossplane-runtime/v2/pkg/meta"
	xpv2 "github.com/crossplane/crossplane/apis/v2/core/v2"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/prometheus/client_golang/prometheus/testutil/promlint"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	ctrl "sigs.k8s.io/controller-runtime"
	ctrlmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"

	commonv1alpha1 "github.com/eslink/eslink/apis/common/v1alpha1"
	esv1alpha1 "github.com/eslink/eslink/apis/elasticsearch/v1alpha1"
	"github.com/eslink/eslink/internal/linkrules"
	"github.com/eslink/eslink/provider/internal/clients/elasticsearch"
	"github.com/eslink/eslink/provider/internal/controller/crossclusterapikey"
	"github.com/eslink/eslink/provider/internal/controller/eck/ecktest"
	"github.com/eslink/eslink/provider/internal/controller/remoteclusterconnectivity"
	"github.com/eslink/eslink/test/fakeelasticsearch/esfake"
)

func TestMain(m *testing.M) { ecktest.Main(m) }

// scrape reads the provider's metrics as its endpoint serves them:
// controller-runtime's metrics server serves this registry with promhttp.
// Only eslink's own families are returned; every one passes promlint.
func scrape(t *testing.T, url string) map[string]*dto.MetricFamily {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, url, http.NoBody)
	if err != nil {
		t.Fatal(err)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = res.Body.Close() }()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	p := expfmt.NewTextParser(model.LegacyValidation)
	all, err := p.TextToMetricFamilies(bytes.NewReader(body))
	if err != nil {
		t.Fatalf("cannot parse the exposition: %v", err)
	}
	out := map[string]*dto.MetricFamily{}
	for name, f := range all {
		if strings.HasPrefix(name, "eslink_") {
			out[name] = f
		}
	}
	ours := make([]*dto.MetricFamily, 0, len(out))
	for _, f := range out {
		ours = append(ours, f)
	}
	problems, err := promlint.NewWithMetricFamilies(ours).Lint()
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Errorf("promlint: %s: %s", p.Metric, p.Text)
	}
	return out
}

// series finds the sample of family name whose labels include want.
func series(fams map[string]*dto.MetricFamily, name string, want map[string]string) *dto.Metric {
	f := fams[name]
	if f == nil {
		return nil
	}
next:
	for _, m := range f.GetMetric() {
		got := map[string]string{}
		for _, l := range m.GetLabel() {
			got[l.GetName()] = l.GetValue()
		}
		for k, v := range want {
			if got[k] != v {
				continue next
			}
		}
		return m
	}
	return nil
}

func value(m *dto.Metric) float64 {
	switch {
	case m == nil:
		return -1
	case m.Gauge != nil:
		return m.GetGauge().GetValue()
	case m.Counter != nil:
		return m.GetCounter().GetValue()
	case m.Histogram != nil:
		return float64(m.GetHistogram().GetSampleCount())
	}
	return -1
}

// TestMetricsOfAFlow3Link scrapes the provider's metrics through a flow 3
// link's life: the provider creates a key on the remote (cluster2), the
// local cluster (cluster1) is configured with it and connects, the key is
// rotated and waits for handover, and everything is deleted. Every metric
// shows what the resources and the remote hold; the series the alert rules'
// promtool tests use are named and labelled as the provider exports them.
func TestMetricsOfAFlow3Link(t *testing.T) {
	var skew atomic.Int64 // How far the provider's rotation clock is ahead.
	keys := crossclusterapikey.Options{MinKeyLifetime: time.Minute, Now: func() time.Time { return time.Now().Add(time.Duration(skew.Load())) }}
	h := ecktest.Start(t, 2,
		func(mgr ctrl.Manager, o controller.Options) error { return crossclusterapikey.Setup(mgr, o, keys) },
		remoteclusterconnectivity.Setup)
	endpoint := httptest.NewServer(promhttp.HandlerFor(ctrlmetrics.Registry, promhttp.HandlerOpts{}))
	t.Cleanup(endpoint.Close)
	ctx := context.Background()

	// The remote, its key resource, and its remote cluster server.
	remoteNS := h.Namespace(t, "remote")
	h.Elasticsearch(t, remoteNS, "cluster2", "9.3.2", nil, nil)
	remote := h.LocalAPI(t, remoteNS, "cluster2", esfake.Options{ClusterName: "cluster2"})
	const address, serverName = "cluster2-es-remote-cluster.remote.svc:9443", "cluster2-es-remote-cluster.remote.svc"
	if err := remote.EnableRemoteClusterServer(serverName); err != nil {
		t.Fatal(err)
	}
	exp, rotateBefore := "2h", "1h"
	key := &esv1alpha1.CrossClusterAPIKey{
		ObjectMeta: metav1.ObjectMeta{Namespace: remoteNS, Name: "orders"},
		Spec: esv1alpha1.CrossClusterAPIKeySpec{
			ManagedResourceSpec: xpv2.ManagedResourceSpec{
				ProviderConfigReference:          &xpv2.ProviderConfigReference{Kind: "ProviderConfig", Name: "eck"},
				WriteConnectionSecretToReference: &xpv2.LocalSecretReference{Name: "orders-key"},
			},
			ForProvider: esv1alpha1.CrossClusterAPIKeyParameters{
				Name:             "orders",
				ElasticsearchRef: &commonv1alpha1.ElasticsearchReference{Name: "cluster2"},
				Access:           &esv1alpha1.CrossClusterAccess{Search: []commonv1alpha1.SearchAccess{{Names: []string{"logs-*"}}}},
				Expiration:       &exp,
				RotateBefore:     &rotateBefore,
				Handover:         &esv1alpha1.KeyHandover{},
			},
		},
	}
	if err := h.Kube.Create(ctx, key); err != nil {
		t.Fatal(err)
	}
	getKey := func() *esv1alpha1.CrossClusterAPIKey {
		out := &esv1alpha1.CrossClusterAPIKey{}
		if err := h.Kube.Get(ctx, types.NamespacedName{Namespace: remoteNS, Name: "orders"}, out); err != nil {
			t.Fatal(err)
		}
		return out
	}
	ecktest.WaitFor(t, "the key Ready", func() (bool, string) {
		k := getKey()
		c := ecktest.Condition(k.Status.Conditions, xpv2.TypeReady)
		return c.Status == "True" && meta.GetExternalName(k) != "", fmt.Sprintf("%+v", c)
	})
	firstID := meta.GetExternalName(getKey())
	es, err := elasticsearch.New(elasticsearch.Config{URL: remote.URL, Username: "elastic", Password: "changeme", CACert: remote.CACertPEM})
	if err != nil {
		t.Fatal(err)
	}
	first, err := es.GetAPIKey(ctx, firstID)
	if err != nil {
		t.Fatal(err)
	}
	if first.Expiration == nil {
		t.Fatalf("key %s has no expiration", firstID)
	}
	cluster := remoteNS + "/cluster2"
	keyLabels := map[string]string{"namespace": remoteNS, "name": "orders", "cluster": cluster}
	wantExp := float64(*first.Expiration / 1000)
	ecktest.WaitFor(t, "the key's series", func() (bool, string) {
		f := scrape(t, endpoint.URL)
		got := value(series(f, "eslink_crossclusterapikey_expiration_timestamp_seconds", keyLabels))
		return got == wantExp, fmt.Sprintf("expiration %v, want %v (the key's)", got, wantExp)
	})
	fams := scrape(t, endpoint.URL)
	for name, want := range map[string]float64{
		"eslink_crossclusterapikey_next_rotation_timestamp_seconds": wantExp - 3600,
		"eslink_crossclusterapikey_owned":                           1,
		"eslink_crossclusterapikey_awaiting_handover":               0,
	} {
		if got := value(series(fams, name, keyLabels)); got != want {
			t.Errorf("%s%v = %v, want %v", name, keyLabels, got, want)
		}
	}
	created := map[string]string{"cluster": cluster, "method": "POST", "endpoint": "/_security/cross_cluster/api_key", "outcome": "success"}
	if got := value(series(fams, "eslink_elasticsearch_requests_total", created)); got != 1 {
		t.Errorf("eslink_elasticsearch_requests_total%v = %v, want 1 (one key created)", created, got)
	}
	if got := value(series(fams, "eslink_elasticsearch_request_duration_seconds", map[string]string{"cluster": cluster, "method": "POST", "endpoint": "/_security/cross_cluster/api_key"})); got != 1 {
		t.Errorf("eslink_elasticsearch_request_duration_seconds of the create counts %v requests, want 1", got)
	}
	read := value(series(fams, "eslink_elasticsearch_key_read_last_success_timestamp_seconds", map[string]string{"cluster": cluster}))
	if now := float64(time.Now().Unix()); read < now-30 || read > now+1 {
		t.Errorf("eslink_elasticsearch_key_read_last_success_timestamp_seconds{cluster=%q} = %v, want within 30s before %v", cluster, read, now)
	}
	for _, f := range fams {
		for _, m := range f.GetMetric() {
			for _, l := range m.GetLabel() {
				if strings.Contains(l.GetValue(), firstID) {
					t.Errorf("%s carries the key id in label %s", f.GetName(), l.GetName())
				}
			}
		}
	}

	// The local cluster, configured with the key, not connected while it
	// does not trust the remote's server, then connected.
	localNS := h.Namespace(t, "local")
	// The link's pieces own the alias on the local cluster; a connectivity
	// resource reports only an alias its link owns.
	h.Elasticsearch(t, localNS, "cluster1", "9.3.2", map[string]string{linkrules.AnnotationAliasOwners: `{"orders":"` + localNS + `/orders-link"}`}, nil)
	local := h.LocalAPI(t, localNS, "cluster1", esfake.Options{ClusterName: "cluster1"})
	network := esfake.NewNetwork()
	network.Join(local)
	if err := network.Register(address, remote, esfake.RemoteClusterServerListener); err != nil {
		t.Fatal(err)
	}
	secret := h.GetSecret(t, remoteNS, "orders-key")
	if secret == nil {
		t.Fatal("no connection Secret orders-key")
	}
	local.SetKeystore(map[string]string{"cluster.remote.orders.credentials": string(secret.Data[esv1alpha1.ConnectionKeyEncoded])})
	if err := local.Restart(); err != nil {
		t.Fatal(err)
	}
	lc, err := elasticsearch.New(elasticsearch.Config{URL: local.URL, Username: "elastic", Password: "changeme", CACert: local.CACertPEM})
	if err != nil {
		t.Fatal(err)
	}
	proxy, addr, name := "proxy", address, serverName
	if err := lc.PutPersistentSettings(ctx, map[string]*string{
		"cluster.remote.orders.mode": &proxy, "cluster.remote.orders.proxy_address": &addr, "cluster.remote.orders.server_name": &name,
	}); err != nil {
		t.Fatal(err)
	}
	link := &esv1alpha1.RemoteClusterConnectivity{
		ObjectMeta: metav1.ObjectMeta{Namespace: localNS, Name: "orders", Labels: map[string]string{linkrules.LabelComposite: "orders-link"}},
		Spec: esv1alpha1.RemoteClusterConnectivitySpec{
			ManagedResourceSpec: xpv2.ManagedResourceSpec{ProviderConfigReference: &xpv2.ProviderConfigReference{Kind: "ProviderConfig", Name: "eck"}},
			ForProvider:         esv1alpha1.RemoteClusterConnectivityParameters{ElasticsearchRef: commonv1alpha1.ElasticsearchReference{Name: "cluster1"}, Alias: "orders"},
		},
	}
	if err := h.Kube.Create(ctx, link); err != nil {
		t.Fatal(err)
	}
	linkLabels := map[string]string{"namespace": localNS, "name": "orders", "cluster": localNS + "/cluster1", "alias": "orders"}
	connected := func(want float64) func() (bool, string) {
		return func() (bool, string) {
			got := value(series(scrape(t, endpoint.URL), "eslink_remoteclusterconnectivity_connected", linkLabels))
			return got == want, fmt.Sprintf("eslink_remoteclusterconnectivity_connected%v = %v", linkLabels, got)
		}
	}
	ecktest.WaitFor(t, "connected 0", connected(0))
	local.WriteFile("remote-certs/ca.crt", remote.TransportCACertPEM())
	local.SetNodeConfig(esfake.NodeConfig{Settings: map[string]any{
		"xpack.security.remote_cluster_client.ssl.certificate_authorities": []any{"remote-certs/ca.crt"},
	}})
	if err := local.Restart(); err != nil {
		t.Fatal(err)
	}
	ecktest.WaitFor(t, "connected 1", connected(1))

	// The rotation falls due: the key is replaced, the first stays valid
	// for handover, and the next rotation, due at once on this clock,
	// waits for it.
	skew.Store(int64(61 * time.Minute))
	ecktest.WaitFor(t, "a rotation finished and waiting for handover", func() (bool, string) {
		f := scrape(t, endpoint.URL)
		started := value(series(f, "eslink_crossclusterapikey_rotations_started_total", keyLabels))
		finished := value(series(f, "eslink_crossclusterapikey_rotations_finished_total", keyLabels))
		failed := value(series(f, "eslink_crossclusterapikey_rotations_failed_total", keyLabels))
		waiting := value(series(f, "eslink_crossclusterapikey_awaiting_handover", keyLabels))
		return started == 1 && finished == 1 && failed == 0 && waiting == 1,
			fmt.Sprintf("rotations started %v finished %v failed %v, awaiting handover %v", started, finished, failed, waiting)
	})
	current := getKey()
	second, err := es.GetAPIKey(ctx, meta.GetExternalName(current))
	if err != nil {
		t.Fatal(err)
	}
	fams = scrape(t, endpoint.URL)
	if got, want := value(series(fams, "eslink_crossclusterapikey_expiration_timestamp_seconds", keyLabels)), float64(*second.Expiration/1000); got != want {
		t.Errorf("expiration after the rotation = %v, want %v (the new key's)", got, want)
	}
	if next := value(series(fams, "eslink_crossclusterapikey_next_rotation_timestamp_seconds", keyLabels)); next >= float64(time.Now().Add(time.Duration(skew.Load())).Unix()) {
		t.Errorf("next rotation %v is not due on the provider's clock: the handover wait would not show", next)
	}
	if got := value(series(fams, "eslink_remoteclusterconnectivity_connected", linkLabels)); got != 1 {
		t.Errorf("connected = %v after the rotation, want 1: the replaced key stays valid for handover", got)
	}
	checkRuleSeries(t, fams)

	// A deleted resource's series go.
	if err := h.Kube.Delete(ctx, current); err != nil {
		t.Fatal(err)
	}
	if err := h.Kube.Delete(ctx, link); err != nil {
		t.Fatal(err)
	}
	ecktest.WaitFor(t, "the resources' series gone", func() (bool, string) {
		f := scrape(t, endpoint.URL)
		var left []string
		for name, fam := range f {
			for _, m := range fam.GetMetric() {
				for _, l := range m.GetLabel() {
					if l.GetName() == "namespace" && (l.GetValue() == remoteNS || l.GetValue() == localNS) {
						left = append(left, name)
					}
				}
			}
		}
		return len(left) == 0, fmt.Sprintf("left: %v", left)
	})
}

// checkRuleSeries fails when a series of the alert rules' promtool tests
// names a family the provider does not export, or labels it otherwise.
func checkRuleSeries(t *testing.T, fams map[string]*dto.MetricFamily) {
	t.Helper()
	used := ruleTestSeries(t)
	if len(used) == 0 {
		t.Fatal("the promtool tests use no series")
	}
	for _, s := range used {
		f := fams[s.name]
		if f == nil || len(f.GetMetric()) == 0 {
			t.Errorf("the promtool tests use %s, which the provider does not export", s.name)
			continue
		}
		exported := make([]string, 0, len(f.GetMetric()[0].GetLabel()))
		for _, l := range f.GetMetric()[0].GetLabel() {
			exported = append(exported, l.GetName())
		}
		sort.Strings(exported)
		if !slices.Equal(s.labels, exported) {
			t.Errorf("the promtool tests label %s with %v; the provider exports %v", s.name, s.labels, exported)
		}
	}
}
