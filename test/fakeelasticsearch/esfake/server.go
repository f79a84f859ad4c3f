package esfake

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"fmt"
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

	mu sync.Mutex
	st *state
	faults
	reqlog

	// network resolves remote cluster addresses (see Network); closed
	// refuses connections from other nodes once Close was called.
	network atomic.Pointer[Network]
	closed  atomic.Bool
}

// state is everything a request can observe; guarded by Server.mu.
type state struct {
	ver         version
	license     string
	users       map[string]*User
	roles       map[string]*role
	clock       func() time.Time
	clusterName string
	clusterUUID string
	nodeID      string

	keys     map[string]*apiKey
	keyOrder []string

	persistent map[string]any
	transient  map[string]any
	// stateVersion counts cluster state updates (settings, file settings).
	stateVersion int64

	// keystoreDisk is what ECK writes into the keystore file; keystoreActive
	// is what the node has loaded (at start, on Restart, on reload).
	keystoreDisk     map[string]string
	keystoreActive   map[string]string
	keystoreModified time.Time

	// node is the static side: elasticsearch.yml, files, file settings.
	node nodeState
}

// Start starts a fake server listening on opts.Addr.
func Start(opts Options) (*Server, error) {
	st, err := newState(opts)
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
	s := &Server{st: st, listener: ln, serveErr: make(chan error, 1)}
	s.routeTable = s.routes()
	scheme := "http"
	if opts.TLS {
		ca, err := newCertAuthority(opts.DNSNames)
		if err != nil {
			_ = ln.Close()
			return nil, fmt.Errorf("generate TLS certificates: %w", err)
		}
		s.CACertPEM = ca.caPEM
		s.CertFingerprint = ca.fingerprint
		s.LeafFingerprint = ca.leafFingerprint
		s.listener = tls.NewListener(ln, &tls.Config{Certificates: []tls.Certificate{ca.serverCert}, MinVersion: tls.VersionTLS12})
		scheme = "https"
	}
	s.URL = scheme + "://" + ln.Addr().String()
	s.httpSrv = &http.Server{
		Handler:           s.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		// The Go client logs nothing useful from server-side TLS noise.
		ErrorLog: nil,
	}
	go func() { s.serveErr <- s.httpSrv.Serve(s.listener) }()
	return s, nil
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

func newState(opts Options) (*state, error) {
	vs := opts.Version
	if vs == "" {
		vs = "9.3.2"
	}
	ver, err := parseVersion(vs)
	if err != nil {
		return nil, fmt.Errorf("options: %w", err)
	}
	lic := opts.License
	if lic == "" {
		lic = "enterprise"
	}
	if err := checkLicense(lic); err != nil {
		return nil, fmt.Errorf("options: %w", err)
	}
	users := opts.Users
	if len(users) == 0 {
		users = []User{{Name: "elastic", Password: "changeme"}}
	}
	clock := opts.Clock
	if clock == nil {
		clock = time.Now
	}
	name := opts.ClusterName
	if name == "" {
		name = "eslink-fake"
	}
	node, err := newNodeState()
	if err != nil {
		return nil, err
	}
	st := &state{
		node: node,
		ver:  ver, license: lic, clock: clock, clusterName: name,
		clusterUUID: randomID(16), nodeID: randomID(16),
		keys:       map[string]*apiKey{},
		persistent: map[string]any{}, transient: map[string]any{},
		keystoreDisk:     map[string]string{"keystore.seed": randomID(15)},
		keystoreActive:   map[string]string{},
		keystoreModified: clock(),
	}
	if err := st.seedSecurity(users); err != nil {
		return nil, err
	}
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

// Restart simulates a full restart of the node without closing the
// listener: elasticsearch.yml (SetNodeConfig) and the on-disk keystore are
// loaded and transient settings are lost. Keys, persistent settings and
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
	s.st.transient = map[string]any{}
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
