// Package composer plays Crossplane core's part in the end-to-end tests: it
// renders each XRemoteClusterLink through Crossplane's own render engine with
// the link's observed composed resources and the required Elasticsearch
// objects, applies the result to the API server the way Crossplane applies
// composed resources (server-side apply, owner references, garbage collection
// of resources no longer desired), writes the link's status, and binds legacy
// claims to their composite. Crossplane core itself is not run: its binary
// cannot be built from the published module (reference/crossplane.md §5).
package composer

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	kerrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"

	eckv1alpha1 "github.com/eslink/eslink/apis/eck/v1alpha1"
	esv1alpha1 "github.com/eslink/eslink/apis/elasticsearch/v1alpha1"
	linkv1alpha1 "github.com/eslink/eslink/apis/link/v1alpha1"
	"github.com/eslink/eslink/internal/linkrules"
	"github.com/eslink/eslink/test/render"
)

const (
	labelComposite      = "crossplane.io/composite"
	labelClaimName      = "crossplane.io/claim-name"
	labelClaimNamespace = "crossplane.io/claim-namespace"
	finalizer           = "composite.apiextensions.crossplane.io"
	fieldOwner          = "apiextensions.crossplane.io/composed"
)

// ComposedKinds are the kinds the eslink function composes.
var ComposedKinds = []schema.GroupVersionKind{
	eckv1alpha1.RemoteClusterServerGroupVersionKind,
	eckv1alpha1.RemoteClusterEntryGroupVersionKind,
	esv1alpha1.CrossClusterAPIKeyGroupVersionKind,
}

// ClaimGroupVersionKind is the legacy claim's GVK.
var ClaimGroupVersionKind = linkv1alpha1.SchemeGroupVersion.WithKind(linkv1alpha1.RemoteClusterLinkKind)

// Composer reconciles links.
type Composer struct {
	Kube        client.Client
	Composition map[string]any
	XRD         map[string]any
	Function    render.Function
	// Legacy is true when the XRD is the legacy one with claims.
	Legacy bool
	Log    func(format string, args ...any)

	mu   sync.Mutex
	last map[string]*render.Output
}

// Run reconciles every claim and XR until ctx is done.
func (c *Composer) Run(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		if err := c.ReconcileAll(ctx); err != nil && ctx.Err() == nil {
			c.logf("reconcile failed: %v", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Last returns the latest render of the XR with the given name.
func (c *Composer) Last(xrName string) *render.Output {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.last[xrName]
}

// ReconcileAll runs one pass over claims, then composites.
func (c *Composer) ReconcileAll(ctx context.Context) error {
	var errs []error
	if c.Legacy {
		claims := &unstructured.UnstructuredList{}
		claims.SetGroupVersionKind(ClaimGroupVersionKind.GroupVersion().WithKind(linkv1alpha1.RemoteClusterLinkKind + "List"))
		if err := c.Kube.List(ctx, claims); err != nil {
			return fmt.Errorf("cannot list claims: %w", err)
		}
		for i := range claims.Items {
			if err := c.reconcileClaim(ctx, &claims.Items[i]); err != nil {
				errs = append(errs, err)
			}
		}
	}
	xrs := &unstructured.UnstructuredList{}
	xrs.SetGroupVersionKind(linkv1alpha1.XRemoteClusterLinkGroupVersionKind.GroupVersion().WithKind(linkv1alpha1.XRemoteClusterLinkKind + "List"))
	if err := c.Kube.List(ctx, xrs); err != nil {
		return fmt.Errorf("cannot list composite resources: %w", err)
	}
	for i := range xrs.Items {
		if err := c.ReconcileXR(ctx, &xrs.Items[i]); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// xrNameForClaim is deterministic, unlike Crossplane's generated suffix, so
// tests can find the composite of a claim.
func xrNameForClaim(claim *unstructured.Unstructured) string {
	return claim.GetNamespace() + "-" + claim.GetName()
}

func (c *Composer) reconcileClaim(ctx context.Context, claim *unstructured.Unstructured) error {
	xr := &unstructured.Unstructured{}
	xr.SetGroupVersionKind(linkv1alpha1.XRemoteClusterLinkGroupVersionKind)
	xr.SetName(xrNameForClaim(claim))
	err := c.Kube.Get(ctx, client.ObjectKeyFromObject(xr), xr)
	if err != nil && !kerrors.IsNotFound(err) {
		return fmt.Errorf("cannot get composite of claim %s/%s: %w", claim.GetNamespace(), claim.GetName(), err)
	}
	exists := err == nil

	if claim.GetDeletionTimestamp() != nil {
		if exists {
			if xr.GetDeletionTimestamp() == nil {
				if err := c.Kube.Delete(ctx, xr); err != nil && !kerrors.IsNotFound(err) {
					return fmt.Errorf("cannot delete composite of claim %s/%s: %w", claim.GetNamespace(), claim.GetName(), err)
				}
			}
			return nil // wait until the composite and its resources are gone
		}
		controllerutil.RemoveFinalizer(claim, finalizer)
		return client.IgnoreNotFound(c.Kube.Update(ctx, claim))
	}
	if controllerutil.AddFinalizer(claim, finalizer) {
		if err := c.Kube.Update(ctx, claim); err != nil {
			return fmt.Errorf("cannot add finalizer to claim %s/%s: %w", claim.GetNamespace(), claim.GetName(), err)
		}
	}

	spec, _, _ := unstructured.NestedMap(claim.Object, "spec")
	for _, f := range []string{"compositionRef", "compositionRevisionRef", "compositionSelector", "compositionUpdatePolicy", "compositeDeletePolicy", "resourceRef", "writeConnectionSecretToRef"} {
		delete(spec, f)
	}
	spec["claimRef"] = map[string]any{
		"apiVersion": claim.GetAPIVersion(), "kind": claim.GetKind(),
		"name": claim.GetName(), "namespace": claim.GetNamespace(),
	}
	if !exists {
		xr.Object["spec"] = spec
		xr.SetLabels(map[string]string{labelClaimName: claim.GetName(), labelClaimNamespace: claim.GetNamespace()})
		if err := c.Kube.Create(ctx, xr); err != nil {
			return fmt.Errorf("cannot create composite of claim %s/%s: %w", claim.GetNamespace(), claim.GetName(), err)
		}
	} else {
		old, _, _ := unstructured.NestedMap(xr.Object, "spec")
		for k, v := range spec {
			old[k] = v
		}
		xr.Object["spec"] = old
		if err := c.Kube.Update(ctx, xr); err != nil {
			return fmt.Errorf("cannot update composite of claim %s/%s: %w", claim.GetNamespace(), claim.GetName(), err)
		}
	}
	// The claim shows the composite's status, as Crossplane's claim syncer does.
	if status, ok := xr.Object["status"]; ok {
		claim.Object["status"] = status
		if err := c.Kube.Status().Update(ctx, claim); err != nil && !kerrors.IsNotFound(err) {
			return fmt.Errorf("cannot update status of claim %s/%s: %w", claim.GetNamespace(), claim.GetName(), err)
		}
	}
	return nil
}

// composedNamespace is where a composite's resources live: its own namespace,
// or its claim's for a legacy composite.
func composedNamespace(xr *unstructured.Unstructured) string {
	if ns := xr.GetNamespace(); ns != "" {
		return ns
	}
	ns, _, _ := unstructured.NestedString(xr.Object, "spec", "claimRef", "namespace")
	return ns
}

func (c *Composer) observed(ctx context.Context, xr *unstructured.Unstructured) ([]*unstructured.Unstructured, error) {
	var out []*unstructured.Unstructured
	for _, gvk := range ComposedKinds {
		l := &unstructured.UnstructuredList{}
		l.SetGroupVersionKind(gvk.GroupVersion().WithKind(gvk.Kind + "List"))
		if err := c.Kube.List(ctx, l, client.InNamespace(composedNamespace(xr)), client.MatchingLabels{labelComposite: xr.GetName()}); err != nil {
			return nil, fmt.Errorf("cannot list %s: %w", gvk.Kind, err)
		}
		for i := range l.Items {
			if metav1IsControlledBy(&l.Items[i], xr) {
				out = append(out, &l.Items[i])
			}
		}
	}
	return out, nil
}

func metav1IsControlledBy(obj, owner *unstructured.Unstructured) bool {
	for _, r := range obj.GetOwnerReferences() {
		if r.UID == owner.GetUID() && r.Controller != nil && *r.Controller {
			return true
		}
	}
	return false
}

// required lists what the function may require, as Crossplane would fetch
// it: the Elasticsearch objects, ECK's operator license Secrets and the
// cluster-wide provider configs.
func (c *Composer) required(ctx context.Context) ([]any, error) {
	l := &unstructured.UnstructuredList{}
	l.SetGroupVersionKind(linkrules.ElasticsearchGVK.GroupVersion().WithKind("ElasticsearchList"))
	if err := c.Kube.List(ctx, l); err != nil {
		return nil, fmt.Errorf("cannot list Elasticsearch objects: %w", err)
	}
	out := make([]any, 0, len(l.Items))
	for i := range l.Items {
		out = append(out, &l.Items[i])
	}
	secrets := &unstructured.UnstructuredList{}
	secrets.SetAPIVersion("v1")
	secrets.SetKind("SecretList")
	if err := c.Kube.List(ctx, secrets, client.MatchingLabels{"license.k8s.elastic.co/scope": "operator"}); err != nil {
		return nil, fmt.Errorf("cannot list ECK license Secrets: %w", err)
	}
	for i := range secrets.Items {
		out = append(out, &secrets.Items[i])
	}
	configs := &unstructured.UnstructuredList{}
	configs.SetAPIVersion("m.eslink.io/v1alpha1")
	configs.SetKind("ClusterProviderConfigList")
	if err := c.Kube.List(ctx, configs); err != nil {
		return nil, fmt.Errorf("cannot list ClusterProviderConfigs: %w", err)
	}
	for i := range configs.Items {
		out = append(out, &configs.Items[i])
	}
	return out, nil
}

// ReconcileXR renders one composite and applies the result.
func (c *Composer) ReconcileXR(ctx context.Context, xr *unstructured.Unstructured) error {
	id := xr.GetName()
	if xr.GetNamespace() != "" {
		id = xr.GetNamespace() + "/" + id
	}
	observed, err := c.observed(ctx, xr)
	if err != nil {
		return fmt.Errorf("link %s: %w", id, err)
	}
	if xr.GetDeletionTimestamp() != nil {
		for _, o := range observed {
			if o.GetDeletionTimestamp() == nil {
				if err := c.Kube.Delete(ctx, o); err != nil && !kerrors.IsNotFound(err) {
					return fmt.Errorf("link %s: cannot delete %s %s: %w", id, o.GetKind(), o.GetName(), err)
				}
			}
		}
		if len(observed) > 0 {
			return nil // the provider's finalizers are still cleaning up
		}
		controllerutil.RemoveFinalizer(xr, finalizer)
		return client.IgnoreNotFound(c.Kube.Update(ctx, xr))
	}
	if controllerutil.AddFinalizer(xr, finalizer) {
		if err := c.Kube.Update(ctx, xr); err != nil {
			return fmt.Errorf("link %s: cannot add finalizer: %w", id, err)
		}
	}
	required, err := c.required(ctx)
	if err != nil {
		return fmt.Errorf("link %s: %w", id, err)
	}
	obs := make([]any, len(observed))
	for i := range observed {
		obs[i] = observed[i]
	}
	out, err := render.Render(ctx, render.Input{
		XR: xr, Composition: c.Composition, XRD: c.XRD,
		Functions: []render.Function{c.Function},
		Observed:  obs, Required: required, IncludeResults: true,
	})
	if err != nil {
		return fmt.Errorf("link %s: %w", id, err)
	}
	c.mu.Lock()
	if c.last == nil {
		c.last = map[string]*render.Output{}
	}
	c.last[xr.GetName()] = out
	c.mu.Unlock()

	// A fatal result leaves the composed resources as they are, as Crossplane
	// does, and only reports on the composite.
	if out.ExitCode == 0 {
		if err := c.apply(ctx, xr, observed, out.Composed); err != nil {
			return fmt.Errorf("link %s: %w", id, err)
		}
	}
	return c.writeStatus(ctx, xr, out)
}

func (c *Composer) apply(ctx context.Context, xr *unstructured.Unstructured, observed, desired []*unstructured.Unstructured) error {
	keep := map[string]bool{}
	for _, d := range desired {
		rn := d.GetAnnotations()["crossplane.io/composition-resource-name"]
		keep[rn] = true
		obj := &unstructured.Unstructured{Object: map[string]any{}}
		for k, v := range d.Object {
			if k != "status" {
				obj.Object[k] = v
			}
		}
		if obj.GetNamespace() == "" {
			obj.SetNamespace(composedNamespace(xr))
		}
		labels := obj.GetLabels()
		if labels == nil {
			labels = map[string]string{}
		}
		labels[labelComposite] = xr.GetName()
		obj.SetLabels(labels)
		for _, o := range observed {
			if o.GetAnnotations()["crossplane.io/composition-resource-name"] == rn {
				obj.SetName(o.GetName())
				obj.SetGenerateName("")
			}
		}
		obj.SetResourceVersion("")
		obj.SetUID("")
		obj.SetManagedFields(nil)
		obj.SetCreationTimestamp(metav1Zero())
		if obj.GetName() == "" {
			if err := c.Kube.Create(ctx, obj); err != nil {
				return fmt.Errorf("cannot create %s: %w", rn, err)
			}
			c.logf("composed %s %s/%s for link %s", obj.GetKind(), obj.GetNamespace(), obj.GetName(), xr.GetName())
			continue
		}
		if err := c.Kube.Patch(ctx, obj, client.Apply, client.FieldOwner(fieldOwner+"/"+string(xr.GetUID())), client.ForceOwnership); err != nil { //nolint:staticcheck // Crossplane v2.4 still applies composed resources this way.
			return fmt.Errorf("cannot apply %s: %w", rn, err)
		}
	}
	names := make([]string, 0, len(observed))
	for _, o := range observed {
		rn := o.GetAnnotations()["crossplane.io/composition-resource-name"]
		if keep[rn] || o.GetDeletionTimestamp() != nil {
			continue
		}
		if err := c.Kube.Delete(ctx, o); err != nil && !kerrors.IsNotFound(err) {
			return fmt.Errorf("cannot delete %s no longer desired: %w", rn, err)
		}
		names = append(names, rn)
	}
	if len(names) > 0 {
		sort.Strings(names)
		c.logf("deleted %s of link %s: no longer desired", strings.Join(names, ", "), xr.GetName())
	}
	return nil
}

func (c *Composer) writeStatus(ctx context.Context, xr *unstructured.Unstructured, out *render.Output) error {
	status, ok := out.XR.Object["status"]
	if !ok {
		return nil
	}
	keepTransitionTimes(xr, status, time.Now())
	fresh := xr.DeepCopy()
	fresh.Object["status"] = status
	if err := c.Kube.Status().Update(ctx, fresh); err != nil && !kerrors.IsNotFound(err) && !kerrors.IsConflict(err) {
		return fmt.Errorf("cannot update status of link %s: %w", xr.GetName(), err)
	}
	return nil
}

func (c *Composer) logf(format string, args ...any) {
	if c.Log != nil {
		c.Log("[composer] "+format, args...)
	}
}

func metav1Zero() metav1.Time { return metav1.Time{} }

// keepTransitionTimes gives each rendered condition the transition time a
// person expects: the previous one while the condition is unchanged, now when
// it changed. The render engine stamps a fixed time on every condition.
func keepTransitionTimes(xr *unstructured.Unstructured, status any, now time.Time) {
	st, ok := status.(map[string]any)
	if !ok {
		return
	}
	conds, _ := st["conditions"].([]any)
	old, _, _ := unstructured.NestedSlice(xr.Object, "status", "conditions")
	for _, c := range conds {
		m, ok := c.(map[string]any)
		if !ok {
			continue
		}
		m["lastTransitionTime"] = now.UTC().Format(time.RFC3339)
		for _, o := range old {
			om, ok := o.(map[string]any)
			if ok && om["type"] == m["type"] && om["status"] == m["status"] && om["reason"] == m["reason"] && om["message"] == m["message"] {
				m["lastTransitionTime"] = om["lastTransitionTime"]
			}
		}
	}
}
