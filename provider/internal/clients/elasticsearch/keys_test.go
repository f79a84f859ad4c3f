package elasticsearch

import (
	"context"
	"encoding/json"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/eslink/eslink/internal/linkrules"
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
			if v.Less(linkrules.UpdateExpirationVersion) == tc.supported {
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
