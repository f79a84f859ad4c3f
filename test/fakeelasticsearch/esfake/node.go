package esfake

import (
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"maps"
	"net"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"sigs.k8s.io/yaml"
)

// ConfigDir is the node's config directory; relative paths in settings
// resolve against it, as Elasticsearch resolves them.
const ConfigDir = "/usr/share/elasticsearch/config"

// NodeConfig is what a node reads when it starts: elasticsearch.yml and the
// environment its ${VAR} placeholders resolve from.
type NodeConfig struct {
	// Settings are flat dotted keys with string, bool, number or list
	// values, as in elasticsearch.yml.
	Settings map[string]any
	// Env resolves ${NAME} placeholders in setting values.
	Env map[string]string
}

// nodeState is the node's static side: elasticsearch.yml, its filesystem
// and the file-based settings it applied. Guarded by Server.mu.
type nodeState struct {
	staged NodeConfig
	// config is the elasticsearch.yml loaded at the last (re)start, with
	// placeholders resolved: string or []string values.
	config map[string]any
	// files are the node's files by absolute path. Elasticsearch watches
	// the files of its SSL configurations and reloads them on change, so
	// changed content takes effect without a restart.
	files map[string][]byte

	// File-based settings (config/operator/settings.json).
	fileSettingsVersion int64
	fileSettingsApplied bool
	fileSettingsError   *fileSettingsError
	clusterSecrets      map[string]string

	transportCA *issuer
}

type fileSettingsError struct {
	version int64
	kind    string
	errors  []string
}

func newNodeState() (nodeState, error) {
	ca, err := newIssuer("esfake-transport-ca")
	if err != nil {
		return nodeState{}, fmt.Errorf("generate transport CA: %w", err)
	}
	return nodeState{config: map[string]any{}, files: map[string][]byte{}, clusterSecrets: map[string]string{}, transportCA: ca}, nil
}

// SetNodeConfig writes elasticsearch.yml. The node reads it at the next
// Restart, as Elasticsearch reads static settings only at startup.
func (s *Server) SetNodeConfig(cfg NodeConfig) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.st.node.staged = NodeConfig{Settings: maps.Clone(cfg.Settings), Env: maps.Clone(cfg.Env)}
}

// NodeSettings returns the elasticsearch.yml settings the node runs with
// (loaded at its last start), placeholders resolved.
func (s *Server) NodeSettings() map[string]any {
	s.mu.Lock()
	defer s.mu.Unlock()
	return maps.Clone(s.st.node.config)
}

// WriteFile writes a file on the node, e.g. a certificate a Secret volume
// mounts. A relative path is relative to ConfigDir. Files an SSL
// configuration uses are read on every connection, so a changed CA bundle
// is trusted without a restart, as Elasticsearch reloads SSL files.
func (s *Server) WriteFile(name string, content []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.st.node.files[resolvePath(name)] = append([]byte(nil), content...)
}

// RemoveFile removes a file from the node.
func (s *Server) RemoveFile(name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.st.node.files, resolvePath(name))
}

// Files returns the paths of the node's files, sorted.
func (s *Server) Files() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return sortedKeys(s.st.node.files)
}

// SetKeystore replaces the on-disk keystore with entries (keystore.seed is
// kept), as ECK's init container builds it from scratch on every pod start.
// Like SetKeystoreEntry it takes effect on reload or restart.
func (s *Server) SetKeystore(entries map[string]string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	seed := s.st.keystoreDisk["keystore.seed"]
	s.st.keystoreDisk = maps.Clone(entries)
	if s.st.keystoreDisk == nil {
		s.st.keystoreDisk = map[string]string{}
	}
	s.st.keystoreDisk["keystore.seed"] = seed
	s.st.keystoreModified = s.st.clock()
}

// ApplyFileSettings stands for Elasticsearch's file settings watcher
// picking up config/operator/settings.json with metadata.version version
// and state.cluster_secrets.string_secrets clusterSecrets. As in
// Elasticsearch, a version not above the applied one is ignored. Cluster
// secrets are hot-reloaded secure settings (9.5+): they take effect at once.
// Before 9.5 the state is rejected and recorded as a file settings error.
func (s *Server) ApplyFileSettings(version int64, clusterSecrets map[string]string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := &s.st.node
	if n.fileSettingsApplied && version <= n.fileSettingsVersion {
		return nil
	}
	if len(clusterSecrets) > 0 && !s.st.ver.clusterSecrets() {
		msg := "Missing handler definition for content key [cluster_secrets]"
		n.fileSettingsError = &fileSettingsError{version: version, kind: "parsing", errors: []string{msg}}
		return fmt.Errorf("file settings version %d rejected: %s (Elasticsearch %s)", version, msg, s.st.ver.raw)
	}
	n.fileSettingsVersion, n.fileSettingsApplied, n.fileSettingsError = version, true, nil
	s.st.stateVersion++
	n.clusterSecrets = maps.Clone(clusterSecrets)
	if n.clusterSecrets == nil {
		n.clusterSecrets = map[string]string{}
	}
	return nil
}

// FailFileSettings stands for the node failing to apply the file-based
// settings of version, with Elasticsearch's error kind (parsing, validation
// or transient); the version it applied before stays in effect.
func (s *Server) FailFileSettings(version int64, kind string, errs ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(errs) == 0 {
		errs = []string{"failed to apply file settings"}
	}
	s.st.node.fileSettingsError = &fileSettingsError{version: version, kind: kind, errors: errs}
	s.st.stateVersion++
}

// FileSettingsVersion returns the file settings version the node applied.
func (s *Server) FileSettingsVersion() (int64, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.st.node.fileSettingsVersion, s.st.node.fileSettingsApplied
}

// TransportCACertPEM is the CA of the node's transport layer, distinct from
// the HTTP CA (CACertPEM), as ECK issues one CA per layer. Certificates from
// IssueTransportCertificate chain to it.
func (s *Server) TransportCACertPEM() []byte {
	return append([]byte(nil), s.st.node.transportCA.certPEM...)
}

// IssueTransportCertificate issues a certificate for this node's transport
// and remote cluster server layers from its transport CA, for both server
// and client authentication, as ECK's certificate controller does.
func (s *Server) IssueTransportCertificate(subject pkix.Name, dnsNames []string, ips []net.IP) (certPEM, keyPEM []byte, err error) {
	return s.st.node.transportCA.issue(subject, dnsNames, ips)
}

// EnableRemoteClusterServer configures a node as an administrator of a
// self-managed cluster would for API-key remote clusters: a certificate
// from the transport CA for serverNames, remote_cluster_server.enabled and
// the remote cluster server's SSL settings, then a restart. Querying
// clusters must trust TransportCACertPEM.
func (s *Server) EnableRemoteClusterServer(serverNames ...string) error {
	cert, key, err := s.IssueTransportCertificate(pkix.Name{CommonName: s.clusterName()}, serverNames, nil)
	if err != nil {
		return err
	}
	s.WriteFile("remote-cluster/tls.crt", cert)
	s.WriteFile("remote-cluster/tls.key", key)
	s.WriteFile("remote-cluster/ca.crt", s.TransportCACertPEM())
	s.mu.Lock()
	cfg := maps.Clone(s.st.node.staged.Settings)
	if cfg == nil {
		cfg = map[string]any{}
	}
	cfg["remote_cluster_server.enabled"] = "true"
	cfg["xpack.security.remote_cluster_server.ssl.enabled"] = "true"
	cfg["xpack.security.remote_cluster_server.ssl.certificate"] = "remote-cluster/tls.crt"
	cfg["xpack.security.remote_cluster_server.ssl.key"] = "remote-cluster/tls.key"
	s.st.node.staged.Settings = cfg
	s.mu.Unlock()
	return s.Restart()
}

// loadConfig reads the staged elasticsearch.yml as a starting node does:
// placeholders resolved, values normalized, and the SSL configurations the
// node would build checked, so that a node whose certificates are missing
// does not start (Elasticsearch exits at startup in that case).
func (n *nodeState) loadConfig() (map[string]any, error) {
	// elasticsearch.yml may nest keys (cluster: {name: x}); Elasticsearch
	// reads them as the flat keys they spell.
	flat := make(map[string]any, len(n.staged.Settings))
	flatten("", n.staged.Settings, flat)
	out := make(map[string]any, len(flat))
	for _, k := range sortedKeys(flat) {
		v, err := normalizeConfigValue(k, flat[k], n.staged.Env)
		if err != nil {
			return nil, err
		}
		out[k] = v
	}
	for _, prefix := range sslPrefixes {
		if prefix == rcsSSL && configString(out, "remote_cluster_server.enabled") != "true" {
			continue
		}
		ctx := n.sslContextIn(out, prefix)
		if !ctx.enabled {
			continue
		}
		if ctx.rootsErr != "" {
			return nil, fmt.Errorf("invalid SSL configuration for %s: %s", strings.TrimSuffix(prefix, "."), ctx.rootsErr)
		}
		if ctx.certErr != "" && (prefix != clientSSL || configString(out, prefix+"certificate") != "") {
			return nil, fmt.Errorf("invalid SSL configuration for %s: %s", strings.TrimSuffix(prefix, "."), ctx.certErr)
		}
	}
	return out, nil
}

var placeholder = regexp.MustCompile(`\$\{([^}]*)\}`)

func normalizeConfigValue(key string, v any, env map[string]string) (any, error) {
	resolve := func(s string) (string, error) {
		var missing string
		out := placeholder.ReplaceAllStringFunc(s, func(m string) string {
			name := m[2 : len(m)-1]
			if val, ok := env[name]; ok {
				return val
			}
			missing = name
			return m
		})
		if missing != "" {
			return "", fmt.Errorf("cannot start: setting [%s]: Could not resolve placeholder '%s'", key, missing)
		}
		return out, nil
	}
	scalar := func(x any) (string, bool) {
		switch t := x.(type) {
		case string:
			return t, true
		case bool:
			return strconv.FormatBool(t), true
		case int:
			return strconv.Itoa(t), true
		case int64:
			return strconv.FormatInt(t, 10), true
		case float64:
			return strconv.FormatFloat(t, 'f', -1, 64), true
		case json.Number:
			return t.String(), true
		}
		return "", false
	}
	switch t := v.(type) {
	case []string:
		out := make([]string, 0, len(t))
		for _, e := range t {
			r, err := resolve(e)
			if err != nil {
				return nil, err
			}
			out = append(out, r)
		}
		return out, nil
	case []any:
		out := make([]string, 0, len(t))
		for _, e := range t {
			s, ok := scalar(e)
			if !ok {
				return nil, fmt.Errorf("cannot start: setting [%s] is a list of non-scalar values", key)
			}
			r, err := resolve(s)
			if err != nil {
				return nil, err
			}
			out = append(out, r)
		}
		return out, nil
	}
	s, ok := scalar(v)
	if !ok {
		return nil, fmt.Errorf("cannot start: setting [%s] has a value of type %T", key, v)
	}
	return resolve(s)
}

func configString(cfg map[string]any, key string) string {
	s, _ := cfg[key].(string)
	return s
}

// configList reads a list setting; a single string is a one-element list,
// as Elasticsearch accepts for list settings.
func configList(cfg map[string]any, key string) []string {
	switch v := cfg[key].(type) {
	case []string:
		return v
	case string:
		if v == "" {
			return nil
		}
		return []string{v}
	}
	return nil
}

func resolvePath(p string) string {
	if !path.IsAbs(p) {
		p = path.Join(ConfigDir, p)
	}
	return path.Clean(p)
}

// The SSL configurations that matter for remote clusters.
const (
	transportSSL = "xpack.security.transport.ssl."
	rcsSSL       = "xpack.security.remote_cluster_server.ssl."
	clientSSL    = "xpack.security.remote_cluster_client.ssl."
)

var sslPrefixes = []string{transportSSL, rcsSSL, clientSSL}

// sslContext is one SSL configuration as the node builds it from its
// settings and files.
type sslContext struct {
	prefix       string
	enabled      bool
	verification string
	// roots are the trusted CAs; rootPaths the configured files.
	roots     *x509.CertPool
	rootPaths []string
	rootsErr  string
	// chain is the node's own certificate chain, leaf first.
	chain   []*x509.Certificate
	certErr string
}

func (n *nodeState) sslContext(prefix string) sslContext {
	return n.sslContextIn(n.config, prefix)
}

func (n *nodeState) sslContextIn(cfg map[string]any, prefix string) sslContext {
	// remote_cluster_server and remote_cluster_client SSL default to on;
	// transport SSL must be enabled explicitly (ECK does).
	def := prefix != transportSSL
	ctx := sslContext{prefix: prefix, enabled: def, verification: "full"}
	if v := configString(cfg, prefix+"enabled"); v != "" {
		ctx.enabled = v == "true"
	}
	if v := configString(cfg, prefix+"verification_mode"); v != "" {
		ctx.verification = v
	}
	ctx.rootPaths = configList(cfg, prefix+"certificate_authorities")
	if len(ctx.rootPaths) > 0 {
		ctx.roots = x509.NewCertPool()
		for _, p := range ctx.rootPaths {
			certs, err := n.readCertificates(p)
			if err != nil {
				ctx.rootsErr = fmt.Sprintf("%scertificate_authorities: %v", prefix, err)
				break
			}
			for _, c := range certs {
				ctx.roots.AddCert(c)
			}
		}
	}
	if p := configString(cfg, prefix+"certificate"); p != "" {
		certs, err := n.readCertificates(p)
		if err != nil {
			ctx.certErr = fmt.Sprintf("%scertificate: %v", prefix, err)
		} else {
			ctx.chain = certs
		}
		if k := configString(cfg, prefix+"key"); k == "" {
			ctx.certErr = fmt.Sprintf("%skey is not set", prefix)
		} else if _, ok := n.files[resolvePath(k)]; !ok {
			ctx.certErr = fmt.Sprintf("%skey: file [%s] does not exist", prefix, resolvePath(k))
		}
	} else {
		ctx.certErr = prefix + "certificate is not set"
	}
	return ctx
}

// readCertificates parses every CERTIFICATE block of a PEM file.
func (n *nodeState) readCertificates(p string) ([]*x509.Certificate, error) {
	full := resolvePath(p)
	b, ok := n.files[full]
	if !ok {
		return nil, fmt.Errorf("file [%s] does not exist", full)
	}
	var out []*x509.Certificate
	for {
		var blk *pem.Block
		blk, b = pem.Decode(b)
		if blk == nil {
			break
		}
		if blk.Type != "CERTIFICATE" {
			continue
		}
		c, err := x509.ParseCertificate(blk.Bytes)
		if err != nil {
			return nil, fmt.Errorf("file [%s] holds an invalid certificate: %w", full, err)
		}
		out = append(out, c)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("file [%s] holds no PEM certificate", full)
	}
	return out, nil
}

// SecureSetting returns a secure setting as the node uses it now: the
// loaded keystore, overlaid by hot-reloaded file-based cluster secrets.
// Tests use it to tell which credentials the node has taken up.
func (s *Server) SecureSetting(name string) (string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.st.secureSetting(name)
}

// secureSetting reads a secure setting as the node sees it: the loaded
// keystore, overlaid by hot-reloaded file-based cluster secrets.
func (st *state) secureSetting(name string) (string, bool) {
	if v, ok := st.node.clusterSecrets[name]; ok {
		return v, true
	}
	v, ok := st.keystoreActive[name]
	return v, ok
}

// remoteSettings are the cluster.remote.* settings in effect: those of
// elasticsearch.yml, overridden by persistent, then transient cluster
// settings, as Elasticsearch layers dynamic settings.
func (st *state) remoteSettings() map[string]any {
	out := map[string]any{}
	for k, v := range st.node.config {
		if strings.HasPrefix(k, "cluster.remote.") {
			out[k] = v
		}
	}
	maps.Copy(out, st.persistent)
	maps.Copy(out, st.transient)
	return out
}

// ParseElasticsearchYML reads elasticsearch.yml (YAML, nested or flat
// keys) into settings for NodeConfig.
func ParseElasticsearchYML(data []byte) (map[string]any, error) {
	out := map[string]any{}
	if err := yaml.Unmarshal(data, &out); err != nil {
		return nil, fmt.Errorf("parse elasticsearch.yml: %w", err)
	}
	if out == nil {
		out = map[string]any{}
	}
	return out, nil
}

// allRoles are the node roles Elasticsearch knows (DiscoveryNodeRole),
// sorted as it lists them; a node without node.roles has all but
// voting_only (and the stateless index and search roles).
var allRoles = []string{"data", "data_cold", "data_content", "data_frozen", "data_hot", "data_warm", "ingest", "master", "ml", "remote_cluster_client", "transform", "voting_only"}

func defaultRoles() []string { return slices.Clone(allRoles[:len(allRoles)-1]) }

// parseRoles reads node.roles like DiscoveryNode.getRolesFromSettings.
func parseRoles(v any) ([]string, error) {
	var names []string
	switch t := v.(type) {
	case []string:
		names = t
	case string:
		if t != "" {
			names = strings.Split(t, ",")
		}
	}
	out := make([]string, 0, len(names))
	for _, r := range names {
		r = strings.TrimSpace(r)
		if !slices.Contains(allRoles, r) {
			return nil, fmt.Errorf("cannot start: unknown role [%s]", r)
		}
		if !slices.Contains(out, r) {
			out = append(out, r)
		}
	}
	slices.Sort(out)
	return out, nil
}

// httpCertificate is the HTTP layer's certificate from the files that
// xpack.security.http.ssl.certificate and .key name, and the CA bundle of
// xpack.security.http.ssl.certificate_authorities; enabled is false when
// the HTTP layer is plain HTTP.
func (n *nodeState) httpCertificate() (cert tls.Certificate, caPEM []byte, enabled bool, err error) {
	const prefix = "xpack.security.http.ssl."
	if configString(n.config, prefix+"enabled") != "true" {
		return tls.Certificate{}, nil, false, nil
	}
	read := func(key string) ([]byte, error) {
		p := configString(n.config, prefix+key)
		if p == "" {
			return nil, fmt.Errorf("%s%s is not set", prefix, key)
		}
		b, ok := n.files[resolvePath(p)]
		if !ok {
			return nil, fmt.Errorf("%s%s: file [%s] does not exist", prefix, key, resolvePath(p))
		}
		return b, nil
	}
	certPEM, err := read("certificate")
	if err != nil {
		return tls.Certificate{}, nil, true, err
	}
	keyPEM, err := read("key")
	if err != nil {
		return tls.Certificate{}, nil, true, err
	}
	cert, err = tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return tls.Certificate{}, nil, true, fmt.Errorf("invalid SSL configuration for xpack.security.http.ssl: %w", err)
	}
	for _, p := range configList(n.config, prefix+"certificate_authorities") {
		caPEM = append(caPEM, n.files[resolvePath(p)]...)
	}
	return cert, caPEM, true, nil
}
