package ecksim

import (
	"bytes"
	"context"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"maps"
	"net"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	kerrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/eslink/eslink/internal/eckschema"
	"github.com/eslink/eslink/test/fakeelasticsearch/esfake"
)

const (
	// annotationFileBasedSecureSettings opts a 9.5+ cluster into secure
	// settings as file-based cluster_secrets (ECK 3.5, PR #9309).
	annotationFileBasedSecureSettings = "eck.k8s.elastic.co/file-based-secure-settings"
	// annotationSettingsHash is the hash of the file-settings state.
	annotationSettingsHash = "policy.k8s.elastic.co/settings-hash"
	fileSettingsKey        = "settings.json"
)

var (
	fileBasedSecureSettingsMinVersion = eckschema.Version{Major: 9, Minor: 5}
	fileBasedSettingsMinVersion       = eckschema.Version{Major: 8, Minor: 6, Patch: 1}
)

// cluster is one Elasticsearch object with the names ECK derives from it.
type cluster struct {
	es      *unstructured.Unstructured
	ref     ref
	version eckschema.Version
	nodeSet map[string]any // nodeSets[0], which the simulated node plays
	sset    string
	pod     string
}

func newCluster(es *unstructured.Unstructured) (*cluster, error) {
	c := &cluster{es: es, ref: refOf(es)}
	v, _, _ := unstructured.NestedString(es.Object, "spec", "version")
	ver, err := eckschema.ParseVersion(v)
	if err != nil {
		return nil, fmt.Errorf("spec.version: %w", err)
	}
	c.version = ver
	sets, _, _ := unstructured.NestedSlice(es.Object, "spec", "nodeSets")
	if len(sets) == 0 {
		return nil, errors.New("spec.nodeSets is empty")
	}
	c.nodeSet, _ = sets[0].(map[string]any)
	name, _ := c.nodeSet["name"].(string)
	c.sset = es.GetName() + "-es-" + name
	c.pod = podName(c.sset)
	return c, nil
}

func (c *cluster) fileBased() bool {
	return !c.version.Less(fileBasedSecureSettingsMinVersion) && c.es.GetAnnotations()[annotationFileBasedSecureSettings] == "true"
}

func (c *cluster) rcsEnabled() bool { return eckschema.RemoteClusterServerEnabled(c.es) }

// reconcileServices registers the Services ECK creates as network
// addresses: the HTTP and transport Services always, the remote cluster
// Service only while the server is enabled (ECK deletes it otherwise).
func (s *Simulator) reconcileServices(c *cluster, node *esfake.Server, rt *runtime) {
	if s.Network == nil {
		return
	}
	want := map[string]esfake.Listener{
		fmt.Sprintf("%s-es-http.%s.svc:9200", c.ref.name, c.ref.ns):      esfake.HTTPListener,
		fmt.Sprintf("%s-es-transport.%s.svc:9300", c.ref.name, c.ref.ns): esfake.TransportListener,
	}
	if c.rcsEnabled() {
		want[fmt.Sprintf("%s-es-remote-cluster.%s.svc:9443", c.ref.name, c.ref.ns)] = esfake.RemoteClusterServerListener
	}
	for addr := range rt.services {
		if _, keep := want[addr]; !keep {
			s.Network.Unregister(addr)
			delete(rt.services, addr)
			s.logf("deleted Service %s of %s", addr, c.ref)
		}
	}
	for _, addr := range sortedKeys(want) {
		if rt.services[addr] {
			continue
		}
		if err := s.Network.Register(addr, node, want[addr]); err != nil {
			s.logf("cannot create Service %s of %s: %v", addr, c.ref, err)
			continue
		}
		rt.services[addr] = true
		s.logf("created Service %s of %s", addr, c.ref)
	}
}

// reconcileCertificates is ECK's transport certificate controller: the
// public CA Secret, and the node set's certificate Secret whose subject
// alternative names include the remote cluster Service while the server is
// enabled (certificates/transport/csr.go). ES reloads the files: no restart.
func (s *Simulator) reconcileCertificates(ctx context.Context, c *cluster, node *esfake.Server) error {
	ca := node.TransportCACertPEM()
	if changed, err := s.ensureSecret(ctx, c.es, c.ref.name+"-es-transport-certs-public", map[string][]byte{"ca.crt": ca},
		map[string]string{labelClusterName: c.ref.name}, nil); err != nil {
		return err
	} else if changed {
		s.logf("wrote Secret %s/%s-es-transport-certs-public with the transport CA of %s", c.ref.ns, c.ref.name, c.ref)
	}
	cn := fmt.Sprintf("%s.node.%s.%s.es.local", c.pod, c.ref.name, c.ref.ns)
	dns := []string{cn, fmt.Sprintf("%s-es-transport.%s.svc", c.ref.name, c.ref.ns), c.pod + "." + c.sset}
	if c.rcsEnabled() {
		dns = append(dns, fmt.Sprintf("%s-es-remote-cluster.%s.svc", c.ref.name, c.ref.ns), fmt.Sprintf("%s.%s.%s.svc", c.pod, c.sset, c.ref.ns))
	}
	name := c.sset + "-es-transport-certs"
	sec := &corev1.Secret{}
	err := s.Kube.Get(ctx, clientKey(c.ref.ns, name), sec)
	if err != nil && !kerrors.IsNotFound(err) {
		return err
	}
	if certMatches(sec.Data[c.pod+".tls.crt"], dns) && bytes.Equal(sec.Data["ca.crt"], ca) {
		return nil
	}
	crt, key, err := node.IssueTransportCertificate(pkix.Name{CommonName: cn, OrganizationalUnit: []string{c.ref.name}}, dns, []net.IP{net.IPv4(127, 0, 0, 1)})
	if err != nil {
		return err
	}
	if _, err := s.ensureSecret(ctx, c.es, name, map[string][]byte{c.pod + ".tls.crt": crt, c.pod + ".tls.key": key, "ca.crt": ca},
		map[string]string{labelClusterName: c.ref.name, "elasticsearch.k8s.elastic.co/statefulset-name": c.sset}, nil); err != nil {
		return err
	}
	s.logf("issued the transport certificate of %s for %s", c.pod, strings.Join(dns[1:], ", "))
	return nil
}

func certMatches(pemBytes []byte, dns []string) bool {
	blk, _ := pem.Decode(pemBytes)
	if blk == nil {
		return false
	}
	crt, err := x509.ParseCertificate(blk.Bytes)
	if err != nil {
		return false
	}
	return slices.Equal(sortedStrings(crt.DNSNames), sortedStrings(dns))
}

func sortedStrings(in []string) []string {
	out := slices.Clone(in)
	sort.Strings(out)
	return out
}

// reconcileRemoteCABundle concatenates every Secret labelled as a remote CA
// of this cluster into <name>-es-remote-ca, or holds the cluster's own CA
// when there is none (certificates/remoteca/reconcile.go). It is mounted at
// transport-remote-certs/, which both the transport layer and ECK's remote
// cluster client trust.
func (s *Simulator) reconcileRemoteCABundle(ctx context.Context, c *cluster, node *esfake.Server) error {
	list := &corev1.SecretList{}
	if err := s.Kube.List(ctx, list, client.InNamespace(c.ref.ns), client.MatchingLabels{labelClusterName: c.ref.name, labelType: typeRemoteCA}); err != nil {
		return err
	}
	sort.Slice(list.Items, func(i, j int) bool { return list.Items[i].Name < list.Items[j].Name })
	cas := make([][]byte, 0, len(list.Items))
	for _, sec := range list.Items {
		cas = append(cas, sec.Data["ca.crt"])
	}
	if len(cas) == 0 {
		cas = [][]byte{node.TransportCACertPEM()}
	}
	changed, err := s.ensureSecret(ctx, c.es, c.ref.name+"-es-remote-ca", map[string][]byte{"ca.crt": bytes.Join(cas, nil)},
		map[string]string{labelClusterName: c.ref.name}, nil)
	if changed {
		s.logf("wrote Secret %s/%s-es-remote-ca from %d remote CA Secret(s)", c.ref.ns, c.ref.name, len(list.Items))
	}
	return err
}

// secureSettings aggregates spec.secureSettings and the remote API keys
// Secret like keystore.retrieveUserSecrets: a missing Secret is skipped
// (with a Warning event in ECK), a missing or empty entry is an error, and
// later sources override earlier ones.
func (s *Simulator) secureSettings(ctx context.Context, c *cluster, rt *runtime) (map[string]string, error) {
	out := map[string]string{}
	srcs, _, err := unstructured.NestedSlice(c.es.Object, "spec", "secureSettings")
	if err != nil {
		return nil, fmt.Errorf("spec.secureSettings: %w", err)
	}
	missing := map[string]bool{}
	read := func(name string) (*corev1.Secret, error) {
		sec := &corev1.Secret{}
		err := s.Kube.Get(ctx, clientKey(c.ref.ns, name), sec)
		if kerrors.IsNotFound(err) {
			missing[name] = true
			return nil, nil
		}
		return sec, err
	}
	for i, raw := range srcs {
		src, _ := raw.(map[string]any)
		name, _ := src["secretName"].(string)
		sec, err := read(name)
		if err != nil {
			return nil, err
		}
		if sec == nil {
			continue
		}
		entries, hasEntries := src["entries"].([]any)
		if !hasEntries {
			for k, v := range sec.Data {
				out[k] = string(v)
			}
			continue
		}
		if len(entries) == 0 {
			return nil, fmt.Errorf("set is empty in secure settings secret %s (spec.secureSettings[%d])", name, i)
		}
		for _, e := range entries {
			m, _ := e.(map[string]any)
			key, _ := m["key"].(string)
			if key == "" {
				return nil, fmt.Errorf("key is empty in secure settings secret %s", name)
			}
			p, _ := m["path"].(string)
			if p == "" {
				p = key
			}
			v, ok := sec.Data[key]
			if !ok {
				return nil, fmt.Errorf("key %s not found in secure settings secret %s", key, name)
			}
			out[p] = string(v)
		}
	}
	if sec, err := read(c.ref.name + "-es-remote-api-keys"); err != nil {
		return nil, err
	} else if sec != nil {
		for k, v := range sec.Data {
			out[k] = string(v)
		}
	}
	delete(missing, c.ref.name+"-es-remote-api-keys") // optional source
	for name := range missing {
		if !rt.warned[name] {
			s.logf("Warning event on %s: Secure settings secret not found: %s/%s", c.ref, c.ref.ns, name)
		}
	}
	rt.warned = missing
	return out, nil
}

// reconcileFileSettings writes the file-settings Secret as ECK does for
// 8.6.1+ (filesettings.ReconcileClusterSecrets): cluster_secrets set on the
// file-based path and cleared otherwise, the other state preserved, and a
// new version only when the state's hash changes.
func (s *Simulator) reconcileFileSettings(ctx context.Context, c *cluster, clusterSecrets map[string]string) error {
	if c.version.Less(fileBasedSettingsMinVersion) {
		return nil
	}
	name := c.ref.name + "-es-file-settings"
	sec := &corev1.Secret{}
	err := s.Kube.Get(ctx, clientKey(c.ref.ns, name), sec)
	if err != nil && !kerrors.IsNotFound(err) {
		return err
	}
	state := map[string]any{
		"cluster_settings": map[string]any{}, "snapshot_repositories": map[string]any{}, "slm": map[string]any{},
		"role_mappings": map[string]any{}, "ilm": map[string]any{}, "ingest_pipelines": map[string]any{},
		"index_templates": map[string]any{"component_templates": map[string]any{}, "composable_index_templates": map[string]any{}},
	}
	if cur, ok := sec.Data[fileSettingsKey]; ok {
		var parsed struct {
			State map[string]any `json:"state"`
		}
		if err := json.Unmarshal(cur, &parsed); err != nil {
			return fmt.Errorf("cannot patch cluster_secrets: current file settings in %s are malformed", name)
		}
		if parsed.State != nil {
			state = parsed.State
		}
	}
	delete(state, "cluster_secrets")
	if clusterSecrets != nil {
		strs := map[string]any{}
		for k, v := range clusterSecrets {
			strs[k] = v
		}
		state["cluster_secrets"] = map[string]any{"string_secrets": strs}
	}
	hash := hashOf(state)
	if sec.Annotations[annotationSettingsHash] == hash {
		return nil
	}
	version := s.now().UnixNano()
	b, err := json.Marshal(map[string]any{
		"metadata": map[string]any{"version": strconv.FormatInt(version, 10), "compatibility": "8.6.1"},
		"state":    state,
	})
	if err != nil {
		return err
	}
	if _, err := s.ensureSecret(ctx, c.es, name, map[string][]byte{fileSettingsKey: b},
		map[string]string{labelClusterName: c.ref.name, labelType: "elasticsearch"}, map[string]string{annotationSettingsHash: hash}); err != nil {
		return err
	}
	s.logf("wrote Secret %s/%s: file-based settings version %d (cluster_secrets: %s)", c.ref.ns, name, version, describeKeys(clusterSecrets))
	return nil
}

// applyFileSettings stands for Elasticsearch's file settings watcher: a
// new version of the mounted settings.json is applied FileSettingsDelay
// after ECK wrote it. Cluster secrets are hot-reloaded: no restart.
func (s *Simulator) applyFileSettings(ctx context.Context, c *cluster, node *esfake.Server, rt *runtime) error {
	if !rt.deployed {
		return nil
	}
	sec := &corev1.Secret{}
	if err := s.Kube.Get(ctx, clientKey(c.ref.ns, c.ref.name+"-es-file-settings"), sec); err != nil {
		return client.IgnoreNotFound(err)
	}
	var fs struct {
		Metadata struct {
			Version string `json:"version"`
		} `json:"metadata"`
		State struct {
			ClusterSecrets struct {
				StringSecrets map[string]string `json:"string_secrets"`
			} `json:"cluster_secrets"`
		} `json:"state"`
	}
	if err := json.Unmarshal(sec.Data[fileSettingsKey], &fs); err != nil {
		return fmt.Errorf("cannot parse %s of Secret %s/%s: %w", fileSettingsKey, sec.Namespace, sec.Name, err)
	}
	version, err := strconv.ParseInt(fs.Metadata.Version, 10, 64)
	if err != nil {
		return fmt.Errorf("metadata.version %q of Secret %s/%s is not a number", fs.Metadata.Version, sec.Namespace, sec.Name)
	}
	if applied, ok := node.FileSettingsVersion(); ok && version <= applied {
		return nil
	}
	if rt.fileSeen.version != version {
		rt.fileSeen.version, rt.fileSeen.at = version, s.now()
	}
	if s.now().Sub(rt.fileSeen.at) < s.fileSettingsDelay() {
		return nil
	}
	if err := node.ApplyFileSettings(version, fs.State.ClusterSecrets.StringSecrets); err != nil {
		return err
	}
	s.logf("Elasticsearch %s hot-reloaded file-based settings version %d (cluster_secrets: %s); no restart", c.ref, version, describeKeys(fs.State.ClusterSecrets.StringSecrets))
	return nil
}

// desired computes the pod spec ECK would roll out now.
func desired(c *cluster, keystore map[string]string) (podSpec, error) {
	if len(keystore) == 0 {
		keystore = nil // no secure settings: no keystore volume at all
	}
	user, _, err := unstructured.NestedMap(c.nodeSet, "config")
	if err != nil {
		return podSpec{}, fmt.Errorf("nodeSets[0].config: %w", err)
	}
	entries, err := eckschema.RemoteClusters(c.es)
	if err != nil {
		return podSpec{}, err
	}
	rcClient := slices.ContainsFunc(entries, func(e map[string]any) bool { return e["apiKey"] != nil })
	merged, err := mergeConfig(eckConfig(c.ref.name, c.version, c.rcsEnabled(), rcClient), user)
	if err != nil {
		return podSpec{}, fmt.Errorf("nodeSets[0].config: %w", err)
	}
	settings, err := nodeSettings(merged)
	if err != nil {
		return podSpec{}, fmt.Errorf("nodeSets[0].config: %w", err)
	}
	pt, err := podTemplate(c.nodeSet)
	if err != nil {
		return podSpec{}, fmt.Errorf("nodeSets[0]: %w", err)
	}
	ms, err := mounts(c.ref.name, c.sset, pt)
	if err != nil {
		return podSpec{}, err
	}
	sets, _, _ := unstructured.NestedSlice(c.es.Object, "spec", "nodeSets")
	templates := make([]any, 0, len(sets))
	for _, ns := range sets {
		m, _ := ns.(map[string]any)
		templates = append(templates, []any{m["config"], m["podTemplate"]})
	}
	spec := podSpec{
		version: c.version.String(),
		config: esfake.NodeConfig{Settings: settings, Env: map[string]string{
			"POD_NAME": c.pod, "POD_IP": "127.0.0.1", "NAMESPACE": c.ref.ns,
			"HEADLESS_SERVICE_NAME": c.sset, "NODE_NAME": "k8s-node-0",
		}},
		mounts:   ms,
		keystore: keystore,
	}
	spec.hash = hashOf([]any{spec.version, settings, ms, templates, hashOf(keystore), rcClient, c.rcsEnabled()})
	return spec, nil
}

// changes names what differs between two pod specs, for the log.
func changes(from, to podSpec) string {
	var out []string
	if from.version != to.version {
		out = append(out, "version "+from.version+" -> "+to.version)
	}
	if hashOf(from.config) != hashOf(to.config) {
		out = append(out, "elasticsearch.yml")
	}
	if hashOf(from.mounts) != hashOf(to.mounts) {
		out = append(out, "volumes")
	}
	if hashOf(from.keystore) != hashOf(to.keystore) {
		out = append(out, "secure settings")
	}
	if len(out) == 0 {
		out = append(out, "pod template")
	}
	return strings.Join(out, ", ")
}

// start runs a pod with spec: it mounts the volumes as they are now, writes
// elasticsearch.yml and the keystore, and restarts the node. A pod whose
// volume source is missing or whose node cannot start does not come up.
func (s *Simulator) start(ctx context.Context, c *cluster, node *esfake.Server, rt *runtime, spec podSpec) error {
	files := map[string]fileFrom{}
	for _, m := range spec.mounts {
		fs, found, err := s.files(ctx, c.ref.ns, m)
		if err != nil {
			return fmt.Errorf("pod %s cannot start: %w", c.pod, err)
		}
		if !found && !m.Optional {
			return fmt.Errorf("pod %s cannot start: MountVolume.SetUp failed for volume %q: %s/%s not found", c.pod, m.Volume, c.ref.ns, m.source())
		}
		for p, b := range fs {
			files[p] = fileFrom{volume: m.Volume, content: b}
		}
	}
	for p := range rt.written {
		if _, keep := files[p]; !keep {
			node.RemoveFile(p)
			delete(rt.written, p)
		}
	}
	for p, f := range files {
		node.WriteFile(p, f.content)
		rt.written[p] = f
	}
	node.SetNodeConfig(spec.config)
	node.SetKeystore(spec.keystore)
	if err := node.Restart(); err != nil {
		return err
	}
	node.SetVersion(spec.version)
	rt.running = spec
	return nil
}

type fileFrom struct {
	volume  string
	content []byte
}

// syncFiles stands for the kubelet refreshing the Secret and ConfigMap
// volumes of running pods: changed content lands on the node without a
// restart (subPath mounts excepted, as in Kubernetes), and Elasticsearch
// reloads the SSL files among them.
func (s *Simulator) syncFiles(ctx context.Context, c *cluster, node *esfake.Server, rt *runtime) error {
	var errs []error
	for _, m := range rt.running.mounts {
		if m.SubPath != "" {
			continue
		}
		fs, found, err := s.files(ctx, c.ref.ns, m)
		if err != nil || !found {
			errs = append(errs, err) // the kubelet keeps the last content
			continue
		}
		changed := false
		for p, f := range rt.written {
			if _, keep := fs[p]; f.volume == m.Volume && !keep {
				node.RemoveFile(p)
				delete(rt.written, p)
				changed = true
			}
		}
		for p, b := range fs {
			if old, ok := rt.written[p]; ok && bytes.Equal(old.content, b) {
				continue
			}
			node.WriteFile(p, b)
			rt.written[p] = fileFrom{volume: m.Volume, content: b}
			changed = true
		}
		if changed && m.Volume != fileSettingsVolumeName {
			s.logf("kubelet refreshed volume %s (%s) of %s at %s; Elasticsearch reloads the SSL files in it without a restart", m.Volume, m.source(), c.pod, m.MountPath)
		}
	}
	return errors.Join(errs...)
}

// reconcileRemoteClusterSettings is ECK's remotecluster.UpdateSettings: it
// sets cluster.remote.<alias>.seeds for every entry of spec.remoteClusters
// and nulls the aliases it created earlier whose entry is gone, tracking
// them in the managed-remote-clusters annotation.
func (s *Simulator) reconcileRemoteClusterSettings(ctx context.Context, c *cluster, cl *Cluster, rt *runtime) (bool, error) {
	entries, err := eckschema.RemoteClusters(c.es)
	if err != nil {
		return false, err
	}
	inSpec := map[string]string{}
	for _, e := range entries {
		r, _ := e["elasticsearchRef"].(map[string]any)
		name, _ := r["name"].(string)
		if name == "" {
			continue
		}
		ns, _ := r["namespace"].(string)
		if ns == "" {
			ns = c.ref.ns
		}
		seed := fmt.Sprintf("%s-es-transport.%s.svc:9300", name, ns)
		if e["apiKey"] != nil {
			seed = fmt.Sprintf("%s-es-remote-cluster.%s.svc:9443", name, ns)
		}
		inSpec[eckschema.EntryName(e)] = seed
	}
	ann, hasAnn := c.es.GetAnnotations()[annotationManagedRemes]
	if len(inSpec) == 0 && !hasAnn {
		return false, nil
	}
	managed := map[string]bool{}
	for _, a := range strings.Split(ann, ",") {
		if a = strings.TrimSpace(a); a != "" {
			managed[a] = true
		}
	}
	var current struct {
		Persistent struct {
			Cluster struct {
				Remote map[string]any `json:"remote"`
			} `json:"cluster"`
		} `json:"persistent"`
	}
	if _, err := s.call(ctx, cl, http.MethodGet, "/_cluster/settings", nil, &current); err != nil {
		return true, err
	}
	var toDelete []string
	for a := range managed {
		if _, ok := inSpec[a]; ok {
			continue
		}
		if _, inES := current.Persistent.Cluster.Remote[a]; inES {
			toDelete = append(toDelete, a)
		} else {
			delete(managed, a)
		}
	}
	apply := map[string]any{}
	for a, seed := range inSpec {
		managed[a] = true
		apply[a] = map[string]any{"seeds": []string{seed}}
	}
	for _, a := range toDelete {
		apply[a] = map[string]any{"seeds": nil}
	}
	if err := s.annotateManaged(ctx, c, managed); err != nil {
		return true, err
	}
	if len(apply) == 0 {
		return len(toDelete) > 0, nil
	}
	body := map[string]any{"persistent": map[string]any{"cluster": map[string]any{"remote": apply}}}
	if _, err := s.call(ctx, cl, http.MethodPut, "/_cluster/settings", body, nil); err != nil {
		return true, err
	}
	sort.Strings(toDelete)
	if key := hashOf([]any{inSpec, toDelete}); key != rt.seeds {
		rt.seeds = key
		s.logf("set remote cluster seeds on %s: %s%s", c.ref, describeSeeds(inSpec), describeDeleted(toDelete))
	}
	return len(toDelete) > 0, nil
}

func describeSeeds(m map[string]string) string {
	if len(m) == 0 {
		return "none"
	}
	parts := make([]string, 0, len(m))
	for _, a := range sortedKeys(m) {
		parts = append(parts, a+" -> "+m[a])
	}
	return strings.Join(parts, ", ")
}

func describeDeleted(d []string) string {
	if len(d) == 0 {
		return ""
	}
	return "; removed " + strings.Join(d, ", ")
}

// annotateManaged writes the managed-remote-clusters annotation (sorted,
// comma separated; removed when empty), with optimistic locking.
func (s *Simulator) annotateManaged(ctx context.Context, c *cluster, managed map[string]bool) error {
	want := strings.Join(sortedKeys(managed), ",")
	cur, has := c.es.GetAnnotations()[annotationManagedRemes]
	if (len(managed) == 0 && !has) || (has && cur == want && len(managed) > 0) {
		return nil
	}
	orig := c.es.DeepCopy()
	ann := maps.Clone(c.es.GetAnnotations())
	if ann == nil {
		ann = map[string]string{}
	}
	if len(managed) == 0 {
		delete(ann, annotationManagedRemes)
	} else {
		ann[annotationManagedRemes] = want
	}
	c.es.SetAnnotations(ann)
	if err := s.Kube.Patch(ctx, c.es, client.MergeFromWithOptions(orig, client.MergeFromWithOptimisticLock{})); err != nil {
		return fmt.Errorf("cannot annotate %s: %w", c.ref, err)
	}
	return nil
}

// ensureSecret creates or updates a Secret owned by owner; it reports
// whether anything changed.
func (s *Simulator) ensureSecret(ctx context.Context, owner *unstructured.Unstructured, name string, data map[string][]byte, labels, annotations map[string]string) (bool, error) {
	sec := &corev1.Secret{}
	err := s.Kube.Get(ctx, clientKey(owner.GetNamespace(), name), sec)
	if kerrors.IsNotFound(err) {
		sec = &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: owner.GetNamespace(), Name: name, Labels: labels, Annotations: annotations}, Data: data}
		setOwner(sec, owner)
		if err := s.Kube.Create(ctx, sec); err != nil {
			return false, fmt.Errorf("cannot create Secret %s/%s: %w", sec.Namespace, name, err)
		}
		return true, nil
	}
	if err != nil {
		return false, err
	}
	same := len(sec.Data) == len(data)
	for k, v := range data {
		same = same && bytes.Equal(sec.Data[k], v)
	}
	for k, v := range labels {
		same = same && sec.Labels[k] == v
	}
	for k, v := range annotations {
		same = same && sec.Annotations[k] == v
	}
	if same {
		return false, nil
	}
	sec.Data = data
	if sec.Labels == nil {
		sec.Labels = map[string]string{}
	}
	maps.Copy(sec.Labels, labels)
	if sec.Annotations == nil && len(annotations) > 0 {
		sec.Annotations = map[string]string{}
	}
	maps.Copy(sec.Annotations, annotations)
	if err := s.Kube.Update(ctx, sec); err != nil {
		return false, fmt.Errorf("cannot update Secret %s/%s: %w", sec.Namespace, name, err)
	}
	return true, nil
}

func setOwner(obj metav1.Object, owner *unstructured.Unstructured) {
	yes := true
	for _, r := range obj.GetOwnerReferences() {
		if r.UID == owner.GetUID() {
			return
		}
	}
	obj.SetOwnerReferences(append(obj.GetOwnerReferences(), metav1.OwnerReference{
		APIVersion: eckschema.ElasticsearchGVK.GroupVersion().String(), Kind: eckschema.ElasticsearchGVK.Kind,
		Name: owner.GetName(), UID: owner.GetUID(), Controller: &yes, BlockOwnerDeletion: &yes,
	}))
}

func clientKey(ns, name string) client.ObjectKey { return client.ObjectKey{Namespace: ns, Name: name} }
