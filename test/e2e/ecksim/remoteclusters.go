package ecksim

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
	kerrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/eslink/eslink/internal/linkrules"
)

// Names and labels of ECK's remote cluster objects
// (ECK's pkg/controller/remotecluster).
const (
	labelClusterName       = "elasticsearch.k8s.elastic.co/cluster-name"
	labelType              = "common.k8s.elastic.co/type"
	labelRemoteNamespace   = "elasticsearch.k8s.elastic.co/remote-cluster-namespace"
	labelRemoteName        = "elasticsearch.k8s.elastic.co/remote-cluster-name"
	labelCredentials       = "eck.k8s.elastic.co/credentials"
	typeRemoteCA           = "remote-ca"
	typeRemoteAPIKeys      = "remote-cluster-api-keys"
	annotationAPIKeys      = "elasticsearch.k8s.elastic.co/remote-cluster-api-keys"
	annotationManagedRemes = "elasticsearch.k8s.elastic.co/managed-remote-clusters"
	metaManagedBy          = "elasticsearch.k8s.elastic.co/managed-by"
)

// ref is a namespace/name of an Elasticsearch object.
type ref struct{ ns, name string }

func (r ref) String() string { return r.ns + "/" + r.name }

func refOf(u *unstructured.Unstructured) ref { return ref{u.GetNamespace(), u.GetName()} }

// expected is one API-key entry of a local cluster's spec.remoteClusters.
type expected struct {
	alias  string
	local  *unstructured.Unstructured
	remote ref
	apiKey map[string]any
}

func (e expected) keyName() string {
	return fmt.Sprintf("eck-%s-%s-%s", e.local.GetNamespace(), e.local.GetName(), e.alias)
}

// entries reads every local cluster's remote cluster entries: API-key
// entries by remote, and every (local, remote) pair for the CA exchange,
// which ECK does for both security models.
func entries(list []unstructured.Unstructured) (map[ref][]expected, map[[2]ref]bool, error) {
	want := map[ref][]expected{}
	pairs := map[[2]ref]bool{}
	for i := range list {
		local := &list[i]
		if local.GetDeletionTimestamp() != nil {
			continue
		}
		es, err := linkrules.RemoteClusters(local)
		if err != nil {
			return nil, nil, err
		}
		for _, e := range es {
			r, _ := e["elasticsearchRef"].(map[string]any)
			name, _ := r["name"].(string)
			if name == "" {
				continue // ECK skips entries without elasticsearchRef.name
			}
			ns, _ := r["namespace"].(string)
			if ns == "" {
				ns = local.GetNamespace()
			}
			remote := ref{ns, name}
			pairs[[2]ref{refOf(local), remote}] = true
			if apiKey, ok := e["apiKey"].(map[string]any); ok {
				want[remote] = append(want[remote], expected{alias: linkrules.EntryName(e), local: local, remote: remote, apiKey: apiKey})
			}
		}
	}
	return want, pairs, nil
}

type esKey struct {
	ID       string         `json:"id"`
	Name     string         `json:"name"`
	Metadata map[string]any `json:"metadata"`
}

// reconcileKeys is ECK's remote cluster controller for one remote (the
// server): it creates, updates and invalidates the eck-* keys on it and
// keeps each client's <name>-es-remote-api-keys Secret in step.
func (s *Simulator) reconcileKeys(ctx context.Context, remote ref, rc *Cluster, want []expected, all []unstructured.Unstructured) error {
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
	var errs []error
	keep := map[string]bool{}
	wanted := map[ref]map[string]bool{} // client -> aliases pointing at remote
	for _, w := range want {
		name := w.keyName()
		keep[name] = true
		if wanted[refOf(w.local)] == nil {
			wanted[refOf(w.local)] = map[string]bool{}
		}
		wanted[refOf(w.local)][w.alias] = true
		if err := s.reconcileKey(ctx, remote, rc, w, active); err != nil {
			errs = append(errs, fmt.Errorf("key %s: %w", name, err))
		}
	}
	for name, k := range active {
		if keep[name] || k.Metadata[metaManagedBy] != "eck" {
			continue
		}
		if _, err := s.call(ctx, rc, http.MethodDelete, "/_security/api_key", map[string]any{"name": name}, nil); err != nil {
			errs = append(errs, fmt.Errorf("cannot invalidate key %s: %w", name, err))
			continue
		}
		s.logf("invalidated cross-cluster API key %s on %s: its remote cluster entry is gone", name, remote)
	}
	// Remove keystore aliases that point at this remote and are no longer
	// expected (keystore.go: aliases of deleted or changed entries).
	for i := range all {
		client := refOf(&all[i])
		ks, err := s.loadAPIKeys(ctx, client)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		changed := false
		for alias, v := range ks.aliases {
			if v.Namespace == remote.ns && v.Name == remote.name && !wanted[client][alias] {
				ks.remove(alias)
				changed = true
				s.logf("removed alias %s from Secret %s/%s-es-remote-api-keys: its entry is gone", alias, client.ns, client.name)
			}
		}
		if changed {
			if err := s.saveAPIKeys(ctx, &all[i], ks); err != nil {
				errs = append(errs, err)
			}
		}
	}
	return errors.Join(errs...)
}

func (s *Simulator) reconcileKey(ctx context.Context, remote ref, rc *Cluster, w expected, active map[string]esKey) error {
	name := w.keyName()
	hash := configHash(w.apiKey)
	meta := map[string]any{
		"elasticsearch.k8s.elastic.co/config-hash": hash,
		"elasticsearch.k8s.elastic.co/name":        w.local.GetName(),
		"elasticsearch.k8s.elastic.co/namespace":   w.local.GetNamespace(),
		"elasticsearch.k8s.elastic.co/uid":         string(w.local.GetUID()),
		metaManagedBy:                              "eck",
	}
	ks, err := s.loadAPIKeys(ctx, refOf(w.local))
	if err != nil {
		return err
	}
	k, ok := active[name]
	switch {
	case !ok:
		var created struct {
			ID      string `json:"id"`
			Encoded string `json:"encoded"`
		}
		if _, err := s.call(ctx, rc, http.MethodPost, "/_security/cross_cluster/api_key",
			map[string]any{"name": name, "access": toESAccess(w.apiKey), "metadata": meta}, &created); err != nil {
			return fmt.Errorf("cannot create: %w", err)
		}
		s.logf("created cross-cluster API key %s on %s", name, remote)
		ks.set(w.alias, created.Encoded, aliasValue{Namespace: remote.ns, Name: remote.name, ID: created.ID})
		if err := s.saveAPIKeys(ctx, w.local, ks); err != nil {
			return err
		}
		s.logf("wrote the key for alias %s into Secret %s/%s-es-remote-api-keys (a secure settings source of %s)", w.alias, w.local.GetNamespace(), w.local.GetName(), refOf(w.local))
	case ks.aliases[w.alias].ID != k.ID:
		// The keystore does not hold this key: ECK invalidates it and the
		// next pass creates a new one.
		if _, err := s.call(ctx, rc, http.MethodDelete, "/_security/api_key", map[string]any{"name": name}, nil); err != nil {
			return fmt.Errorf("cannot invalidate: %w", err)
		}
		s.logf("invalidated cross-cluster API key %s on %s: the keystore of %s does not hold it; it is recreated next pass", name, remote, refOf(w.local))
		return fmt.Errorf("key %s is not the one in the keystore of %s", k.ID, refOf(w.local))
	case k.Metadata["elasticsearch.k8s.elastic.co/config-hash"] != hash:
		if _, err := s.call(ctx, rc, http.MethodPut, "/_security/cross_cluster/api_key/"+k.ID,
			map[string]any{"access": toESAccess(w.apiKey), "metadata": meta}, nil); err != nil {
			return fmt.Errorf("cannot update: %w", err)
		}
		s.logf("updated cross-cluster API key %s on %s", name, remote)
	}
	return nil
}

// apiKeysSecret is a client cluster's <name>-es-remote-api-keys Secret.
type apiKeysSecret struct {
	secret  *corev1.Secret
	exists  bool
	aliases map[string]aliasValue
}

type aliasValue struct {
	Namespace string `json:"namespace"`
	Name      string `json:"name"`
	ID        string `json:"id"`
}

func credentialsKey(alias string) string { return "cluster.remote." + alias + ".credentials" }

func (k *apiKeysSecret) set(alias, encoded string, v aliasValue) {
	if k.secret.Data == nil {
		k.secret.Data = map[string][]byte{}
	}
	k.secret.Data[credentialsKey(alias)] = []byte(encoded)
	k.aliases[alias] = v
}

func (k *apiKeysSecret) remove(alias string) {
	delete(k.secret.Data, credentialsKey(alias))
	delete(k.aliases, alias)
}

func (s *Simulator) loadAPIKeys(ctx context.Context, client ref) (*apiKeysSecret, error) {
	sec := &corev1.Secret{}
	err := s.Kube.Get(ctx, clientKey(client.ns, client.name+"-es-remote-api-keys"), sec)
	if kerrors.IsNotFound(err) {
		return &apiKeysSecret{secret: &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: client.ns, Name: client.name + "-es-remote-api-keys"}}, aliases: map[string]aliasValue{}}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("cannot read Secret %s/%s-es-remote-api-keys: %w", client.ns, client.name, err)
	}
	ks := &apiKeysSecret{secret: sec, exists: true, aliases: map[string]aliasValue{}}
	if a := sec.Annotations[annotationAPIKeys]; a != "" {
		if err := json.Unmarshal([]byte(a), &ks.aliases); err != nil {
			return nil, fmt.Errorf("cannot parse annotation %s of Secret %s/%s: %w", annotationAPIKeys, sec.Namespace, sec.Name, err)
		}
	}
	return ks, nil
}

// saveAPIKeys writes the Secret, owned by the client, or deletes it when it
// holds no alias.
func (s *Simulator) saveAPIKeys(ctx context.Context, owner *unstructured.Unstructured, ks *apiKeysSecret) error {
	sec := ks.secret
	if len(ks.aliases) == 0 {
		if !ks.exists {
			return nil
		}
		if err := s.Kube.Delete(ctx, sec, client.Preconditions{UID: &sec.UID, ResourceVersion: &sec.ResourceVersion}); err != nil && !kerrors.IsNotFound(err) {
			return fmt.Errorf("cannot delete Secret %s/%s: %w", sec.Namespace, sec.Name, err)
		}
		return nil
	}
	b, err := json.Marshal(ks.aliases)
	if err != nil {
		return err
	}
	if sec.Annotations == nil {
		sec.Annotations = map[string]string{}
	}
	sec.Annotations[annotationAPIKeys] = string(b)
	if sec.Labels == nil {
		sec.Labels = map[string]string{}
	}
	sec.Labels[labelClusterName] = owner.GetName()
	sec.Labels[labelType] = typeRemoteAPIKeys
	sec.Labels[labelCredentials] = "true"
	setOwner(sec, owner)
	if ks.exists {
		err = s.Kube.Update(ctx, sec)
	} else {
		err = s.Kube.Create(ctx, sec)
	}
	if err != nil {
		return fmt.Errorf("cannot write Secret %s/%s: %w", sec.Namespace, sec.Name, err)
	}
	ks.exists = true
	return nil
}

// reconcileRemoteCAs copies each cluster's transport CA into the namespace
// of every cluster it is paired with, in both directions
// (remotecluster/secret.go), and deletes copies of pairs that are gone.
func (s *Simulator) reconcileRemoteCAs(ctx context.Context, byRef map[ref]*unstructured.Unstructured, pairs map[[2]ref]bool) error {
	want := map[ref]map[ref]bool{} // target -> sources
	add := func(target, source ref) {
		if want[target] == nil {
			want[target] = map[ref]bool{}
		}
		want[target][source] = true
	}
	for p := range pairs {
		if byRef[p[0]] == nil || byRef[p[1]] == nil {
			continue
		}
		add(p[0], p[1])
		add(p[1], p[0])
	}
	var errs []error
	for _, target := range sortedRefs(byRef) {
		for source := range want[target] {
			pub := &corev1.Secret{}
			if err := s.Kube.Get(ctx, clientKey(source.ns, source.name+"-es-transport-certs-public"), pub); err != nil {
				if !kerrors.IsNotFound(err) {
					errs = append(errs, err)
				}
				continue
			}
			if len(pub.Data["ca.crt"]) == 0 {
				continue
			}
			name := fmt.Sprintf("%s-%s-%s-es-remote-ca", target.name, source.ns, source.name)
			labels := map[string]string{labelClusterName: target.name, labelType: typeRemoteCA, labelRemoteNamespace: source.ns, labelRemoteName: source.name}
			changed, err := s.ensureSecret(ctx, byRef[target], name, map[string][]byte{"ca.crt": pub.Data["ca.crt"]}, labels, nil)
			if err != nil {
				errs = append(errs, err)
			} else if changed {
				s.logf("copied the transport CA of %s into Secret %s/%s (the remote CA exchange of a remote cluster pair)", source, target.ns, name)
			}
		}
		// Delete the copies this controller made for pairs that are gone.
		list := &corev1.SecretList{}
		if err := s.Kube.List(ctx, list, client.InNamespace(target.ns), client.MatchingLabels{labelClusterName: target.name, labelType: typeRemoteCA}); err != nil {
			errs = append(errs, err)
			continue
		}
		for i := range list.Items {
			sec := &list.Items[i]
			src := ref{sec.Labels[labelRemoteNamespace], sec.Labels[labelRemoteName]}
			if src.name == "" || want[target][src] {
				continue
			}
			if err := s.Kube.Delete(ctx, sec); err != nil && !kerrors.IsNotFound(err) {
				errs = append(errs, err)
				continue
			}
			s.logf("deleted Secret %s/%s: %s and %s are no longer paired", sec.Namespace, sec.Name, target, src)
		}
	}
	return errors.Join(errs...)
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

func sortedRefs[V any](m map[ref]V) []ref {
	out := make([]ref, 0, len(m))
	for r := range m {
		out = append(out, r)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].String() < out[j].String() })
	return out
}

func parseRef(key string) ref {
	ns, name, _ := strings.Cut(key, "/")
	return ref{ns, name}
}
