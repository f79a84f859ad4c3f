package esfake

import (
	"crypto/rand"
	"fmt"
	"slices"
	"sync"
	"time"
)

// ClusterOptions configures the state the nodes of one Cluster share.
type ClusterOptions struct {
	// Name is cluster.name; a node whose elasticsearch.yml names another
	// cluster does not join. Default "eslink-fake".
	Name string
	// Version is what nodes impersonate unless their Options say
	// otherwise. Default 9.3.2.
	Version string
	// License is basic, trial, enterprise, platinum or gold. Default basic:
	// a new Elasticsearch cluster generates a basic license for itself.
	License string
	// Users are native users the cluster starts with (see User). None by
	// default: a cluster ECK creates has its users in the file realm of
	// each node (Options.Files).
	Users []User
	// Clock provides creation, expiration and shutdown times. Default time.Now.
	Clock func() time.Time
}

// Cluster is the cluster state the nodes of one Elasticsearch cluster
// share: settings, license, users and roles of the native realm, API keys,
// node shutdown records, voting configuration exclusions and desired nodes.
// Nodes join it when they start (Options.Cluster) and leave it when they
// close. It outlives its nodes, as the cluster state outlives a full
// restart on the nodes' data paths; node IDs are kept per node name for
// the same reason. Transient settings are lost when the last node leaves.
type Cluster struct {
	mu sync.Mutex
	sh *shared
	// version is the default of nodes that do not set their own.
	version string
}

// shared is the cluster-wide part of a node's state, guarded by Cluster.mu.
type shared struct {
	license       string
	licenseUID    string
	licenseIssued time.Time
	// trialUsed is set once a trial started: Elasticsearch allows one per
	// cluster (LicensesMetadata.isEligibleForTrial).
	trialUsed bool

	users       map[string]*User
	roles       map[string]*role
	clock       func() time.Time
	clusterName string
	clusterUUID string

	keys     map[string]*apiKey
	keyOrder []string

	persistent map[string]any
	transient  map[string]any
	// stateVersion counts cluster state updates.
	stateVersion int64

	// members are the running nodes, in the order they joined; the first
	// master-eligible one is the elected master.
	members []*Server
	// nodeIDs are the persistent node IDs by node name: Elasticsearch keeps
	// a node's ID in its data path, so a restarted pod comes back with it.
	nodeIDs map[string]string

	shutdowns map[string]*shutdownRecord
	// shutdownOrder lists shutdown records in the order they were put.
	shutdownOrder    []string
	votingExclusions []votingExclusion
	desired          *desiredNodes

	// requests is the request log of all nodes, stopped ones included.
	requests []Request
}

// NewCluster creates the shared state of a cluster; start its nodes with
// Start(Options{Cluster: c, ...}).
func NewCluster(opts ClusterOptions) (*Cluster, error) {
	lic := opts.License
	if lic == "" {
		lic = "basic"
	}
	ver := opts.Version
	if ver == "" {
		ver = "9.3.2"
	}
	if _, err := parseVersion(ver); err != nil {
		return nil, fmt.Errorf("cluster options: %w", err)
	}
	sh, err := newShared(opts.Name, lic, opts.Clock, opts.Users)
	if err != nil {
		return nil, err
	}
	return &Cluster{sh: sh, version: ver}, nil
}

func newShared(name, license string, clock func() time.Time, users []User) (*shared, error) {
	if err := checkLicense(license); err != nil {
		return nil, fmt.Errorf("options: %w", err)
	}
	if clock == nil {
		clock = time.Now
	}
	if name == "" {
		name = "eslink-fake"
	}
	sh := &shared{
		license: license, licenseUID: randomUUID(), licenseIssued: clock(),
		clock: clock, clusterName: name, clusterUUID: randomID(16),
		keys:       map[string]*apiKey{},
		persistent: map[string]any{}, transient: map[string]any{},
		nodeIDs:   map[string]string{},
		shutdowns: map[string]*shutdownRecord{},
	}
	if err := sh.seedSecurity(users); err != nil {
		return nil, err
	}
	return sh, nil
}

// Name is the cluster's cluster.name.
func (c *Cluster) Name() string { return c.sh.clusterName }

// UUID is the cluster's cluster_uuid.
func (c *Cluster) UUID() string { return c.sh.clusterUUID }

// Nodes returns the running nodes in the order they joined.
func (c *Cluster) Nodes() []*Server {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.sh.members)
}

// License returns the type of the cluster's license.
func (c *Cluster) License() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.sh.license
}

// join adds a started node; it takes the node ID its name had before.
func (sh *shared) join(s *Server) {
	sh.members = append(sh.members, s)
	for _, sd := range sh.shutdowns {
		if sd.nodeID == s.st.nodeID {
			sd.nodeSeen = true
		}
	}
	sh.stateVersion++
}

// leave removes a closed node. When the last node leaves, the cluster has
// been fully stopped and its transient settings are gone.
func (sh *shared) leave(s *Server) {
	sh.members = slices.DeleteFunc(sh.members, func(m *Server) bool { return m == s })
	if len(sh.members) == 0 {
		sh.transient = map[string]any{}
	}
	sh.stateVersion++
}

// nodeIDFor returns the persistent ID of the node called name.
func (sh *shared) nodeIDFor(name string) string {
	if id, ok := sh.nodeIDs[name]; ok {
		return id
	}
	id := randomID(16)
	sh.nodeIDs[name] = id
	return id
}

// master is the elected master: the first master-eligible member.
func (sh *shared) master() *Server {
	for _, m := range sh.members {
		if slices.Contains(m.st.nodeRoles, "master") {
			return m
		}
	}
	return nil
}

// member finds a running node by ID.
func (sh *shared) member(id string) *Server {
	for _, m := range sh.members {
		if m.st.nodeID == id {
			return m
		}
	}
	return nil
}

// randomUUID is a version 4 UUID, the format of license uids.
func randomUUID() string {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		panic(fmt.Sprintf("crypto/rand failed: %v", err)) // unrecoverable platform failure
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// NodeID is the node's persistent ID, as _nodes lists it.
func (s *Server) NodeID() string { return s.st.nodeID }

// NodeName is the node's node.name.
func (s *Server) NodeName() string { return s.st.nodeName }

// Cluster is the cluster the node belongs to.
func (s *Server) Cluster() *Cluster { return s.cluster }
