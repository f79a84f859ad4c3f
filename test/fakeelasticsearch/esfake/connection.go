package esfake

import (
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"fmt"
	"regexp"
	"strings"
)

// Connection is whether this node is connected to one remote cluster alias,
// and why not. GET /_remote/info reports Connected; Reason is for tests and
// demos only and never appears in a response.
type Connection struct {
	Alias     string
	Connected bool
	// Reason names the piece that is missing, empty when connected.
	Reason string
}

// RemoteConnections evaluates every remote cluster alias that has an
// address, in alias order, as GET /_remote/info lists them.
func (s *Server) RemoteConnections() []Connection {
	s.mu.Lock()
	d := s.st.dialPlan()
	s.mu.Unlock()
	return d.connect(s.network.Load())
}

// RemoteConnection evaluates one alias. An alias without an address is not
// connected.
func (s *Server) RemoteConnection(alias string) Connection {
	for _, c := range s.RemoteConnections() {
		if c.Alias == alias {
			return c
		}
	}
	return Connection{Alias: alias, Reason: fmt.Sprintf("cluster.remote.%s has no seeds (sniff mode) or proxy_address (proxy mode)", alias)}
}

// dialPlan is what a node knows when it opens its remote cluster
// connections, taken under its lock so that the peers can be asked without
// holding it (two clusters may be each other's remote).
type dialPlan struct {
	from    string
	aliases []aliasPlan
}

type aliasPlan struct {
	alias      string
	mode       string
	addresses  []string
	serverName string
	// hasCredentials selects the API-key model; credentials never leave
	// this struct.
	hasCredentials bool
	credentials    string
	client         sslContext // remote_cluster_client (API key) or transport (certificate)
	transport      sslContext
	signing        []*x509.Certificate
	signingErr     string
}

// dialPlan reads the settings of every enabled alias.
func (st *state) dialPlan() dialPlan {
	eff := st.remoteSettings()
	d := dialPlan{from: st.clusterName}
	client := st.node.sslContext(clientSSL)
	transport := st.node.sslContext(transportSSL)
	for _, alias := range remoteAliases(eff) {
		base := "cluster.remote." + alias + "."
		p := aliasPlan{alias: alias, mode: configString(eff, base+"mode"), client: client, transport: transport}
		if p.mode == "" {
			p.mode = "sniff"
		}
		if p.mode == "proxy" {
			if a := configString(eff, base+"proxy_address"); a != "" {
				p.addresses = []string{a}
			}
			p.serverName = configString(eff, base+"server_name")
		} else {
			p.addresses = configList(eff, base+"seeds")
		}
		if len(p.addresses) == 0 {
			continue // not enabled: RemoteClusterSettings.isConnectionEnabled
		}
		p.credentials, p.hasCredentials = st.secureSetting(base + "credentials")
		if c := configString(eff, base+"signing.certificate"); c != "" {
			certs, err := st.node.readCertificates(c)
			if err != nil {
				p.signingErr = fmt.Sprintf("%ssigning.certificate: %v", base, err)
			} else {
				p.signing = certs
			}
		}
		d.aliases = append(d.aliases, p)
	}
	return d
}

func (d dialPlan) connect(n *Network) []Connection {
	out := make([]Connection, 0, len(d.aliases))
	for _, p := range d.aliases {
		c := Connection{Alias: p.alias}
		var reasons []string
		for _, addr := range p.addresses {
			r := d.dial(n, p, addr)
			if r == "" {
				c.Connected = true
				break
			}
			reasons = append(reasons, r)
		}
		if !c.Connected {
			c.Reason = strings.Join(reasons, "; ")
		}
		out = append(out, c)
	}
	return out
}

// dial opens one connection the way the querying cluster would.
func (d dialPlan) dial(n *Network, p aliasPlan, addr string) string {
	ep, ok := n.lookup(addr)
	if !ok {
		return fmt.Sprintf("cluster %s cannot reach %s for alias %s: unknown host [%s]", d.from, addr, p.alias, hostOf(addr))
	}
	if ep.server.closed.Load() {
		return fmt.Sprintf("cluster %s cannot reach %s for alias %s: connection refused", d.from, addr, p.alias)
	}
	if ep.listener == HTTPListener {
		return fmt.Sprintf("cluster %s cannot connect to %s for alias %s: it is the HTTP port of cluster %s, which does not speak the transport protocol; use its remote cluster server (9443) or transport port (9300)",
			d.from, addr, p.alias, ep.server.clusterName())
	}
	verifyName := hostOf(addr)
	if p.serverName != "" {
		// The JDK verifies the SNI host name when one is sent.
		verifyName = p.serverName
	}
	if p.signingErr != "" {
		return fmt.Sprintf("cluster %s cannot sign requests for alias %s: %s", d.from, p.alias, p.signingErr)
	}
	ep.server.mu.Lock()
	defer ep.server.mu.Unlock()
	return ep.server.st.accept(inbound{from: d.from, plan: p, address: addr, listener: ep.listener, verifyName: verifyName})
}

type inbound struct {
	from       string
	plan       aliasPlan
	address    string
	listener   Listener
	verifyName string
}

// accept is the remote side of a connection attempt, under its lock. It
// returns "" when the connection is established, otherwise why not.
func (st *state) accept(in inbound) string {
	p := in.plan
	cred := "cluster.remote." + p.alias + ".credentials"
	switch {
	case p.hasCredentials && in.listener == TransportListener:
		return fmt.Sprintf("cluster %s holds %s, so it connects to %s with the API-key model, but %s is the transport port of cluster %s; the API-key model needs its remote cluster server (port 9443)",
			in.from, cred, p.alias, in.address, st.clusterName)
	case !p.hasCredentials && in.listener == RemoteClusterServerListener:
		return fmt.Sprintf("cluster %s has no %s in its keystore, so it connects to %s with the certificate model, which the remote cluster server of cluster %s at %s does not accept",
			in.from, cred, p.alias, st.clusterName, in.address)
	case p.hasCredentials:
		return st.acceptAPIKey(in)
	default:
		return st.acceptCertificate(in)
	}
}

func (st *state) acceptAPIKey(in inbound) string {
	p := in.plan
	if configString(st.node.config, "remote_cluster_server.enabled") != "true" {
		return fmt.Sprintf("the remote cluster server of cluster %s is not enabled (remote_cluster_server.enabled), so %s refuses the connection for alias %s",
			st.clusterName, in.address, p.alias)
	}
	server := st.node.sslContext(rcsSSL)
	if r := handshake(in.from, st.clusterName, "remote cluster server", p.client, server, in.verifyName, false); r != "" {
		return r
	}
	return st.authenticateCrossCluster(in)
}

func (st *state) acceptCertificate(in inbound) string {
	server := st.node.sslContext(transportSSL)
	// ECK sets transport verification_mode: certificate on both sides; the
	// transport layer requires client certificates.
	return handshake(in.from, st.clusterName, "transport layer", in.plan.transport, server, in.verifyName, true)
}

// handshake checks TLS between client and server contexts: the server's
// certificate against the client's trust, and with mutual TLS the client's
// certificate against the server's trust.
func handshake(from, to, layer string, client, server sslContext, verifyName string, mutual bool) string {
	switch {
	case !server.enabled:
		return fmt.Sprintf("SSL is disabled on the %s of cluster %s (%senabled)", layer, to, server.prefix)
	case !client.enabled:
		return fmt.Sprintf("cluster %s has %senabled: false and cannot talk to the TLS %s of cluster %s", from, client.prefix, layer, to)
	case len(server.chain) == 0:
		return fmt.Sprintf("the %s of cluster %s has no usable certificate: %s", layer, to, server.certErr)
	}
	if client.verification != "none" {
		name := verifyName
		if client.verification == "certificate" {
			name = ""
		}
		if err := verifyChain(client, server.chain, name, x509.ExtKeyUsageServerAuth); err != "" {
			return fmt.Sprintf("cluster %s does not trust the certificate of the %s of cluster %s: %s", from, layer, to, err)
		}
	}
	if !mutual || server.verification == "none" {
		return ""
	}
	if len(client.chain) == 0 {
		return fmt.Sprintf("cluster %s presents no certificate to the %s of cluster %s, which requires one: %s", from, layer, to, client.certErr)
	}
	if err := verifyChain(server, client.chain, "", x509.ExtKeyUsageClientAuth); err != "" {
		return fmt.Sprintf("cluster %s does not trust the certificate of cluster %s on the %s: %s", to, from, layer, err)
	}
	return ""
}

// verifyChain verifies a presented chain (leaf first) against the trust of
// ctx; name, when set, must be in the leaf's subject alternative names.
func verifyChain(ctx sslContext, chain []*x509.Certificate, name string, usage x509.ExtKeyUsage) string {
	if ctx.rootsErr != "" {
		return ctx.rootsErr
	}
	if ctx.roots == nil {
		return fmt.Sprintf("%scertificate_authorities is not set, and the JVM's default trust store does not hold the CA of %s", ctx.prefix, subjectDN(chain[len(chain)-1]))
	}
	inter := x509.NewCertPool()
	for _, c := range chain[1:] {
		inter.AddCert(c)
	}
	_, err := chain[0].Verify(x509.VerifyOptions{Roots: ctx.roots, Intermediates: inter, DNSName: name, KeyUsages: []x509.ExtKeyUsage{usage}})
	if err != nil {
		return fmt.Sprintf("%v (%scertificate_authorities: %s)", err, ctx.prefix, strings.Join(ctx.rootPaths, ", "))
	}
	return ""
}

// authenticateCrossCluster is the remote cluster server's authentication of
// the cross-cluster API key (and, 9.3+, of the request signature).
func (st *state) authenticateCrossCluster(in inbound) string {
	p := in.plan
	cred := "cluster.remote." + p.alias + ".credentials"
	raw, err := base64.StdEncoding.DecodeString(p.credentials)
	id, secret, found := strings.Cut(string(raw), ":")
	if err != nil || !found || id == "" {
		return fmt.Sprintf("%s of cluster %s is not an encoded API key", cred, in.from)
	}
	k := st.keys[id]
	switch {
	case k == nil:
		return fmt.Sprintf("the API key [%s] in %s of cluster %s does not exist on cluster %s", id, cred, in.from, st.clusterName)
	case k.secretHash != sha256.Sum256([]byte(secret)):
		return fmt.Sprintf("%s of cluster %s holds a wrong secret for API key [%s] of cluster %s", cred, in.from, id, st.clusterName)
	case k.typ != keyTypeCC:
		return fmt.Sprintf("the API key [%s] in %s of cluster %s is of type [%s], not a cross-cluster API key", id, cred, in.from, k.typ)
	case k.invalidated:
		return fmt.Sprintf("the cross-cluster API key [%s] in %s of cluster %s is invalidated on cluster %s", id, cred, in.from, st.clusterName)
	case k.expiredAt(st.clock()):
		return fmt.Sprintf("the cross-cluster API key [%s] in %s of cluster %s expired at %s on cluster %s",
			id, cred, in.from, k.expiration.UTC().Format("2006-01-02T15:04:05Z"), st.clusterName)
	}
	if len(p.signing) > 0 {
		if r := st.verifySignature(in); r != "" {
			return r
		}
	}
	if k.certIdentity == nil {
		return ""
	}
	pattern := *k.certIdentity
	if len(p.signing) == 0 {
		return fmt.Sprintf("the cross-cluster API key [%s] requires certificate identity matching [%s], but cluster %s signs no requests for alias %s (cluster.remote.%s.signing.certificate): Expected signature for cross cluster API key, but no signature was provided",
			id, pattern, in.from, p.alias, p.alias)
	}
	dn := subjectDN(p.signing[0])
	// Elasticsearch matches the whole DN (Matcher.matches); Go's RE2 covers
	// the Java syntax identities use.
	re, err := regexp.Compile(`^(?:` + pattern + `)$`)
	if err != nil {
		return fmt.Sprintf("the certificate identity pattern [%s] of API key [%s] cannot be evaluated by the fake: %v", pattern, id, err)
	}
	if !re.MatchString(dn) {
		return fmt.Sprintf("DN from provided certificate [%s] does not match API Key certificate identity pattern [%s] (API key [%s], cluster.remote.%s.signing.certificate of cluster %s)",
			dn, pattern, id, p.alias, in.from)
	}
	return ""
}

// verifySignature checks the querying cluster's signing certificate against
// cluster.remote.signing.certificate_authorities; an untrusted signature
// fails even when the key requires no identity.
func (st *state) verifySignature(in inbound) string {
	p := in.plan
	eff := st.remoteSettings()
	paths := configList(eff, "cluster.remote.signing.certificate_authorities")
	ctx := sslContext{prefix: "cluster.remote.signing.", rootPaths: paths}
	if len(paths) > 0 {
		ctx.roots = x509.NewCertPool()
		for _, path := range paths {
			certs, err := st.node.readCertificates(path)
			if err != nil {
				ctx.rootsErr = fmt.Sprintf("cluster.remote.signing.certificate_authorities: %v", err)
				break
			}
			for _, c := range certs {
				ctx.roots.AddCert(c)
			}
		}
	}
	if r := verifyChain(ctx, p.signing, "", x509.ExtKeyUsageAny); r != "" {
		return fmt.Sprintf("cluster %s cannot verify the signing certificate [%s] of cluster %s for alias %s: Failed to verify cross cluster api key signature certificate: %s",
			st.clusterName, subjectDN(p.signing[0]), in.from, p.alias, r)
	}
	return ""
}

// subjectDN renders a certificate subject in RFC 2253 order, as
// X500Principal.getName() does: most specific first, "CN=...,OU=...".
func subjectDN(c *x509.Certificate) string {
	return c.Subject.String()
}
