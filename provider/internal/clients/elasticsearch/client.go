// Package elasticsearch wraps the Elasticsearch REST API calls eslink makes
// for cross-cluster API keys, and classifies their failures (license,
// privilege, version, reachability, TLS) so that controllers can report them.
package elasticsearch

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"strings"
	"sync"
	"time"

	es8 "github.com/elastic/go-elasticsearch/v8"
	"github.com/elastic/go-elasticsearch/v8/esapi"

	"github.com/eslink/eslink/internal/linkrules"
)

// versionTTL bounds how long a cached server version is trusted, so that a
// rolling upgrade is noticed without a GET / on every reconcile.
const versionTTL = time.Hour

// Config is how to reach one Elasticsearch cluster.
type Config struct {
	URL      string
	Username string
	Password string
	// APIKey is an encoded REST API key; it takes precedence over basic auth.
	APIKey string
	// CACert is PEM; empty uses the system roots.
	CACert []byte
	// CertificateFingerprint is the hex SHA-256 of the server's certificate
	// or of a CA that signs it (see tls.go).
	CertificateFingerprint string
	InsecureSkipVerify     bool
	// AllowInsecureHTTP allows an http:// URL, over which the credentials
	// travel in clear.
	AllowInsecureHTTP bool
	// Cluster is the ECK Elasticsearch object (namespace/name) the client
	// reaches, whose grants allowed it; empty for a URL endpoint.
	Cluster string
}

// Client talks to one cluster. It is safe for concurrent use.
type Client struct {
	es        *es8.Client
	url       string
	plainHTTP bool
	cluster   string
	now       func() time.Time
	// identity is Identity(), computed once: it digests the credentials.
	identity string

	mu        sync.Mutex
	version   linkrules.Version
	versionAt time.Time
}

// New returns a client for cfg. It does not contact the server. Its errors
// never quote the URL as given, which could hold a password.
func New(cfg Config) (*Client, error) {
	u, err := url.Parse(cfg.URL)
	switch {
	case cfg.URL == "":
		return nil, errors.New("cannot create Elasticsearch client: the URL is empty")
	case err != nil:
		return nil, errors.New("cannot create Elasticsearch client: the URL is not a valid URL")
	case u.User != nil:
		return nil, errors.New("cannot create Elasticsearch client: the URL holds credentials; put them in the credentials Secret")
	case u.Scheme != "https" && u.Scheme != "http", u.Host == "":
		return nil, fmt.Errorf("cannot create Elasticsearch client for %s: the URL is not an http(s) URL", u.Redacted())
	case u.Scheme == "http" && !cfg.AllowInsecureHTTP:
		return nil, fmt.Errorf("cannot create Elasticsearch client for %s: http:// would send the credentials in clear; use https:// or allow insecure HTTP explicitly", u.Redacted())
	}
	// A URL endpoint has no Elasticsearch object to name it in metrics.
	cluster := cfg.Cluster
	if cluster == "" {
		cluster = u.Host
	}
	tr, err := transport(cfg, u.Hostname(), cluster)
	if err != nil {
		return nil, fmt.Errorf("cannot create Elasticsearch client for %s: %w", u.Redacted(), err)
	}
	es, err := es8.NewClient(es8.Config{
		Addresses: []string{cfg.URL},
		Username:  cfg.Username,
		Password:  cfg.Password,
		APIKey:    cfg.APIKey,
		Transport: tr,
		// Never retry in the transport: a retried create would make a second
		// key. The managed reconciler retries with backoff instead.
		DisableRetry: true,
	})
	if err != nil {
		// The library's error would quote the address.
		return nil, fmt.Errorf("cannot create Elasticsearch client for %s: the library rejected the configuration", u.Redacted())
	}
	return &Client{es: es, url: u.Redacted(), plainHTTP: u.Scheme == "http", cluster: cfg.Cluster, identity: cfg.identity(), now: time.Now}, nil
}

// PlaintextHTTP reports whether the client sends credentials over http://,
// which its config allowed explicitly.
func (c *Client) PlaintextHTTP() bool { return c.plainHTTP }

// Cluster is the ECK Elasticsearch object (namespace/name) whose grants
// allowed this client; empty for a URL endpoint, which has no grants.
func (c *Client) Cluster() string { return c.cluster }

// URL is the cluster's address, for messages.
func (c *Client) URL() string { return c.url }

// Version returns the server version, cached for an hour. It fails with
// ReasonVersion when the server is older than 8.10, the first version with
// cross-cluster API keys.
func (c *Client) Version(ctx context.Context) (linkrules.Version, error) {
	c.mu.Lock()
	if !c.versionAt.IsZero() && c.now().Sub(c.versionAt) < versionTTL {
		v := c.version
		c.mu.Unlock()
		return v, nil
	}
	c.mu.Unlock()

	const op = "read the Elasticsearch version"
	res, err := c.es.Info(c.es.Info.WithContext(ctx))
	if err != nil {
		return linkrules.Version{}, classifyTransport(c.url, op, err)
	}
	var info struct {
		Version struct {
			Number string `json:"number"`
		} `json:"version"`
	}
	if err := decode(res, c.url, op, &info); err != nil {
		return linkrules.Version{}, err
	}
	v, err := linkrules.ParseVersion(info.Version.Number)
	if err != nil {
		return linkrules.Version{}, fmt.Errorf("cannot %s at %s: %w", op, c.url, err)
	}
	if v.Less(linkrules.MinAPIKeyVersion) {
		return v, &Error{Reason: ReasonVersion, Message: fmt.Sprintf(
			"Elasticsearch %s at %s is below %s, the minimum for cross-cluster API keys; upgrade the cluster", v, c.url, linkrules.MinAPIKeyVersion)}
	}
	c.mu.Lock()
	c.version, c.versionAt = v, c.now()
	c.mu.Unlock()
	return v, nil
}

// SupportsCertificateIdentity reports whether the server accepts
// certificate_identity (9.3+).
func SupportsCertificateIdentity(v linkrules.Version) bool {
	return !v.Less(linkrules.CertificateIdentityVersion)
}

// SupportsUpdateExpiration reports whether the server's cross-cluster key
// update accepts expiration (8.13+).
func SupportsUpdateExpiration(v linkrules.Version) bool {
	return !v.Less(linkrules.UpdateExpirationVersion)
}

// GetAPIKey returns the key with id, whatever its state. A missing key is an
// error with ReasonNotFound.
func (c *Client) GetAPIKey(ctx context.Context, id string) (*APIKey, error) {
	op := fmt.Sprintf("get API key %s", id)
	res, err := c.es.Security.GetAPIKey(c.es.Security.GetAPIKey.WithContext(ctx), c.es.Security.GetAPIKey.WithID(id))
	if err != nil {
		return nil, classifyTransport(c.url, op, err)
	}
	var out struct {
		APIKeys []APIKey `json:"api_keys"`
	}
	if err := decode(res, c.url, op, &out); err != nil {
		return nil, err
	}
	if len(out.APIKeys) == 0 {
		return nil, &Error{Reason: ReasonNotFound, Status: 404, Message: fmt.Sprintf("cannot %s: not found on Elasticsearch at %s", op, c.url)}
	}
	return &out.APIKeys[0], nil
}

// ActiveCrossClusterKeysByName returns the cross-cluster keys with exactly
// this name that Elasticsearch reports active (neither invalidated nor
// expired, by its clock).
func (c *Client) ActiveCrossClusterKeysByName(ctx context.Context, name string) ([]APIKey, error) {
	op := fmt.Sprintf("find API keys named %q", name)
	// A trailing * would turn the exact match into a prefix search.
	if strings.HasSuffix(name, "*") {
		return nil, fmt.Errorf("cannot %s: a name ending in * cannot be looked up exactly", op)
	}
	res, err := c.es.Security.GetAPIKey(c.es.Security.GetAPIKey.WithContext(ctx),
		c.es.Security.GetAPIKey.WithName(name), c.es.Security.GetAPIKey.WithActiveOnly(true))
	if err != nil {
		return nil, classifyTransport(c.url, op, err)
	}
	var out struct {
		APIKeys []APIKey `json:"api_keys"`
	}
	if err := decode(res, c.url, op, &out); err != nil {
		if IsNotFound(err) {
			return nil, nil
		}
		return nil, err
	}
	keys := make([]APIKey, 0, len(out.APIKeys))
	for _, k := range out.APIKeys {
		if k.Type == "cross_cluster" && k.Name == name && !k.Invalidated {
			keys = append(keys, k)
		}
	}
	return keys, nil
}

// CrossClusterKeysByMetadata returns the cross-cluster keys that are not
// invalidated and whose top-level metadata key equals value, through the
// query API. Expired keys are included: the caller judges expiry with its
// own clock. name, when set, widens the search to keys of that name: the
// metadata match is then made here, which also works where a dotted
// metadata key such as eslink.io/uid is not queryable as a field path.
func (c *Client) CrossClusterKeysByMetadata(ctx context.Context, key, value, name string) ([]APIKey, error) {
	op := fmt.Sprintf("query API keys by metadata %s", key)
	should := []any{map[string]any{"term": map[string]any{"metadata." + key: value}}}
	if name != "" {
		should = append(should, map[string]any{"term": map[string]any{"name": name}})
	}
	q := map[string]any{
		"size": 1000,
		"query": map[string]any{"bool": map[string]any{
			"filter": []any{
				map[string]any{"term": map[string]any{"type": "cross_cluster"}},
				map[string]any{"term": map[string]any{"invalidated": false}},
			},
			"should":               should,
			"minimum_should_match": 1,
		}},
	}
	body, err := json.Marshal(q)
	if err != nil {
		return nil, fmt.Errorf("cannot %s: %w", op, err)
	}
	res, err := c.es.Security.QueryAPIKeys(c.es.Security.QueryAPIKeys.WithContext(ctx), c.es.Security.QueryAPIKeys.WithBody(bytes.NewReader(body)))
	if err != nil {
		return nil, classifyTransport(c.url, op, err)
	}
	var out struct {
		APIKeys []APIKey `json:"api_keys"`
	}
	if err := decode(res, c.url, op, &out); err != nil {
		return nil, err
	}
	keys := make([]APIKey, 0, len(out.APIKeys))
	for _, k := range out.APIKeys {
		if k.MetadataString(key) == value && !k.Invalidated && k.Type == "cross_cluster" {
			keys = append(keys, k)
		}
	}
	return keys, nil
}

// CreateCrossClusterAPIKey creates a key. The result holds the key's secret.
func (c *Client) CreateCrossClusterAPIKey(ctx context.Context, r CreateRequest) (*CreatedKey, error) {
	op := fmt.Sprintf("create cross-cluster API key %q", r.Name)
	body, err := json.Marshal(r)
	if err != nil {
		return nil, fmt.Errorf("cannot %s: %w", op, err)
	}
	res, err := c.es.Security.CreateCrossClusterAPIKey(bytes.NewReader(body), c.es.Security.CreateCrossClusterAPIKey.WithContext(ctx))
	if err != nil {
		return nil, classifyTransport(c.url, op, err)
	}
	out := &CreatedKey{}
	if err := decode(res, c.url, op, out); err != nil {
		return nil, err
	}
	if out.ID == "" || out.Encoded == "" {
		return nil, fmt.Errorf("cannot %s: Elasticsearch at %s returned no key id or encoded key", op, c.url)
	}
	return out, nil
}

// UpdateCrossClusterAPIKey replaces a key's access and metadata. It reports
// whether Elasticsearch changed anything.
func (c *Client) UpdateCrossClusterAPIKey(ctx context.Context, id string, r UpdateRequest) (bool, error) {
	op := fmt.Sprintf("update cross-cluster API key %s", id)
	body, err := r.body()
	if err != nil {
		return false, fmt.Errorf("cannot %s: %w", op, err)
	}
	res, err := c.es.Security.UpdateCrossClusterAPIKey(id, bytes.NewReader(body), c.es.Security.UpdateCrossClusterAPIKey.WithContext(ctx))
	if err != nil {
		return false, classifyTransport(c.url, op, err)
	}
	var out struct {
		Updated bool `json:"updated"`
	}
	if err := decode(res, c.url, op, &out); err != nil {
		return false, err
	}
	return out.Updated, nil
}

// InvalidateAPIKeys invalidates keys by id in one request. Keys that are
// missing or already invalid count as invalidated.
func (c *Client) InvalidateAPIKeys(ctx context.Context, ids ...string) error {
	if len(ids) == 0 {
		return nil
	}
	op := fmt.Sprintf("invalidate API key %s", strings.Join(ids, ", "))
	if len(ids) > 1 {
		op = fmt.Sprintf("invalidate API keys %s", strings.Join(ids, ", "))
	}
	body, err := json.Marshal(map[string]any{"ids": ids})
	if err != nil {
		return fmt.Errorf("cannot %s: %w", op, err)
	}
	res, err := c.es.Security.InvalidateAPIKey(bytes.NewReader(body), c.es.Security.InvalidateAPIKey.WithContext(ctx))
	if err != nil {
		return classifyTransport(c.url, op, err)
	}
	var out struct {
		ErrorCount   int `json:"error_count"`
		ErrorDetails []struct {
			Type   string `json:"type"`
			Reason string `json:"reason"`
		} `json:"error_details"`
	}
	if err := decode(res, c.url, op, &out); err != nil {
		return err
	}
	if out.ErrorCount > 0 {
		reasons := make([]string, 0, len(out.ErrorDetails))
		for _, d := range out.ErrorDetails {
			reasons = append(reasons, d.Reason)
		}
		msg := strings.Join(reasons, "; ")
		if len(out.ErrorDetails) > 0 && out.ErrorDetails[0].Type == "security_exception" {
			return &Error{Reason: ReasonPrivilege, Status: 200, Type: out.ErrorDetails[0].Type, Message: fmt.Sprintf(
				"cannot %s: missing privilege on Elasticsearch at %s: %s; %s", op, c.url, msg, privilegeAdvice)}
		}
		return &Error{Reason: ReasonServer, Status: 200, Message: fmt.Sprintf("cannot %s on Elasticsearch at %s: %s", op, c.url, msg)}
	}
	return nil
}

// maxResponseBytes bounds what the client reads of one response, so that
// a server (or keys with huge metadata) cannot exhaust the provider's
// memory.
const maxResponseBytes = 16 << 20

// ErrResponseTooLarge says a response was larger than the client reads: a
// listing of many keys may be read in smaller parts instead.
var ErrResponseTooLarge = errors.New("response too large")

// decode reads a response: errors are classified, successes decoded into out.
func decode(res *esapi.Response, url, op string, out any) error {
	defer func() { _ = res.Body.Close() }() // Nothing to do about a failed close of a response body.
	data, err := io.ReadAll(io.LimitReader(res.Body, maxResponseBytes+1))
	if err != nil {
		return classifyTransport(url, op, err)
	}
	if len(data) > maxResponseBytes {
		return fmt.Errorf("cannot %s: the response of Elasticsearch at %s is larger than %d MiB: %w", op, url, maxResponseBytes>>20, ErrResponseTooLarge)
	}
	if res.IsError() {
		var body esErrorBody
		_ = json.Unmarshal(data, &body) // A non-JSON body still classifies by status.
		return classifyResponse(url, op, res.StatusCode, body)
	}
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("cannot %s: cannot decode the response of Elasticsearch at %s: %w", op, url, err)
	}
	return nil
}
