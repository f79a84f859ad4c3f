package harness

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/util/retry"
	"sigs.k8s.io/controller-runtime/pkg/client"

	pkgv1 "github.com/crossplane/crossplane/apis/v2/pkg/v1"
)

// Upgrade moves an installation started with Options.PackageRoot to Root's
// packages, as a platform team upgrades eslink: it pushes Root's packages
// under version and points the Provider, the Function and the
// Configuration at that version, one after the other, each once the
// previous one is Healthy on its new revision. It plays the External
// runtime for the new revisions: the new function serves before the old
// one stops; the old provider stops before the new one starts, as a
// Deployment with the Recreate strategy replaces its pod (two providers
// without leader election must never reconcile at once).
func (h *Harness) Upgrade(ctx context.Context, version string, progress func(string, ...any)) error {
	if h.pkgRoot == h.Root {
		return errors.New("the harness runs Root's packages already: start it with Options.PackageRoot to upgrade from another version")
	}
	tool := filepath.Join(h.Root, "bin", "eslink-xpkg")
	files := packageFiles(h.Root, h.legacy)
	for name, file := range files {
		if err := h.registry.push(ctx, tool, file, h.registry.Host+"/eslink/"+name+":"+version); err != nil {
			return err
		}
	}
	progress("pushed %s's packages as %s", h.Root, version)
	h.pkgRoot = h.Root

	// While a dependency changes revision it is briefly missing from
	// Crossplane's lock, and the Configuration's dependency resolution
	// would install it again under another name (seen: a second Provider
	// eslink-provider-eslink, after which no package resolves: "node ...
	// already exists"). The Configuration skips it until all are upgraded.
	if err := h.setSkipDependencyResolution(ctx, true); err != nil {
		return err
	}
	// The provider first: a newer function or Composition may render what
	// only the newer provider knows.
	oldProvider, err := h.switchPackage(ctx, providerGVK, providerRevGVK, ProviderName, version)
	if err != nil {
		return err
	}
	if _, _, err := h.prepareRuntime(ctx, providerRevGVK, ProviderName); err != nil {
		return err
	}
	rev, err := h.activeRevision(ctx, providerRevGVK, ProviderName, true)
	if err != nil {
		return err
	}
	h.provider.stop()
	if h.provider, err = h.startProvider(ctx, h.pctx, "provider-"+version); err != nil {
		return err
	}
	if err := h.updateRevisionStatus(ctx, rev, func(cur *unstructured.Unstructured) error {
		return setCondition(cur, pkgv1.RuntimeHealthy())
	}); err != nil {
		return fmt.Errorf("cannot report the provider healthy: %w", err)
	}
	if err := h.waitPackageRevision(ctx, providerGVK, ProviderName, rev.GetName()); err != nil {
		return err
	}
	if err := h.awaitProviderControllers(ctx, h.provider); err != nil {
		return err
	}
	progress("Provider %s: revision %s replaced by %s, the provider process by Root's binary (log %s)", ProviderName, oldProvider, rev.GetName(), h.provider.log)

	oldFunction, err := h.switchPackage(ctx, functionGVK, functionRevGVK, FunctionName, version)
	if err != nil {
		return err
	}
	old := h.function
	if _, err := h.runFunction(ctx, h.pctx, "function-"+version); err != nil {
		return err
	}
	rev, err = h.activeRevision(ctx, functionRevGVK, FunctionName, false)
	if err != nil {
		return err
	}
	if err := h.waitPackageRevision(ctx, functionGVK, FunctionName, rev.GetName()); err != nil {
		return err
	}
	old.stop()
	progress("Function %s: revision %s replaced by %s, served by Root's binary (log %s)", FunctionName, oldFunction, rev.GetName(), h.function.log)

	oldConfiguration, err := h.switchPackage(ctx, configurationGVK, pkgv1.SchemeGroupVersion.WithKind(pkgv1.ConfigurationRevisionKind), ConfigurationName, version)
	if err != nil {
		return err
	}
	rev, err = h.activeRevision(ctx, pkgv1.SchemeGroupVersion.WithKind(pkgv1.ConfigurationRevisionKind), ConfigurationName, true)
	if err != nil {
		return err
	}
	if err := h.waitPackageRevision(ctx, configurationGVK, ConfigurationName, rev.GetName()); err != nil {
		return err
	}
	if err := h.setSkipDependencyResolution(ctx, false); err != nil {
		return err
	}
	if err := h.waitPackageRevision(ctx, configurationGVK, ConfigurationName, rev.GetName()); err != nil {
		return err
	}
	progress("Configuration %s: revision %s replaced by %s; dependencies resolved again", ConfigurationName, oldConfiguration, rev.GetName())
	providers := &unstructured.UnstructuredList{}
	providers.SetGroupVersionKind(providerGVK.GroupVersion().WithKind(providerGVK.Kind + "List"))
	if err := h.Kube.List(ctx, providers); err != nil {
		return fmt.Errorf("cannot list Providers: %w", err)
	}
	if len(providers.Items) != 1 {
		names := make([]string, 0, len(providers.Items))
		for _, p := range providers.Items {
			names = append(names, p.GetName())
		}
		return fmt.Errorf("after the upgrade Crossplane holds Providers %v, want only %s", names, ProviderName)
	}
	return nil
}

// setSkipDependencyResolution sets the Configuration's
// spec.skipDependencyResolution.
func (h *Harness) setSkipDependencyResolution(ctx context.Context, skip bool) error {
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		u := &unstructured.Unstructured{}
		u.SetGroupVersionKind(configurationGVK)
		if err := h.Kube.Get(ctx, client.ObjectKey{Name: ConfigurationName}, u); err != nil {
			return err
		}
		if err := unstructured.SetNestedField(u.Object, skip, "spec", "skipDependencyResolution"); err != nil {
			return err
		}
		return h.Kube.Update(ctx, u)
	})
	if err != nil {
		return fmt.Errorf("cannot set skipDependencyResolution %t on Configuration %s: %w", skip, ConfigurationName, err)
	}
	return nil
}

// switchPackage points package name of kind gvk at version and waits
// until Crossplane has made a new revision the only active one. It returns
// the revision it replaced.
func (h *Harness) switchPackage(ctx context.Context, gvk, revGVK schema.GroupVersionKind, name, version string) (string, error) {
	prev, err := h.activeRevision(ctx, revGVK, name, false)
	if err != nil {
		return "", err
	}
	err = retry.RetryOnConflict(retry.DefaultRetry, func() error {
		u := &unstructured.Unstructured{}
		u.SetGroupVersionKind(gvk)
		if err := h.Kube.Get(ctx, client.ObjectKey{Name: name}, u); err != nil {
			return err
		}
		pkg, _, _ := unstructured.NestedString(u.Object, "spec", "package")
		i := strings.LastIndex(pkg, ":")
		if i < 0 {
			return fmt.Errorf("%s %s installs %q, which has no tag", gvk.Kind, name, pkg)
		}
		if err := unstructured.SetNestedField(u.Object, pkg[:i+1]+version, "spec", "package"); err != nil {
			return err
		}
		return h.Kube.Update(ctx, u)
	})
	if err != nil {
		return "", fmt.Errorf("cannot point %s %s at %s: %w", gvk.Kind, name, version, err)
	}
	for {
		l := &unstructured.UnstructuredList{}
		l.SetGroupVersionKind(revGVK.GroupVersion().WithKind(revGVK.Kind + "List"))
		if err := h.Kube.List(ctx, l, client.MatchingLabels{pkgv1.LabelParentPackage: name}); err != nil {
			return "", err
		}
		var active []string
		for _, r := range l.Items {
			if s, _, _ := unstructured.NestedString(r.Object, "spec", "desiredState"); s == string(pkgv1.PackageRevisionActive) {
				active = append(active, r.GetName())
			}
		}
		if len(active) == 1 && active[0] != prev.GetName() {
			return prev.GetName(), nil
		}
		select {
		case <-ctx.Done():
			return "", fmt.Errorf("%s %s at %s: active revisions %v, want one other than %s (identical packages keep their revision): %w",
				gvk.Kind, name, version, active, prev.GetName(), ctx.Err())
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// waitPackageRevision waits until package name's current revision is rev
// and it is Installed and Healthy.
func (h *Harness) waitPackageRevision(ctx context.Context, gvk schema.GroupVersionKind, name, rev string) error {
	u := &unstructured.Unstructured{}
	u.SetGroupVersionKind(gvk)
	u.SetName(name)
	err := h.waitObject(ctx, u, func(o *unstructured.Unstructured) bool {
		cur, _, _ := unstructured.NestedString(o.Object, "status", "currentRevision")
		inst, _, _ := Condition(o, string(pkgv1.TypeInstalled))
		healthy, _, _ := Condition(o, string(pkgv1.TypeHealthy))
		return cur == rev && inst == "True" && healthy == "True"
	})
	if err != nil {
		return fmt.Errorf("%s %s is not Installed and Healthy on revision %s: %w", gvk.Kind, name, rev, err)
	}
	return nil
}
