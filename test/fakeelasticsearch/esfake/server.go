package esfake

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"fmt"
	"maps"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// Options configures a fake server. Zero values pick the documented defaults.
type Options struct {
	// Version is the Elasticsearch version to impersonate, X.Y.Z. Default 9.3.2.
	Version string
	// License is basic, trial or enterprise. Default enterprise.
	License string
	// Users that can authenticate with basic auth. Default elastic:changeme
	// with the all privilege.
	Users []User
	// TLS serves HTTPS with a freshly generated CA (see Server.CACertPEM).
	TLS bool
	// DNSNames are more subject alternative names of the HTTPS
	// certificate, besides localhost and the loopback addresses: the names
	// clients reach the server by, such as ECK's HTTP Service
	// <name>-es-http.<namespace>.svc (see HTTPListener).
	DNSNames []string
	// Addr is the listen address. Default 127.0.0.1:0.
	Addr string
	// Clock provides creation, expiration and invalidation times. Default time.Now.
	Clock func() time.Time
	// ClusterName is reported by GET / and reload_secure_settings. Default "eslink-fake".
	ClusterName string

	// Cluster, when set, is the cluster the node joins: it shares that
	// cluster's state with the other nodes started with it, and License,
	// Users, Clock and ClusterName above are the cluster's (ignored here).
	// Without it the node is a cluster of its own.
	Cluster *Cluster
	// NodeName is node.name; default the node.name of Config, else node-0.
	NodeName string
	// Config is the elasticsearch.yml the node starts with, as a pod
	// mounts it. A node that cannot start with it (unresolved placeholder,
	// missing certificate file, another cluster.name) makes Start fail.
	// With xpack.security.http.ssl.enabled: true, the node serves HTTPS
	// with xpack.security.http.ssl.certificate and .key from Files (TLS
	// and DNSNames are then ignored) and CACertPEM is the file of
	// xpack.security.http.ssl.certificate_authorities.
	Config *NodeConfig
	// Files are the node's files at start (see WriteFile): certificates,
	// and the file realm's users, users_roles and roles.yml in ConfigDir.
	Files map[string][]byte
	// Keystore is the on-disk keystore at start (see SetKeystore).
	Keystore map[string]string
	// Log receives one line per request to an endpoint the fake does not
	// implement (e.g. t.Log). Nil logs nothing; Unknown lists them anyway.
	Log func(line string)
}

// User is a user the server starts with (elastic is in the reserved realm,
// every other name in the native realm). More users and roles can be added
// through PUT /_security/user and /_security/role.
type User struct {
	Name     string
	Password string
	// Privileges are cluster privileges (all, manage, monitor,
	// manage_security, manage_api_key, manage_own_api_key, read_security,
	// or a cluster action pattern); none means all. They become the role
	// named first in Roles, unless that role is reserved (superuser).
	Privileges []string
	// Roles the user declares. Default ["superuser"] for elastic,
	// ["<name>_role"] otherwise. Roles that do not exist grant nothing.
	Roles []string

	// Set through the user API.
	fullName, email *string
	metadata        []byte
	disabled        bool
	reserved        bool
}

// Server is a running fake Elasticsearch node.
type Server struct {
	// URL is the base URL, http://127.0.0.1:port or https://...
	URL string
	// CACertPEM is the PEM CA that signed the server certificate (nil for HTTP).
	CACertPEM []byte
	// CertFingerprint is the hex SHA-256 of the CA certificate (DER), as
	// go-elasticsearch's CertificateFingerprint expects. Empty for HTTP.
	CertFingerprint string
	// LeafFingerprint is the hex SHA-256 of the server certificate itself
	// (DER), for pinning the exact certificate. Empty for HTTP.
	LeafFingerprint string

	httpSrv  *http.Server
	listener net.Listener
	serveErr chan error
	closeMu  sync.Once

	routeTable []*route
	log        func(line string)

	// mu is the cluster's lock: the nodes of one cluster share its state.
	mu      *sync.Mutex
	cluster *Cluster
	st      *state
	faults
	reqlog

	// network resolves remote cluster addresses (see Network); closed
	// refuses connections from other nodes once Close was called.
	network atomic.Pointer[Network]
	closed  atomic.Bool
}

// state is everything a request to one node can observe: the cluster's
// shared state and the node's own. Guarded by Server.mu.
type state struct {
	*shared

	ver      version
	nodeID   string
	nodeName string
	// nodeRoles are node.roles, sorted as Elasticsearch lists them.
	nodeRoles []string

	// keystoreDisk is what ECK writes into the keystore file; keystoreActive
	// is what the node has loaded (at start, on Restart, on reload).
	keystoreDisk     map[string]string
	keystoreActive   map[string]string
	keystoreModified time.Time

	// node is the static side: elasticsearch.yml, files, file settings.
	node nodeState
}

// Start starts a fake node listening on opts.Addr.
func Start(opts Options) (*Server, error) {
	cl := opts.Cluster
	if cl == nil {
		users := opts.Users
		if len(users) == 0 {
			users = []User{{Name: "elastic", Password: "changeme"}}
		}
		lic := opts.License
		if lic == "" {
			lic = "enterprise"
		}
		sh, err := newShared(opts.ClusterName, lic, opts.Clock, users)
		if err != nil {
			return nil, err
		}
		cl = &Cluster{sh: sh, version: "9.3.2"}
	}
	s := &Server{mu: &cl.mu, cluster: cl, serveErr: make(chan error, 1), log: opts.Log}
	cl.mu.Lock()
	st, err := newState(cl, opts)
	cl.mu.Unlock()
	if err != nil {
		return nil, err
	}
	s.st = st
	s.routeTable = s.routes()
	httpTLS, err := s.httpTLS(opts)
	if err != nil {
		return nil, err
	}
	addr := opts.Addr
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listen on %s: %w", addr, err)
	}
	s.listener = ln
	scheme := "http"
	if httpTLS != nil {
		s.listener = tls.NewListener(ln, httpTLS)
		scheme = "https"
	}
	s.URL = scheme + "://" + ln.Addr().String()
	s.httpSrv = &http.Server{
		Handler:           s.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		// The Go client logs nothing useful from server-side TLS noise.
		ErrorLog: nil,
	}
	cl.mu.Lock()
	cl.sh.join(s)
	cl.mu.Unlock()
	go func() { s.serveErr <- s.httpSrv.Serve(s.listener) }()
	return s, nil
}

// httpTLS is the HTTPS configuration: the node's own certificate files
// when its elasticsearch.yml enables HTTP SSL, else a generated CA when
// opts.TLS asks for one, else nil (plain HTTP).
func (s *Server) httpTLS(opts Options) (*tls.Config, error) {
	if opts.Config != nil {
		s.mu.Lock()
		cert, caPEM, enabled, err := s.st.node.httpCertificate()
		s.mu.Unlock()
		if err != nil {
			return nil, fmt.Errorf("node %s of cluster %s cannot start: %w", s.st.nodeName, s.st.clusterName, err)
		}
		if !enabled {
			return nil, nil
		}
		s.CACertPEM = caPEM
		s.LeafFingerprint = fingerprint(cert.Certificate[0])
		return &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}, nil
	}
	if !opts.TLS {
		return nil, nil
	}
	ca, err := newCertAuthority(opts.DNSNames)
	if err != nil {
		return nil, fmt.Errorf("generate TLS certificates: %w", err)
	}
	s.CACertPEM = ca.caPEM
	s.CertFingerprint = ca.fingerprint
	s.LeafFingerprint = ca.leafFingerprint
	return &tls.Config{Certificates: []tls.Certificate{ca.serverCert}, MinVersion: tls.VersionTLS12}, nil
}

// NewServer starts a server for a test and closes it when the test ends.
func NewServer(t testing.TB, opts Options) *Server {
	t.Helper()
	s, err := Start(opts)
	if err != nil {
		t.Fatalf("start fake elasticsearch: %v", err)
	}
	t.Cleanup(s.Close)
	return s
}

// Close stops the server and waits for in-flight requests briefly.
func (s *Server) Close() {
	s.closeMu.Do(func() {
		s.closed.Store(true)
		s.mu.Lock()
		s.cluster.sh.leave(s)
		s.mu.Unlock()
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		if err := s.httpSrv.Shutdown(ctx); err != nil {
			_ = s.httpSrv.Close()
		}
		if err := <-s.serveErr; err != nil && !errors.Is(err, http.ErrServerClosed) {
			_ = err // nothing to report to; the listener is gone either way
		}
	})
}

// newState builds a node's state from its options, as a starting node
// reads elasticsearch.yml, its files and its keystore. Called with the
// cluster's lock held.
func newState(cl *Cluster, opts Options) (*state, error) {
	vs := opts.Version
	if vs == "" {
		vs = cl.version
	}
	ver, err := parseVersion(vs)
	if err != nil {
		return nil, fmt.Errorf("options: %w", err)
	}
	node, err := newNodeState()
	if err != nil {
		return nil, err
	}
	for name, content := range opts.Files {
		node.files[resolvePath(name)] = append([]byte(nil), content...)
	}
	st := &state{
		shared: cl.sh, node: node, ver: ver, nodeRoles: defaultRoles(),
		keystoreDisk:     map[string]string{"keystore.seed": randomID(15)},
		keystoreActive:   map[string]string{},
		keystoreModified: cl.sh.clock(),
	}
	for k, v := range opts.Keystore {
		st.keystoreDisk[k] = v
	}
	name := opts.NodeName
	if opts.Config != nil {
		st.node.staged = NodeConfig{Settings: maps.Clone(opts.Config.Settings), Env: maps.Clone(opts.Config.Env)}
		cfg, err := st.node.loadConfig()
		if err != nil {
			return nil, fmt.Errorf("node of cluster %s cannot start: %w", cl.sh.clusterName, err)
		}
		st.node.config = cfg
		if cn := configString(cfg, "cluster.name"); cn != "" && cn != cl.sh.clusterName {
			return nil, fmt.Errorf("node with cluster.name [%s] cannot join cluster [%s]", cn, cl.sh.clusterName)
		}
		if name == "" {
			name = configString(cfg, "node.name")
		}
		if roles, set := cfg["node.roles"]; set {
			st.nodeRoles, err = parseRoles(roles)
			if err != nil {
				return nil, err
			}
		}
	}
	if name == "" {
		name = "node-0"
	}
	for _, m := range cl.sh.members {
		if m.st.nodeName == name {
			return nil, fmt.Errorf("node %s already runs in cluster %s", name, cl.sh.clusterName)
		}
	}
	st.nodeName = name
	st.nodeID = cl.sh.nodeIDFor(name)
	st.loadKeystore()
	return st, nil
}

func checkLicense(l string) error {
	switch l {
	case "basic", "trial", "enterprise", "platinum", "gold":
		return nil
	}
	return fmt.Errorf("unknown license %q (want basic, trial or enterprise)", l)
}

// randomID returns URL-safe unpadded base64 of n random bytes, the format
// of ES UUIDs (15 bytes give the 20-character API key id).
func randomID(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(fmt.Sprintf("crypto/rand failed: %v", err)) // unrecoverable platform failure
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// SetLicense switches the license type (basic, trial, enterprise).
func (s *Server) SetLicense(l string) {
	if checkLicense(l) != nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.st.license = l
}

// SetVersion changes the impersonated version, as after a rolling upgrade.
// Stored keys keep the role descriptors generated when they were written.
// Invalid versions are ignored.
func (s *Server) SetVersion(v string) {
	pv, err := parseVersion(v)
	if err != nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.st.ver = pv
}

// SetClock replaces the clock used for creation, expiration and invalidation.
func (s *Server) SetClock(clock func() time.Time) {
	if clock == nil {
		clock = time.Now
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.st.clock = clock
}

// SetKeystoreEntry writes a secure setting into the on-disk keystore, as
// ECK does. The node does not see it until ReloadSecureSettings is called
// (POST /_nodes/reload_secure_settings) or the node is Restart()ed.
func (s *Server) SetKeystoreEntry(name, value string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.st.keystoreDisk[name] = value
	s.st.keystoreModified = s.st.clock()
}

// RemoveKeystoreEntry deletes a secure setting from the on-disk keystore;
// like SetKeystoreEntry it takes effect on reload or restart.
func (s *Server) RemoveKeystoreEntry(name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.st.keystoreDisk, name)
	s.st.keystoreModified = s.st.clock()
}

// Restart simulates a restart of the node without closing the listener:
// elasticsearch.yml (SetNodeConfig) and the on-disk keystore are loaded;
// transient settings are lost when the node is the only one of its
// cluster (a full cluster restart). Keys, persistent settings and
// file-based settings survive, as they live in the cluster state. When the
// node cannot start with the new elasticsearch.yml (an unresolved
// placeholder, a missing or invalid certificate file), Restart changes
// nothing and says why: the restarted pod crash-loops while the others keep
// serving with the old configuration.
func (s *Server) Restart() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	cfg, err := s.st.node.loadConfig()
	if err != nil {
		return fmt.Errorf("node of cluster %s cannot start: %w", s.st.clusterName, err)
	}
	s.st.node.config = cfg
	s.st.loadKeystore()
	if len(s.st.members) <= 1 {
		// The node was the whole cluster: a full cluster restart.
		s.st.transient = map[string]any{}
	}
	return nil
}

// clusterName is immutable after Start.
func (s *Server) clusterName() string { return s.st.clusterName }

func (st *state) loadKeystore() {
	st.keystoreActive = make(map[string]string, len(st.keystoreDisk))
	for k, v := range st.keystoreDisk {
		st.keystoreActive[k] = v
	}
}

// ActiveKeystore returns the secure settings the node has loaded.
func (s *Server) ActiveKeystore() map[string]string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]string, len(s.st.keystoreActive))
	for k, v := range s.st.keystoreActive {
		out[k] = v
	}
	return out
}
