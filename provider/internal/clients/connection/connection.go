// Package connection resolves a managed resource's provider config into an
// Elasticsearch client: it checks that the config allows the resource's
// namespace, finds the target cluster and enforces its grants, refuses
// plain http without an opt-in, all before any credential is read; then it
// reads the credentials and CA, and caches one client per config, target
// and credentials version.
package connection

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	kerrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	xpv2 "github.com/crossplane/crossplane/apis/v2/core/v2"

	commonv1alpha1 "github.com/eslink/eslink/apis/common/v1alpha1"
	v1alpha1 "github.com/eslink/eslink/apis/v1alpha1"
	"github.com/eslink/eslink/internal/eckschema"
	"github.com/eslink/eslink/internal/grants"
	"github.com/eslink/eslink/provider/internal/clients/elasticsearch"
)

// defaultCAKey is the key of a CA in a Secret, ECK's and caSecretRef's.
const defaultCAKey = "ca.crt"

// Request says what a managed resource wants to reach.
type Request struct {
	// Namespace of the managed resource.
	Namespace string
	// ProviderConfig is spec.providerConfigRef.
	ProviderConfig *xpv2.ProviderConfigReference
	// ElasticsearchRef is spec.forProvider.elasticsearchRef, used by ECK-mode
	// configs that do not fix the cluster.
	ElasticsearchRef *commonv1alpha1.ElasticsearchReference
	// Role is the part the target cluster plays; the zero value is the
	// remote. Access is checked on a remote only.
	Role grants.Role
	// Access entries are checked against the target's annotations; empty
	// checks the namespace only (an observing resource requests nothing).
	Access []grants.AccessEntry
	// Cleanup says the managed resource is being deleted. Cleanup only
	// undoes what the resource owns (proven by its uid), so the cluster that
	// allowed it before need not allow it still: leaving its keys behind
	// after a revoked grant would leak them. The config's allowedNamespaces
	// still is checked: a config is a credential, whatever it is used for.
	Cleanup bool
	// AllowedOn is the cluster (namespace/name) the caller proves allowed
	// the resource before, from a record only the provider writes. While
	// cleaning up, its grants are not checked again; any other cluster's
	// are, so a resource that never reached a cluster cannot reach it by
	// being deleted.
	AllowedOn string
	// AllowedBefore, while cleaning up, reports whether the target's
	// annotations prove that the provider wrote for the namespace there
	// before (a record only the provider writes); such a target's grants
	// are not checked again either.
	AllowedBefore func(annotations map[string]string, namespace string) bool
}

// A Denied error says the managed resource's namespace may not use the
// target cluster or the provider config. Nothing was read or sent.
type Denied struct{ *grants.DeniedError }

// IsDenied reports whether err is an authorization denial.
func IsDenied(err error) bool {
	var d *Denied
	return errors.As(err, &d)
}

// A TargetGoneError says the ECK Elasticsearch object the request targets,
// or a Secret ECK keeps for it, does not exist: there is nothing left to
// reach, and a resource being deleted can let go.
type TargetGoneError struct {
	Msg string
}

func (e *TargetGoneError) Error() string { return e.Msg }

// IsTargetGone reports whether err says the target cluster is gone.
func IsTargetGone(err error) bool {
	var g *TargetGoneError
	return errors.As(err, &g)
}

// SecretReuse is how long a Secret a client is built from (a password, a CA)
// is reused before it is read again. Every reconcile resolves its client,
// and a thousand resources on one cluster would otherwise read the same two
// Secrets from the API server a thousand times per poll; a rotated password
// is picked up within SecretReuse. The Secrets are read only after the
// request was authorized, and a reused one only for a request that was.
var SecretReuse = 30 * time.Second

// Resolver resolves provider configs. It is safe for concurrent use.
type Resolver struct {
	kube client.Client

	// reuse is SecretReuse when the resolver was made.
	reuse   time.Duration
	mu      sync.Mutex
	cache   map[string]cachedClient
	secrets map[types.NamespacedName]readSecret
}

type readSecret struct {
	secret *corev1.Secret
	at     time.Time
}

type cachedClient struct {
	version string
	client  *elasticsearch.Client
}

// NewResolver returns a resolver reading through kube.
func NewResolver(kube client.Client) *Resolver {
	return &Resolver{kube: kube, reuse: SecretReuse, cache: map[string]cachedClient{}, secrets: map[types.NamespacedName]readSecret{}}
}

// resolved is everything a client is built from.
type resolved struct {
	cfg elasticsearch.Config
	// key identifies config and target; version changes with any input.
	key, version string
}

// Resolve returns a client for req.
func (r *Resolver) Resolve(ctx context.Context, req Request) (*elasticsearch.Client, error) {
	if req.ProviderConfig == nil || req.ProviderConfig.Name == "" {
		return nil, errors.New("spec.providerConfigRef is not set: name a ProviderConfig or ClusterProviderConfig")
	}
	var (
		res *resolved
		err error
	)
	switch req.ProviderConfig.Kind {
	case v1alpha1.ProviderConfigKind:
		res, err = r.fromProviderConfig(ctx, req)
	case v1alpha1.ClusterProviderConfigKind:
		res, err = r.fromClusterProviderConfig(ctx, req)
	default:
		return nil, fmt.Errorf("spec.providerConfigRef.kind %q is not supported: use %s or %s",
			req.ProviderConfig.Kind, v1alpha1.ProviderConfigKind, v1alpha1.ClusterProviderConfigKind)
	}
	if err != nil {
		return nil, err
	}

	r.mu.Lock()
	defer r.mu.Unlock()
	if c, ok := r.cache[res.key]; ok && c.version == res.version {
		return c.client, nil
	}
	c, err := elasticsearch.New(res.cfg)
	if err != nil {
		return nil, err
	}
	r.cache[res.key] = cachedClient{version: res.version, client: c}
	return c, nil
}

// CachedClients returns how many clients are cached, for tests and metrics.
func (r *Resolver) CachedClients() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.cache)
}

func (r *Resolver) fromProviderConfig(ctx context.Context, req Request) (*resolved, error) {
	pc := &v1alpha1.ProviderConfig{}
	name := types.NamespacedName{Namespace: req.Namespace, Name: req.ProviderConfig.Name}
	if err := r.kube.Get(ctx, name, pc); err != nil {
		return nil, fmt.Errorf("cannot get ProviderConfig %s: %w", name, err)
	}
	id := fmt.Sprintf("ProviderConfig %s", name)
	base := fmt.Sprintf("%s|%s|%d", id, pc.UID, pc.Generation)
	switch {
	case pc.Spec.ECK != nil:
		ref := pc.Spec.ECK.ElasticsearchRef
		field := "spec.eck.elasticsearchRef of " + id
		if ref == nil {
			ref, field = req.ElasticsearchRef, "spec.forProvider.elasticsearchRef"
		}
		if ref == nil {
			return nil, fmt.Errorf("spec.forProvider.elasticsearchRef is required: %s in ECK mode does not fix the cluster", id)
		}
		target := types.NamespacedName{Namespace: ref.Namespace, Name: ref.Name}
		if target.Namespace == "" {
			target.Namespace = pc.Namespace
		}
		// A namespaced config reads Secrets in its own namespace only.
		if target.Namespace != pc.Namespace {
			return nil, fmt.Errorf("%s targets Elasticsearch %s, but %s reads Secrets in namespace %s only: use a ClusterProviderConfig to reach other namespaces",
				field, target, id, pc.Namespace)
		}
		return r.fromECK(ctx, req, id, base, *pc.Spec.ECK, target)
	case pc.Spec.Endpoint != nil:
		e := pc.Spec.Endpoint
		var ca *v1alpha1.SecretKeyRef
		if e.CASecretRef != nil {
			ca = &v1alpha1.SecretKeyRef{Name: e.CASecretRef.Name, Namespace: pc.Namespace, Key: e.CASecretRef.Key}
		}
		return r.fromEndpoint(ctx, id, base, v1alpha1.ClusterURLEndpoint{
			URL: e.URL, CredentialsType: e.CredentialsType, TLS: e.TLS, CASecretRef: ca, AllowInsecureHTTP: e.AllowInsecureHTTP,
			CredentialsSecretRef: v1alpha1.SecretKeyRef{Name: e.CredentialsSecretRef.Name, Namespace: pc.Namespace},
		})
	}
	return nil, fmt.Errorf("%s sets neither spec.eck nor spec.endpoint: set exactly one", id)
}

func (r *Resolver) fromClusterProviderConfig(ctx context.Context, req Request) (*resolved, error) {
	pc := &v1alpha1.ClusterProviderConfig{}
	if err := r.kube.Get(ctx, types.NamespacedName{Name: req.ProviderConfig.Name}, pc); err != nil {
		return nil, fmt.Errorf("cannot get ClusterProviderConfig %s: %w", req.ProviderConfig.Name, err)
	}
	id := fmt.Sprintf("ClusterProviderConfig %s", pc.Name)
	// The config is a credential: a namespace it does not list never gets
	// to use it, not even to clean up, and learns nothing about its target.
	if err := grants.ConfigAllowsNamespace(v1alpha1.ClusterProviderConfigKind, pc.Name, pc.Spec.AllowedNamespaces, req.Namespace, "spec.providerConfigRef"); err != nil {
		return nil, denied(err)
	}
	base := fmt.Sprintf("%s|%s|%d", id, pc.UID, pc.Generation)
	switch {
	case pc.Spec.ECK != nil:
		var target types.NamespacedName
		switch ref := pc.Spec.ECK.ElasticsearchRef; {
		case ref != nil:
			if ref.Namespace == "" {
				return nil, fmt.Errorf("spec.eck.elasticsearchRef.namespace of %s is empty: a cluster-scoped config must name the namespace", id)
			}
			target = types.NamespacedName{Namespace: ref.Namespace, Name: ref.Name}
		case req.ElasticsearchRef != nil:
			target = types.NamespacedName{Namespace: req.ElasticsearchRef.Namespace, Name: req.ElasticsearchRef.Name}
			if target.Namespace == "" {
				target.Namespace = req.Namespace
			}
		default:
			return nil, fmt.Errorf("spec.forProvider.elasticsearchRef is required: %s in ECK mode does not fix the cluster", id)
		}
		return r.fromECK(ctx, req, id, base, *pc.Spec.ECK, target)
	case pc.Spec.Endpoint != nil:
		return r.fromEndpoint(ctx, id, base, *pc.Spec.Endpoint)
	}
	return nil, fmt.Errorf("%s sets neither spec.eck nor spec.endpoint: set exactly one", id)
}

// fromECK authorizes the managed resource's namespace against the target
// Elasticsearch object before reading its elastic user's password: that
// user is a superuser, so a cluster that did not grant the namespace must
// never be reached with it.
func (r *Resolver) fromECK(ctx context.Context, req Request, id, base string, e v1alpha1.ECKEndpoint, target types.NamespacedName) (*resolved, error) {
	if req.Role == grants.RoleLocal && req.ElasticsearchRef != nil {
		want := types.NamespacedName{Namespace: req.ElasticsearchRef.Namespace, Name: req.ElasticsearchRef.Name}
		if want.Namespace == "" {
			want.Namespace = req.Namespace
		}
		if err := pointsElsewhere(req.ProviderConfig, target, want); err != nil {
			return nil, err
		}
	}
	es := eckschema.NewElasticsearch()
	if err := r.kube.Get(ctx, target, es); err != nil {
		if kerrors.IsNotFound(err) {
			return nil, &TargetGoneError{Msg: fmt.Sprintf(
				"cannot get Elasticsearch %s: not found; check spec.forProvider.elasticsearchRef or the provider config's spec.eck.elasticsearchRef", target)}
		}
		return nil, fmt.Errorf("cannot get Elasticsearch %s: %w", target, err)
	}
	provenBefore := req.AllowedOn == target.String() || (req.AllowedBefore != nil && req.AllowedBefore(es.GetAnnotations(), req.Namespace))
	if !req.Cleanup || !provenBefore {
		t := grants.Target{Namespace: target.Namespace, Name: target.Name, Annotations: es.GetAnnotations(), Field: "spec.forProvider.elasticsearchRef"}
		role := req.Role
		if role == "" {
			role = grants.RoleRemote
		}
		var err error
		if role == grants.RoleRemote {
			err = grants.AuthorizeAccess(req.Namespace, t, req.Access)
		} else {
			err = grants.AuthorizeNamespace(req.Namespace, t, role)
		}
		if err != nil {
			return nil, denied(err)
		}
	}

	u := eckschema.HTTPURL(target.Name, target.Namespace)
	if e.URLOverride != "" {
		u = strings.NewReplacer("{name}", target.Name, "{namespace}", target.Namespace).Replace(e.URLOverride)
	}
	if err := checkURL(u, "spec.eck.urlOverride of "+id, e.AllowInsecureHTTP, "spec.eck.allowInsecureHTTP"); err != nil {
		return nil, err
	}
	userSecret := types.NamespacedName{Namespace: target.Namespace, Name: eckschema.ElasticUserSecret(target.Name)}
	deleting := es.GetDeletionTimestamp() != nil
	password, userVersion, err := r.eckSecretValue(ctx, userSecret, eckschema.ElasticUser, "ECK creates it with the cluster", deleting)
	if err != nil {
		return nil, err
	}
	cfg := elasticsearch.Config{URL: u, Username: eckschema.ElasticUser, Password: string(password), AllowInsecureHTTP: e.AllowInsecureHTTP, Cluster: target.String()}
	version := userVersion
	if strings.HasPrefix(u, "https://") {
		caSecret := types.NamespacedName{Namespace: target.Namespace, Name: eckschema.HTTPCertsPublicSecret(target.Name)}
		ca, caVersion, err := r.eckSecretValue(ctx, caSecret, defaultCAKey, "ECK creates it when the HTTP layer uses TLS", deleting)
		if err != nil {
			return nil, err
		}
		cfg.CACert = ca
		version += "|" + caVersion
	}
	key := base + "|" + target.String()
	return &resolved{cfg: cfg, key: key, version: version}, nil
}

// eckSecretValue reads a Secret ECK keeps for a cluster. The cluster's
// deletion removes these before the Elasticsearch object, so a missing one
// of a cluster being deleted means the target is gone. Of a cluster that is
// not, it means ECK has not (re)created it yet: an error to retry, never a
// reason to let go of keys that are still valid there.
func (r *Resolver) eckSecretValue(ctx context.Context, name types.NamespacedName, key, why string, clusterDeleting bool) ([]byte, string, error) {
	// A cluster being deleted is read afresh: that its Secrets are gone
	// is what lets its resources go.
	v, version, err := r.secretValueFresh(ctx, name, key, why, clusterDeleting)
	if clusterDeleting && kerrors.IsNotFound(err) {
		return nil, "", &TargetGoneError{Msg: err.Error()}
	}
	return v, version, err
}

func denied(err error) error {
	var d *grants.DeniedError
	if errors.As(err, &d) {
		return &Denied{DeniedError: d}
	}
	return err
}

func (r *Resolver) fromEndpoint(ctx context.Context, id, base string, e v1alpha1.ClusterURLEndpoint) (*resolved, error) {
	if err := checkURL(e.URL, "spec.endpoint.url of "+id, e.AllowInsecureHTTP, "spec.endpoint.allowInsecureHTTP"); err != nil {
		return nil, err
	}
	cfg := elasticsearch.Config{URL: e.URL, AllowInsecureHTTP: e.AllowInsecureHTTP}
	credName := types.NamespacedName{Namespace: e.CredentialsSecretRef.Namespace, Name: e.CredentialsSecretRef.Name}
	s, err := r.secret(ctx, credName, "spec.endpoint.credentialsSecretRef of "+id)
	if err != nil {
		return nil, err
	}
	version := string(s.UID) + "/" + s.ResourceVersion
	switch e.CredentialsType {
	case v1alpha1.CredentialsBasic, "":
		user, pass := s.Data["username"], s.Data["password"]
		if len(user) == 0 || len(pass) == 0 {
			return nil, fmt.Errorf("the Secret %s must hold the keys username and password for credentialsType Basic (spec.endpoint.credentialsSecretRef of %s)", credName, id)
		}
		cfg.Username, cfg.Password = string(user), string(pass)
	case v1alpha1.CredentialsAPIKey:
		key := s.Data["api_key"]
		if len(key) == 0 {
			return nil, fmt.Errorf("the Secret %s must hold the key api_key for credentialsType APIKey (spec.endpoint.credentialsSecretRef of %s)", credName, id)
		}
		cfg.APIKey = string(key)
	default:
		return nil, fmt.Errorf("spec.endpoint.credentialsType %q of %s is not supported: use Basic or APIKey", e.CredentialsType, id)
	}
	if e.CASecretRef != nil {
		k := e.CASecretRef.Key
		if k == "" {
			k = defaultCAKey
		}
		ca, caVersion, err := r.secretValue(ctx, types.NamespacedName{Namespace: e.CASecretRef.Namespace, Name: e.CASecretRef.Name}, k,
			"spec.endpoint.caSecretRef of "+id+" names it")
		if err != nil {
			return nil, err
		}
		cfg.CACert = ca
		version += "|" + caVersion
	}
	if e.TLS != nil {
		cfg.CertificateFingerprint = e.TLS.CertificateFingerprint
		cfg.InsecureSkipVerify = e.TLS.InsecureSkipVerify
	}
	return &resolved{cfg: cfg, key: base, version: version}, nil
}

// secret reads a Secret, or reuses the one read less than SecretReuse ago.
// The caller must not change it.
func (r *Resolver) secret(ctx context.Context, name types.NamespacedName, why string) (*corev1.Secret, error) {
	return r.secretFresh(ctx, name, why, false)
}

// secretFresh is secret, reading the Secret again when fresh.
func (r *Resolver) secretFresh(ctx context.Context, name types.NamespacedName, why string, fresh bool) (*corev1.Secret, error) {
	r.mu.Lock()
	read, ok := r.secrets[name]
	r.mu.Unlock()
	if ok && !fresh && time.Since(read.at) < r.reuse {
		return read.secret, nil
	}
	s := &corev1.Secret{}
	if err := r.kube.Get(ctx, name, s); err != nil {
		if kerrors.IsNotFound(err) {
			return nil, &secretNotFoundError{msg: fmt.Sprintf("cannot get Secret %s: not found (%s)", name, why), err: err}
		}
		return nil, fmt.Errorf("cannot get Secret %s: %w", name, err)
	}
	r.mu.Lock()
	r.secrets[name] = readSecret{secret: s, at: time.Now()}
	r.mu.Unlock()
	return s, nil
}

// secretNotFoundError keeps the API server's not-found error for
// kerrors.IsNotFound, with a message that says which reference to fix.
type secretNotFoundError struct {
	msg string
	err error
}

func (e *secretNotFoundError) Error() string { return e.msg }
func (e *secretNotFoundError) Unwrap() error { return e.err }

// secretValue returns one key of a Secret and the Secret's version. Its
// errors name the Secret and the key, never a value.
func (r *Resolver) secretValue(ctx context.Context, name types.NamespacedName, key, why string) ([]byte, string, error) {
	return r.secretValueFresh(ctx, name, key, why, false)
}

func (r *Resolver) secretValueFresh(ctx context.Context, name types.NamespacedName, key, why string, fresh bool) ([]byte, string, error) {
	s, err := r.secretFresh(ctx, name, why, fresh)
	if err != nil {
		return nil, "", err
	}
	v := s.Data[key]
	if len(v) == 0 {
		return nil, "", fmt.Errorf("the Secret %s has no key %s", name, key)
	}
	return v, string(s.UID) + "/" + s.ResourceVersion, nil
}

// checkURL rejects a URL that would carry credentials into logs and errors,
// or send them in clear without allowHTTP (the field httpField). Its errors
// never quote a URL that did not parse, since url.Parse's own errors quote
// it whole, password included.
func checkURL(raw, field string, allowHTTP bool, httpField string) error {
	u, err := url.Parse(raw)
	switch {
	case err != nil:
		return fmt.Errorf("%s is not a valid URL: use https://host:9200", field)
	case u.User != nil:
		return fmt.Errorf("%s must not hold credentials: put them in the credentials Secret", field)
	case (u.Scheme != "http" && u.Scheme != "https") || u.Host == "":
		return fmt.Errorf("%s %q is not an http(s) URL: use https://host:9200", field, u.Redacted())
	case u.RawQuery != "" || u.Fragment != "":
		return fmt.Errorf("%s %q must not hold a query or a fragment: use https://host:9200", field, u.Scheme+"://"+u.Host+u.Path)
	case u.Scheme == "http" && !allowHTTP:
		return fmt.Errorf("%s %q uses http://, which would send the credentials in clear: use https://, or set %s: true to accept that", field, u.Redacted(), httpField)
	}
	return nil
}
