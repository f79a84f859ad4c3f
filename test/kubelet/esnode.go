package kubelet

import (
	"context"
	"fmt"
	"net"
	"path"
	"strings"
	"sync"

	"github.com/eslink/eslink/test/fakeelasticsearch/esfake"
)

// Paths in ECK's Elasticsearch Pods (cloud-on-k8s v3.5.0,
// pkg/controller/elasticsearch/volume/names.go, settings/config_volume.go,
// common/keystore/volumes.go).
const (
	esContainer       = "elasticsearch"
	configMount       = "/mnt/elastic-internal/elasticsearch-config"
	fileRealmMount    = "/mnt/elastic-internal/xpack-file-realm"
	unicastHostsMount = "/mnt/elastic-internal/unicast-hosts"
	keystoreInit      = "elastic-internal-init-keystore"
	secureSettings    = "/mnt/elastic-internal/secure-settings"
	httpPort          = "9200"
)

// initLinks are the files ECK's elastic-internal-init-filesystem container
// links into the config directory before Elasticsearch starts
// (initcontainer/prepare_fs.go linkedFiles): source in the init container
// -> name in esfake.ConfigDir.
var initLinks = map[string]string{
	fileRealmMount + "/users":                "users",
	fileRealmMount + "/roles.yml":            "roles.yml",
	fileRealmMount + "/users_roles":          "users_roles",
	configMount + "/elasticsearch.yml":       "elasticsearch.yml",
	unicastHostsMount + "/unicast_hosts.txt": "unicast_hosts.txt",
	fileRealmMount + "/service_tokens":       "service_tokens",
}

// clusterLabel names the Elasticsearch object a Pod of ECK's belongs to.
const clusterLabel = "elasticsearch.k8s.elastic.co/cluster-name"

// Elasticsearch is a Runtime that runs each of ECK's Elasticsearch Pods as
// a fake Elasticsearch node (esfake) on the Pod's address, port 9200. The
// node is configured only from the Pod: its version from the container
// image tag, elasticsearch.yml from ECK's config Secret (${VAR}
// placeholders from the container's environment), every mounted file at
// its path (certificates, remote CA bundles, file settings), the files the
// init-filesystem container links into the config directory (the file
// realm, elasticsearch.yml) and the keystore the init-keystore container
// builds from the secure settings volume. The nodes of one Elasticsearch
// object share one esfake.Cluster, which outlives them, as the cluster
// state outlives a rolling restart on the nodes' data paths.
type Elasticsearch struct {
	// Log receives the nodes' events.
	Log func(format string, args ...any)
	// Network, when set, is joined by every node: it resolves the Service
	// addresses of remote cluster seeds (see Endpoints).
	Network *esfake.Network

	mu       sync.Mutex
	nodes    map[string]*Node           // by namespace/pod
	clusters map[string]*esfake.Cluster // by namespace/Elasticsearch name
	// routes are the Service addresses registered on Network, with the
	// node each reaches.
	routes map[string]*esfake.Server
}

// listeners are the ports of ECK's Services by number: the REST API, the
// transport port (certificate model) and the remote cluster server (API
// key model).
var listeners = map[int32]esfake.Listener{9200: esfake.HTTPListener, 9300: esfake.TransportListener, 9443: esfake.RemoteClusterServerListener}

// Endpoints implements Options.Endpoints: it points every Service address
// (each form a Pod's resolver completes) at the node of the Pod behind it,
// so that a node dialing cluster2-es-remote-cluster.ns2.svc:9443 reaches
// cluster2's remote cluster server, and drops addresses whose Service or
// Pod is gone.
func (e *Elasticsearch) Endpoints(eps []Endpoint) {
	if e.Network == nil {
		return
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	type route struct {
		server   *esfake.Server
		listener esfake.Listener
	}
	want := map[string]route{}
	for _, ep := range eps {
		l, ok := listeners[ep.Port]
		n, running := e.nodes[ep.Namespace+"/"+ep.Pod]
		if !ok || !running {
			continue
		}
		base := strings.TrimSuffix(ep.Service, ".svc")
		for _, host := range []string{base, base + ".svc", base + ".svc.cluster.local"} {
			want[net.JoinHostPort(host, fmt.Sprint(ep.Port))] = route{n.Server, l}
		}
	}
	for addr, s := range e.routes {
		if want[addr].server != s {
			e.Network.Unregister(addr)
			delete(e.routes, addr)
		}
	}
	if e.routes == nil {
		e.routes = map[string]*esfake.Server{}
	}
	for addr, r := range want {
		if e.routes[addr] == r.server {
			continue
		}
		if err := e.Network.Register(addr, r.server, r.listener); err != nil {
			e.logf("cannot route %s: %v", addr, err)
			continue
		}
		e.routes[addr] = r.server
	}
}

// Node is one running fake Elasticsearch node.
type Node struct {
	// Server is the fake node; its request log is what ECK asked it.
	Server *esfake.Server
	// URL is where the Pod serves: https://<pod ip>:9200.
	URL string
	rt  *Elasticsearch
	key string
}

// Stop stops the node, as the container ends with its Pod.
func (n *Node) Stop() {
	n.Server.Close()
	n.rt.mu.Lock()
	if n.rt.nodes[n.key] == n {
		delete(n.rt.nodes, n.key)
	}
	n.rt.mu.Unlock()
}

// Node returns the running node of Pod namespace/name.
func (e *Elasticsearch) Node(namespace, name string) (*Node, bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	n, ok := e.nodes[namespace+"/"+name]
	return n, ok
}

// Nodes returns the running nodes by namespace/pod.
func (e *Elasticsearch) Nodes() map[string]*Node {
	e.mu.Lock()
	defer e.mu.Unlock()
	out := make(map[string]*Node, len(e.nodes))
	for k, n := range e.nodes {
		out[k] = n
	}
	return out
}

// Cluster returns the state shared by the nodes of Elasticsearch
// namespace/name, once one of its Pods started; its request log holds what
// every node of it was asked, stopped nodes included.
func (e *Elasticsearch) Cluster(namespace, name string) (*esfake.Cluster, bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	c, ok := e.clusters[namespace+"/"+name]
	return c, ok
}

// cluster returns the cluster of Elasticsearch namespace/name, created
// with the first node that starts. A new cluster runs the basic license
// until ECK starts its trial, as Elasticsearch does.
func (e *Elasticsearch) cluster(namespace, name, clusterName, version string) (*esfake.Cluster, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	key := namespace + "/" + name
	if c, ok := e.clusters[key]; ok {
		return c, nil
	}
	c, err := esfake.NewCluster(esfake.ClusterOptions{Name: clusterName, Version: version, License: "basic"})
	if err != nil {
		return nil, fmt.Errorf("cannot create the fake cluster of Elasticsearch %s: %w", key, err)
	}
	if e.clusters == nil {
		e.clusters = map[string]*esfake.Cluster{}
	}
	e.clusters[key] = c
	return c, nil
}

// Start implements Runtime.
func (e *Elasticsearch) Start(_ context.Context, pod *Pod) (Process, error) {
	c, ok := pod.Containers[esContainer]
	if !ok {
		return nil, fmt.Errorf("Pod %s/%s has no %s container", pod.Namespace, pod.Name, esContainer)
	}
	version, err := imageVersion(c.Image)
	if err != nil {
		return nil, err
	}
	files := map[string][]byte{}
	for p, b := range c.Files {
		files[p] = b
	}
	for _, ct := range pod.Containers {
		if !ct.Init {
			continue
		}
		for src, name := range initLinks {
			if b, ok := ct.Files[src]; ok {
				files[path.Join(esfake.ConfigDir, name)] = b
			}
		}
	}
	yml, ok := files[path.Join(esfake.ConfigDir, "elasticsearch.yml")]
	if !ok {
		return nil, fmt.Errorf("Pod %s/%s mounts no elasticsearch.yml (%s)", pod.Namespace, pod.Name, configMount)
	}
	settings, err := esfake.ParseElasticsearchYML(yml)
	if err != nil {
		return nil, fmt.Errorf("Pod %s/%s: %w", pod.Namespace, pod.Name, err)
	}
	keystore := map[string]string{}
	if ks, ok := pod.Containers[keystoreInit]; ok {
		for name, b := range ks.FilesUnder(secureSettings) {
			keystore[name] = string(b)
		}
	}
	clusterName := clusterNameOf(settings)
	esName := pod.Labels[clusterLabel]
	if esName == "" {
		esName = clusterName
	}
	cl, err := e.cluster(pod.Namespace, esName, clusterName, version)
	if err != nil {
		return nil, err
	}
	s, err := esfake.Start(esfake.Options{
		Cluster: cl, Version: version, Addr: net.JoinHostPort(pod.IP.String(), httpPort),
		Config: &esfake.NodeConfig{Settings: settings, Env: c.Env}, Files: files, Keystore: keystore,
		Log: func(line string) { e.logf("%s", line) },
	})
	if err != nil {
		return nil, fmt.Errorf("Elasticsearch of Pod %s/%s exits: %w", pod.Namespace, pod.Name, err)
	}
	if e.Network != nil {
		e.Network.Join(s)
	}
	n := &Node{Server: s, URL: s.URL, rt: e, key: pod.Namespace + "/" + pod.Name}
	e.mu.Lock()
	if e.nodes == nil {
		e.nodes = map[string]*Node{}
	}
	e.nodes[n.key] = n
	e.mu.Unlock()
	e.logf("fake Elasticsearch %s (cluster %s, node %s) of Pod %s/%s serves %s", version, clusterName, s.NodeID(), pod.Namespace, pod.Name, n.URL)
	return n, nil
}

func (e *Elasticsearch) logf(format string, args ...any) {
	if e.Log != nil {
		e.Log("kubelet stand-in: "+format, args...)
	}
}

// clusterNameOf reads cluster.name from elasticsearch.yml, nested or flat.
func clusterNameOf(settings map[string]any) string {
	if s, ok := settings["cluster.name"].(string); ok {
		return s
	}
	if m, ok := settings["cluster"].(map[string]any); ok {
		if s, ok := m["name"].(string); ok {
			return s
		}
	}
	return ""
}

// imageVersion is the tag of an Elasticsearch image, e.g.
// docker.elastic.co/elasticsearch/elasticsearch:9.3.2.
func imageVersion(image string) (string, error) {
	i := strings.LastIndex(image, ":")
	if i < 0 || strings.Contains(image[i:], "/") {
		return "", fmt.Errorf("image %s has no version tag", image)
	}
	return strings.TrimSuffix(image[i+1:], "-SNAPSHOT"), nil
}
