package crossclusterapikey

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/eslink/eslink/provider/internal/clients/elasticsearch"
	"github.com/eslink/eslink/test/fakeelasticsearch/esfake"
)

// fakeRemote is a remote's key listing: it counts reads, can fail them,
// and can hold a read until released.
type fakeRemote struct {
	mu    sync.Mutex
	reads int
	keys  []elasticsearch.APIKey
	err   error
	hold  chan struct{}
}

func (f *fakeRemote) fetch(ctx context.Context) ([]elasticsearch.APIKey, error) {
	f.mu.Lock()
	f.reads++
	keys, err, hold := append([]elasticsearch.APIKey(nil), f.keys...), f.err, f.hold
	f.mu.Unlock()
	if hold != nil {
		select {
		case <-hold:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	return keys, err
}

func (f *fakeRemote) set(do func(*fakeRemote)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	do(f)
}

func (f *fakeRemote) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.reads
}

type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func ownedBy(id, uid string) elasticsearch.APIKey {
	return elasticsearch.APIKey{ID: id, Name: "k-" + uid, Type: "cross_cluster",
		Metadata: map[string]json.RawMessage{metadataUID: json.RawMessage(`"` + uid + `"`)}}
}

// TestRemoteKeysRead: one read answers every reader for an interval,
// failed or not; a write by this process makes the next reader wait for a
// read begun after it; a reader giving up does not fail the read.
func TestRemoteKeysRead(t *testing.T) {
	const ttl = time.Minute
	boom := &elasticsearch.Error{Reason: elasticsearch.ReasonServer, Status: 503, Message: "cannot read: Elasticsearch at https://es failed (HTTP 503)"}
	type env struct {
		r     *remoteKeys
		f     *fakeRemote
		clock *fakeClock
	}
	read := func(e env) (*keySnapshot, error) {
		return e.r.read(context.Background(), e.f.fetch, e.clock.now, ttl)
	}
	ids := func(s *keySnapshot) []string {
		var out []string
		for id := range s.byID {
			out = append(out, id)
		}
		return out
	}
	for name, tc := range map[string]struct {
		run       func(t *testing.T, e env)
		wantReads int
	}{
		"OneReadPerInterval": {
			run: func(t *testing.T, e env) {
				for range 3 {
					if _, err := read(e); err != nil {
						t.Fatal(err)
					}
					e.clock.add(ttl / 4)
				}
				e.clock.add(ttl / 4)
				if _, err := read(e); err != nil {
					t.Fatal(err)
				}
			},
			wantReads: 2,
		},
		"WriteMakesTheNextReadFresh": {
			run: func(t *testing.T, e env) {
				if _, err := read(e); err != nil {
					t.Fatal(err)
				}
				e.f.set(func(f *fakeRemote) { f.keys = append(f.keys, ownedBy("new", "uid-2")) })
				e.r.wrote()
				s, err := read(e)
				if err != nil {
					t.Fatal(err)
				}
				if s.byID["new"] == nil {
					t.Errorf("read after a write holds %v, want the key written", ids(s))
				}
				if _, err := read(e); err != nil {
					t.Fatal(err)
				}
			},
			wantReads: 2,
		},
		"FailureRememberedForTheInterval": {
			run: func(t *testing.T, e env) {
				e.f.set(func(f *fakeRemote) { f.err = boom })
				for range 5 {
					s, err := read(e)
					if err != nil {
						t.Fatal(err)
					}
					if !errors.Is(s.err, boom) {
						t.Fatalf("snapshot error = %v, want the remote's", s.err)
					}
					e.clock.add(ttl / 10)
				}
				e.f.set(func(f *fakeRemote) { f.err = nil })
				e.clock.add(ttl)
				s, err := read(e)
				if err != nil || s.err != nil || s.byID["k1"] == nil {
					t.Fatalf("read after the interval = %v, %v, want the keys", s, err)
				}
			},
			wantReads: 2,
		},
		"ConcurrentReadersShareOneRead": {
			run: func(t *testing.T, e env) {
				hold := make(chan struct{})
				e.f.set(func(f *fakeRemote) { f.hold = hold })
				var wg sync.WaitGroup
				errs := make(chan error, 20)
				for range 20 {
					wg.Go(func() {
						if _, err := read(e); err != nil {
							errs <- err
						}
					})
				}
				waitUntil(t, func() bool { return e.f.count() == 1 })
				close(hold)
				wg.Wait()
				close(errs)
				for err := range errs {
					t.Error(err)
				}
			},
			wantReads: 1,
		},
		"WriteDuringARead": {
			// A read that began before a write may answer the readers that
			// were waiting for it, never one that arrives after the write.
			run: func(t *testing.T, e env) {
				hold := make(chan struct{})
				e.f.set(func(f *fakeRemote) { f.hold = hold })
				before := make(chan *keySnapshot, 1)
				go func() {
					s, _ := read(e)
					before <- s
				}()
				waitUntil(t, func() bool { return e.f.count() == 1 })
				e.f.set(func(f *fakeRemote) { f.keys = append(f.keys, ownedBy("new", "uid-2")) })
				e.r.wrote()
				after := make(chan *keySnapshot, 1)
				go func() {
					s, _ := read(e)
					after <- s
				}()
				waitUntil(t, func() bool { return e.f.count() == 2 })
				close(hold)
				if s := <-after; s == nil || s.byID["new"] == nil {
					t.Errorf("reader after the write got a read from before it")
				}
				if s := <-before; s == nil {
					t.Errorf("reader before the write got nothing")
				}
				if _, err := read(e); err != nil {
					t.Fatal(err)
				}
			},
			wantReads: 2,
		},
		"ReaderGivingUpDoesNotFailTheRead": {
			run: func(t *testing.T, e env) {
				hold := make(chan struct{})
				e.f.set(func(f *fakeRemote) { f.hold = hold })
				ctx, cancel := context.WithCancel(context.Background())
				done := make(chan error, 1)
				go func() {
					_, err := e.r.read(ctx, e.f.fetch, e.clock.now, ttl)
					done <- err
				}()
				waitUntil(t, func() bool { return e.f.count() == 1 })
				cancel()
				if err := <-done; !errors.Is(err, context.Canceled) {
					t.Errorf("cancelled reader: %v, want context.Canceled", err)
				}
				close(hold)
				s, err := read(e)
				if err != nil || s.err != nil || s.byID["k1"] == nil {
					t.Errorf("next reader = %v, %v, want the keys of the read the first one left", s, err)
				}
			},
			wantReads: 1,
		},
	} {
		t.Run(name, func(t *testing.T) {
			e := env{r: &remoteKeys{}, f: &fakeRemote{keys: []elasticsearch.APIKey{ownedBy("k1", "uid-1")}}, clock: &fakeClock{t: time.Unix(1_700_000_000, 0)}}
			tc.run(t, e)
			if got := e.f.count(); got != tc.wantReads {
				t.Errorf("reads of the remote = %d, want %d", got, tc.wantReads)
			}
		})
	}
}

func waitUntil(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 10s")
		}
		time.Sleep(time.Millisecond)
	}
}

// recordingReader is a live keyReader that records what it was asked.
type recordingReader struct{ calls []string }

func (r *recordingReader) KeyByID(_ context.Context, id string) (*elasticsearch.APIKey, error) {
	r.calls = append(r.calls, "KeyByID "+id)
	return &elasticsearch.APIKey{ID: id, Name: "live"}, nil
}

func (r *recordingReader) ActiveKeysByName(_ context.Context, name string) ([]elasticsearch.APIKey, error) {
	r.calls = append(r.calls, "ActiveKeysByName "+name)
	return []elasticsearch.APIKey{{ID: "live", Name: name}}, nil
}

func (r *recordingReader) KeysByOwner(_ context.Context, uid, name string) ([]elasticsearch.APIKey, error) {
	r.calls = append(r.calls, "KeysByOwner "+uid+" "+name)
	return []elasticsearch.APIKey{{ID: "live"}}, nil
}

// TestSnapshotKeys: a read the snapshot can answer positively is answered
// from it; any other is made live, so that a snapshot limited to eslink's
// and ECK's keys answers every question as a live read would; a failed
// snapshot fails every read without a request.
func TestSnapshotKeys(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	past := now.Add(-time.Hour).UnixMilli()
	expired := elasticsearch.APIKey{ID: "expired", Name: "eck-ns-local-old", Type: "cross_cluster", Expiration: &past}
	snap := indexKeys([]elasticsearch.APIKey{
		ownedBy("owned-1", "uid-1"),
		ownedBy("owned-2", "uid-1"),
		{ID: "eck", Name: "eck-ns-local-logs", Type: "cross_cluster"},
		expired,
	})
	boom := &elasticsearch.Error{Reason: elasticsearch.ReasonUnreachable, Message: "cannot read: Elasticsearch at https://es is unreachable"}
	refused := &elasticsearch.Error{Reason: elasticsearch.ReasonBadRequest, Status: 400, Message: "cannot read: Elasticsearch at https://es rejected the request (HTTP 400)"}
	overloaded := &elasticsearch.Error{Reason: elasticsearch.ReasonBadRequest, Status: 429, Message: "cannot read: Elasticsearch at https://es rejected the request (HTTP 429)"}
	for name, tc := range map[string]struct {
		err       error
		read      func(context.Context, keyReader) ([]string, error)
		want      []string
		wantLive  []string
		wantError error
	}{
		"OwnerInSnapshot": {
			read: func(ctx context.Context, r keyReader) ([]string, error) {
				return idsOf(r.KeysByOwner(ctx, "uid-1", "k-uid-1"))
			},
			want: []string{"owned-1", "owned-2"},
		},
		"OwnerNotInSnapshot": {
			read: func(ctx context.Context, r keyReader) ([]string, error) {
				return idsOf(r.KeysByOwner(ctx, "uid-9", "orders"))
			},
			want:     []string{"live"},
			wantLive: []string{"KeysByOwner uid-9 orders"},
		},
		"IDInSnapshot": {
			read: func(ctx context.Context, r keyReader) ([]string, error) { return idOf(r.KeyByID(ctx, "eck")) },
			want: []string{"eck"},
		},
		"ExpiredIDInSnapshot": {
			read: func(ctx context.Context, r keyReader) ([]string, error) { return idOf(r.KeyByID(ctx, "expired")) },
			want: []string{"expired"},
		},
		"IDNotInSnapshot": {
			read:     func(ctx context.Context, r keyReader) ([]string, error) { return idOf(r.KeyByID(ctx, "hand-written")) },
			want:     []string{"hand-written"},
			wantLive: []string{"KeyByID hand-written"},
		},
		"ActiveNameInSnapshot": {
			read: func(ctx context.Context, r keyReader) ([]string, error) {
				return idsOf(r.ActiveKeysByName(ctx, "eck-ns-local-logs"))
			},
			want: []string{"eck"},
		},
		"OnlyExpiredNameInSnapshot": {
			read: func(ctx context.Context, r keyReader) ([]string, error) {
				return idsOf(r.ActiveKeysByName(ctx, "eck-ns-local-old"))
			},
			want:     []string{"live"},
			wantLive: []string{"ActiveKeysByName eck-ns-local-old"},
		},
		"NameNotInSnapshot": {
			read: func(ctx context.Context, r keyReader) ([]string, error) {
				return idsOf(r.ActiveKeysByName(ctx, "other"))
			},
			want:     []string{"live"},
			wantLive: []string{"ActiveKeysByName other"},
		},
		"FailedSnapshotFailsOwner": {
			err: boom,
			read: func(ctx context.Context, r keyReader) ([]string, error) {
				return idsOf(r.KeysByOwner(ctx, "uid-9", "orders"))
			},
			wantError: boom,
		},
		"FailedSnapshotFailsID": {
			err:       boom,
			read:      func(ctx context.Context, r keyReader) ([]string, error) { return idOf(r.KeyByID(ctx, "hand-written")) },
			wantError: boom,
		},
		"RefusedQueryReadsOwnerLive": {
			err: refused,
			read: func(ctx context.Context, r keyReader) ([]string, error) {
				return idsOf(r.KeysByOwner(ctx, "uid-1", "orders"))
			},
			want:     []string{"live"},
			wantLive: []string{"KeysByOwner uid-1 orders"},
		},
		"PageTooLargeReadsOwnerLive": {
			// One team's keys with huge metadata must not stop every
			// other resource on the remote from reading its own keys.
			err: fmt.Errorf("cannot read the keys: %w", elasticsearch.ErrResponseTooLarge),
			read: func(ctx context.Context, r keyReader) ([]string, error) {
				return idsOf(r.KeysByOwner(ctx, "uid-1", "orders"))
			},
			want:     []string{"live"},
			wantLive: []string{"KeysByOwner uid-1 orders"},
		},
		"RefusedQueryReadsIDLive": {
			err:      refused,
			read:     func(ctx context.Context, r keyReader) ([]string, error) { return idOf(r.KeyByID(ctx, "eck")) },
			want:     []string{"eck"},
			wantLive: []string{"KeyByID eck"},
		},
		"RefusedQueryReadsNameLive": {
			err: refused,
			read: func(ctx context.Context, r keyReader) ([]string, error) {
				return idsOf(r.ActiveKeysByName(ctx, "eck-ns-local-logs"))
			},
			want:     []string{"live"},
			wantLive: []string{"ActiveKeysByName eck-ns-local-logs"},
		},
		"OverloadedRemoteFailsOwner": {
			err: overloaded,
			read: func(ctx context.Context, r keyReader) ([]string, error) {
				return idsOf(r.KeysByOwner(ctx, "uid-1", "orders"))
			},
			wantError: overloaded,
		},
		"FailedSnapshotFailsName": {
			err: boom,
			read: func(ctx context.Context, r keyReader) ([]string, error) {
				return idsOf(r.ActiveKeysByName(ctx, "other"))
			},
			wantError: boom,
		},
	} {
		t.Run(name, func(t *testing.T) {
			s := *snap
			s.err = tc.err
			live := &recordingReader{}
			r := &snapshotKeys{
				snapshot: func(context.Context) (*keySnapshot, error) { return &s, nil },
				live:     live,
				now:      func() time.Time { return now },
			}
			got, err := tc.read(context.Background(), r)
			if !errors.Is(err, tc.wantError) {
				t.Fatalf("error = %v, want %v", err, tc.wantError)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("keys: -want +got:\n%s", diff)
			}
			if diff := cmp.Diff(tc.wantLive, live.calls); diff != "" {
				t.Errorf("live reads: -want +got:\n%s", diff)
			}
		})
	}
}

func idsOf(keys []elasticsearch.APIKey, err error) ([]string, error) {
	var out []string
	for _, k := range keys {
		out = append(out, k.ID)
	}
	return out, err
}

func idOf(k *elasticsearch.APIKey, err error) ([]string, error) {
	if k == nil {
		return nil, err
	}
	return []string{k.ID}, err
}

// TestKeySnapshotsByIdentity: clients share a snapshot only when they reach
// one URL with the same credentials; a remote unused for ten intervals is
// forgotten.
func TestKeySnapshotsByIdentity(t *testing.T) {
	srv := esfake.NewServer(t, esfake.Options{TLS: true})
	client := func(user, pass string) *elasticsearch.Client {
		t.Helper()
		c, err := elasticsearch.New(elasticsearch.Config{URL: srv.URL, Username: user, Password: pass, CACert: srv.CACertPEM})
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	clock := &fakeClock{t: time.Unix(1_700_000_000, 0)}
	s := newKeySnapshots(time.Minute)
	s.clock = clock.now
	a := s.remote(client("team-a", "password-a"))
	for name, tc := range map[string]struct {
		c    *elasticsearch.Client
		same bool
	}{
		"SameConfig":    {c: client("team-a", "password-a"), same: true},
		"OtherUser":     {c: client("team-b", "password-a")},
		"OtherPassword": {c: client("team-a", "password-b")},
	} {
		if got := s.remote(tc.c) == a; got != tc.same {
			t.Errorf("%s: shares team-a's snapshot = %v, want %v", name, got, tc.same)
		}
	}
	clock.add(11 * time.Minute)
	s.remote(client("team-b", "password-a"))
	if s.remote(client("team-a", "password-a")) == a {
		t.Errorf("a remote unused for ten intervals was kept")
	}
}

// TestSnapshotAfterWrite: on the fake Elasticsearch, a write through the
// resource's writer makes the next read see it, and a steady read sends
// nothing.
func TestSnapshotAfterWrite(t *testing.T) {
	ctx := context.Background()
	srv := esfake.NewServer(t, esfake.Options{TLS: true, Users: []esfake.User{{Name: itUser, Password: itPass, Privileges: []string{"manage_security", "monitor"}}}})
	es, err := elasticsearch.New(elasticsearch.Config{URL: srv.URL, Username: itUser, Password: itPass, CACert: srv.CACertPEM})
	if err != nil {
		t.Fatal(err)
	}
	s := newKeySnapshots(time.Hour)
	keys, writes := s.reader(es, time.Now), s.writer(es)
	owner := func(want int, requests map[string]int) {
		t.Helper()
		srv.ResetRequests()
		got, err := keys.KeysByOwner(ctx, "uid-1", "orders")
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != want {
			t.Errorf("KeysByOwner() = %d keys, want %d", len(got), want)
		}
		if diff := cmp.Diff(requests, srv.Counts(), cmpopts.EquateEmpty()); diff != "" {
			t.Errorf("requests: -want +got:\n%s", diff)
		}
	}
	// Nothing yet: the snapshot is read, and the owner looked up live.
	owner(0, map[string]int{queryEndpoint: 2})
	created, err := writes.CreateCrossClusterAPIKey(ctx, elasticsearch.CreateRequest{Name: "orders",
		Access:   elasticsearch.Access{Search: []elasticsearch.SearchAccess{{Names: []string{"logs-*"}}}},
		Metadata: map[string]json.RawMessage{metadataUID: json.RawMessage(`"uid-1"`)}})
	if err != nil {
		t.Fatal(err)
	}
	owner(1, map[string]int{queryEndpoint: 1})
	owner(1, nil)
	if err := writes.InvalidateAPIKeys(ctx, created.ID); err != nil {
		t.Fatal(err)
	}
	owner(0, map[string]int{queryEndpoint: 2})
}

// TestVersionFailureRemembered: a remote that cannot tell its version is
// asked once per interval, not once per resource.
func TestVersionFailureRemembered(t *testing.T) {
	ctx := context.Background()
	srv := esfake.NewServer(t, esfake.Options{TLS: true, Users: []esfake.User{{Name: itUser, Password: itPass, Privileges: []string{"monitor"}}}})
	es, err := elasticsearch.New(elasticsearch.Config{URL: srv.URL, Username: itUser, Password: itPass, CACert: srv.CACertPEM})
	if err != nil {
		t.Fatal(err)
	}
	clock := &fakeClock{t: time.Unix(1_700_000_000, 0)}
	s := newKeySnapshots(time.Minute)
	s.clock = clock.now
	srv.InjectFault(esfake.Fault{Method: http.MethodGet, PathPrefix: "/", Status: http.StatusServiceUnavailable})
	versions := func(n int) (failed int) {
		t.Helper()
		for range n {
			if _, err := s.version(ctx, es); err != nil {
				if elasticsearch.ReasonOf(err) != elasticsearch.ReasonServer {
					t.Fatalf("version: %v, want the remote's 503", err)
				}
				failed++
			}
		}
		return failed
	}
	for _, step := range []struct {
		advance      time.Duration
		fixed        bool
		failed, sent int
	}{
		{failed: 5, sent: 1},
		{advance: 30 * time.Second, failed: 5, sent: 1},
		{advance: 30 * time.Second, failed: 5, sent: 2},
		{advance: time.Minute, fixed: true, failed: 0, sent: 3},
		{advance: time.Minute, fixed: true, failed: 0, sent: 3},
	} {
		clock.add(step.advance)
		if step.fixed {
			srv.ClearFaults()
		}
		if got := versions(5); got != step.failed {
			t.Errorf("after %s: %d of 5 version reads failed, want %d", step.advance, got, step.failed)
		}
		if got := len(srv.Requests()); got != step.sent {
			t.Errorf("after %s: %d requests in all, want %d", step.advance, got, step.sent)
		}
	}
}
