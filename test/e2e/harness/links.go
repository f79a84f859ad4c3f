package harness

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"

	xpv2 "github.com/crossplane/crossplane/apis/v2/core/v2"
	corev1 "k8s.io/api/core/v1"
	kerrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"

	eckv1alpha1 "github.com/eslink/eslink/apis/eck/v1alpha1"
	esv1alpha1 "github.com/eslink/eslink/apis/elasticsearch/v1alpha1"
	linkv1alpha1 "github.com/eslink/eslink/apis/link/v1alpha1"
	"github.com/eslink/eslink/internal/eckschema"
	"github.com/eslink/eslink/test/fakeelasticsearch/esfake"
)

// ClaimGroupVersionKind is the legacy claim's GVK.
var ClaimGroupVersionKind = linkv1alpha1.SchemeGroupVersion.WithKind(linkv1alpha1.RemoteClusterLinkKind)

// ComposedKinds are the kinds eslink's function composes.
var ComposedKinds = []schema.GroupVersionKind{
	eckv1alpha1.RemoteClusterServerGroupVersionKind,
	eckv1alpha1.RemoteClusterEntryGroupVersionKind,
	esv1alpha1.CrossClusterAPIKeyGroupVersionKind,
	eckv1alpha1.RemoteClusterCredentialsGroupVersionKind,
	eckv1alpha1.RemoteClusterTrustGroupVersionKind,
	eckv1alpha1.RemoteClusterSigningGroupVersionKind,
	esv1alpha1.RemoteClusterSettingsGroupVersionKind,
	esv1alpha1.RemoteClusterConnectivityGroupVersionKind,
}

// Labels Crossplane puts on composed resources.
const (
	LabelComposite      = "crossplane.io/composite"
	LabelClaimName      = "crossplane.io/claim-name"
	LabelClaimNamespace = "crossplane.io/claim-namespace"
)

// Composed lists what Crossplane composed for a link (an XR, or a claim's
// composite), as Crossplane labels it, in the link's namespace.
func (h *Harness) Composed(ctx context.Context, link *unstructured.Unstructured) ([]*unstructured.Unstructured, error) {
	sel := client.MatchingLabels{LabelComposite: link.GetName()}
	if link.GroupVersionKind() == ClaimGroupVersionKind {
		sel = client.MatchingLabels{LabelClaimName: link.GetName(), LabelClaimNamespace: link.GetNamespace()}
	}
	var out []*unstructured.Unstructured
	for _, gvk := range ComposedKinds {
		l := &unstructured.UnstructuredList{}
		l.SetGroupVersionKind(gvk.GroupVersion().WithKind(gvk.Kind + "List"))
		if err := h.Kube.List(ctx, l, client.InNamespace(link.GetNamespace()), sel); err != nil {
			return nil, fmt.Errorf("cannot list %s: %w", gvk.Kind, err)
		}
		for i := range l.Items {
			out = append(out, &l.Items[i])
		}
	}
	return out, nil
}

// Composite returns the composite resource a claim is bound to
// (spec.resourceRef).
func (h *Harness) Composite(ctx context.Context, claim *unstructured.Unstructured) (*unstructured.Unstructured, error) {
	got, err := h.Get(ctx, claim)
	if err != nil {
		return nil, err
	}
	name, _, _ := unstructured.NestedString(got.Object, "spec", "resourceRef", "name")
	if name == "" {
		return nil, fmt.Errorf("claim %s/%s is not bound: no spec.resourceRef", claim.GetNamespace(), claim.GetName())
	}
	xr := &unstructured.Unstructured{}
	xr.SetGroupVersionKind(linkv1alpha1.XRemoteClusterLinkGroupVersionKind)
	if err := h.Kube.Get(ctx, client.ObjectKey{Name: name}, xr); err != nil {
		return nil, fmt.Errorf("cannot get composite %s of claim %s/%s: %w", name, claim.GetNamespace(), claim.GetName(), err)
	}
	return xr, nil
}

// Link returns an XRemoteClusterLink (or, with claim, a RemoteClusterLink)
// with the given spec.
func Link(ns, name string, claim bool, spec map[string]any) *unstructured.Unstructured {
	u := &unstructured.Unstructured{Object: map[string]any{"spec": spec}}
	if claim {
		u.SetGroupVersionKind(ClaimGroupVersionKind)
	} else {
		u.SetGroupVersionKind(linkv1alpha1.XRemoteClusterLinkGroupVersionKind)
	}
	u.SetNamespace(ns)
	u.SetName(name)
	return u
}

// Get re-reads obj.
func (h *Harness) Get(ctx context.Context, obj *unstructured.Unstructured) (*unstructured.Unstructured, error) {
	out := &unstructured.Unstructured{}
	out.SetGroupVersionKind(obj.GroupVersionKind())
	err := h.Kube.Get(ctx, client.ObjectKeyFromObject(obj), out)
	return out, err
}

// Condition returns a condition of obj's status.
func Condition(obj *unstructured.Unstructured, typ string) (status, reason, message string) {
	conds, _, _ := unstructured.NestedSlice(obj.Object, "status", "conditions")
	for _, c := range conds {
		m, _ := c.(map[string]any)
		if m["type"] == typ {
			status, _ = m["status"].(string)
			reason, _ = m["reason"].(string)
			message, _ = m["message"].(string)
		}
	}
	return status, reason, message
}

// Messages returns every condition of obj and the events Crossplane and the
// provider recorded on it (function results among them), one per line:
// what a person reads with kubectl describe.
func (h *Harness) Messages(obj *unstructured.Unstructured) string {
	var b strings.Builder
	conds, _, _ := unstructured.NestedSlice(obj.Object, "status", "conditions")
	for _, c := range conds {
		m, _ := c.(map[string]any)
		fmt.Fprintf(&b, "condition %v=%v (%v): %v\n", m["type"], m["status"], m["reason"], m["message"])
	}
	if obj.GetUID() == "" {
		return b.String()
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	events := &corev1.EventList{}
	ns := obj.GetNamespace()
	if ns == "" {
		ns = metav1.NamespaceDefault // where events about cluster-scoped objects go
	}
	if err := h.Kube.List(ctx, events, client.InNamespace(ns), client.MatchingFields{"involvedObject.uid": string(obj.GetUID())}); err != nil {
		fmt.Fprintf(&b, "(cannot list events: %v)\n", err)
		return b.String()
	}
	sort.SliceStable(events.Items, func(i, j int) bool {
		return eventTime(&events.Items[i]).Before(eventTime(&events.Items[j]))
	})
	for _, e := range events.Items {
		fmt.Fprintf(&b, "event %s %s: %s\n", e.Type, e.Reason, e.Message)
	}
	return b.String()
}

func eventTime(e *corev1.Event) time.Time {
	switch {
	case !e.LastTimestamp.IsZero():
		return e.LastTimestamp.Time
	case !e.EventTime.IsZero():
		return e.EventTime.Time
	default:
		return e.CreationTimestamp.Time
	}
}

// WaitFor polls obj until cond holds or the timeout passes. It returns the
// last state seen.
func (h *Harness) WaitFor(ctx context.Context, obj *unstructured.Unstructured, timeout time.Duration, what string, cond func(*unstructured.Unstructured) bool) (*unstructured.Unstructured, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var last *unstructured.Unstructured
	for {
		got, err := h.Get(ctx, obj)
		if err == nil {
			last = got
			if cond(got) {
				return got, nil
			}
		}
		select {
		case <-ctx.Done():
			msgs := ""
			if last != nil {
				msgs = h.Messages(last)
			}
			return last, fmt.Errorf("%s %s/%s: not %s after %s:\n%s", obj.GetKind(), obj.GetNamespace(), obj.GetName(), what, timeout, msgs)
		case <-time.After(500 * time.Millisecond):
		}
	}
}

// Ready reports whether obj has Ready=True.
func Ready(obj *unstructured.Unstructured) bool {
	s, _, _ := Condition(obj, string(xpv2.TypeReady))
	return s == "True"
}

// WaitGone polls until obj no longer exists.
func (h *Harness) WaitGone(ctx context.Context, obj *unstructured.Unstructured, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	for {
		_, err := h.Get(ctx, obj)
		if kerrors.IsNotFound(err) {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s %s/%s still exists after %s", obj.GetKind(), obj.GetNamespace(), obj.GetName(), timeout)
		case <-time.After(500 * time.Millisecond):
		}
	}
}

// Elasticsearch returns the ECK object ns/name.
func (h *Harness) Elasticsearch(ctx context.Context, ns, name string) (*unstructured.Unstructured, error) {
	es := eckschema.NewElasticsearch()
	err := h.Kube.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, es)
	return es, err
}

// RemoteClusterAliases lists the names of ns/name's spec.remoteClusters.
func (h *Harness) RemoteClusterAliases(ctx context.Context, ns, name string) ([]string, error) {
	es, err := h.Elasticsearch(ctx, ns, name)
	if err != nil {
		return nil, err
	}
	entries, err := eckschema.RemoteClusters(es)
	if err != nil {
		return nil, err
	}
	out := make([]string, 0, len(entries))
	for _, e := range entries {
		out = append(out, eckschema.EntryName(e))
	}
	return out, nil
}

// Key is a key as the remote's GET /_security/api_key reports it.
type Key struct {
	ID           string          `json:"id"`
	Name         string          `json:"name"`
	Type         string          `json:"type"`
	Creation     int64           `json:"creation"`
	Expiration   *int64          `json:"expiration,omitempty"`
	Invalidated  bool            `json:"invalidated"`
	Invalidation *int64          `json:"invalidation,omitempty"`
	Metadata     map[string]any  `json:"metadata"`
	Access       json.RawMessage `json:"access"`
	// CertificateIdentity is the pattern the key is bound to (9.3+).
	CertificateIdentity *string `json:"certificate_identity,omitempty"`
}

// Keys asks fake es for the keys with the given name, as a client would.
func Keys(ctx context.Context, es *esfake.Server, name string) ([]Key, error) {
	b, status, err := call(ctx, es, http.MethodGet, "/_security/api_key?name="+url.QueryEscape(name), "")
	if err != nil {
		return nil, fmt.Errorf("cannot get keys named %s: %w", name, err)
	}
	if status == http.StatusNotFound {
		return nil, nil
	}
	var out struct {
		APIKeys []Key `json:"api_keys"`
	}
	if err := json.Unmarshal(b, &out); err != nil {
		return nil, fmt.Errorf("cannot decode keys: %w", err)
	}
	return out.APIKeys, nil
}
