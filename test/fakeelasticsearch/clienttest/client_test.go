// Package clienttest round-trips every endpoint of the fake through the
// official go-elasticsearch clients. It lives apart from esfake so that the
// fuzz binary does not have to link (and instrument) the typed API.
package clienttest

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"strings"
	"testing"

	elasticsearch "github.com/elastic/go-elasticsearch/v8"
	"github.com/elastic/go-elasticsearch/v8/esapi"
	"github.com/elastic/go-elasticsearch/v8/typedapi/types"

	"github.com/eslink/eslink/test/fakeelasticsearch/esfake"
)

type transportMode struct {
	name   string
	tls    bool
	pinned bool // CertificateFingerprint instead of CACert
	compat bool // EnableCompatibilityMode on esapi
}

var transportModes = []transportMode{
	{name: "http"},
	{name: "http-compat", compat: true},
	{name: "https-ca", tls: true},
	{name: "https-fingerprint", tls: true, pinned: true, compat: true},
}

func clientConfig(s *esfake.Server, m transportMode) elasticsearch.Config {
	cfg := elasticsearch.Config{Addresses: []string{s.URL}, Username: "elastic", Password: "changeme", EnableCompatibilityMode: m.compat}
	if m.tls && m.pinned {
		cfg.CertificateFingerprint = s.CertFingerprint
	} else if m.tls {
		cfg.CACert = s.CACertPEM
	}
	return cfg
}

// esapiDo runs an esapi call and decodes the JSON body.
func esapiDo(t *testing.T, what string, call func() (*esapi.Response, error), wantStatus int) map[string]any {
	t.Helper()
	res, err := call()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode != wantStatus {
		t.Fatalf("%s: status %d, want %d: %s", what, res.StatusCode, wantStatus, b)
	}
	var out map[string]any
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatalf("%s: bad JSON %s", what, b)
	}
	return out
}

func TestESAPIClientRoundTrip(t *testing.T) {
	t.Parallel()
	for _, m := range transportModes {
		t.Run(m.name, func(t *testing.T) {
			t.Parallel()
			s := esfake.NewServer(t, esfake.Options{TLS: m.tls})
			es, err := elasticsearch.NewClient(clientConfig(s, m))
			if err != nil {
				t.Fatal(err)
			}
			info := esapiDo(t, "info", func() (*esapi.Response, error) { return es.Info() }, 200)
			if info["version"].(map[string]any)["number"] != "9.3.2" {
				t.Fatalf("info: %v", info)
			}
			esapiDo(t, "license", func() (*esapi.Response, error) { return es.License.Get() }, 200)
			esapiDo(t, "authenticate", func() (*esapi.Response, error) { return es.Security.Authenticate() }, 200)

			created := esapiDo(t, "create", func() (*esapi.Response, error) {
				return es.Security.CreateCrossClusterAPIKey(strings.NewReader(
					`{"name":"k1","access":{"search":[{"names":["logs-*"]}]},"certificate_identity":"^CN=local$"}`))
			}, 200)
			id := created["id"].(string)
			upd := esapiDo(t, "update", func() (*esapi.Response, error) {
				return es.Security.UpdateCrossClusterAPIKey(id, strings.NewReader(`{"access":{"search":[{"names":["logs-*"]}]},"metadata":{"a":1}}`))
			}, 200)
			if upd["updated"] != true {
				t.Fatalf("update: %v", upd)
			}
			got := esapiDo(t, "get", func() (*esapi.Response, error) {
				return es.Security.GetAPIKey(es.Security.GetAPIKey.WithID(id), es.Security.GetAPIKey.WithActiveOnly(true))
			}, 200)
			k := got["api_keys"].([]any)[0].(map[string]any)
			if k["certificate_identity"] != "^CN=local$" || k["metadata"].(map[string]any)["a"] != float64(1) {
				t.Fatalf("get: %v", k)
			}
			esapiDo(t, "get missing", func() (*esapi.Response, error) { return es.Security.GetAPIKey(es.Security.GetAPIKey.WithID("missing")) }, 404)

			q := esapiDo(t, "query", func() (*esapi.Response, error) {
				return es.Security.QueryAPIKeys(es.Security.QueryAPIKeys.WithBody(strings.NewReader(
					`{"query":{"bool":{"filter":[{"term":{"type":"cross_cluster"}},{"prefix":{"name":"k"}}]}},"sort":["name"]}`)))
			}, 200)
			if q["total"] != float64(1) || q["count"] != float64(1) {
				t.Fatalf("query: %v", q)
			}
			inv := esapiDo(t, "invalidate", func() (*esapi.Response, error) {
				return es.Security.InvalidateAPIKey(strings.NewReader(`{"ids":["` + id + `"]}`))
			}, 200)
			if len(inv["invalidated_api_keys"].([]any)) != 1 {
				t.Fatalf("invalidate: %v", inv)
			}
			esapiDo(t, "put settings", func() (*esapi.Response, error) {
				return es.Cluster.PutSettings(strings.NewReader(
					`{"persistent":{"cluster":{"remote":{"r1":{"mode":"proxy","proxy_address":"127.0.0.1:9443"}}}}}`))
			}, 200)
			esapiDo(t, "get settings", func() (*esapi.Response, error) { return es.Cluster.GetSettings() }, 200)
			s.SetKeystoreEntry("cluster.remote.r1.credentials", created["encoded"].(string))
			esapiDo(t, "reload", func() (*esapi.Response, error) { return es.Nodes.ReloadSecureSettings() }, 200)
			ri := esapiDo(t, "remote info", func() (*esapi.Response, error) { return es.Cluster.RemoteInfo() }, 200)
			if ri["r1"].(map[string]any)["cluster_credentials"] != "::es_redacted::" {
				t.Fatalf("remote info: %v", ri)
			}
		})
	}
}

func TestTypedClientRoundTrip(t *testing.T) {
	t.Parallel()
	for _, m := range transportModes {
		t.Run(m.name, func(t *testing.T) {
			t.Parallel()
			s := esfake.NewServer(t, esfake.Options{TLS: m.tls, Version: "8.19.3"})
			es, err := elasticsearch.NewTypedClient(clientConfig(s, m))
			if err != nil {
				t.Fatal(err)
			}
			ctx := context.Background()
			if _, err := es.Info().Do(ctx); err != nil {
				t.Fatalf("info: %v", err)
			}
			if _, err := es.License.Get().Do(ctx); err != nil {
				t.Fatalf("license: %v", err)
			}
			if _, err := es.Security.Authenticate().Do(ctx); err != nil {
				t.Fatalf("authenticate: %v", err)
			}
			access := &types.Access{Search: []types.SearchAccess{{Names: []string{"logs-*"}, Query: map[string]any{"term": map[string]any{"tag": "x"}}}}}
			cr, err := es.Security.CreateCrossClusterApiKey().Name("typed").Access(access).Expiration("7d").Do(ctx)
			if err != nil || cr.Expiration == nil {
				t.Fatalf("create: %v %+v", err, cr)
			}
			up, err := es.Security.UpdateCrossClusterApiKey(cr.Id).Access(access).Do(ctx)
			if err != nil {
				t.Fatalf("update: %v", err)
			}
			if up.Updated {
				t.Fatalf("identical access must be a no-op")
			}
			g, err := es.Security.GetApiKey().Id(cr.Id).WithLimitedBy(true).Do(ctx)
			if err != nil || len(g.ApiKeys) != 1 || g.ApiKeys[0].Access == nil || g.ApiKeys[0].Type.String() != "cross_cluster" {
				t.Fatalf("get: %v %+v", err, g)
			}
			if q, _ := g.ApiKeys[0].Access.Search[0].Query.(string); q != `{"term":{"tag":"x"}}` {
				t.Fatalf("query not normalised: %#v", g.ApiKeys[0].Access.Search[0].Query)
			}
			_, err = es.Security.GetApiKey().Id("missing").Do(ctx)
			var esErr *types.ElasticsearchError
			if !errors.As(err, &esErr) || esErr.Status != 404 {
				t.Fatalf("get missing: %v", err)
			}
			qr, err := es.Security.QueryApiKeys().Query(&types.ApiKeyQueryContainer{Bool: &types.BoolQuery{Filter: []types.Query{
				{Term: map[string]types.TermQuery{"type": {Value: "cross_cluster"}}},
			}}}).Size(5).Do(ctx)
			if err != nil || qr.Total != 1 || qr.Count != 1 {
				t.Fatalf("query: %v %+v", err, qr)
			}
			inv, err := es.Security.InvalidateApiKey().Ids(cr.Id).Do(ctx)
			if err != nil || len(inv.InvalidatedApiKeys) != 1 || inv.ErrorCount != 0 {
				t.Fatalf("invalidate: %v %+v", err, inv)
			}
			ps, err := es.Cluster.PutSettings().Persistent(map[string]json.RawMessage{
				"cluster.remote.r2.mode": json.RawMessage(`"proxy"`), "cluster.remote.r2.proxy_address": json.RawMessage(`"h:9443"`),
			}).Do(ctx)
			if err != nil || !ps.Acknowledged {
				t.Fatalf("put settings: %v %+v", err, ps)
			}
			if _, err := es.Cluster.GetSettings().Do(ctx); err != nil {
				t.Fatalf("get settings: %v", err)
			}
			rs, err := es.Nodes.ReloadSecureSettings().Do(ctx)
			if err != nil || rs.ClusterName == "" || len(rs.Nodes) != 1 {
				t.Fatalf("reload: %v %+v", err, rs)
			}
			ri, err := es.Cluster.RemoteInfo().Do(ctx)
			if err != nil || ri["r2"] == nil {
				t.Fatalf("remote info: %v %+v", err, ri)
			}
			// A basic license makes create fail with the documented 403.
			s.SetLicense("basic")
			_, err = es.Security.CreateCrossClusterApiKey().Name("x").Access(access).Do(ctx)
			if !errors.As(err, &esErr) || esErr.Status != 403 || esErr.ErrorCause.Reason == nil ||
				*esErr.ErrorCause.Reason != "current license is non-compliant for [advanced-remote-cluster-security]" {
				t.Fatalf("basic license create: %v", err)
			}
		})
	}
}
