package esfake

import (
	"crypto/x509/pkix"
	"encoding/base64"
	"strconv"
	"strings"
	"testing"
	"time"
)

const (
	rcsAddr        = "cluster2-es-remote-cluster.ns2.svc:9443"
	transportAddr  = "cluster2-es-transport.ns2.svc:9300"
	rcsServerName  = "cluster2-es-remote-cluster.ns2.svc"
	localTransport = "cluster1-es-transport.ns1.svc:9300"
)

// world is a local cluster L (cluster1) and a remote R (cluster2) set up as
// ECK sets them up for flow 1, with L connected to R as alias "logs" in
// proxy mode through a cross-cluster API key.
type world struct {
	n       *Network
	l, r    *Server
	clock   *testClock
	keyID   string
	encoded string
}

func newWorld(t testing.TB) *world {
	t.Helper()
	w := &world{n: NewNetwork(), clock: fixedClock()}
	w.l = NewServer(t, Options{ClusterName: "cluster1"})
	w.r = NewServer(t, Options{ClusterName: "cluster2", Clock: w.clock.Now})
	w.n.Join(w.l)
	for addr, l := range map[string]Listener{rcsAddr: RemoteClusterServerListener, transportAddr: TransportListener} {
		if err := w.n.Register(addr, w.r, l); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.n.Register(localTransport, w.l, TransportListener); err != nil {
		t.Fatal(err)
	}
	eckNode(t, w.l, "cluster1", "ns1", false, w.r.TransportCACertPEM())
	eckNode(t, w.r, "cluster2", "ns2", true, w.l.TransportCACertPEM())
	w.keyID, w.encoded = mustCreate(t, w.r, `{"name":"eck-ns1-cluster1-logs","access":`+validAccess+`}`)
	w.l.SetKeystore(map[string]string{"cluster.remote.logs.credentials": w.encoded})
	mustRestart(t, w.l)
	w.settings(t, `{"persistent":{"cluster.remote.logs.mode":"proxy","cluster.remote.logs.proxy_address":"`+rcsAddr+`","cluster.remote.logs.server_name":"`+rcsServerName+`"}}`)
	return w
}

func (w *world) settings(t testing.TB, body string) {
	t.Helper()
	if r := do(t, w.l, "PUT", "/_cluster/settings", body, adminAuth); r.status != 200 {
		t.Fatalf("settings %s: %s", body, r.body)
	}
}

func mustRestart(t testing.TB, s *Server) {
	t.Helper()
	if err := s.Restart(); err != nil {
		t.Fatal(err)
	}
}

// eckNode configures s as ECK's merged config and volumes configure a
// pod: transport certificates from its transport CA (with the remote
// cluster Service name when the server is enabled), the remote CAs in
// transport-remote-certs, and the remote cluster client trusting both.
func eckNode(t testing.TB, s *Server, name, ns string, rcs bool, remoteCA []byte) {
	t.Helper()
	pod := name + "-es-default-0"
	dns := []string{pod + ".node." + name + "." + ns + ".es.local", name + "-es-transport." + ns + ".svc"}
	if rcs {
		dns = append(dns, name+"-es-remote-cluster."+ns+".svc")
	}
	cert, key, err := s.IssueTransportCertificate(pkix.Name{CommonName: dns[0], OrganizationalUnit: []string{name}}, dns, nil)
	if err != nil {
		t.Fatal(err)
	}
	s.WriteFile("transport-certs/ca.crt", s.TransportCACertPEM())
	s.WriteFile("transport-certs/"+pod+".tls.crt", cert)
	s.WriteFile("transport-certs/"+pod+".tls.key", key)
	s.WriteFile("transport-remote-certs/ca.crt", remoteCA)
	cas := []any{ConfigDir + "/transport-certs/ca.crt", ConfigDir + "/transport-remote-certs/ca.crt"}
	cfg := map[string]any{
		"xpack.security.transport.ssl.enabled":                             true,
		"xpack.security.transport.ssl.verification_mode":                   "certificate",
		"xpack.security.transport.ssl.certificate":                         ConfigDir + "/transport-certs/${POD_NAME}.tls.crt",
		"xpack.security.transport.ssl.key":                                 ConfigDir + "/transport-certs/${POD_NAME}.tls.key",
		"xpack.security.transport.ssl.certificate_authorities":             cas,
		"xpack.security.remote_cluster_client.ssl.enabled":                 true,
		"xpack.security.remote_cluster_client.ssl.certificate_authorities": cas,
	}
	if rcs {
		cfg["remote_cluster_server.enabled"] = "true"
		cfg["xpack.security.remote_cluster_server.ssl.certificate"] = ConfigDir + "/transport-certs/${POD_NAME}.tls.crt"
		cfg["xpack.security.remote_cluster_server.ssl.key"] = ConfigDir + "/transport-certs/${POD_NAME}.tls.key"
		cfg["xpack.security.remote_cluster_server.ssl.certificate_authorities"] = cas
	}
	s.SetNodeConfig(NodeConfig{Settings: cfg, Env: map[string]string{"POD_NAME": pod}})
	mustRestart(t, s)
}

// signWithTransportCert makes L sign requests for alias logs with its
// transport certificate and R trust L's transport CA for signatures.
func (w *world) signWithTransportCert(t *testing.T) {
	t.Helper()
	w.settings(t, `{"persistent":{"cluster.remote.logs.signing.certificate":"transport-certs/cluster1-es-default-0.tls.crt","cluster.remote.logs.signing.key":"transport-certs/cluster1-es-default-0.tls.key"}}`)
	if r := do(t, w.r, "PUT", "/_cluster/settings", `{"persistent":{"cluster.remote.signing.certificate_authorities":"transport-remote-certs/ca.crt"}}`, adminAuth); r.status != 200 {
		t.Fatalf("signing CAs: %s", r.body)
	}
}

func (w *world) setIdentity(t *testing.T, pattern string) {
	t.Helper()
	if r := do(t, w.r, "PUT", "/_security/cross_cluster/api_key/"+w.keyID, `{"certificate_identity":`+string(mustJSON(pattern))+`}`, adminAuth); r.status != 200 {
		t.Fatalf("set identity: %s", r.body)
	}
}

// TestRemoteConnectionIsEarned breaks one piece at a time and checks that
// the alias is then not connected, with a reason naming that piece.
func TestRemoteConnectionIsEarned(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name   string
		alias  string
		mutate func(t *testing.T, w *world)
		want   string // "" means connected
	}{
		{name: "EverythingInPlace"},
		{name: "SniffModeThroughTheRemoteClusterService", mutate: func(t *testing.T, w *world) {
			w.settings(t, `{"persistent":{"cluster.remote.logs.*":null}}`)
			w.settings(t, `{"persistent":{"cluster.remote.logs.seeds":["`+rcsAddr+`"]}}`)
		}},
		{name: "AddressDoesNotResolve", want: "unknown host [cluster9-es-remote-cluster.ns2.svc]", mutate: func(t *testing.T, w *world) {
			w.settings(t, `{"persistent":{"cluster.remote.logs.proxy_address":"cluster9-es-remote-cluster.ns2.svc:9443"}}`)
		}},
		{name: "RemoteIsDown", want: "connection refused", mutate: func(_ *testing.T, w *world) { w.r.Close() }},
		{name: "RemoteClusterServerDisabled", want: "the remote cluster server of cluster cluster2 is not enabled (remote_cluster_server.enabled)", mutate: func(t *testing.T, w *world) {
			eckNode(t, w.r, "cluster2", "ns2", false, w.l.TransportCACertPEM())
		}},
		{name: "LocalDoesNotTrustTheRemoteCA", want: "cluster cluster1 does not trust the certificate of the remote cluster server of cluster cluster2: x509: certificate signed by unknown authority", mutate: func(_ *testing.T, w *world) {
			// A changed CA file is reloaded without a restart.
			w.l.WriteFile("transport-remote-certs/ca.crt", w.l.TransportCACertPEM())
		}},
		{name: "ServerNameNotInTheCertificate", want: "certificate is valid for", mutate: func(t *testing.T, w *world) {
			w.settings(t, `{"persistent":{"cluster.remote.logs.server_name":"logs.example.com"}}`)
		}},
		{name: "NoCredentialsInTheKeystore", want: "cluster cluster1 has no cluster.remote.logs.credentials in its keystore", mutate: func(t *testing.T, w *world) {
			w.l.SetKeystore(nil)
			mustRestart(t, w.l)
		}},
		{name: "CredentialsNotYetLoaded", want: "has no cluster.remote.logs.credentials", mutate: func(t *testing.T, w *world) {
			w.l.SetKeystore(nil)
			mustRestart(t, w.l)
			w.l.SetKeystore(map[string]string{"cluster.remote.logs.credentials": w.encoded}) // on disk, not loaded
		}},
		{name: "CredentialsSentToTheTransportPort", want: "is the transport port of cluster cluster2", mutate: func(t *testing.T, w *world) {
			w.settings(t, `{"persistent":{"cluster.remote.logs.proxy_address":"`+transportAddr+`","cluster.remote.logs.server_name":null}}`)
		}},
		{name: "KeyInvalidated", want: "is invalidated on cluster cluster2", mutate: func(t *testing.T, w *world) {
			do(t, w.r, "DELETE", "/_security/api_key", `{"ids":["`+w.keyID+`"]}`, adminAuth)
		}},
		{name: "KeyExpired", want: "expired at 2026-01-03T03:04:05Z on cluster cluster2", mutate: func(t *testing.T, w *world) {
			_, enc := mustCreate(t, w.r, `{"name":"short","expiration":"1d","access":`+validAccess+`}`)
			w.l.SetKeystore(map[string]string{"cluster.remote.logs.credentials": enc})
			mustRestart(t, w.l)
			w.clock.Advance(25 * time.Hour)
		}},
		{name: "KeyOfAnotherCluster", want: "does not exist on cluster cluster2", mutate: func(t *testing.T, w *world) {
			_, enc := mustCreate(t, w.l, `{"name":"elsewhere","access":`+validAccess+`}`)
			w.l.SetKeystore(map[string]string{"cluster.remote.logs.credentials": enc})
			mustRestart(t, w.l)
		}},
		{name: "WrongSecret", want: "holds a wrong secret for API key", mutate: func(t *testing.T, w *world) {
			w.l.SetKeystore(map[string]string{"cluster.remote.logs.credentials": base64.StdEncoding.EncodeToString([]byte(w.keyID + ":not-the-secret"))})
			mustRestart(t, w.l)
		}},
		{name: "RESTKey", want: "is of type [rest], not a cross-cluster API key", mutate: func(t *testing.T, w *world) {
			r := do(t, w.r, "POST", "/_security/api_key", `{"name":"rest"}`, adminAuth)
			w.l.SetKeystore(map[string]string{"cluster.remote.logs.credentials": r.obj["encoded"].(string)})
			mustRestart(t, w.l)
		}},
		{name: "GarbageCredentials", want: "is not an encoded API key", mutate: func(t *testing.T, w *world) {
			w.l.SetKeystore(map[string]string{"cluster.remote.logs.credentials": "not base64!"})
			mustRestart(t, w.l)
		}},
		{name: "IdentityRequiredButNotSigned", want: "Expected signature for cross cluster API key, but no signature was provided", mutate: func(t *testing.T, w *world) {
			w.setIdentity(t, `^CN=cluster1-es-default-0\.node\.cluster1\.ns1\.es\.local,OU=cluster1$`)
		}},
		{name: "IdentityMatchesTheSigningCertificate", mutate: func(t *testing.T, w *world) {
			w.setIdentity(t, `^CN=.*\.node\.cluster1\.ns1\.es\.local,OU=cluster1$`)
			w.signWithTransportCert(t)
		}},
		{name: "IdentityIsAFullMatch", want: `DN from provided certificate [CN=cluster1-es-default-0.node.cluster1.ns1.es.local,OU=cluster1] does not match API Key certificate identity pattern [CN=cluster1-es-default-0\.node\.cluster1\.ns1\.es\.local]`, mutate: func(t *testing.T, w *world) {
			// A substring (Matcher.find) match would pass: the DN goes on with ",OU=cluster1".
			w.setIdentity(t, `CN=cluster1-es-default-0\.node\.cluster1\.ns1\.es\.local`)
			w.signWithTransportCert(t)
		}},
		{name: "SignatureNotTrustedByTheRemote", want: "Failed to verify cross cluster api key signature certificate", mutate: func(t *testing.T, w *world) {
			w.signWithTransportCert(t)
			do(t, w.r, "PUT", "/_cluster/settings", `{"persistent":{"cluster.remote.signing.certificate_authorities":null}}`, adminAuth)
		}},
		{name: "SigningCertificateMissing", want: "cannot sign requests for alias logs", mutate: func(t *testing.T, w *world) {
			w.signWithTransportCert(t)
			w.l.RemoveFile("transport-certs/cluster1-es-default-0.tls.crt")
		}},
		{name: "CertificateModel", alias: "certs", mutate: func(t *testing.T, w *world) {
			w.settings(t, `{"persistent":{"cluster.remote.certs.seeds":["`+transportAddr+`"]}}`)
		}},
		{name: "CertificateModelToTheRemoteClusterServer", alias: "certs", want: "does not accept", mutate: func(t *testing.T, w *world) {
			w.settings(t, `{"persistent":{"cluster.remote.certs.seeds":["`+rcsAddr+`"]}}`)
		}},
		{name: "CertificateModelRemoteDoesNotTrustLocal", alias: "certs", want: "cluster cluster2 does not trust the certificate of cluster cluster1 on the transport layer", mutate: func(t *testing.T, w *world) {
			w.settings(t, `{"persistent":{"cluster.remote.certs.seeds":["`+transportAddr+`"]}}`)
			w.r.WriteFile("transport-remote-certs/ca.crt", w.r.TransportCACertPEM())
		}},
		{name: "CertificateModelLocalDoesNotTrustRemote", alias: "certs", want: "cluster cluster1 does not trust the certificate of the transport layer of cluster cluster2", mutate: func(t *testing.T, w *world) {
			w.settings(t, `{"persistent":{"cluster.remote.certs.seeds":["`+transportAddr+`"]}}`)
			w.l.WriteFile("transport-remote-certs/ca.crt", w.l.TransportCACertPEM())
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			w := newWorld(t)
			if tc.mutate != nil {
				tc.mutate(t, w)
			}
			alias := tc.alias
			if alias == "" {
				alias = "logs"
			}
			got := w.l.RemoteConnection(alias)
			if tc.want == "" {
				if !got.Connected || got.Reason != "" {
					t.Fatalf("want connected, got %+v", got)
				}
			} else if got.Connected || !strings.Contains(got.Reason, tc.want) {
				t.Fatalf("want not connected because %q, got %+v", tc.want, got)
			}
			// _remote/info agrees with the Go method and never says why.
			info := do(t, w.l, "GET", "/_remote/info", "", adminAuth)
			entry, _ := info.obj[alias].(map[string]any)
			if entry["connected"] != got.Connected {
				t.Fatalf("_remote/info says connected=%v, RemoteConnection says %v", entry["connected"], got.Connected)
			}
			if strings.Contains(string(info.body), "reason") || strings.Contains(string(info.body), w.encoded) {
				t.Fatalf("_remote/info leaks a reason or the credentials: %s", info.body)
			}
		})
	}
}

func TestRemoteInfoShapeWhenConnected(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	w.settings(t, `{"persistent":{"cluster.remote.certs.seeds":["`+transportAddr+`"],"cluster.remote.certs.skip_unavailable":false}}`)
	got := string(do(t, w.l, "GET", "/_remote/info", "", adminAuth).body)
	want := `{"certs":{"connected":true,"mode":"sniff","seeds":["` + transportAddr + `"],"num_nodes_connected":1,"max_connections_per_cluster":3,"initial_connect_timeout":"30s","skip_unavailable":false},` +
		`"logs":{"connected":true,"mode":"proxy","proxy_address":"` + rcsAddr + `","server_name":"` + rcsServerName + `","num_proxy_sockets_connected":18,"max_proxy_socket_connections":18,"initial_connect_timeout":"30s","skip_unavailable":true,"cluster_credentials":"::es_redacted::"}}`
	if got != want {
		t.Fatalf("remote info\n got %s\nwant %s", got, want)
	}
}

func TestCABundleChangeTakesEffectWithoutRestart(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	// One bundle file, listed once, holding several CAs; its content changes.
	w.l.WriteFile("eslink-ca/ca.crt", w.l.TransportCACertPEM())
	cfg := w.l.NodeSettings()
	cfg["xpack.security.remote_cluster_client.ssl.certificate_authorities"] = []string{"eslink-ca/ca.crt"}
	w.l.SetNodeConfig(NodeConfig{Settings: cfg})
	mustRestart(t, w.l)
	if c := w.l.RemoteConnection("logs"); c.Connected {
		t.Fatalf("connected without R's CA in the bundle: %+v", c)
	}
	before := w.l.NodeSettings()
	w.l.WriteFile("eslink-ca/ca.crt", append(w.l.TransportCACertPEM(), w.r.TransportCACertPEM()...))
	if c := w.l.RemoteConnection("logs"); !c.Connected {
		t.Fatalf("not connected after R's CA joined the bundle: %+v", c)
	}
	if after := w.l.NodeSettings(); len(after) != len(before) {
		t.Fatal("node settings changed without a restart")
	}
}

func TestRestartWithMissingCertificateKeepsTheOldConfig(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	cfg := w.l.NodeSettings()
	cfg["xpack.security.remote_cluster_client.ssl.certificate_authorities"] = []string{"eslink-ca/ca.crt"}
	w.l.SetNodeConfig(NodeConfig{Settings: cfg})
	err := w.l.Restart()
	if err == nil || !strings.Contains(err.Error(), "file [/usr/share/elasticsearch/config/eslink-ca/ca.crt] does not exist") {
		t.Fatalf("restart with a missing CA file: %v", err)
	}
	if c := w.l.RemoteConnection("logs"); !c.Connected {
		t.Fatalf("the node lost its old configuration: %+v", c)
	}
	w.l.SetNodeConfig(NodeConfig{Settings: map[string]any{"a": "${MISSING}"}})
	if err := w.l.Restart(); err == nil || !strings.Contains(err.Error(), "Could not resolve placeholder 'MISSING'") {
		t.Fatalf("restart with an unresolved placeholder: %v", err)
	}
}

func TestNetworkRegistration(t *testing.T) {
	t.Parallel()
	n := NewNetwork()
	a := NewServer(t, Options{ClusterName: "a"})
	b := NewServer(t, Options{ClusterName: "b"})
	if err := n.Register("A.svc:9443", a, RemoteClusterServerListener); err != nil {
		t.Fatal(err)
	}
	if err := n.Register("a.svc:9443", a, RemoteClusterServerListener); err != nil {
		t.Fatalf("registering the same endpoint again: %v", err)
	}
	if err := n.Register("a.svc:9443", b, RemoteClusterServerListener); err == nil {
		t.Fatal("an address reached two servers")
	}
	for _, bad := range []string{"a.svc", "a.svc:0", ":9443"} {
		if err := n.Register(bad, a, TransportListener); err == nil {
			t.Errorf("registered malformed address %q", bad)
		}
	}
	if s, l, ok := n.Registered("a.SVC:9443"); !ok || s != a || l != RemoteClusterServerListener {
		t.Fatal("lookup is not case-insensitive on the host")
	}
	n.Unregister("a.svc:9443")
	if _, _, ok := n.Registered("a.svc:9443"); ok {
		t.Fatal("unregistered address still resolves")
	}
}

func TestRemoteSettingsValidation(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, yml, body, want string
	}{
		{name: "ProxyModeNeedsAnAddressForSkipUnavailable", body: `{"persistent":{"cluster.remote.a.mode":"proxy","cluster.remote.a.skip_unavailable":true}}`,
			want: "Cannot configure setting [cluster.remote.a.skip_unavailable] if remote cluster is not enabled."},
		{name: "PingScheduleNeedsSeeds", body: `{"persistent":{"cluster.remote.a.transport.ping_schedule":"5s"}}`,
			want: "Cannot configure setting [cluster.remote.a.transport.ping_schedule] if remote cluster is not enabled."},
		{name: "ProxyAddressNeedsAPort", body: `{"persistent":{"cluster.remote.a.mode":"proxy","cluster.remote.a.proxy_address":"logs.example.com"}}`,
			want: "remote hosts need to be configured as [host:port], found [logs.example.com] instead"},
		{name: "SeedPortMustBePositive", body: `{"persistent":{"cluster.remote.a.seeds":["h:0"]}}`,
			want: "port number must be > 0 but was: [0]"},
		{name: "SeedPortMustBeANumber", body: `{"persistent":{"cluster.remote.a.seeds":"h:x"}}`, want: "failed to parse port"},
		{name: "ServerNameIsProxyOnly", body: `{"persistent":{"cluster.remote.a.seeds":["h:9300"],"cluster.remote.a.server_name":"h"}}`,
			want: `Setting \"cluster.remote.a.server_name\" cannot be used with the configured \"cluster.remote.a.mode\" [required=PROXY, configured=SNIFF]`},
		{name: "ModeFromElasticsearchYml", yml: "proxy", body: `{"persistent":{"cluster.remote.a.seeds":["h:9300"]}}`,
			want: `Setting \"cluster.remote.a.seeds\" cannot be used with the configured \"cluster.remote.a.mode\" [required=SNIFF, configured=PROXY]`},
		{name: "ProxyModeComplete", body: `{"persistent":{"cluster.remote.a.mode":"proxy","cluster.remote.a.proxy_address":"h:9443","cluster.remote.a.server_name":"h","cluster.remote.a.skip_unavailable":false}}`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := NewServer(t, Options{})
			if tc.yml != "" {
				s.SetNodeConfig(NodeConfig{Settings: map[string]any{"cluster.remote.a.mode": tc.yml}})
				mustRestart(t, s)
			}
			r := do(t, s, "PUT", "/_cluster/settings", tc.body, adminAuth)
			if tc.want == "" {
				if r.status != 200 {
					t.Fatalf("rejected: %s", r.body)
				}
				return
			}
			if r.status != 400 || !strings.Contains(string(r.body), tc.want) {
				t.Fatalf("want 400 with %q, got %d %s", tc.want, r.status, r.body)
			}
		})
	}
	t.Run("RemovingTheAddressNeedsTheDependentSettingsRemovedToo", func(t *testing.T) {
		t.Parallel()
		s := NewServer(t, Options{})
		do(t, s, "PUT", "/_cluster/settings", `{"persistent":{"cluster.remote.a.mode":"proxy","cluster.remote.a.proxy_address":"h:9443","cluster.remote.a.skip_unavailable":true}}`, adminAuth)
		r := do(t, s, "PUT", "/_cluster/settings", `{"persistent":{"cluster.remote.a.proxy_address":null}}`, adminAuth)
		wantErr(t, r, 400, "illegal_argument_exception", "Cannot configure setting [cluster.remote.a.skip_unavailable] if remote cluster is not enabled.")
		if r := do(t, s, "PUT", "/_cluster/settings", `{"persistent":{"cluster.remote.a.*":null}}`, adminAuth); r.status != 200 {
			t.Fatalf("removing every setting of the alias: %s", r.body)
		}
	})
}

func TestFileBasedClusterSecrets(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	w.l.SetVersion("9.5.1")
	w.l.SetKeystore(nil)
	mustRestart(t, w.l)
	if c := w.l.RemoteConnection("logs"); c.Connected {
		t.Fatalf("connected without credentials: %+v", c)
	}
	if err := w.l.ApplyFileSettings(100, map[string]string{"cluster.remote.logs.credentials": w.encoded}); err != nil {
		t.Fatal(err)
	}
	// Hot-reloaded: no restart.
	if c := w.l.RemoteConnection("logs"); !c.Connected {
		t.Fatalf("cluster secrets not taken up: %+v", c)
	}
	meta := do(t, w.l, "GET", "/_cluster/state/metadata", "", adminAuth)
	fs := meta.obj["metadata"].(map[string]any)["reserved_state"].(map[string]any)["file_settings"].(map[string]any)
	if fs["version"] != float64(100) || fs["errors"] != nil {
		t.Fatalf("reserved_state: %s", meta.body)
	}
	if strings.Contains(string(meta.body), w.encoded) || strings.Contains(string(meta.body), "credentials") {
		t.Fatalf("cluster state reveals secrets: %s", meta.body)
	}
	// An older version is ignored, as Elasticsearch ignores it.
	if err := w.l.ApplyFileSettings(99, nil); err != nil {
		t.Fatal(err)
	}
	if v, _ := w.l.FileSettingsVersion(); v != 100 || !w.l.RemoteConnection("logs").Connected {
		t.Fatalf("an older file settings version was applied: %d", v)
	}
	if err := w.l.ApplyFileSettings(101, nil); err != nil {
		t.Fatal(err)
	}
	if c := w.l.RemoteConnection("logs"); c.Connected {
		t.Fatalf("removed cluster secret still used: %+v", c)
	}
	wantErr(t, do(t, w.l, "GET", "/_cluster/state/bogus", "", adminAuth), 400, "illegal_argument_exception", "request [/_cluster/state/bogus] contains unrecognized metric: [bogus]")

	old := NewServer(t, Options{Version: "9.3.2"})
	if err := old.ApplyFileSettings(5, map[string]string{"cluster.remote.logs.credentials": "x"}); err == nil {
		t.Fatal("9.3 accepted cluster_secrets")
	}
	if body := string(do(t, old, "GET", "/_cluster/state/metadata", "", adminAuth).body); !strings.Contains(body, `"errors":{"version":5,"error_kind":"parsing"`) {
		t.Fatalf("9.3 reserved_state: %s", body)
	}
}

func TestMutualRemotesDoNotDeadlock(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	// R points back at L: each evaluation locks the other node.
	if r := do(t, w.r, "PUT", "/_cluster/settings", `{"persistent":{"cluster.remote.back.seeds":["`+localTransport+`"]}}`, adminAuth); r.status != 200 {
		t.Fatal(string(r.body))
	}
	w.n.Join(w.r)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for range 50 {
			w.r.RemoteConnections()
		}
	}()
	for range 50 {
		do(t, w.l, "GET", "/_remote/info", "", adminAuth)
	}
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("deadlock between mutual remotes")
	}
}

// BenchmarkRemoteInfo measures GET /_remote/info on a node with 20 aliases
// connected to one remote: every request evaluates every connection
// (settings, CA files, TLS chain, key lookup on the remote).
func BenchmarkRemoteInfo(b *testing.B) {
	w := newWorld(b)
	var body strings.Builder
	body.WriteString(`{"persistent":{`)
	for i := range 20 {
		if i > 0 {
			body.WriteByte(',')
		}
		body.WriteString(`"cluster.remote.a` + strconv.Itoa(i) + `.seeds":["` + rcsAddr + `"]`)
	}
	body.WriteString(`}}`)
	w.settings(b, body.String())
	keys := map[string]string{}
	for i := range 20 {
		keys["cluster.remote.a"+strconv.Itoa(i)+".credentials"] = w.encoded
	}
	w.l.SetKeystore(keys)
	if err := w.l.Restart(); err != nil {
		b.Fatal(err)
	}
	if c := w.l.RemoteConnection("a7"); !c.Connected {
		b.Fatalf("setup: %+v", c)
	}
	b.ResetTimer()
	for range b.N {
		if r := do(b, w.l, "GET", "/_remote/info", "", adminAuth); r.status != 200 {
			b.Fatal(string(r.body))
		}
	}
}

// TestSelfManagedRemote connects to a remote outside ECK: its own server
// name and CA, reached at an address of the operator's choosing.
func TestSelfManagedRemote(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	ext := NewServer(t, Options{ClusterName: "logs"})
	if err := ext.EnableRemoteClusterServer("logs.example.com"); err != nil {
		t.Fatal(err)
	}
	if err := w.n.Register("logs.example.com:9443", ext, RemoteClusterServerListener); err != nil {
		t.Fatal(err)
	}
	_, enc := mustCreate(t, ext, `{"name":"eslink-logs","access":`+validAccess+`}`)
	w.l.SetKeystore(map[string]string{"cluster.remote.ext.credentials": enc})
	mustRestart(t, w.l)
	w.settings(t, `{"persistent":{"cluster.remote.ext.mode":"proxy","cluster.remote.ext.proxy_address":"logs.example.com:9443","cluster.remote.ext.server_name":"logs.example.com"}}`)
	if c := w.l.RemoteConnection("ext"); c.Connected || !strings.Contains(c.Reason, "does not trust") {
		t.Fatalf("connected without trusting the external CA: %+v", c)
	}
	w.l.WriteFile("transport-remote-certs/ca.crt", append(w.r.TransportCACertPEM(), ext.TransportCACertPEM()...))
	if c := w.l.RemoteConnection("ext"); !c.Connected {
		t.Fatalf("not connected to the external remote: %+v", c)
	}
}
