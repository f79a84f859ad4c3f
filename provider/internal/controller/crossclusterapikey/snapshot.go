package crossclusterapikey

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/eslink/eslink/internal/linkrules"
	"github.com/eslink/eslink/provider/internal/clients/elasticsearch"
)

// snapshotSelection is what a snapshot holds: the keys eslink made (tagged
// with their owner's uid) and the keys ECK made (tagged with their local
// cluster, named eck-…): every key an owned or observing resource looks
// for, and no other team's key that neither made.
var snapshotSelection = elasticsearch.KeySelection{
	MetadataKeys: []string{metadataUID, eckMetadataNamespace},
	NamePrefixes: []string{"eck-"},
}

// snapshotTimeout bounds one read of a remote's keys. The read runs on
// behalf of every resource waiting for it, so no single reconcile's
// deadline may cut it short.
const snapshotTimeout = 30 * time.Second

// keySnapshots holds, per remote, the keys read together at most once per
// poll interval, so that a thousand resources on one remote cost one
// request per poll rather than a thousand. It is shared by every reconcile
// of the provider process and safe for concurrent use.
//
// A remote is keyed by its client's identity: its URL, credentials and TLS
// settings, as the provider config resolves them. Two configs reaching one
// cluster as different users never share answers one of them may not see.
type keySnapshots struct {
	// ttl is how long a read answers, successful or not: the poll interval.
	ttl time.Duration
	// clock measures ttl; the rotation clock (Options.Now) may be a test's.
	clock func() time.Time

	mu        sync.Mutex
	remotes   map[string]*remoteKeys
	lastSweep time.Time
}

func newKeySnapshots(ttl time.Duration) *keySnapshots {
	return &keySnapshots{ttl: ttl, clock: time.Now, remotes: map[string]*remoteKeys{}}
}

// remote returns the state of the remote es reaches, made on first use.
// Remotes unused for ten intervals (a config changed its credentials, a
// cluster went away) are forgotten.
func (s *keySnapshots) remote(es *elasticsearch.Client) *remoteKeys {
	now := s.clock()
	s.mu.Lock()
	defer s.mu.Unlock()
	if now.Sub(s.lastSweep) > 10*s.ttl {
		for id, r := range s.remotes {
			if r.idleSince(now, 10*s.ttl) {
				delete(s.remotes, id)
			}
		}
		s.lastSweep = now
	}
	id := es.Identity()
	r, ok := s.remotes[id]
	if !ok {
		r = &remoteKeys{}
		s.remotes[id] = r
	}
	r.used(now)
	return r
}

// reader answers a resource's reads on es from the remote's snapshot; now
// judges whether a key is active.
func (s *keySnapshots) reader(es *elasticsearch.Client, now func() time.Time) *snapshotKeys {
	r := s.remote(es)
	fetch := func(ctx context.Context) ([]elasticsearch.APIKey, error) {
		return es.CrossClusterKeys(ctx, snapshotSelection)
	}
	return &snapshotKeys{
		snapshot: func(ctx context.Context) (*keySnapshot, error) { return r.read(ctx, fetch, s.clock, s.ttl) },
		live:     liveKeys{es},
		now:      now,
	}
}

// writer sends a resource's writes with es and makes the remote's snapshot
// forget everything read before each.
func (s *keySnapshots) writer(es *elasticsearch.Client) keyWriter {
	return notifyingWriter{Client: es, wrote: func() { s.remote(es).wrote() }}
}

// version returns es's server version (cached with the client for an
// hour). A failure to read it is remembered for the interval, as a failed
// read of the keys is: otherwise a remote that is down when the provider
// starts, or when the cached version expires, would cost a GET / per
// resource and poll.
func (s *keySnapshots) version(ctx context.Context, es *elasticsearch.Client) (linkrules.Version, error) {
	r := s.remote(es)
	if err := r.versionFailure(s.clock(), s.ttl); err != nil {
		return linkrules.Version{}, err
	}
	at := s.clock()
	v, err := es.Version(ctx)
	// A reconcile that gave up says nothing about the remote.
	if err != nil && ctx.Err() == nil {
		r.failedVersion(at, err)
	}
	return v, err
}

// version reads es's version through the snapshots, if there are any.
func (c *connector) version(ctx context.Context, es *elasticsearch.Client) (linkrules.Version, error) {
	if c.snapshots == nil {
		return es.Version(ctx)
	}
	return c.snapshots.version(ctx, es)
}

// remoteKeys is one remote's snapshot and the read that renews it.
type remoteKeys struct {
	mu sync.Mutex
	// gen counts this process's writes to the remote; a read answers only
	// readers that began before it did and saw no write since.
	gen      uint64
	cur      *keySnapshot
	loading  *keyLoad
	lastUsed time.Time
	// versionErr is the last failure to read the version, at versionAt.
	versionErr error
	versionAt  time.Time
}

func (r *remoteKeys) versionFailure(now time.Time, ttl time.Duration) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.versionErr != nil && now.Sub(r.versionAt) < ttl {
		return r.versionErr
	}
	return nil
}

func (r *remoteKeys) failedVersion(at time.Time, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.versionErr, r.versionAt = err, at
}

// keySnapshot is the result of one read: the keys, or why there are none.
type keySnapshot struct {
	// gen is the remote's write count when the read began, at when.
	gen uint64
	at  time.Time
	err error

	byID    map[string]*elasticsearch.APIKey
	byOwner map[string][]elasticsearch.APIKey
	byName  map[string][]elasticsearch.APIKey
}

type keyLoad struct {
	gen  uint64
	at   time.Time
	done chan struct{}
	snap *keySnapshot
}

func (r *remoteKeys) used(now time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.lastUsed = now
}

func (r *remoteKeys) idleSince(now time.Time, d time.Duration) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.loading == nil && now.Sub(r.lastUsed) > d
}

// wrote says that this process has just written to the remote: no read
// that began before may answer a reader that begins after.
func (r *remoteKeys) wrote() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.gen++
}

// read returns a snapshot no older than ttl and begun after this process's
// last write to the remote, reading the remote if there is none. Readers
// arriving while a read runs wait for it: one request answers them all. A
// failed read is remembered like a successful one, so that a remote that is
// down costs one request per interval.
func (r *remoteKeys) read(ctx context.Context, fetch func(context.Context) ([]elasticsearch.APIKey, error), clock func() time.Time, ttl time.Duration) (*keySnapshot, error) {
	r.mu.Lock()
	want := r.gen
	if s := r.cur; s != nil && s.gen >= want && clock().Sub(s.at) < ttl {
		r.mu.Unlock()
		return s, nil
	}
	l := r.loading
	if l == nil || l.gen < want {
		l = &keyLoad{gen: want, at: clock(), done: make(chan struct{})}
		r.loading = l
		go r.load(l, fetch)
	}
	r.mu.Unlock()
	select {
	case <-l.done:
		return l.snap, nil
	case <-ctx.Done():
		return nil, fmt.Errorf("cannot wait for the keys on Elasticsearch: %w", ctx.Err())
	}
}

func (r *remoteKeys) load(l *keyLoad, fetch func(context.Context) ([]elasticsearch.APIKey, error)) {
	ctx, cancel := context.WithTimeout(context.Background(), snapshotTimeout)
	defer cancel()
	keys, err := fetch(ctx)
	snap := indexKeys(keys)
	snap.gen, snap.at, snap.err = l.gen, l.at, err
	r.mu.Lock()
	l.snap = snap
	if c := r.cur; c == nil || c.gen < snap.gen || (c.gen == snap.gen && !snap.at.Before(c.at)) {
		r.cur = snap
	}
	if r.loading == l {
		r.loading = nil
	}
	r.mu.Unlock()
	close(l.done)
}

func indexKeys(keys []elasticsearch.APIKey) *keySnapshot {
	s := &keySnapshot{
		byID:    make(map[string]*elasticsearch.APIKey, len(keys)),
		byOwner: map[string][]elasticsearch.APIKey{},
		byName:  map[string][]elasticsearch.APIKey{},
	}
	for i := range keys {
		k := &keys[i]
		s.byID[k.ID] = k
		if uid := k.MetadataString(metadataUID); uid != "" {
			s.byOwner[uid] = append(s.byOwner[uid], *k)
		}
		s.byName[k.Name] = append(s.byName[k.Name], *k)
	}
	return s
}

// snapshotKeys is one resource's keyReader on a remote's snapshot. A
// snapshot holds only the keys eslink and ECK made, and only those a search
// has seen, so a read it cannot answer positively is made live: a key by
// id that is not in it (a hand-written external name, a key created a
// moment ago), a name it holds no active key of (the key does not exist
// yet, or a key neither made has it: the live read tells the two apart as
// before), an owner it holds no key of (a resource about to create its
// first key, or a cluster whose query API cannot filter on the metadata:
// the live read also searches by name). In steady state, every resource's
// keys are in the snapshot and no read is made live.
type snapshotKeys struct {
	snapshot func(context.Context) (*keySnapshot, error)
	live     keyReader
	now      func() time.Time
}

func (s *snapshotKeys) KeyByID(ctx context.Context, id string) (*elasticsearch.APIKey, error) {
	snap, err := s.snapshot(ctx)
	if err != nil {
		return nil, err
	}
	if snap.err != nil {
		if rejected(snap.err) {
			return s.live.KeyByID(ctx, id)
		}
		return nil, snap.err
	}
	if k, ok := snap.byID[id]; ok {
		c := *k
		return &c, nil
	}
	return s.live.KeyByID(ctx, id)
}

func (s *snapshotKeys) ActiveKeysByName(ctx context.Context, name string) ([]elasticsearch.APIKey, error) {
	snap, err := s.snapshot(ctx)
	if err != nil {
		return nil, err
	}
	if snap.err != nil {
		if rejected(snap.err) {
			return s.live.ActiveKeysByName(ctx, name)
		}
		return nil, snap.err
	}
	now := s.now()
	var keys []elasticsearch.APIKey
	for _, k := range snap.byName[name] {
		if k.Active(now) {
			keys = append(keys, k)
		}
	}
	if len(keys) == 0 {
		return s.live.ActiveKeysByName(ctx, name)
	}
	return keys, nil
}

func (s *snapshotKeys) KeysByOwner(ctx context.Context, uid, name string) ([]elasticsearch.APIKey, error) {
	snap, err := s.snapshot(ctx)
	if err != nil {
		return nil, err
	}
	if snap.err != nil {
		if rejected(snap.err) {
			return s.live.KeysByOwner(ctx, uid, name)
		}
		return nil, snap.err
	}
	if keys := snap.byOwner[uid]; len(keys) > 0 {
		return append([]elasticsearch.APIKey(nil), keys...), nil
	}
	return s.live.KeysByOwner(ctx, uid, name)
}

// rejected reports whether the remote refused the snapshot's query itself
// with 400 (a version whose query API does not take it), or answered a page
// too large to read (keys with huge metadata, which one team's keys must
// not turn into every team's failure): each resource then reads its own
// keys live, as it did before snapshots, rather than fail. Any other
// failure (down, overloaded, credentials, privileges) would fail the live
// reads just the same, so it fails them without a request each.
func rejected(err error) bool {
	var e *elasticsearch.Error
	return errors.Is(err, elasticsearch.ErrResponseTooLarge) ||
		(errors.As(err, &e) && e.Reason == elasticsearch.ReasonBadRequest && e.Status == http.StatusBadRequest)
}
