// Package esfake is an in-process fake Elasticsearch node (8.10 to 9.3)
// for the parts of the REST API that eslink uses: cross-cluster API keys,
// API key get/query/invalidate, cluster settings for remote clusters,
// _remote/info, secure settings reload, license and authentication.
//
// Bodies, statuses, headers and error messages follow
// /work/shared/reference/elasticsearch-api.md and, where it is silent, the
// Elasticsearch sources and REST tests. Every response carries
// X-Elastic-Product: Elasticsearch.
//
// # Starting
//
//	s := esfake.NewServer(t, esfake.Options{Version: "9.3.2", TLS: true})
//	cfg := elasticsearch.Config{Addresses: []string{s.URL}, Username: "elastic", Password: "changeme", CACert: s.CACertPEM}
//
// # Keystore semantics
//
// SetKeystoreEntry/RemoveKeystoreEntry change the on-disk keystore (what ECK
// writes). The node only sees the disk content after POST
// /_nodes/reload_secure_settings or Restart(). Before 8.13 a reload does not
// pick up cluster.remote.*.credentials (they are not reloadable there), so
// only Restart() does. _remote/info shows "cluster_credentials" when the
// loaded keystore has cluster.remote.<alias>.credentials. Restart() also
// drops transient cluster settings, like a full cluster restart.
//
// # Version-dependent behaviour
//
//   - below 8.10 the cross-cluster endpoints are not registered: 400 "no
//     handler found for uri [...] and method [...]", as on an 8.9 node
//     without the feature flag;
//   - active_only (8.10), invalidation field (8.12), update expiration (8.13),
//     reload of remote credentials (8.13), realm_type and with_profile_uid
//     (8.14), skip_unavailable default true (8.15), certificate_identity
//     (9.3; an unknown-field error before);
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
// Only cluster privileges of roles are enforced (index, application and
// run-as privileges are stored and returned, never checked); the list of
// known cluster privilege names is shorter than Elasticsearch's. A REST API
// key holds the cluster privileges of its role descriptors (all of its
// owner's when it has none) limited by its owner's. JSON syntax error messages are shaped like
// Jackson's but not identical. Unknown-field errors carry no "did you mean"
// suffix. Query API aggregations and REST key updates answer 501
// esfake_unsupported. The 403 message uses the 8.x/9.x "with declared roles
// [..] (all resolved)" wording on every version.
package esfake
