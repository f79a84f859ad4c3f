package tenant

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/crossplane/crossplane-runtime/v2/pkg/resource"
	xpv2 "github.com/crossplane/crossplane/apis/v2/core/v2"
	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	kerrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/eslink/eslink/apis"
	commonv1alpha1 "github.com/eslink/eslink/apis/common/v1alpha1"
	"github.com/eslink/eslink/internal/linkrules"
	"github.com/eslink/eslink/test/controlplane"
	"github.com/eslink/eslink/test/e2e/harness"
	"github.com/eslink/eslink/test/fakeelasticsearch/esfake"
)

const (
	// poll is the provider's poll interval: short, so a case settles in a
	// few seconds.
	poll = time.Second
	// settle bounds every wait for the provider.
	settle = 45 * time.Second

	// tenantNS is the attacking team's namespace; tenantUser its
	// developer, whose Role there is far too broad.
	tenantNS   = "tenant"
	tenantUser = "tenant-developer"
	// victimNS is another team's namespace, which the platform team
	// serves too.
	victimNS = "victim"

	elasticPassword = "Elastic-Tenant-Suite-Pa55"
	esVersion       = "9.3.2"
)

// The suite's shared pieces: one control plane and one provider process
// for every test, which create their own clusters, fakes and resources.
var (
	admin  client.Client
	tenant client.Client
	prov   *harness.Provider
)

func TestMain(m *testing.M) { os.Exit(run(m)) }

// run starts the control plane and the provider around the tests. It is
// controlplane.Main plus the provider process, which must be stopped
// before the test binary exits.
func run(m *testing.M) int {
	ctrllog.SetLogger(logr.Discard())
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	stop, err := start(ctx)
	defer stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	code := m.Run()
	if code != 0 {
		log := prov.Log()
		if len(log) > 20000 {
			log = log[len(log)-20000:]
		}
		fmt.Fprintf(os.Stderr, "provider log (tail):\n%s\n", log)
	}
	return code
}

func start(ctx context.Context) (func(), error) {
	var stops []func()
	stop := func() {
		for i := len(stops) - 1; i >= 0; i-- {
			stops[i]()
		}
	}
	root, err := controlplane.RepoRoot()
	if err != nil {
		return stop, err
	}
	bin, err := harness.BuildProvider(ctx, root)
	if err != nil {
		return stop, err
	}
	env, err := controlplane.Start(ctx, controlplane.WithScheme(apis.AddToScheme))
	if err != nil {
		return stop, err
	}
	stops = append(stops, func() { _ = env.Stop() })
	admin = env.Client

	if err := seedTenant(ctx); err != nil {
		return stop, err
	}
	cfg := rest.CopyConfig(env.Config)
	cfg.Impersonate = rest.ImpersonationConfig{UserName: tenantUser}
	if tenant, err = client.New(cfg, client.Options{Scheme: env.Scheme}); err != nil {
		return stop, fmt.Errorf("cannot create the tenant's client: %w", err)
	}

	logDir, err := os.MkdirTemp("", "eslink-tenant-")
	if err != nil {
		return stop, err
	}
	stops = append(stops, func() { _ = os.RemoveAll(logDir) })
	pctx, pcancel := context.WithCancel(context.Background())
	stops = append(stops, pcancel)
	if prov, err = harness.RunProvider(pctx, bin, logDir, env.Config, poll, "--max-reconcile-rate", "100"); err != nil {
		return stop, err
	}
	stops = append(stops, prov.Stop)
	return stop, nil
}

// seedTenant creates the teams' namespaces and the RBAC mistake: a Role that
// lets the tenant's developer do anything with eslink's managed resources,
// namespaced provider configs, Secrets and Events in its namespace. It has
// no rights on Elasticsearch objects or cluster-wide provider configs.
func seedTenant(ctx context.Context) error {
	for _, ns := range []string{tenantNS, victimNS} {
		if err := admin.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}); err != nil {
			return fmt.Errorf("cannot create namespace %s: %w", ns, err)
		}
	}
	role := &rbacv1.Role{
		ObjectMeta: metav1.ObjectMeta{Namespace: tenantNS, Name: "everything-eslink"},
		Rules: []rbacv1.PolicyRule{
			{APIGroups: []string{"eck.m.eslink.io", "elasticsearch.m.eslink.io", "m.eslink.io"}, Resources: []string{"*"}, Verbs: []string{"*"}},
			{APIGroups: []string{""}, Resources: []string{"secrets", "events", "configmaps"}, Verbs: []string{"*"}},
		},
	}
	binding := &rbacv1.RoleBinding{
		ObjectMeta: metav1.ObjectMeta{Namespace: tenantNS, Name: "everything-eslink"},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: role.Name},
		Subjects:   []rbacv1.Subject{{APIGroup: rbacv1.GroupName, Kind: rbacv1.UserKind, Name: tenantUser}},
	}
	for _, o := range []client.Object{role, binding} {
		if err := admin.Create(ctx, o); err != nil {
			return fmt.Errorf("cannot create %T %s: %w", o, o.GetName(), err)
		}
	}
	return nil
}

var seq atomic.Int64

// unique returns prefix with a suffix unique in this run, for the names of
// cluster-scoped objects and namespaces that tests create.
func unique(prefix string) string {
	return fmt.Sprintf("%s-%d", prefix, seq.Add(1))
}

// adminNamespace creates a namespace for a test's clusters.
func adminNamespace(t *testing.T, prefix string) string {
	t.Helper()
	ns := unique(prefix)
	if err := admin.Create(t.Context(), &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}); err != nil {
		t.Fatal(err)
	}
	return ns
}

// cluster is an ECK Elasticsearch object the platform team owns. A remote
// has a fake Elasticsearch behind it, the Secrets ECK keeps for it, and an
// ECK-mode ClusterProviderConfig fixed to it (Config) that every namespace
// may use: the cluster's own grants decide.
type cluster struct {
	NS, Name string
	Fake     *esfake.Server
	Config   string
}

func (c *cluster) ref() commonv1alpha1.ElasticsearchReference {
	return commonv1alpha1.ElasticsearchReference{Namespace: c.NS, Name: c.Name}
}

func (c *cluster) String() string { return c.NS + "/" + c.Name }

// newCluster creates an ECK cluster with these grants; remote gives it a
// fake and its provider config.
func newCluster(t *testing.T, ns, name string, grants map[string]string, remote bool) *cluster {
	t.Helper()
	ctx := t.Context()
	es := linkrules.NewElasticsearch()
	es.SetNamespace(ns)
	es.SetName(name)
	es.SetAnnotations(grants)
	es.Object["spec"] = map[string]any{"version": esVersion, "nodeSets": []any{map[string]any{"name": "default", "count": int64(1)}}}
	if err := admin.Create(ctx, es); err != nil {
		t.Fatalf("cannot create Elasticsearch %s/%s: %v", ns, name, err)
	}
	es.Object["status"] = map[string]any{"version": esVersion, "phase": "Ready", "health": "green"}
	if err := admin.Status().Update(ctx, es); err != nil {
		t.Fatalf("cannot write the status of Elasticsearch %s/%s: %v", ns, name, err)
	}
	c := &cluster{NS: ns, Name: name}
	if !remote {
		return c
	}
	c.Fake = esfake.NewServer(t, esfake.Options{TLS: true, ClusterName: name, Users: []esfake.User{{Name: "elastic", Password: elasticPassword}}})
	for _, s := range []*corev1.Secret{
		{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name + "-es-elastic-user"}, Data: map[string][]byte{"elastic": []byte(elasticPassword)}},
		{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name + "-es-http-certs-public"}, Data: map[string][]byte{"ca.crt": c.Fake.CACertPEM}},
	} {
		if err := admin.Create(ctx, s); err != nil {
			t.Fatal(err)
		}
	}
	c.Config = "eck-" + ns + "-" + name
	clusterConfig(t, c.Config, map[string]any{
		"allowedNamespaces": []any{"*"},
		"eck":               map[string]any{"elasticsearchRef": map[string]any{"name": name, "namespace": ns}, "urlOverride": c.Fake.URL},
	})
	return c
}

// clusterConfig creates a ClusterProviderConfig, as the platform team does.
func clusterConfig(t *testing.T, name string, spec map[string]any) {
	t.Helper()
	pc := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "m.eslink.io/v1alpha1", "kind": "ClusterProviderConfig",
		"metadata": map[string]any{"name": name},
		"spec":     spec,
	}}
	if err := admin.Create(t.Context(), pc); err != nil {
		t.Fatalf("cannot create ClusterProviderConfig %s: %v", name, err)
	}
}

func getES(t *testing.T, c *cluster) *unstructured.Unstructured {
	t.Helper()
	es := linkrules.NewElasticsearch()
	if err := admin.Get(t.Context(), types.NamespacedName{Namespace: c.NS, Name: c.Name}, es); err != nil {
		t.Fatal(err)
	}
	return es
}

// setGrants replaces a cluster's grant annotations, as the platform team
// does when it revokes one.
func setGrants(t *testing.T, c *cluster, grants map[string]string) {
	t.Helper()
	es := getES(t, c)
	if err := controlplane.Update(t.Context(), admin, es, func() error {
		a := es.GetAnnotations()
		for k := range a {
			if strings.HasPrefix(k, "eslink.io/allow") {
				delete(a, k)
			}
		}
		if a == nil {
			a = map[string]string{}
		}
		for k, v := range grants {
			a[k] = v
		}
		es.SetAnnotations(a)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
}

// versions records the resourceVersion of each cluster's object, to prove
// that nothing wrote them.
func versions(t *testing.T, cs ...*cluster) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, c := range cs {
		out[c.String()] = getES(t, c).GetResourceVersion()
	}
	return out
}

// writes lists the requests that changed something on fake.
func writes(fake *esfake.Server) []string {
	var out []string
	for _, r := range fake.Requests() {
		switch {
		case r.Method == http.MethodGet, r.Method == http.MethodHead, r.Endpoint == "POST /_security/_query/api_key":
			continue
		}
		out = append(out, r.Method+" "+r.Path)
	}
	return out
}

// waitFor polls cond until it holds, failing t with cond's last
// explanation after settle.
func waitFor(t *testing.T, what string, cond func() (bool, string)) {
	t.Helper()
	var last string
	err := wait.PollUntilContextTimeout(t.Context(), 200*time.Millisecond, settle, true, func(context.Context) (bool, error) {
		ok, why := cond()
		last = why
		return ok, nil
	})
	if err != nil {
		t.Fatalf("waiting for %s: %v; last state: %s", what, err, last)
	}
}

// fresh reads mg again, as the admin, into a new object.
func fresh(t *testing.T, mg resource.Managed) (resource.Managed, bool) {
	t.Helper()
	got, ok := mg.DeepCopyObject().(resource.Managed)
	if !ok {
		t.Fatalf("%T is not a managed resource", mg)
	}
	if err := admin.Get(t.Context(), client.ObjectKeyFromObject(mg), got); err != nil {
		if kerrors.IsNotFound(err) {
			return nil, false
		}
		t.Fatal(err)
	}
	return got, true
}

func conditions(mg resource.Managed) string {
	var parts []string
	for _, typ := range []xpv2.ConditionType{xpv2.TypeReady, xpv2.TypeSynced} {
		c := mg.GetCondition(typ)
		parts = append(parts, fmt.Sprintf("%s=%s (%s): %s", typ, c.Status, c.Reason, c.Message))
	}
	return strings.Join(parts, "; ")
}

// waitDenied waits until the provider refused mg: Ready and Synced False,
// and a condition message holding every one of want (the field and the
// grant to ask for). It returns that message.
func waitDenied(t *testing.T, mg resource.Managed, want ...string) string {
	t.Helper()
	return waitRefused(t, mg, strings.Join(want, ", "), func(msg string) bool { return containsAll(msg, want) })
}

// waitRefused waits until mg is Ready and Synced False, with a condition
// message that says (described by what) what it should. It returns that
// message.
func waitRefused(t *testing.T, mg resource.Managed, what string, says func(string) bool) string {
	t.Helper()
	var msg string
	waitFor(t, fmt.Sprintf("%T %s/%s to be refused, saying %s", mg, mg.GetNamespace(), mg.GetName(), what), func() (bool, string) {
		var ok bool
		msg, ok = refused(t, mg, says)
		return ok, msg
	})
	return msg
}

// refused reports whether mg is Ready and Synced False now, with a
// condition message that says what it should, and returns that message, or
// what mg says instead.
func refused(t *testing.T, mg resource.Managed, says func(string) bool) (string, bool) {
	t.Helper()
	got, ok := fresh(t, mg)
	if !ok {
		return "not found", false
	}
	ready, synced := got.GetCondition(xpv2.TypeReady), got.GetCondition(xpv2.TypeSynced)
	if ready.Status != corev1.ConditionFalse || synced.Status != corev1.ConditionFalse {
		return conditions(got), false
	}
	for _, m := range []string{ready.Message, synced.Message} {
		if says(m) {
			return m, true
		}
	}
	return conditions(got), false
}

func containsAll(s string, subs []string) bool {
	for _, sub := range subs {
		if !strings.Contains(s, sub) {
			return false
		}
	}
	return true
}

// waitReady waits until mg is Ready.
func waitReady(t *testing.T, mg resource.Managed) {
	t.Helper()
	waitFor(t, fmt.Sprintf("%T %s/%s to be Ready", mg, mg.GetNamespace(), mg.GetName()), func() (bool, string) {
		got, ok := fresh(t, mg)
		if !ok {
			return false, "not found"
		}
		return got.GetCondition(xpv2.TypeReady).Status == corev1.ConditionTrue, conditions(got)
	})
}

// pointAt switches mg's provider config to kind/name as c, the way a team
// edits its own resource while the provider writes its status.
func pointAt(t *testing.T, c client.Client, mg resource.ModernManaged, kind, name string) {
	t.Helper()
	if err := controlplane.Update(t.Context(), c, mg, func() error {
		mg.SetProviderConfigReference(&xpv2.ProviderConfigReference{Kind: kind, Name: name})
		return nil
	}); err != nil {
		t.Fatal(err)
	}
}

// deleteAndWait deletes mg as c and waits until it is gone.
func deleteAndWait(t *testing.T, c client.Client, mg resource.Managed) {
	t.Helper()
	if err := c.Delete(t.Context(), mg); err != nil && !kerrors.IsNotFound(err) {
		t.Fatal(err)
	}
	waitFor(t, fmt.Sprintf("%T %s/%s to be gone", mg, mg.GetNamespace(), mg.GetName()), func() (bool, string) {
		got, ok := fresh(t, mg)
		if !ok {
			return true, ""
		}
		return false, conditions(got)
	})
}

// events lists the events about the object named name in ns, as
// "Type Reason: message".
func events(t *testing.T, ns, name string) []string {
	t.Helper()
	var list corev1.EventList
	if err := admin.List(t.Context(), &list, client.InNamespace(ns)); err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range list.Items {
		if e.InvolvedObject.Name == name {
			out = append(out, e.Type+" "+e.Reason+": "+e.Message)
		}
	}
	slices.Sort(out)
	return out
}
