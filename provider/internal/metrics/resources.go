package metrics

import (
	"context"

	"github.com/prometheus/client_golang/prometheus"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	esv1alpha1 "github.com/eslink/eslink/apis/elasticsearch/v1alpha1"
	"github.com/eslink/eslink/provider/internal/clients/eck"
)

var (
	keyLabels  = []string{"namespace", "name", "cluster"}
	linkLabels = []string{"namespace", "name", "cluster", "alias"}

	keyExpiration = prometheus.NewDesc("eslink_crossclusterapikey_expiration_timestamp_seconds",
		"When the current key of a CrossClusterAPIKey expires, in Unix seconds; absent for a key that never expires.", keyLabels, nil)
	keyNextRotation = prometheus.NewDesc("eslink_crossclusterapikey_next_rotation_timestamp_seconds",
		"When the provider replaces the current key of a CrossClusterAPIKey (its expiration minus rotateBefore), in Unix seconds; absent for a key never rotated.", keyLabels, nil)
	keyOwned = prometheus.NewDesc("eslink_crossclusterapikey_owned",
		"1 when the provider owns the key of a CrossClusterAPIKey (creates, rotates and invalidates it), 0 when it only observes a key another made (ECK).", keyLabels, nil)
	keyHandover = prometheus.NewDesc("eslink_crossclusterapikey_awaiting_handover",
		"1 while the key a CrossClusterAPIKey's current key replaced stays valid until its consumer takes up the current one (spec.forProvider.handover), else 0.", keyLabels, nil)
	rotationsStarted = prometheus.NewDesc("eslink_crossclusterapikey_rotations_started_total",
		"Replacements of a CrossClusterAPIKey's key this provider process started.", keyLabels, nil)
	rotationsFinished = prometheus.NewDesc("eslink_crossclusterapikey_rotations_finished_total",
		"Replacements of a CrossClusterAPIKey's key this provider process finished: the new key published and recorded, the old one invalidated or kept for handover.", keyLabels, nil)
	rotationsFailed = prometheus.NewDesc("eslink_crossclusterapikey_rotations_failed_total",
		"Replacements of a CrossClusterAPIKey's key that failed in this provider process; the next reconcile tries again.", keyLabels, nil)
	linkConnected = prometheus.NewDesc("eslink_remoteclusterconnectivity_connected",
		"1 when the local cluster (cluster) reports the alias connected in GET /_remote/info, else 0; absent until the provider first read it.", linkLabels, nil)

	descs = []*prometheus.Desc{keyExpiration, keyNextRotation, keyOwned, keyHandover, rotationsStarted, rotationsFinished, rotationsFailed, linkConnected}
)

// keyCluster names the remote a key is on: the Elasticsearch object that
// allowed it, else the one it references; empty for a provider config's URL
// endpoint.
func keyCluster(k *esv1alpha1.CrossClusterAPIKey) string {
	if c := k.Status.AuthorizedCluster; c != "" {
		return c
	}
	if ref := k.Spec.ForProvider.ElasticsearchRef; ref != nil {
		return eck.Ref(*ref, k.GetNamespace()).String()
	}
	return ""
}

func boolValue(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

func (s *resources) collectKeys(ctx context.Context, r client.Reader, owned func(*esv1alpha1.CrossClusterAPIKey) bool, ch chan<- prometheus.Metric) {
	l := &esv1alpha1.CrossClusterAPIKeyList{}
	if err := r.List(ctx, l); err != nil {
		// The kind's CRD is not established yet (the controller waits
		// for it too), or the scrape gave up: nothing to show.
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	present := make(map[types.UID]bool, len(l.Items))
	for i := range l.Items {
		k := &l.Items[i]
		present[k.GetUID()] = true
		lv := []string{k.GetNamespace(), k.GetName(), keyCluster(k)}
		at := k.Status.AtProvider
		if at.Expiration != nil {
			ch <- prometheus.MustNewConstMetric(keyExpiration, prometheus.GaugeValue, float64(at.Expiration.Unix()), lv...)
		}
		if at.NextRotation != nil {
			ch <- prometheus.MustNewConstMetric(keyNextRotation, prometheus.GaugeValue, float64(at.NextRotation.Unix()), lv...)
		}
		ch <- prometheus.MustNewConstMetric(keyOwned, prometheus.GaugeValue, boolValue(owned(k)), lv...)
		ch <- prometheus.MustNewConstMetric(keyHandover, prometheus.GaugeValue, boolValue(at.AwaitingHandoverKeyID != ""), lv...)
		if c := s.rotations[k.GetUID()]; c != nil {
			ch <- prometheus.MustNewConstMetric(rotationsStarted, prometheus.CounterValue, c.started, lv...)
			ch <- prometheus.MustNewConstMetric(rotationsFinished, prometheus.CounterValue, c.finished, lv...)
			ch <- prometheus.MustNewConstMetric(rotationsFailed, prometheus.CounterValue, c.failed, lv...)
		}
	}
	// A deleted resource's counts go with its other series.
	for uid := range s.rotations {
		if !present[uid] {
			delete(s.rotations, uid)
		}
	}
}

func collectConnectivity(ctx context.Context, r client.Reader, ch chan<- prometheus.Metric) {
	l := &esv1alpha1.RemoteClusterConnectivityList{}
	if err := r.List(ctx, l); err != nil {
		return // As for keys.
	}
	for i := range l.Items {
		c := &l.Items[i]
		if len(c.Status.Conditions) == 0 {
			continue // Never reconciled yet: neither connected nor not.
		}
		p := c.Spec.ForProvider
		ch <- prometheus.MustNewConstMetric(linkConnected, prometheus.GaugeValue, boolValue(c.Status.AtProvider.Connected),
			c.GetNamespace(), c.GetName(), eck.Ref(p.ElasticsearchRef, c.GetNamespace()).String(), p.Alias)
	}
}
