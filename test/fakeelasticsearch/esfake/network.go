package esfake

import (
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync"
)

// Listener says which port of a node an address reaches. The node-to-node
// ports speak different protocols: a querying cluster with
// cluster.remote.<alias>.credentials in its keystore connects to the remote
// cluster server (API-key model); without credentials it connects to the
// transport port (certificate model). The HTTP port is the REST API, which
// clients reach (the fake's own listener) and no cluster connects to.
type Listener int

const (
	// RemoteClusterServerListener is the remote cluster server port (9443;
	// remote_cluster_server.enabled), which accepts API-key connections only.
	RemoteClusterServerListener Listener = iota + 1
	// TransportListener is the transport port (9300), which the certificate
	// model uses.
	TransportListener
	// HTTPListener is the REST API port (9200), the server's own HTTP
	// listener (Server.URL): a client on the network reaches it by the
	// address, e.g. cluster2-es-http.ns2.svc:9200, through HTTPAddress.
	HTTPListener
)

func (l Listener) String() string {
	switch l {
	case RemoteClusterServerListener:
		return "remote cluster server port"
	case TransportListener:
		return "transport port"
	case HTTPListener:
		return "HTTP port"
	}
	return "unknown port"
}

// Network stands for the Services and DNS between clusters: it maps service
// addresses ("host:port", for example
// "cluster2-es-remote-cluster.ns2.svc:9443") to fake nodes. A node resolves
// the addresses in its cluster.remote.* settings through the network it
// joined; an address the network does not hold does not resolve.
type Network struct {
	mu        sync.RWMutex
	endpoints map[string]endpoint
}

type endpoint struct {
	server   *Server
	listener Listener
}

// NewNetwork returns an empty network.
func NewNetwork() *Network {
	return &Network{endpoints: map[string]endpoint{}}
}

// Join makes the servers resolve remote cluster addresses through n. A
// server belongs to at most one network; joining another replaces it.
func (n *Network) Join(servers ...*Server) {
	for _, s := range servers {
		s.network.Store(n)
	}
}

// Register makes address reach listener l of s, and joins s to n. It fails
// when address is not host:port or already reaches another server or port.
// Registering the same endpoint again is a no-op.
func (n *Network) Register(address string, s *Server, l Listener) error {
	key, err := normalizeAddress(address)
	if err != nil {
		return err
	}
	if l != RemoteClusterServerListener && l != TransportListener && l != HTTPListener {
		return fmt.Errorf("cannot register %s: unknown listener %d", address, l)
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	if ep, taken := n.endpoints[key]; taken && (ep.server != s || ep.listener != l) {
		return fmt.Errorf("cannot register %s: it already reaches the %s of cluster %s", address, ep.listener, ep.server.clusterName())
	}
	n.endpoints[key] = endpoint{server: s, listener: l}
	n.Join(s)
	return nil
}

// Unregister removes address, as when a Service is deleted.
func (n *Network) Unregister(address string) {
	key, err := normalizeAddress(address)
	if err != nil {
		return
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	delete(n.endpoints, key)
}

// HTTPAddress resolves an address registered with HTTPListener to the
// loopback host:port the server listens on, as a Service resolves to its
// pod; false when the address is unknown, reaches another port, or its
// server is closed.
func (n *Network) HTTPAddress(address string) (string, bool) {
	ep, ok := n.lookup(address)
	if !ok || ep.listener != HTTPListener || ep.server.closed.Load() {
		return "", false
	}
	return ep.server.listener.Addr().String(), true
}

// Registered reports what address reaches.
func (n *Network) Registered(address string) (*Server, Listener, bool) {
	ep, ok := n.lookup(address)
	return ep.server, ep.listener, ok
}

func (n *Network) lookup(address string) (endpoint, bool) {
	key, err := normalizeAddress(address)
	if err != nil || n == nil {
		return endpoint{}, false
	}
	n.mu.RLock()
	defer n.mu.RUnlock()
	ep, ok := n.endpoints[key]
	return ep, ok
}

// normalizeAddress lowercases the host, as DNS names are case-insensitive.
func normalizeAddress(address string) (string, error) {
	host, port, err := net.SplitHostPort(address)
	if err != nil || host == "" {
		return "", fmt.Errorf("address %q is not host:port", address)
	}
	if p, err := strconv.Atoi(port); err != nil || p <= 0 || p > 65535 {
		return "", fmt.Errorf("address %q has no valid port", address)
	}
	return net.JoinHostPort(strings.ToLower(host), port), nil
}

// hostOf returns the host part of host:port, or address itself.
func hostOf(address string) string {
	if host, _, err := net.SplitHostPort(address); err == nil {
		return host
	}
	return address
}
