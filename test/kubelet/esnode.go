package kubelet

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"path"
	"sort"
	"strings"
	"sync"
	"time"

	"sigs.k8s.io/yaml"

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

// Elasticsearch is a Runtime that runs each of ECK's Elasticsearch Pods as
// a fake Elasticsearch node (esfake) on the Pod's address, port 9200. The
// node is configured only from the Pod: its version from the container
// image tag, elasticsearch.yml from ECK's config Secret (nested keys
// flattened, ${VAR} placeholders from the container's environment), every
// mounted file at its path (certificates, remote CA bundles, file
// settings), the files the init-filesystem container links into the config
// directory (the file realm, elasticsearch.yml) and the keystore the
// init-keystore container builds from the secure settings volume.
type Elasticsearch struct {
	// Log receives the nodes' events.
	Log func(format string, args ...any)

	mu    sync.Mutex
	nodes map[string]*Node // by namespace/pod
}

// Node is one running fake Elasticsearch node.
type Node struct {
	// Server is the fake node; its request log is what ECK asked.
	Server *esfake.Server
	// URL is where the Pod serves: https://<pod ip>:9200.
	URL string
	srv *http.Server
	rt  *Elasticsearch
	key string
}

// Stop stops the node, as the container ends with its Pod.
func (n *Node) Stop() {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := n.srv.Shutdown(ctx); err != nil {
		_ = n.srv.Close()
	}
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

// Nodes returns the running nodes by namespace/pod, sorted keys first.
func (e *Elasticsearch) Nodes() map[string]*Node {
	e.mu.Lock()
	defer e.mu.Unlock()
	out := make(map[string]*Node, len(e.nodes))
	for k, n := range e.nodes {
		out[k] = n
	}
	return out
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
	settings, err := parseSettings(yml)
	if err != nil {
		return nil, fmt.Errorf("Pod %s/%s: %w", pod.Namespace, pod.Name, err)
	}
	keystore := map[string]string{}
	if ks, ok := pod.Containers[keystoreInit]; ok {
		for name, b := range ks.FilesUnder(secureSettings) {
			keystore[name] = string(b)
		}
	}

	clusterName, _ := settings["cluster.name"].(string)
	// A fresh node runs the basic license until ECK starts its trial, as
	// Elasticsearch does.
	s, err := esfake.Start(esfake.Options{Version: version, License: "basic", ClusterName: clusterName})
	if err != nil {
		return nil, fmt.Errorf("cannot start the fake Elasticsearch node of Pod %s/%s: %w", pod.Namespace, pod.Name, err)
	}
	for p, b := range files {
		s.WriteFile(p, b)
	}
	s.SetKeystore(keystore)
	s.SetNodeConfig(esfake.NodeConfig{Settings: settings, Env: c.Env})
	if err := s.Restart(); err != nil {
		s.Close()
		return nil, fmt.Errorf("Elasticsearch of Pod %s/%s exits: %w", pod.Namespace, pod.Name, err)
	}
	n := &Node{Server: s, rt: e, key: pod.Namespace + "/" + pod.Name}
	ln, scheme, err := listen(pod, s.NodeSettings(), files)
	if err != nil {
		s.Close()
		return nil, err
	}
	n.URL = scheme + "://" + ln.Addr().String()
	n.srv = &http.Server{Handler: s.Handler(), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = n.srv.Serve(ln) }()
	e.mu.Lock()
	if e.nodes == nil {
		e.nodes = map[string]*Node{}
	}
	e.nodes[n.key] = n
	e.mu.Unlock()
	if e.Log != nil {
		e.Log("kubelet stand-in: fake Elasticsearch %s (cluster %s) of Pod %s/%s serves %s", version, clusterName, pod.Namespace, pod.Name, n.URL)
	}
	return n, nil
}

// listen opens the Pod's HTTP port: TLS with the node's
// xpack.security.http.ssl certificate and key files when SSL is enabled,
// as Elasticsearch serves it.
func listen(pod *Pod, cfg map[string]any, files map[string][]byte) (net.Listener, string, error) {
	addr := net.JoinHostPort(pod.IP.String(), httpPort)
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, "", fmt.Errorf("Pod %s/%s cannot listen on %s: %w", pod.Namespace, pod.Name, addr, err)
	}
	if s, _ := cfg["xpack.security.http.ssl.enabled"].(string); s != "true" {
		return ln, "http", nil
	}
	read := func(key string) ([]byte, error) {
		p, _ := cfg[key].(string)
		if p == "" {
			return nil, fmt.Errorf("%s is not set", key)
		}
		if !path.IsAbs(p) {
			p = path.Join(esfake.ConfigDir, p)
		}
		b, ok := files[p]
		if !ok {
			return nil, fmt.Errorf("%s names %s, which the Pod does not mount", key, p)
		}
		return b, nil
	}
	certPEM, err := read("xpack.security.http.ssl.certificate")
	var keyPEM []byte
	if err == nil {
		keyPEM, err = read("xpack.security.http.ssl.key")
	}
	var cert tls.Certificate
	if err == nil {
		cert, err = tls.X509KeyPair(certPEM, keyPEM)
	}
	if err != nil {
		_ = ln.Close()
		return nil, "", fmt.Errorf("Elasticsearch of Pod %s/%s exits: HTTP SSL: %w", pod.Namespace, pod.Name, err)
	}
	return tls.NewListener(ln, &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}), "https", nil
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

// parseSettings reads elasticsearch.yml into flat dotted keys, as
// Elasticsearch does: nested maps join their keys with dots; lists and
// scalars stay values (scalars as strings).
func parseSettings(yml []byte) (map[string]any, error) {
	var doc map[string]any
	if err := yaml.Unmarshal(yml, &doc); err != nil {
		return nil, fmt.Errorf("cannot parse elasticsearch.yml: %w", err)
	}
	out := map[string]any{}
	var walk func(prefix string, v any) error
	walk = func(prefix string, v any) error {
		switch t := v.(type) {
		case map[string]any:
			keys := make([]string, 0, len(t))
			for k := range t {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			for _, k := range keys {
				p := k
				if prefix != "" {
					p = prefix + "." + k
				}
				if err := walk(p, t[k]); err != nil {
					return err
				}
			}
		case []any:
			l := make([]string, 0, len(t))
			for _, e := range t {
				l = append(l, fmt.Sprint(e))
			}
			out[prefix] = l
		case nil:
			out[prefix] = ""
		default:
			out[prefix] = fmt.Sprint(t)
		}
		return nil
	}
	if err := walk("", doc); err != nil {
		return nil, err
	}
	if len(out) == 0 {
		return nil, errors.New("elasticsearch.yml is empty")
	}
	return out, nil
}
