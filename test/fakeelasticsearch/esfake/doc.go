// Package esfake is an in-process fake Elasticsearch node (8.10 to 9.5)
// for the parts of the REST API that eslink and ECK use: cross-cluster API
// keys, API key get/query/invalidate, cluster settings for remote clusters
// and shard allocation, _remote/info, the cluster state's reserved state,
// secure settings reload, license (trial, basic), authentication, and what
// an orchestrator drives: cluster health, nodes info, node shutdown,
// voting configuration exclusions, desired nodes, _cat/shards and flush.
//
// Bodies, statuses, headers and error messages follow
// Elasticsearch's REST API documentation and specification and, where it is silent, the
// Elasticsearch sources and REST tests. Every response carries
// X-Elastic-Product: Elasticsearch.
//
// # Starting
//
//	s := esfake.NewServer(t, esfake.Options{Version: "9.3.2", TLS: true})
//	cfg := elasticsearch.Config{Addresses: []string{s.URL}, Username: "elastic", Password: "changeme", CACert: s.CACertPEM}
//
// # Clusters of several nodes, started from ECK's configuration
//
// A Cluster holds the cluster state its nodes share (settings, license,
// native users and roles, API keys, shutdown records, voting exclusions,
// desired nodes); each node keeps its own elasticsearch.yml, files and
// keystore. Start(Options{Cluster: cl, Config: ..., Files: ..., Keystore:
// ...}) starts a node the way a pod starts Elasticsearch: node.name,
// cluster.name (which must match), node.roles and node.attr.* come from
// elasticsearch.yml (ParseElasticsearchYML reads the file ECK writes), the
// HTTP layer serves xpack.security.http.ssl.certificate and .key from the
// node's files, and the file realm (users with bcrypt hashes, users_roles,
// roles.yml in ConfigDir) authenticates before the native realm. _nodes,
// health and the cluster state list the running nodes; the first
// master-eligible one is master. A node keeps its ID across restarts (the
// data path), the cluster keeps its state while no node runs, and only
// transient settings are lost when the last node stops.
//
// Requests to endpoints the fake does not implement answer as
// Elasticsearch answers a path it has no handler for (400 "no handler
// found", or 405 with Allow when the path exists under other methods);
// Options.Log receives a line for each and Server.Unknown lists them.
//
// # Keystore semantics
//
// SetKeystoreEntry/RemoveKeystoreEntry change the on-disk keystore (what ECK
// writes); SetKeystore replaces it whole, as ECK's init container builds it
// on every pod start. The node only sees the disk content after POST
// /_nodes/reload_secure_settings or Restart(). Before 8.13 a reload does not
// pick up cluster.remote.*.credentials (they are not reloadable there), so
// only Restart() does. ApplyFileSettings stands for the file settings
// watcher: its cluster_secrets (9.5+) are secure settings that take effect
// at once, over the keystore's, and GET /_cluster/state reports its version
// in metadata.reserved_state.file_settings.version. Restart() also drops
// transient cluster settings, like a full cluster restart.
//
// # The node: elasticsearch.yml and files
//
// SetNodeConfig writes elasticsearch.yml (flat keys, ${VAR} placeholders
// resolved from its Env); the node reads it at Restart, which fails and
// leaves the node as it was when a placeholder does not resolve or an SSL
// configuration (transport, remote cluster server when enabled, remote
// cluster client) names a certificate file that is missing or invalid, as
// a crash-looping pod would. WriteFile/RemoveFile change the node's files
// (relative paths resolve against ConfigDir); SSL files are read on every
// connection, as Elasticsearch reloads them, so a changed CA bundle counts
// at once. Each node has a transport CA (TransportCACertPEM), distinct from
// its HTTP CA (CACertPEM); IssueTransportCertificate issues node
// certificates from it, and EnableRemoteClusterServer configures a node as
// a self-managed remote would be.
//
// # Remote connections are earned
//
// A Network maps service addresses ("<name>-es-remote-cluster.<ns>.svc:9443")
// to a node's RemoteClusterServerListener or TransportListener, like Services
// and DNS. GET /_remote/info lists every alias with an address (seeds in
// sniff mode, proxy_address in proxy mode; cluster.remote.* from
// elasticsearch.yml, then persistent, then transient settings) and says
// "connected": true only when, for the API-key model (credentials for the
// alias among the loaded secure settings):
//   - the address resolves in the node's Network to a running node's remote
//     cluster server, and remote_cluster_server.enabled is true there;
//   - the server's certificate (xpack.security.remote_cluster_server.ssl.*)
//     chains to a CA in the files of this node's
//     xpack.security.remote_cluster_client.ssl.certificate_authorities and,
//     with verification_mode full, names server_name (proxy mode) or the
//     address's host;
//   - the credentials decode to a cross-cluster API key of the remote with
//     the right secret, not invalidated, not expired on the remote's clock;
//   - with cluster.remote.<alias>.signing.certificate set, the remote's
//     cluster.remote.signing.certificate_authorities trust it; a key with
//     certificate_identity requires such a signature whose subject DN (RFC
//     2253, "CN=...,OU=...") fully matches the pattern.
//
// Without credentials the alias uses the certificate model: the address must
// reach the transport port, and both transport certificates must chain to
// the other side's xpack.security.transport.ssl.certificate_authorities.
// RemoteConnections and RemoteConnection give the reason when not connected,
// naming the missing piece; responses never carry it. cluster_credentials
// appears when the node holds credentials for the alias, connected or not.
// Remotes are asked after the asking node's lock is released, so clusters
// may be each other's remote.
//
// cluster.remote.* updates are validated as RemoteClusterSettings does:
// mode-specific settings under the other mode, host:port addresses (seeds,
// proxy_address), and skip_unavailable/transport.* only for a remote with
// an address ("Cannot configure setting [...] if remote cluster is not
// enabled."), all against the settings as they would be in effect.
//
// # Version-dependent behaviour
//
//   - below 8.10 the cross-cluster endpoints are not registered: 400 "no
//     handler found for uri [...] and method [...]", as on an 8.9 node
//     without the feature flag;
//   - active_only (8.10), invalidation field (8.12), update expiration (8.13),
//     reload of remote credentials (8.13), realm_type and with_profile_uid
//     (8.14), skip_unavailable default true (8.15), certificate_identity
//     (9.3; an unknown-field error before), file-based cluster_secrets (9.5;
//     a file settings error before);
//   - generated cluster privileges for search: cross_cluster_search (8.10),
//     then monitor_enrich (8.15), then monitor_stats (8.17, inferred; placed
//     after monitor_enrich). Stored keys keep the privileges of the version that
//     last wrote them, so the first update after SetVersion is not a no-op;
//   - "search does not support document or field level security if
//     replication is assigned" from 8.14 (elastic/elasticsearch#108600, a
//     breaking change of 8.14.0).
//
// # Users, roles and privileges
//
// Options.Users seed the users; each user's Privileges become the role it
// names first. PUT/POST/GET/DELETE /_security/role/{name} and
// /_security/user/{username} manage more, with Elasticsearch's bodies,
// validation messages and reserved names (superuser; elastic and the other
// reserved users). Authorization uses the cluster privileges of a user's
// roles that exist (a missing role grants nothing and shows as unresolved
// in the 403 message), with implications such as manage_security ⊃
// manage_api_key ⊃ manage_own_api_key, and cluster action patterns such as
// cluster:admin/xpack/security/*. Cross-cluster keys need manage_security
// to create, update and invalidate; only the user (and realm) that created
// a key may update it (others get the same 404 as for a missing id).
//
// # Deliberate simplifications
//
// Without Options.Cluster one node plays a whole cluster. The cluster
// holds no indices: health is green, there are no shards, shutdowns need
// no shard moves (a REMOVE of a node never seen is NOT_STARTED), and
// wait_for_events never waits. Nodes info renders the basic fields of each
// node without metric sections. Desired nodes are stored and returned as
// sent, not normalized or validated beyond their shape. License signatures
// cannot be verified, so PUT /_license answers license_status invalid;
// start_basic leaves out the per-feature acknowledgement messages; only
// trials of type trial start. The file realm verifies bcrypt hashes and
// treats any other hash as plain text. Connections are evaluated when asked for,
// not kept open; TLS is checked by verifying certificate chains, without a
// handshake. cluster_secrets override keystore entries of the same name.
// Java regex features Go's RE2 lacks make a certificate identity
// unverifiable (the reason says so). Only cluster privileges of roles are
// enforced (index, application and run-as privileges are stored and
// returned, never checked); the list of known cluster privilege names is
// shorter than Elasticsearch's. A REST API key holds the cluster privileges
// of its role descriptors (all of its owner's when it has none) limited by
// its owner's. JSON syntax error messages are shaped like
// Jackson's but not identical. Unknown-field errors carry no "did you mean"
// suffix. Query API aggregations and REST key updates answer 501
// esfake_unsupported. The 403 message uses the 8.x/9.x "with declared roles
// [..] (all resolved)" wording on every version.
package esfake
