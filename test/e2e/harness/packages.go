package harness

import (
	"context"
	"fmt"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	extv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	kerrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/util/retry"
	"sigs.k8s.io/controller-runtime/pkg/client"

	xpv2 "github.com/crossplane/crossplane/apis/v2/core/v2"
	pkgv1 "github.com/crossplane/crossplane/apis/v2/pkg/v1"
)

// Names of eslink's packages, as `make xpkg` builds them and
// examples/install installs them.
const (
	// PackagePrefix is the canonical prefix of eslink's package names; the
	// Configuration's dependencies name the Provider and Function under it.
	PackagePrefix = "xpkg.crossplane.io/eslink/"
	// PackageVersion is the tag `make xpkg` builds by default.
	PackageVersion = "v0.1.0"

	ProviderName      = "provider-eslink"
	FunctionName      = "function-eslink"
	ConfigurationName = "configuration-eslink"
)

var (
	providerGVK      = pkgv1.SchemeGroupVersion.WithKind(pkgv1.ProviderKind)
	functionGVK      = pkgv1.SchemeGroupVersion.WithKind(pkgv1.FunctionKind)
	configurationGVK = pkgv1.SchemeGroupVersion.WithKind(pkgv1.ConfigurationKind)
	providerRevGVK   = pkgv1.SchemeGroupVersion.WithKind(pkgv1.ProviderRevisionKind)
	functionRevGVK   = pkgv1.SchemeGroupVersion.WithKind(pkgv1.FunctionRevisionKind)
	// installFiles are what docs/install.md applies, in order.
	installFiles = []string{"examples/rbac/provider-eslink.yaml", "examples/install/imageconfig.yaml",
		"examples/install/provider-and-function.yaml", "examples/install/configuration.yaml"}
)

// packageFiles are the xpkgs `make xpkg` writes, by package name.
func packageFiles(root string, legacy bool) map[string]string {
	cfg := "configuration-eslink-namespaced"
	if legacy {
		cfg = "configuration-eslink-legacy"
	}
	dir := filepath.Join(root, "bin", "xpkg")
	return map[string]string{
		ProviderName: filepath.Join(dir, ProviderName+".xpkg"),
		FunctionName: filepath.Join(dir, FunctionName+".xpkg"),
		cfg:          filepath.Join(dir, cfg+".xpkg"),
	}
}

// runtimeBinary is a binary `make xpkg` embedded as a package's runtime.
func runtimeBinary(root, name string) string {
	return filepath.Join(root, "bin", "xpkg", "linux_"+runtime.GOARCH, name)
}

// installManifests reads installFiles as a platform team applies them,
// pointed at the harness's registry and at the chosen configuration.
func installManifests(root, registryHost string, legacy bool) (pre, packages []*unstructured.Unstructured, err error) {
	for _, f := range installFiles {
		docs, err := readYAMLDocs(filepath.Join(root, f))
		if err != nil {
			return nil, nil, err
		}
		for _, d := range docs {
			u := &unstructured.Unstructured{Object: d}
			switch u.GetKind() {
			case "ImageConfig":
				if err := unstructured.SetNestedField(u.Object, registryHost+"/eslink/", "spec", "rewriteImage", "prefix"); err != nil {
					return nil, nil, fmt.Errorf("cannot point ImageConfig %s at the registry: %w", u.GetName(), err)
				}
				pre = append(pre, u)
			case pkgv1.ProviderKind, pkgv1.FunctionKind, pkgv1.ConfigurationKind:
				pkg, _, _ := unstructured.NestedString(u.Object, "spec", "package")
				if !strings.HasPrefix(pkg, PackagePrefix) || !strings.HasSuffix(pkg, ":"+PackageVersion) {
					return nil, nil, fmt.Errorf("%s: %s %s installs %q, want %s...:%s", f, u.GetKind(), u.GetName(), pkg, PackagePrefix, PackageVersion)
				}
				if u.GetKind() == pkgv1.ConfigurationKind && legacy {
					pkg = strings.Replace(pkg, "configuration-eslink-namespaced", "configuration-eslink-legacy", 1)
					_ = unstructured.SetNestedField(u.Object, pkg, "spec", "package")
				}
				packages = append(packages, u)
			default:
				pre = append(pre, u)
			}
		}
	}
	if len(packages) != 3 {
		return nil, nil, fmt.Errorf("examples/install installs %d packages, want a Provider, a Function and a Configuration", len(packages))
	}
	return pre, packages, nil
}

// install pushes the packages to the registry and installs them as a
// platform team does, then plays the External package runtime: it runs the
// function and the provider and reports them to Crossplane.
func (h *Harness) install(ctx, pctx context.Context, legacy bool, kubeconfig string, progress func(string, ...any), providerArgs ...string) error {
	tool := filepath.Join(h.Root, "bin", "eslink-xpkg")
	files := packageFiles(h.pkgRoot, legacy)
	pushed := make([]string, 0, len(files))
	for name, file := range files {
		ref := h.registry.Host + "/eslink/" + name + ":" + PackageVersion
		if err := h.registry.push(ctx, tool, file, ref); err != nil {
			return err
		}
		pushed = append(pushed, name)
	}
	progress("pushed %s to the registry at https://%s/eslink (TLS; Crossplane trusts its CA through --ca-bundle-path)", strings.Join(slices.Sorted(slices.Values(pushed)), ", "), h.registry.Host)

	pre, pkgs, err := installManifests(h.pkgRoot, h.registry.Host, legacy)
	if err != nil {
		return err
	}
	for _, o := range pre {
		if err := h.Kube.Create(ctx, o); err != nil && !kerrors.IsAlreadyExists(err) {
			return fmt.Errorf("cannot create %s %s: %w", o.GetKind(), o.GetName(), err)
		}
	}
	// The Provider and the Function first: the Configuration depends on
	// them by package name, and Crossplane installs a dependency it does not
	// find in its lock by itself, under another name.
	var cfg *unstructured.Unstructured
	for _, o := range pkgs {
		if o.GetKind() == pkgv1.ConfigurationKind {
			cfg = o
			continue
		}
		if err := h.Kube.Create(ctx, o); err != nil {
			return fmt.Errorf("cannot create %s %s: %w", o.GetKind(), o.GetName(), err)
		}
	}

	wctx, cancel := context.WithTimeout(ctx, 3*time.Minute)
	defer cancel()
	fnAddr, err := h.runFunction(wctx, pctx, "function")
	if err != nil {
		return err
	}
	progress("function-eslink serving with mTLS on %s, certificate issued by Crossplane's CA; endpoint set on its FunctionRevision (log %s)", fnAddr, h.function.log)
	if err := h.runProvider(wctx, pctx, kubeconfig, providerArgs...); err != nil {
		return err
	}
	progress("provider-eslink running against the API server (log %s)", h.provider.log)
	for _, gvk := range []schema.GroupVersionKind{providerGVK, functionGVK} {
		name := ProviderName
		if gvk == functionGVK {
			name = FunctionName
		}
		if err := h.waitPackage(wctx, gvk, name); err != nil {
			return err
		}
	}

	if err := h.Kube.Create(ctx, cfg); err != nil {
		return fmt.Errorf("cannot create Configuration %s: %w", cfg.GetName(), err)
	}
	if err := h.waitPackage(wctx, configurationGVK, ConfigurationName); err != nil {
		return err
	}
	// What the packages define must be served before anyone uses it: the
	// XRD's composite (and claim) CRD, and the provider's managed resource
	// kinds, which the Configuration's activation policy activates.
	crds := []string{"xremoteclusterlinks.eslink.io", "remoteclusterentries.eck.m.eslink.io",
		"remoteclusterservers.eck.m.eslink.io", "crossclusterapikeys.elasticsearch.m.eslink.io", "clusterproviderconfigs.m.eslink.io"}
	if legacy {
		crds = append(crds, "remoteclusterlinks.eslink.io")
	}
	for _, n := range crds {
		if err := h.waitCRD(wctx, n); err != nil {
			return err
		}
	}
	mode := "namespaced XRD"
	if legacy {
		mode = "legacy XRD with RemoteClusterLink claims"
	}
	progress("installed Provider %s, Function %s and Configuration %s (%s): Healthy; dependencies resolved, managed resource kinds activated",
		ProviderName, FunctionName, ConfigurationName, mode)
	return nil
}

// activeRevision waits for the package's active revision and returns it.
// When healthy is set, it also waits until Crossplane has established the
// revision's objects (RevisionHealthy).
func (h *Harness) activeRevision(ctx context.Context, gvk schema.GroupVersionKind, pkg string, healthy bool) (*unstructured.Unstructured, error) {
	var last string
	for {
		l := &unstructured.UnstructuredList{}
		l.SetGroupVersionKind(gvk.GroupVersion().WithKind(gvk.Kind + "List"))
		err := h.Kube.List(ctx, l, client.MatchingLabels{pkgv1.LabelParentPackage: pkg})
		if err != nil {
			last = err.Error()
		}
		for i := range l.Items {
			r := &l.Items[i]
			if s, _, _ := unstructured.NestedString(r.Object, "spec", "desiredState"); s != string(pkgv1.PackageRevisionActive) {
				continue
			}
			st, _, msg := Condition(r, string(pkgv1.TypeRevisionHealthy))
			if !healthy || st == "True" {
				return r, nil
			}
			last = fmt.Sprintf("%s %s: RevisionHealthy=%s %s", gvk.Kind, r.GetName(), st, msg)
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("no active %s of %s (last: %s): %w", gvk.Kind, pkg, last, ctx.Err())
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// prepareRuntime does what Crossplane's Deployment runtime does before a
// revision's objects can be established, and the External runtime leaves to
// whoever runs the package: it issues the package's server certificate from
// Crossplane's CA into the Secret <package>-tls-server (or keeps the one an
// earlier revision got) and records that Secret on the active revision. It returns the revision and the Secret's
// data (tls.crt, tls.key and ca.crt, the CA that also signed Crossplane's
// client certificate).
func (h *Harness) prepareRuntime(ctx context.Context, gvk schema.GroupVersionKind, pkg string) (*unstructured.Unstructured, map[string][]byte, error) {
	rev, err := h.activeRevision(ctx, gvk, pkg, false)
	if err != nil {
		return nil, nil, err
	}
	ca := &corev1.Secret{}
	if err := h.Kube.Get(ctx, client.ObjectKey{Namespace: CrossplaneNamespace, Name: rootCASecret}, ca); err != nil {
		return nil, nil, fmt.Errorf("cannot read Crossplane's CA: %w", err)
	}
	signer, err := loadCertAuthority(ca.Data[corev1.TLSCertKey], ca.Data[corev1.TLSPrivateKeyKey])
	if err != nil {
		return nil, nil, fmt.Errorf("cannot use Crossplane's CA: %w", err)
	}
	crt, key, err := signer.issue(pkg)
	if err != nil {
		return nil, nil, err
	}
	name := *pkgv1.GetSecretNameWithSuffix(pkg, pkgv1.TLSServerSecretNameSuffix)
	sec := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Namespace: CrossplaneNamespace, Name: name},
		Type:       corev1.SecretTypeTLS,
		Data:       map[string][]byte{corev1.TLSCertKey: crt, corev1.TLSPrivateKeyKey: key, "ca.crt": signer.certPEM},
	}
	if err := h.Kube.Create(ctx, sec); kerrors.IsAlreadyExists(err) {
		err = h.Kube.Get(ctx, client.ObjectKeyFromObject(sec), sec)
		if err != nil {
			return nil, nil, fmt.Errorf("cannot read Secret %s/%s: %w", CrossplaneNamespace, name, err)
		}
	} else if err != nil {
		return nil, nil, fmt.Errorf("cannot create Secret %s/%s: %w", CrossplaneNamespace, name, err)
	}
	err = h.updateRevisionStatus(ctx, rev, func(cur *unstructured.Unstructured) error {
		return unstructured.SetNestedField(cur.Object, name, "status", "tlsServerSecretName")
	})
	if err != nil {
		return nil, nil, fmt.Errorf("cannot record the TLS Secret on %s %s: %w", gvk.Kind, rev.GetName(), err)
	}
	return rev, sec.Data, nil
}

// runFunction plays the External runtime for the function: it serves the
// function's binary with its server certificate (Crossplane dials functions
// with mTLS and checks it against its CA), sets the active FunctionRevision's
// endpoint and reports it healthy. It returns the address; name names
// the process's log.
func (h *Harness) runFunction(ctx, pctx context.Context, name string) (string, error) {
	rev, certs, err := h.prepareRuntime(ctx, functionRevGVK, FunctionName)
	if err != nil {
		return "", err
	}
	// In a pod the Secret is mounted where TLS_SERVER_CERTS_DIR points.
	dir := filepath.Join(h.LogDir, "function-tls")
	if err := writeFiles(dir, certs, corev1.TLSCertKey, corev1.TLSPrivateKeyKey, "ca.crt"); err != nil {
		return "", err
	}
	port, err := freePort()
	if err != nil {
		return "", err
	}
	addr := "127.0.0.1:" + strconv.Itoa(port)
	h.function, err = start(pctx, h.LogDir, name, runtimeBinary(h.pkgRoot, "function"),
		[]string{"TLS_SERVER_CERTS_DIR=" + dir}, "--address", addr, "--debug")
	if err != nil {
		return "", err
	}
	if err := waitForPort(ctx, h.function, addr); err != nil {
		return "", err
	}
	err = h.updateRevisionStatus(ctx, rev, func(cur *unstructured.Unstructured) error {
		if err := unstructured.SetNestedField(cur.Object, addr, "status", "endpoint"); err != nil {
			return err
		}
		return setCondition(cur, pkgv1.RuntimeHealthy())
	})
	if err != nil {
		return "", fmt.Errorf("cannot report the function's endpoint: %w", err)
	}
	return addr, nil
}

// runProvider plays the External runtime for the provider: once Crossplane
// has installed the provider's CRDs and managed resource definitions, it
// runs the provider's binary against the API server and reports it healthy.
func (h *Harness) runProvider(ctx, pctx context.Context, kubeconfig string, args ...string) error {
	if _, _, err := h.prepareRuntime(ctx, providerRevGVK, ProviderName); err != nil {
		return err
	}
	rev, err := h.activeRevision(ctx, providerRevGVK, ProviderName, true)
	if err != nil {
		return err
	}
	h.providerArgs = append([]string{"--kubeconfig", kubeconfig, "--poll", ProviderPoll.String(), "--debug"}, args...)
	if h.provider, err = h.startProvider(ctx, pctx, "provider"); err != nil {
		return err
	}
	err = h.updateRevisionStatus(ctx, rev, func(cur *unstructured.Unstructured) error {
		return setCondition(cur, pkgv1.RuntimeHealthy())
	})
	if err != nil {
		return fmt.Errorf("cannot report the provider healthy: %w", err)
	}
	return nil
}

// startProvider runs a provider process named name (its log is
// name.log) with the flags of the installed provider and ports of its own,
// and waits until it is ready.
func (h *Harness) startProvider(ctx, pctx context.Context, name string) (*process, error) {
	ports := make([]int, 2)
	for i := range ports {
		var err error
		if ports[i], err = freePort(); err != nil {
			return nil, err
		}
	}
	// The provider reaches the clusters' Services through the harness's
	// network, as from a pod (see serviceProxy).
	proxyEnv := []string{"HTTPS_PROXY=" + h.proxy.URL(), "https_proxy=" + h.proxy.URL(), "NO_PROXY=", "no_proxy="}
	p, err := start(pctx, h.LogDir, name, runtimeBinary(h.pkgRoot, "provider"), proxyEnv, append(slices.Clone(h.providerArgs),
		"--metrics-bind-address", "127.0.0.1:"+strconv.Itoa(ports[0]),
		"--health-probe-bind-address", "127.0.0.1:"+strconv.Itoa(ports[1]))...)
	if err != nil {
		return nil, err
	}
	if err := waitHealthy(ctx, p, fmt.Sprintf("http://127.0.0.1:%d/readyz", ports[1])); err != nil {
		p.stop()
		return nil, fmt.Errorf("%s not ready: %w", name, err)
	}
	return p, nil
}

// updateRevisionStatus applies fn to the revision's latest state and writes
// its status, retrying on conflict with Crossplane's own status updates.
func (h *Harness) updateRevisionStatus(ctx context.Context, rev *unstructured.Unstructured, fn func(*unstructured.Unstructured) error) error {
	return retry.RetryOnConflict(retry.DefaultRetry, func() error {
		cur := &unstructured.Unstructured{}
		cur.SetGroupVersionKind(rev.GroupVersionKind())
		if err := h.Kube.Get(ctx, client.ObjectKeyFromObject(rev), cur); err != nil {
			return err
		}
		if err := fn(cur); err != nil {
			return err
		}
		return h.Kube.Status().Update(ctx, cur)
	})
}

// setCondition sets a condition of u's status, replacing one of its type.
func setCondition(u *unstructured.Unstructured, c xpv2.Condition) error {
	conds, _, _ := unstructured.NestedSlice(u.Object, "status", "conditions")
	out := make([]any, 0, len(conds)+1)
	for _, o := range conds {
		if m, ok := o.(map[string]any); ok && m["type"] == string(c.Type) {
			continue
		}
		out = append(out, o)
	}
	out = append(out, map[string]any{
		"type": string(c.Type), "status": string(c.Status), "reason": string(c.Reason),
		"lastTransitionTime": c.LastTransitionTime.UTC().Format(time.RFC3339),
	})
	return unstructured.SetNestedSlice(u.Object, out, "status", "conditions")
}

// waitPackage waits until a package is Installed and Healthy.
func (h *Harness) waitPackage(ctx context.Context, gvk schema.GroupVersionKind, name string) error {
	u := &unstructured.Unstructured{}
	u.SetGroupVersionKind(gvk)
	u.SetName(name)
	err := h.waitObject(ctx, u, func(o *unstructured.Unstructured) bool {
		inst, _, _ := Condition(o, string(pkgv1.TypeInstalled))
		healthy, _, _ := Condition(o, string(pkgv1.TypeHealthy))
		return inst == "True" && healthy == "True"
	})
	if err != nil {
		return fmt.Errorf("%s %s is not Installed and Healthy: %w", gvk.Kind, name, err)
	}
	return nil
}

// waitCRD waits until a CRD is established, i.e. served.
func (h *Harness) waitCRD(ctx context.Context, name string) error {
	for {
		crd := &extv1.CustomResourceDefinition{}
		err := h.Kube.Get(ctx, client.ObjectKey{Name: name}, crd)
		if err == nil {
			for _, c := range crd.Status.Conditions {
				if c.Type == extv1.Established && c.Status == extv1.ConditionTrue {
					return nil
				}
			}
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("CRD %s is not established: %w", name, ctx.Err())
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// waitObject polls obj until cond holds; on timeout the error carries the
// object's conditions.
func (h *Harness) waitObject(ctx context.Context, obj *unstructured.Unstructured, cond func(*unstructured.Unstructured) bool) error {
	var last *unstructured.Unstructured
	for {
		got, err := h.Get(ctx, obj)
		if err == nil {
			last = got
			if cond(got) {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			msg := "not found"
			if last != nil {
				msg = conditionsString(last)
			}
			return fmt.Errorf("%w: %s", ctx.Err(), msg)
		case <-time.After(200 * time.Millisecond):
		}
	}
}

func conditionsString(u *unstructured.Unstructured) string {
	var b strings.Builder
	conds, _, _ := unstructured.NestedSlice(u.Object, "status", "conditions")
	for _, c := range conds {
		m, _ := c.(map[string]any)
		fmt.Fprintf(&b, "%v=%v (%v) %v; ", m["type"], m["status"], m["reason"], m["message"])
	}
	return strings.TrimSuffix(b.String(), "; ")
}

// createProviderConfig creates the ECK-mode ClusterProviderConfig the
// Composition names, once the provider's CRDs are served: as in production,
// the provider reaches each cluster at the URL of ECK's HTTP Service.
func (h *Harness) createProviderConfig(ctx context.Context) error {
	pc := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "m.eslink.io/v1alpha1", "kind": "ClusterProviderConfig",
		"metadata": map[string]any{"name": "eck"},
		"spec": map[string]any{
			"eck": map[string]any{},
			// Every namespace may use it; the Elasticsearch objects' grants
			// decide which clusters a namespace reaches.
			"allowedNamespaces": []any{"*"},
		},
	}}
	if err := h.Kube.Create(ctx, pc); err != nil {
		return fmt.Errorf("cannot create ClusterProviderConfig eck: %w", err)
	}
	return nil
}

// ShortKeysComposition is the Composition the harness adds with
// Options.MinKeyLifetime.
const ShortKeysComposition = "eslink-remote-cluster-link-short-keys"

// createShortKeysComposition adds a Composition as a platform team adds
// one with other defaults (examples/input/defaults.yaml): the package's
// own, renamed, whose function input sets minimumKeyLifetime.
func (h *Harness) createShortKeysComposition(ctx context.Context, legacy bool, minimum string) error {
	flavour := "namespaced"
	if legacy {
		flavour = "legacy"
	}
	docs, err := readYAMLDocs(filepath.Join(h.Root, "package", "configuration", flavour, "composition.yaml"))
	if err != nil {
		return err
	}
	if len(docs) != 1 {
		return fmt.Errorf("package/configuration/%s/composition.yaml holds %d documents, want one Composition", flavour, len(docs))
	}
	c := &unstructured.Unstructured{Object: docs[0]}
	c.SetName(ShortKeysComposition)
	steps, _, _ := unstructured.NestedSlice(c.Object, "spec", "pipeline")
	if len(steps) != 1 {
		return fmt.Errorf("the Composition %s has %d pipeline steps, want eslink's one", ShortKeysComposition, len(steps))
	}
	if err := unstructured.SetNestedField(steps[0].(map[string]any), minimum, "input", "minimumKeyLifetime"); err != nil {
		return err
	}
	if err := unstructured.SetNestedSlice(c.Object, steps, "spec", "pipeline"); err != nil {
		return err
	}
	if err := h.Kube.Create(ctx, c); err != nil {
		return fmt.Errorf("cannot create Composition %s: %w", ShortKeysComposition, err)
	}
	return nil
}

// awaitProviderControllers waits until the provider runs a controller for
// each managed resource kind. The provider starts before the Configuration
// activates those kinds; its safe-start gate starts each controller once
// the kind's CRD is established, and a link applied before then would wait
// for it. The provider's log is the only place that says so.
func (h *Harness) awaitProviderControllers(ctx context.Context, p *process) error {
	for {
		out := p.output()
		missing := 0
		for _, k := range ComposedKinds {
			if !providerRunsController(out, k.Kind) {
				missing++
			}
		}
		if missing == 0 {
			return nil
		}
		if err := p.exitError(); err != nil {
			return fmt.Errorf("provider exited: %w", err)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("the provider runs no controller for %d of eslink's managed resource kinds (log %s): %w", missing, p.log, ctx.Err())
		case <-time.After(200 * time.Millisecond):
		}
	}
}

func providerRunsController(log, kind string) bool {
	for _, l := range strings.Split(log, "\n") {
		if strings.Contains(l, "Starting workers") && strings.Contains(l, `"controllerKind": "`+kind+`"`) {
			return true
		}
	}
	return false
}
