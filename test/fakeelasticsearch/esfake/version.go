package esfake

import (
	"fmt"
	"strconv"
	"strings"
)

// version is a parsed X.Y.Z Elasticsearch version; every version-dependent
// behaviour in this package asks it a question rather than comparing strings.
type version struct {
	major, minor, patch int
	raw                 string
}

func parseVersion(s string) (version, error) {
	parts := strings.SplitN(strings.TrimSpace(s), ".", 3)
	if len(parts) != 3 {
		return version{}, fmt.Errorf("version %q is not X.Y.Z", s)
	}
	var n [3]int
	for i, p := range parts {
		// Allow suffixes like "9.3.2-SNAPSHOT" on the patch number.
		if i == 2 {
			p, _, _ = strings.Cut(p, "-")
		}
		v, err := strconv.Atoi(p)
		if err != nil || v < 0 {
			return version{}, fmt.Errorf("version %q: bad component %q", s, p)
		}
		n[i] = v
	}
	return version{major: n[0], minor: n[1], patch: n[2], raw: s}, nil
}

func (v version) atLeast(major, minor int) bool {
	if v.major != major {
		return v.major > major
	}
	return v.minor >= minor
}

// Feature gates, each with the version that introduced it.
func (v version) crossClusterKeys() bool    { return v.atLeast(8, 10) } // cross-cluster API keys GA
func (v version) activeOnlyParam() bool     { return v.atLeast(8, 10) }
func (v version) invalidationField() bool   { return v.atLeast(8, 12) }
func (v version) updateExpiration() bool    { return v.atLeast(8, 13) }
func (v version) reloadRemoteCreds() bool   { return v.atLeast(8, 13) }
func (v version) realmTypeField() bool      { return v.atLeast(8, 14) }
func (v version) withProfileUID() bool      { return v.atLeast(8, 14) }
func (v version) skipUnavailableTrue() bool { return v.atLeast(8, 15) }
func (v version) certificateIdentity() bool { return v.atLeast(9, 3) }
func (v version) clusterSecrets() bool      { return v.atLeast(9, 5) } // file-based secure settings

// searchDLSWithReplication gates the "search does not support document or
// field level security if replication is assigned" check: a breaking
// change of 8.14.0 (elastic/elasticsearch#108600, "Prevent DLS/FLS if
// replication is assigned", listed in the 8.14 migration guide), kept in
// every later version including 9.x.
func (v version) searchDLSWithReplication() bool { return v.atLeast(8, 14) }

// ccsClusterPrivileges is the cluster privilege list generated for search
// access. 8.15 added monitor_enrich; 8.17 added monitor_stats (inferred from
// the remote_cluster privilege set; the position after monitor_enrich is
// our choice, ES does not assert the order).
func (v version) ccsClusterPrivileges() []string {
	switch {
	case v.atLeast(8, 17):
		return []string{"cross_cluster_search", "monitor_enrich", "monitor_stats"}
	case v.atLeast(8, 15):
		return []string{"cross_cluster_search", "monitor_enrich"}
	default:
		return []string{"cross_cluster_search"}
	}
}

func (v version) clusterPrivileges(search, replication bool) []string {
	var out []string
	if search {
		out = append(out, v.ccsClusterPrivileges()...)
	}
	if replication {
		out = append(out, "cross_cluster_replication")
	}
	return out
}

// luceneVersion is only cosmetic (GET /), picked per major line.
func (v version) luceneVersion() string {
	switch {
	case v.major >= 9 && v.minor >= 1:
		return "10.2.2"
	case v.major >= 9:
		return "10.1.0"
	case v.atLeast(8, 15):
		return "9.11.1"
	default:
		return "9.7.0"
	}
}

func (v version) minWireCompat() string {
	if v.major >= 9 {
		return "8.19.0"
	}
	return "7.17.0"
}

func (v version) minIndexCompat() string {
	if v.major >= 9 {
		return "8.0.0"
	}
	return "7.0.0"
}
