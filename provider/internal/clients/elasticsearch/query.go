package elasticsearch

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
)

// defaultPageSize is how many keys one query request returns: far below
// Elasticsearch's window of 10,000, so that a page stays a few MiB.
const defaultPageSize = 1000

// maxPages bounds one read, so that a server that never ends a listing
// cannot keep the client reading.
const maxPages = 1000

// queryFilterPath is every field of a listed key the provider uses (see
// APIKey) and the sort values to continue from: Elasticsearch leaves the
// rest out of the response (role_descriptors, limited_by, realm_type,
// profile_uid), which keeps a page of many keys small.
var queryFilterPath = []string{
	"api_keys.id", "api_keys.name", "api_keys.type", "api_keys.creation", "api_keys.expiration",
	"api_keys.invalidated", "api_keys.invalidation", "api_keys.username", "api_keys.realm",
	"api_keys.metadata", "api_keys.access", "api_keys.certificate_identity", "api_keys._sort",
}

// KeySelection says which cross-cluster keys CrossClusterKeys reads: those
// not invalidated that carry one of MetadataKeys, or whose name begins with
// one of NamePrefixes.
type KeySelection struct {
	MetadataKeys []string
	NamePrefixes []string
	// PageSize is the number of keys per request; zero means 1000.
	PageSize int
}

// CrossClusterKeys returns every selected key, expired ones included, read
// page by page with the query API sorted by creation and name (the id is
// not sortable), each page after the last one's sort values. A key created
// while the pages are read may be missed or listed; callers that must not
// miss a key read it by id.
func (c *Client) CrossClusterKeys(ctx context.Context, sel KeySelection) ([]APIKey, error) {
	const op = "read the cross-cluster API keys eslink and ECK made"
	size := sel.PageSize
	if size <= 0 {
		size = defaultPageSize
	}
	should := make([]any, 0, len(sel.MetadataKeys)+len(sel.NamePrefixes))
	for _, k := range sel.MetadataKeys {
		should = append(should, map[string]any{"exists": map[string]any{"field": "metadata." + k}})
	}
	for _, p := range sel.NamePrefixes {
		should = append(should, map[string]any{"prefix": map[string]any{"name": p}})
	}
	if len(should) == 0 {
		return nil, fmt.Errorf("cannot %s: the selection names no metadata key and no name prefix", op)
	}
	q := map[string]any{
		"size": size,
		"query": map[string]any{"bool": map[string]any{
			"filter": []any{
				map[string]any{"term": map[string]any{"type": "cross_cluster"}},
				map[string]any{"term": map[string]any{"invalidated": false}},
			},
			"should":               should,
			"minimum_should_match": 1,
		}},
		"sort": []any{map[string]any{"creation": "asc"}, map[string]any{"name": "asc"}},
	}
	var keys []APIKey
	for range maxPages {
		body, err := json.Marshal(q)
		if err != nil {
			return nil, fmt.Errorf("cannot %s: %w", op, err)
		}
		res, err := c.es.Security.QueryAPIKeys(c.es.Security.QueryAPIKeys.WithContext(ctx), c.es.Security.QueryAPIKeys.WithBody(bytes.NewReader(body)),
			c.es.Security.QueryAPIKeys.WithFilterPath(queryFilterPath...))
		if err != nil {
			return nil, classifyTransport(c.url, op, err)
		}
		var page struct {
			APIKeys []struct {
				APIKey
				Sort []json.RawMessage `json:"_sort"`
			} `json:"api_keys"`
		}
		if err := decode(res, c.url, op, &page); err != nil {
			return nil, err
		}
		for _, k := range page.APIKeys {
			if k.Type == "cross_cluster" && !k.Invalidated {
				keys = append(keys, k.APIKey)
			}
		}
		if len(page.APIKeys) < size {
			return keys, nil
		}
		last := page.APIKeys[len(page.APIKeys)-1].Sort
		if len(last) == 0 {
			return nil, fmt.Errorf("cannot %s: Elasticsearch at %s returned a full page without sort values to continue from", op, c.url)
		}
		q["search_after"] = last
	}
	return nil, fmt.Errorf("cannot %s: Elasticsearch at %s listed more than %d pages of %d keys", op, c.url, maxPages, size)
}

// identitySalt keeps Identity from being a plain hash of a password, which
// a short password would give away to anyone who saw it.
var identitySalt = func() []byte {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (Go 1.24+).
	return b
}()

// identity digests everything that decides what a client may see and
// whom it trusts: the URL, the credentials and the TLS settings.
func (cfg Config) identity() string {
	h := sha256.New()
	h.Write(identitySalt)
	for _, f := range []string{cfg.URL, cfg.Username, cfg.Password, cfg.APIKey, string(cfg.CACert),
		strings.ToLower(cfg.CertificateFingerprint), fmt.Sprint(cfg.InsecureSkipVerify), fmt.Sprint(cfg.AllowInsecureHTTP)} {
		_, _ = fmt.Fprintf(h, "%d:%s|", len(f), f) // A hash never fails to write.
	}
	return hex.EncodeToString(h.Sum(nil))
}

// Identity is equal for two clients exactly when they reach the same URL
// with the same credentials and TLS settings, so that what one read may
// answer the other. It is a salted digest: it holds no secret and differs
// between processes.
func (c *Client) Identity() string { return c.identity }
