package crossclusterapikey

import (
	"context"

	"github.com/eslink/eslink/provider/internal/clients/elasticsearch"
)

// keyReader is every read of keys that Observe and Delete make. Each method
// answers one question about one remote, so that a snapshot of the
// remote's keys, taken once per poll, can answer them instead of a request
// each.
type keyReader interface {
	// KeyByID returns the key with id whatever its state, or nil when
	// there is none.
	KeyByID(ctx context.Context, id string) (*elasticsearch.APIKey, error)
	// ActiveKeysByName returns the cross-cluster keys named exactly name
	// that Elasticsearch reports active.
	ActiveKeysByName(ctx context.Context, name string) ([]elasticsearch.APIKey, error)
	// KeysByOwner returns the cross-cluster keys, not invalidated, whose
	// metadata carries uid as eslink.io/uid, expired ones included. name is
	// the name the owner gives its keys: a hint for clusters where the
	// metadata field cannot be queried.
	KeysByOwner(ctx context.Context, uid, name string) ([]elasticsearch.APIKey, error)
}

// liveKeys answers each read with a request to Elasticsearch.
type liveKeys struct{ es *elasticsearch.Client }

func (l liveKeys) KeyByID(ctx context.Context, id string) (*elasticsearch.APIKey, error) {
	k, err := l.es.GetAPIKey(ctx, id)
	if elasticsearch.IsNotFound(err) {
		return nil, nil
	}
	return k, err
}

func (l liveKeys) ActiveKeysByName(ctx context.Context, name string) ([]elasticsearch.APIKey, error) {
	return l.es.ActiveCrossClusterKeysByName(ctx, name)
}

func (l liveKeys) KeysByOwner(ctx context.Context, uid, name string) ([]elasticsearch.APIKey, error) {
	return l.es.CrossClusterKeysByMetadata(ctx, metadataUID, uid, name)
}

// keyWriter is every write of keys that Create, Update and Delete make.
type keyWriter interface {
	CreateCrossClusterAPIKey(ctx context.Context, r elasticsearch.CreateRequest) (*elasticsearch.CreatedKey, error)
	UpdateCrossClusterAPIKey(ctx context.Context, id string, r elasticsearch.UpdateRequest) (bool, error)
	InvalidateAPIKeys(ctx context.Context, ids ...string) error
	// URL is the cluster's address, for messages.
	URL() string
}

// notifyingWriter calls wrote after each write, whether it failed or not: a
// request that timed out may still have been applied.
type notifyingWriter struct {
	*elasticsearch.Client
	wrote func()
}

func (w notifyingWriter) CreateCrossClusterAPIKey(ctx context.Context, r elasticsearch.CreateRequest) (*elasticsearch.CreatedKey, error) {
	defer w.wrote()
	return w.Client.CreateCrossClusterAPIKey(ctx, r)
}

func (w notifyingWriter) UpdateCrossClusterAPIKey(ctx context.Context, id string, r elasticsearch.UpdateRequest) (bool, error) {
	defer w.wrote()
	return w.Client.UpdateCrossClusterAPIKey(ctx, id, r)
}

func (w notifyingWriter) InvalidateAPIKeys(ctx context.Context, ids ...string) error {
	if len(ids) == 0 {
		return nil
	}
	defer w.wrote()
	return w.Client.InvalidateAPIKeys(ctx, ids...)
}
