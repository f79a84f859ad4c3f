package elasticsearch

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/eslink/eslink/internal/eckschema"
	"github.com/eslink/eslink/test/fakeelasticsearch/esfake"
)

type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *testClock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func TestInvalidateAPIKeysInOneRequest(t *testing.T) {
	ctx := context.Background()
	srv, c := newFake(t, esfake.Options{})
	var ids []string
	for range 3 {
		k, err := c.CreateCrossClusterAPIKey(ctx, CreateRequest{Name: "k", Access: testAccess()})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, k.ID)
	}
	srv.ResetRequests()
	if err := c.InvalidateAPIKeys(ctx, ids[0], ids[1]); err != nil {
		t.Fatal(err)
	}
	if err := c.InvalidateAPIKeys(ctx); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(map[string]int{"DELETE /_security/api_key": 1}, srv.Counts()); diff != "" {
		t.Errorf("requests: -want +got:\n%s", diff)
	}
	state := map[string]bool{}
	for _, k := range srv.Keys() {
		state[k.ID] = k.Invalidated
	}
	if diff := cmp.Diff(map[string]bool{ids[0]: true, ids[1]: true, ids[2]: false}, state); diff != "" {
		t.Errorf("keys (id → invalidated): -want +got:\n%s", diff)
	}
}

// TestExpiredKeysByMetadata: the owner query leaves judging expiry to the
// caller's clock; the name lookup asks Elasticsearch for active keys.
func TestExpiredKeysByMetadata(t *testing.T) {
	ctx := context.Background()
	clk := &testClock{t: time.Now()}
	_, c := newFake(t, esfake.Options{Clock: clk.Now})
	md := map[string]json.RawMessage{"eslink.io/uid": json.RawMessage(`"uid-1"`)}
	k, err := c.CreateCrossClusterAPIKey(ctx, CreateRequest{Name: "orders", Access: testAccess(), Expiration: "1m", Metadata: md})
	if err != nil {
		t.Fatal(err)
	}
	clk.Add(2 * time.Minute)
	byUID, err := c.CrossClusterKeysByMetadata(ctx, "eslink.io/uid", "uid-1", "orders")
	if err != nil {
		t.Fatal(err)
	}
	if len(byUID) != 1 || byUID[0].ID != k.ID || byUID[0].Active(clk.Now()) || byUID[0].MetadataString("eslink.io/uid") != "uid-1" {
		t.Errorf("CrossClusterKeysByMetadata() = %+v, want the expired key %s", byUID, k.ID)
	}
	byName, err := c.ActiveCrossClusterKeysByName(ctx, "orders")
	if err != nil || len(byName) != 0 {
		t.Errorf("ActiveCrossClusterKeysByName() = %+v, %v, want none: the key expired", byName, err)
	}
}

func TestUpdateExpiration(t *testing.T) {
	for _, tc := range []struct {
		version   string
		supported bool
	}{{"8.13.0", true}, {"9.3.2", true}, {"8.12.2", false}} {
		t.Run(tc.version, func(t *testing.T) {
			ctx := context.Background()
			clk := &testClock{t: time.Now().Truncate(time.Millisecond)}
			srv, c := newFake(t, esfake.Options{Version: tc.version, Clock: clk.Now})
			v, err := c.Version(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if got := SupportsUpdateExpiration(v); got != tc.supported {
				t.Fatalf("SupportsUpdateExpiration(%s) = %v, want %v", v, got, tc.supported)
			}
			if v.Less(eckschema.UpdateExpirationVersion) == tc.supported {
				t.Fatalf("UpdateExpirationVersion disagrees with SupportsUpdateExpiration for %s", v)
			}
			k, err := c.CreateCrossClusterAPIKey(ctx, CreateRequest{Name: "k", Access: testAccess(), Expiration: "30d"})
			if err != nil {
				t.Fatal(err)
			}
			clk.Add(time.Hour)
			_, err = c.UpdateCrossClusterAPIKey(ctx, k.ID, UpdateRequest{Access: testAccess(), Expiration: "2d"})
			if !tc.supported {
				if ReasonOf(err) != ReasonBadRequest {
					t.Fatalf("update with expiration on %s = %v, want a bad request", tc.version, err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got := srv.Keys()[0].Expiration
			if want := clk.Now().Add(48 * time.Hour); got == nil || !got.Equal(want) {
				t.Errorf("expiration after update = %v, want %s (2d from the update)", got, want)
			}
		})
	}
}

// TestCrossClusterKeysPaged: the selection is read page by page after the
// last page's sort values, and holds exactly the keys eslink and ECK made
// that are not invalidated, whatever the page size.
func TestCrossClusterKeysPaged(t *testing.T) {
	ctx := context.Background()
	srv, c := newFake(t, esfake.Options{})
	md := func(k, v string) map[string]json.RawMessage {
		return map[string]json.RawMessage{k: json.RawMessage(`"` + v + `"`)}
	}
	var want []string
	create := func(name string, metadata map[string]json.RawMessage, selected bool) string {
		t.Helper()
		k, err := c.CreateCrossClusterAPIKey(ctx, CreateRequest{Name: name, Access: testAccess(), Metadata: metadata})
		if err != nil {
			t.Fatal(err)
		}
		if selected {
			want = append(want, k.ID)
		}
		return k.ID
	}
	for i := range 5 {
		create(fmt.Sprintf("owned-%d", i), md("eslink.io/uid", fmt.Sprintf("uid-%d", i)), true)
	}
	create("eck-ns-local-alias", nil, true)
	create("made-by-eck", md("elasticsearch.k8s.elastic.co/namespace", "ns"), true)
	create("someone-elses", md("team", "b"), false)
	gone := create("owned-gone", md("eslink.io/uid", "uid-gone"), false)
	if err := c.InvalidateAPIKeys(ctx, gone); err != nil {
		t.Fatal(err)
	}
	if _, _, err := srv.CreateRESTKey("admin", "eck-rest"); err != nil {
		t.Fatal(err)
	}
	sel := KeySelection{MetadataKeys: []string{"eslink.io/uid", "elasticsearch.k8s.elastic.co/namespace"}, NamePrefixes: []string{"eck-"}}
	for _, tc := range []struct {
		pageSize, requests int
	}{
		{pageSize: 0, requests: 1},
		{pageSize: 7, requests: 2}, // a full last page needs one more, empty, page to be known last
		{pageSize: 2, requests: 4},
		{pageSize: 1, requests: 8},
	} {
		t.Run(fmt.Sprintf("PageSize%d", tc.pageSize), func(t *testing.T) {
			srv.ResetRequests()
			sel.PageSize = tc.pageSize
			keys, err := c.CrossClusterKeys(ctx, sel)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, k := range keys {
				got = append(got, k.ID)
			}
			// Keys created within one millisecond sort by name.
			if diff := cmp.Diff(want, got, cmpopts.SortSlices(func(a, b string) bool { return a < b })); diff != "" {
				t.Errorf("keys (ids): -want +got:\n%s", diff)
			}
			if diff := cmp.Diff(map[string]int{"POST /_security/_query/api_key": tc.requests}, srv.Counts()); diff != "" {
				t.Errorf("requests: -want +got:\n%s", diff)
			}
		})
	}
}

// TestIdentity: two clients share an identity only when URL, credentials
// and TLS settings are all equal, and the identity holds no secret.
func TestIdentity(t *testing.T) {
	srv, _ := newFake(t, esfake.Options{})
	base := Config{URL: "https://es.example:9200", Username: "eslink", Password: "pass-word-1"}
	id := func(cfg Config) string {
		t.Helper()
		c, err := New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		return c.Identity()
	}
	same := id(base)
	if got := id(base); got != same {
		t.Errorf("two clients of one config: identities %s and %s differ", same, got)
	}
	for name, mod := range map[string]func(*Config){
		"URL":         func(c *Config) { c.URL = "https://es.example:9201" },
		"Username":    func(c *Config) { c.Username = "other" },
		"Password":    func(c *Config) { c.Password = "pass-word-2" },
		"APIKey":      func(c *Config) { c.APIKey = "a2V5OnNlY3JldA==" },
		"CACert":      func(c *Config) { c.CACert = srv.CACertPEM },
		"Fingerprint": func(c *Config) { c.CertificateFingerprint = strings.Repeat("ab", 32) },
		"Insecure":    func(c *Config) { c.InsecureSkipVerify = true },
	} {
		cfg := base
		mod(&cfg)
		if got := id(cfg); got == same {
			t.Errorf("a config with another %s has the same identity", name)
		}
	}
	if strings.Contains(same, base.Password) || strings.Contains(same, base.Username) {
		t.Errorf("identity %q holds the credentials", same)
	}
}
