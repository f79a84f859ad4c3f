// Package ecksim SIMULATES the part of the ECK operator that eslink's flow 1
// relies on, because a real ECK cannot run on the test machines: when a local
// cluster's spec.remoteClusters holds an entry with apiKey, ECK creates a
// cross-cluster API key on the remote named eck-<ns>-<name>-<alias> with its
// metadata, updates it when the access changes, puts the encoded key in the
// local cluster's keystore and the seeds in its cluster settings, and
// invalidates keys whose entry is gone (reference/eck.md §2-4). Like ECK, it
// records each key's id in the local cluster's keystore Secret. It talks to
// the clusters' REST APIs exactly as ECK does, so the provider sees the same
// keys it would see next to a real ECK.
package ecksim

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	kerrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/util/retry"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/eslink/eslink/internal/linkrules"
)

// Cluster is how the simulator reaches one cluster's Elasticsearch API.
type Cluster struct {
	URL      string
	Username string
	Password string
	HTTP     *http.Client
	// SetKeystoreEntry stands for ECK writing the keystore and restarting.
	SetKeystoreEntry func(name, value string)
	// RemoveKeystoreEntry stands for ECK removing a keystore entry.
	RemoveKeystoreEntry func(name string)
}

// Simulator reconciles ECK's remote-cluster keys for every Elasticsearch
// object in the API server.
type Simulator struct {
	Kube     client.Client
	Clusters map[string]*Cluster // keyed by namespace/name
	Interval time.Duration
	// Log receives one line per action, prefixed to say it is simulated.
	Log func(format string, args ...any)
}

// Run reconciles until ctx is done.
func (s *Simulator) Run(ctx context.Context) {
	t := time.NewTicker(s.Interval)
	defer t.Stop()
	for {
		if err := s.Reconcile(ctx); err != nil && ctx.Err() == nil {
			s.logf("reconcile failed: %v", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

type expected struct {
	alias  string
	local  *unstructured.Unstructured
	remote string
	apiKey map[string]any
}

// Reconcile runs one pass over all Elasticsearch objects.
func (s *Simulator) Reconcile(ctx context.Context) error {
	list := &unstructured.UnstructuredList{}
	list.SetGroupVersionKind(linkrules.ElasticsearchGVK.GroupVersion().WithKind("ElasticsearchList"))
	if err := s.Kube.List(ctx, list); err != nil {
		return fmt.Errorf("cannot list Elasticsearch objects: %w", err)
	}
	want := map[string][]expected{} // remote -> expected keys
	for i := range list.Items {
		local := &list.Items[i]
		entries, err := linkrules.RemoteClusters(local)
		if err != nil {
			return err
		}
		for _, e := range entries {
			apiKey, _ := e["apiKey"].(map[string]any)
			ref, _ := e["elasticsearchRef"].(map[string]any)
			if apiKey == nil || ref == nil {
				continue
			}
			name, _ := ref["name"].(string)
			ns, _ := ref["namespace"].(string)
			if ns == "" {
				ns = local.GetNamespace()
			}
			remote := ns + "/" + name
			want[remote] = append(want[remote], expected{alias: linkrules.EntryName(e), local: local, remote: remote, apiKey: apiKey})
		}
	}
	remotes := make([]string, 0, len(s.Clusters))
	for k := range s.Clusters {
		remotes = append(remotes, k)
	}
	sort.Strings(remotes)
	// ECK reconciles several clusters at once (--max-concurrent-reconciles,
	// 3 by default) and saves each client's keystore Secret once per
	// reconcile.
	ks := &keystoreChanges{byLocal: map[string][]keystoreChange{}}
	errs := make([]error, len(remotes))
	sem := make(chan struct{}, 3)
	var wg sync.WaitGroup
	for i, r := range remotes {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			if err := s.reconcileRemote(ctx, r, want[r], ks); err != nil {
				errs[i] = fmt.Errorf("remote %s: %w", r, err)
			}
		}()
	}
	wg.Wait()
	return errors.Join(append(errs, s.saveKeystores(ctx, ks))...)
}

// keystoreChanges are the changes to the local clusters' keystore Secrets
// that one pass makes, keyed by namespace/name of the local cluster.
type keystoreChanges struct {
	mu      sync.Mutex
	byLocal map[string][]keystoreChange
}

type keystoreChange func(records map[string]linkrules.ECKRemoteAPIKey, data map[string][]byte)

func (k *keystoreChanges) add(ns, name string, c keystoreChange) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.byLocal[ns+"/"+name] = append(k.byLocal[ns+"/"+name], c)
}

// saveKeystores writes each changed keystore Secret once.
func (s *Simulator) saveKeystores(ctx context.Context, k *keystoreChanges) error {
	locals := make([]string, 0, len(k.byLocal))
	for l := range k.byLocal {
		locals = append(locals, l)
	}
	sort.Strings(locals)
	var errs []error
	for _, l := range locals {
		ns, name, _ := strings.Cut(l, "/")
		if err := s.updateKeystoreSecret(ctx, ns, name, func(records map[string]linkrules.ECKRemoteAPIKey, data map[string][]byte) {
			for _, c := range k.byLocal[l] {
				c(records, data)
			}
		}); err != nil {
			errs = append(errs, fmt.Errorf("cannot save the keystore Secret of %s: %w", l, err))
		}
	}
	return errors.Join(errs...)
}

type esKey struct {
	ID       string         `json:"id"`
	Name     string         `json:"name"`
	Metadata map[string]any `json:"metadata"`
}

func (s *Simulator) reconcileRemote(ctx context.Context, remote string, want []expected, ks *keystoreChanges) error {
	rc := s.Clusters[remote]
	var got struct {
		APIKeys []esKey `json:"api_keys"`
	}
	status, err := s.call(ctx, rc, http.MethodGet, "/_security/api_key?active_only=true&name=eck-*", nil, &got)
	if err != nil && status != http.StatusNotFound {
		return err
	}
	active := map[string]esKey{}
	for _, k := range got.APIKeys {
		active[k.Name] = k
	}
	keep := map[string]bool{}
	for _, w := range want {
		name := fmt.Sprintf("eck-%s-%s-%s", w.local.GetNamespace(), w.local.GetName(), w.alias)
		keep[name] = true
		access := toESAccess(w.apiKey)
		hash := configHash(w.apiKey)
		meta := map[string]any{
			"elasticsearch.k8s.elastic.co/config-hash": hash,
			"elasticsearch.k8s.elastic.co/name":        w.local.GetName(),
			"elasticsearch.k8s.elastic.co/namespace":   w.local.GetNamespace(),
			"elasticsearch.k8s.elastic.co/uid":         string(w.local.GetUID()),
			"elasticsearch.k8s.elastic.co/managed-by":  "eck",
		}
		k, ok := active[name]
		switch {
		case !ok:
			var created struct {
				ID      string `json:"id"`
				Encoded string `json:"encoded"`
			}
			if _, err := s.call(ctx, rc, http.MethodPost, "/_security/cross_cluster/api_key",
				map[string]any{"name": name, "access": access, "metadata": meta}, &created); err != nil {
				return fmt.Errorf("cannot create key %s: %w", name, err)
			}
			s.logf("created cross-cluster API key %s on %s", name, remote)
			s.deliver(ctx, w, remote, created.ID, created.Encoded, ks)
		case k.Metadata["elasticsearch.k8s.elastic.co/config-hash"] != hash:
			if _, err := s.call(ctx, rc, http.MethodPut, "/_security/cross_cluster/api_key/"+k.ID,
				map[string]any{"access": access, "metadata": meta}, nil); err != nil {
				return fmt.Errorf("cannot update key %s: %w", name, err)
			}
			s.logf("updated cross-cluster API key %s on %s", name, remote)
		}
	}
	for name, k := range active {
		if keep[name] || k.Metadata["elasticsearch.k8s.elastic.co/managed-by"] != "eck" {
			continue
		}
		if _, err := s.call(ctx, rc, http.MethodDelete, "/_security/api_key", map[string]any{"name": name}, nil); err != nil {
			return fmt.Errorf("cannot invalidate key %s: %w", name, err)
		}
		s.logf("invalidated cross-cluster API key %s on %s: its entry is gone", name, remote)
		s.forget(ctx, k, ks)
	}
	return nil
}

// deliver records the key in the local cluster's keystore Secret, puts it
// in the keystore and the seeds in the persistent settings, as ECK does
// after a restart.
func (s *Simulator) deliver(ctx context.Context, w expected, remote, id, encoded string, ks *keystoreChanges) {
	ns, name, _ := strings.Cut(remote, "/")
	ks.add(w.local.GetNamespace(), w.local.GetName(), func(records map[string]linkrules.ECKRemoteAPIKey, data map[string][]byte) {
		records[w.alias] = linkrules.ECKRemoteAPIKey{Namespace: ns, Name: name, ID: id}
		data["cluster.remote."+w.alias+".credentials"] = []byte(encoded)
	})
	local := s.Clusters[w.local.GetNamespace()+"/"+w.local.GetName()]
	if local == nil {
		return
	}
	if local.SetKeystoreEntry != nil {
		local.SetKeystoreEntry("cluster.remote."+w.alias+".credentials", encoded)
	}
	seed := fmt.Sprintf("%s-es-remote-cluster.%s.svc:9443", name, ns)
	body := map[string]any{"persistent": map[string]any{"cluster": map[string]any{"remote": map[string]any{w.alias: map[string]any{"seeds": []string{seed}}}}}}
	if _, err := s.call(ctx, local, http.MethodPut, "/_cluster/settings", body, nil); err != nil {
		s.logf("cannot set seeds for %s on %s/%s: %v", w.alias, w.local.GetNamespace(), w.local.GetName(), err)
	}
}

func (s *Simulator) forget(ctx context.Context, k esKey, ks *keystoreChanges) {
	ns, _ := k.Metadata["elasticsearch.k8s.elastic.co/namespace"].(string)
	name, _ := k.Metadata["elasticsearch.k8s.elastic.co/name"].(string)
	local := s.Clusters[ns+"/"+name]
	if local == nil {
		return
	}
	alias := strings.TrimPrefix(k.Name, fmt.Sprintf("eck-%s-%s-", ns, name))
	ks.add(ns, name, func(records map[string]linkrules.ECKRemoteAPIKey, data map[string][]byte) {
		delete(records, alias)
		delete(data, "cluster.remote."+alias+".credentials")
	})
	if local.RemoveKeystoreEntry != nil {
		local.RemoveKeystoreEntry("cluster.remote." + alias + ".credentials")
	}
	body := map[string]any{"persistent": map[string]any{"cluster": map[string]any{"remote": map[string]any{alias: map[string]any{"seeds": nil}}}}}
	if _, err := s.call(ctx, local, http.MethodPut, "/_cluster/settings", body, nil); err != nil {
		s.logf("cannot remove seeds for %s on %s/%s: %v", alias, ns, name, err)
	}
}

// updateKeystoreSecret changes ECK's keystore Secret of the local cluster
// ns/name (<name>-es-remote-api-keys, reference/eck.md §3): the alias
// records of its annotation and its data. It is deleted when empty.
func (s *Simulator) updateKeystoreSecret(ctx context.Context, ns, name string, change func(map[string]linkrules.ECKRemoteAPIKey, map[string][]byte)) error {
	return retry.RetryOnConflict(retry.DefaultRetry, func() error {
		sec := &corev1.Secret{}
		key := client.ObjectKey{Namespace: ns, Name: name + linkrules.ECKRemoteAPIKeysSecretSuffix}
		err := s.Kube.Get(ctx, key, sec)
		exists := err == nil
		if err != nil && !kerrors.IsNotFound(err) {
			return err
		}
		records, err := linkrules.ECKRemoteAPIKeys(sec.GetAnnotations())
		if err != nil {
			return err
		}
		if sec.Data == nil {
			sec.Data = map[string][]byte{}
		}
		change(records, sec.Data)
		if len(records) == 0 {
			if exists {
				return client.IgnoreNotFound(s.Kube.Delete(ctx, sec))
			}
			return nil
		}
		b, err := json.Marshal(records)
		if err != nil {
			return err
		}
		sec.Name, sec.Namespace = key.Name, key.Namespace
		sec.Annotations = map[string]string{linkrules.AnnotationECKRemoteAPIKeys: string(b)}
		sec.Labels = map[string]string{
			linkrules.LabelECKClusterName:    name,
			linkrules.LabelECKType:           linkrules.ECKTypeRemoteAPIKeys,
			"eck.k8s.elastic.co/credentials": "true",
		}
		if exists {
			return s.Kube.Update(ctx, sec)
		}
		return s.Kube.Create(ctx, sec)
	})
}

// toESAccess turns ECK's single search and replication objects into the
// lists the cross-cluster API key API takes.
func toESAccess(apiKey map[string]any) map[string]any {
	access, _ := apiKey["access"].(map[string]any)
	out := map[string]any{}
	if s, ok := access["search"].(map[string]any); ok {
		out["search"] = []any{s}
	}
	if r, ok := access["replication"].(map[string]any); ok {
		out["replication"] = []any{r}
	}
	return out
}

func configHash(apiKey map[string]any) string {
	b, _ := json.Marshal(apiKey) //nolint:errchkjson // Values come from a decoded Kubernetes object.
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:8])
}

func (s *Simulator) call(ctx context.Context, c *Cluster, method, path string, body, out any) (int, error) {
	var r io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return 0, err
		}
		r = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.URL+path, r)
	if err != nil {
		return 0, err
	}
	req.SetBasicAuth(c.Username, c.Password)
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.HTTP.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close() //nolint:errcheck // Read-only body.
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return resp.StatusCode, err
	}
	if resp.StatusCode > 299 {
		return resp.StatusCode, fmt.Errorf("%s %s: HTTP %d: %s", method, path, resp.StatusCode, errorReason(b))
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			return resp.StatusCode, fmt.Errorf("cannot decode %s %s: %w", method, path, err)
		}
	}
	return resp.StatusCode, nil
}

// errorReason keeps only error.type and error.reason, never a body that could
// hold a key.
func errorReason(b []byte) string {
	var e struct {
		Error struct {
			Type   string `json:"type"`
			Reason string `json:"reason"`
		} `json:"error"`
	}
	if json.Unmarshal(b, &e) != nil || e.Error.Type == "" {
		return "(no error body)"
	}
	return e.Error.Type + ": " + e.Error.Reason
}

func (s *Simulator) logf(format string, args ...any) {
	if s.Log != nil {
		s.Log("[ECK simulator] "+format, args...)
	}
}
