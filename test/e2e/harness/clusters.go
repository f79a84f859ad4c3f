package harness

import (
	"context"
	"fmt"
	"maps"

	corev1 "k8s.io/api/core/v1"
	kerrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/eslink/eslink/internal/eckschema"
	"github.com/eslink/eslink/test/fakeelasticsearch/esfake"
)

// AddCluster creates one more ECK cluster ns/name running version, with
// annotations on its Elasticsearch object (for example the file-based
// secure settings one), played by a new fake that the ECK simulator manages
// from its next pass on. The harness stops the fake.
func (h *Harness) AddCluster(ctx context.Context, ns, name, version string, annotations map[string]string) (*esfake.Server, error) {
	if err := h.Kube.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}); err != nil && !kerrors.IsAlreadyExists(err) {
		return nil, fmt.Errorf("cannot create namespace %s: %w", ns, err)
	}
	fake, err := startFake(ns, name, version)
	if err != nil {
		return nil, err
	}
	h.extra = append(h.extra, fake)
	es := eckschema.NewElasticsearch()
	es.SetNamespace(ns)
	es.SetName(name)
	es.SetAnnotations(maps.Clone(annotations))
	es.Object["spec"] = map[string]any{
		"version": version,
		"nodeSets": []any{map[string]any{
			"name": "default", "count": int64(3),
			"config": map[string]any{"node.store.allow_mmap": false},
		}},
	}
	if err := h.Kube.Create(ctx, es); err != nil {
		return nil, fmt.Errorf("cannot create Elasticsearch %s/%s: %w", ns, name, err)
	}
	if err := h.deployed(ctx, ns, name, version, fake); err != nil {
		return nil, err
	}
	h.Network.Join(fake)
	h.ECK.AddCluster(ns+"/"+name, h.simCluster(fake))
	return fake, nil
}

// deployed writes the status ECK writes once the cluster runs and the
// Secrets ECK creates with it, which the provider reads: the elastic
// user's password and the HTTP CA.
func (h *Harness) deployed(ctx context.Context, ns, name, version string, fake *esfake.Server) error {
	es, err := h.Elasticsearch(ctx, ns, name)
	if err != nil {
		return fmt.Errorf("cannot get Elasticsearch %s/%s: %w", ns, name, err)
	}
	es.Object["status"] = map[string]any{"availableNodes": int64(3), "health": "green", "phase": "Ready", "version": version}
	if err := h.Kube.Status().Update(ctx, es); err != nil {
		return fmt.Errorf("cannot write status of Elasticsearch %s/%s: %w", ns, name, err)
	}
	for _, s := range []*corev1.Secret{
		{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name + "-es-elastic-user"}, Data: map[string][]byte{"elastic": []byte(ElasticPassword)}},
		{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name + "-es-http-certs-public"}, Data: map[string][]byte{"ca.crt": fake.CACertPEM, "tls.crt": fake.CACertPEM}},
	} {
		if err := h.Kube.Create(ctx, s); err != nil {
			return fmt.Errorf("cannot create Secret %s/%s: %w", s.Namespace, s.Name, err)
		}
	}
	return nil
}

// External is a cluster outside ECK, as a team runs it elsewhere.
type External struct {
	*esfake.Server
	// Host is its DNS name; its REST API is at https://Host:9200 and its
	// remote cluster server at Host:9443.
	Host string
	// Username and Password are a user with the cluster privileges
	// manage_security and monitor, the least a provider config for a
	// remote's keys needs (examples/providerconfig/external-logs.yaml).
	Username, Password string
}

// StartExternal starts a cluster outside ECK named host: its REST API and
// its remote cluster server (a certificate from its transport CA for host)
// are reachable on the harness's network at host:9200 and host:9443, as
// DNS would resolve them. The harness stops it.
func (h *Harness) StartExternal(host string) (*External, error) {
	const user, password = "eslink-provider", "external-secret"
	fake, err := esfake.Start(esfake.Options{
		Version: Version, License: "enterprise", TLS: true, ClusterName: host, DNSNames: []string{host},
		Users: []esfake.User{
			{Name: "elastic", Password: ElasticPassword},
			{Name: user, Password: password, Privileges: []string{"manage_security", "monitor"}},
		},
	})
	if err != nil {
		return nil, fmt.Errorf("cannot start the external cluster %s: %w", host, err)
	}
	h.extra = append(h.extra, fake)
	if err := fake.EnableRemoteClusterServer(host); err != nil {
		return nil, fmt.Errorf("cannot enable the remote cluster server of %s: %w", host, err)
	}
	for addr, l := range map[string]esfake.Listener{host + ":9200": esfake.HTTPListener, host + ":9443": esfake.RemoteClusterServerListener} {
		if err := h.Network.Register(addr, fake, l); err != nil {
			return nil, err
		}
	}
	return &External{Server: fake, Host: host, Username: user, Password: password}, nil
}
