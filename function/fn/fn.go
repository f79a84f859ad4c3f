// Package fn is eslink's composition function: it renders an
// XRemoteClusterLink (or the legacy XR behind a RemoteClusterLink claim) into
// the managed resources of its flow, and derives the link's status and
// readiness from what the provider observed.
package fn

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/runtime"

	"github.com/crossplane/function-sdk-go/logging"
	fnv1 "github.com/crossplane/function-sdk-go/proto/v1"
	"github.com/crossplane/function-sdk-go/request"
	"github.com/crossplane/function-sdk-go/resource"
	"github.com/crossplane/function-sdk-go/response"

	fnv1beta1 "github.com/eslink/eslink/apis/fn/v1beta1"
	linkv1alpha1 "github.com/eslink/eslink/apis/link/v1alpha1"
	"github.com/eslink/eslink/internal/keylifetime"
)

// ConditionLinkReady is the link's own condition. Crossplane's Ready
// condition says whether the composed resources are ready; this one says
// what blocks the link, in words a person can act on.
const ConditionLinkReady = "LinkReady"

// Function renders remote cluster links.
type Function struct {
	fnv1.UnimplementedFunctionRunnerServiceServer

	log logging.Logger
	now func() time.Time
}

// Option configures a Function.
type Option func(*Function)

// WithLogger sets the logger. Links are logged by name only.
func WithLogger(l logging.Logger) Option { return func(f *Function) { f.log = l } }

// WithClock sets the clock the license check uses.
func WithClock(now func() time.Time) Option { return func(f *Function) { f.now = now } }

// New returns a Function.
func New(opts ...Option) *Function {
	f := &Function{log: logging.NewNopLogger(), now: time.Now}
	for _, o := range opts {
		o(f)
	}
	return f
}

// RunFunction renders one link. Errors go into the response as results, as
// Crossplane expects; the returned error is always nil.
func (f *Function) RunFunction(_ context.Context, req *fnv1.RunFunctionRequest) (*fnv1.RunFunctionResponse, error) {
	rsp := response.To(req, response.DefaultTTL)

	in := &fnv1beta1.Input{}
	if req.GetInput() != nil {
		if err := request.GetInput(req, in); err != nil {
			response.Fatal(rsp, fmt.Errorf("cannot read the function input: %w", err))
			return rsp, nil
		}
	}
	if err := checkInput(in); err != nil {
		response.Fatal(rsp, err)
		return rsp, nil
	}

	oxr, err := request.GetObservedCompositeResource(req)
	if err != nil {
		response.Fatal(rsp, fmt.Errorf("cannot read the observed XRemoteClusterLink: %w", err))
		return rsp, nil
	}
	log := f.log.WithValues("xr", oxr.Resource.GetName(), "namespace", oxr.Resource.GetNamespace())

	l, err := parseLink(oxr, in)
	if err != nil {
		response.Fatal(rsp, linkError(oxr.Resource.GetNamespace(), oxr.Resource.GetName(), err))
		return rsp, nil
	}

	rsp.Requirements = requirements(l, in)
	c, err := getClusters(req, l, in)
	if err != nil {
		response.Fatal(rsp, linkError(l.Namespace, l.Name, err))
		return rsp, nil
	}
	if c == nil {
		// Crossplane resolves the requirements and calls again; composing
		// now would render from guesses.
		log.Debug("waiting for required Elasticsearch objects")
		return rsp, nil
	}

	observed, err := request.GetObservedComposedResources(req)
	if err != nil {
		response.Fatal(rsp, fmt.Errorf("cannot read observed composed resources of link %s/%s: %w", l.Namespace, l.Name, err))
		return rsp, nil
	}
	owners := ownerUIDs{}
	if e, ok := observed[nameEntry]; ok {
		owners.Entry = string(e.Resource.GetUID())
	}
	if s, ok := observed[nameSettings]; ok {
		owners.Settings = string(s.Resource.GetUID())
	}
	checks, err := checkClusters(l, c, in, owners, f.now())
	if err != nil {
		response.Fatal(rsp, linkError(l.Namespace, l.Name, err))
		return rsp, nil
	}

	st := composeState{Local: c.Local}
	if oc, ok := observed[nameCredentials]; ok {
		st.TakenUpKeyID, _ = oc.Resource.GetString("status.atProvider.takenUpKeyID")
	}
	rendered, err := compose(l, in, st)
	if err != nil {
		response.Fatal(rsp, err)
		return rsp, nil
	}
	desired, err := request.GetDesiredComposedResources(req)
	if err != nil {
		response.Fatal(rsp, fmt.Errorf("cannot read desired composed resources of link %s/%s: %w", l.Namespace, l.Name, err))
		return rsp, nil
	}
	isRendered := make(map[resource.Name]bool, len(rendered))
	for name := range rendered {
		isRendered[name] = true
	}
	obs := observe(l, c.Local, isRendered, observed)
	for name, r := range rendered {
		ready := resource.ReadyFalse
		if obs.Ready[name] {
			ready = resource.ReadyTrue
		}
		desired[name] = &resource.DesiredComposed{Resource: r, Ready: ready}
	}
	if err := response.SetDesiredComposedResources(rsp, desired); err != nil {
		response.Fatal(rsp, fmt.Errorf("cannot set desired composed resources of link %s/%s: %w", l.Namespace, l.Name, err))
		return rsp, nil
	}

	linkReady := obs.LinkReady()
	for _, n := range renderedNames(isRendered) {
		linkReady = linkReady && obs.Ready[n]
	}
	if err := setStatus(req, rsp, obs.Status, linkReady); err != nil {
		response.Fatal(rsp, fmt.Errorf("cannot set status of link %s/%s: %w", l.Namespace, l.Name, err))
		return rsp, nil
	}

	for _, w := range checks.Warnings {
		response.Warning(rsp, errors.New(w)).WithReason("Unsupported").TargetCompositeAndClaim()
	}
	for _, b := range obs.Blockers {
		if b.Warning {
			response.Warning(rsp, errors.New(b.Message)).WithReason(b.Reason).TargetCompositeAndClaim()
		} else {
			response.Normal(rsp, b.Message).WithReason(b.Reason).TargetCompositeAndClaim()
		}
	}
	if linkReady {
		response.ConditionTrue(rsp, ConditionLinkReady, "Available").
			WithMessage(readyMessage(l, c.Local)).
			TargetCompositeAndClaim()
	} else {
		reason := "Waiting"
		msgs := make([]string, 0, len(obs.Blockers))
		for _, b := range obs.Blockers {
			if b.Warning {
				reason = "Blocked"
			}
			msgs = append(msgs, b.Message)
		}
		if len(msgs) == 0 {
			msgs = append(msgs, "waiting for the composed resources to become ready")
		}
		response.ConditionFalse(rsp, ConditionLinkReady, reason).WithMessage(strings.Join(msgs, "; ")).TargetCompositeAndClaim()
	}
	log.Debug("rendered link", "flow", l.Flow, "ready", linkReady)
	return rsp, nil
}

// renderedNames lists the rendered resources in a fixed order.
func renderedNames(m map[resource.Name]bool) []resource.Name {
	out := make([]resource.Name, 0, len(m))
	for _, n := range resourceOrder {
		if m[n] {
			out = append(out, n)
		}
	}
	return out
}

func remoteString(l *link) string {
	if l.Remote != nil {
		return refString(*l.Remote)
	}
	return l.Spec.Remote.External.Address
}

// linkError prefixes a bad link's error with the link, keeping the field
// and the fix the error already names.
func linkError(ns, name string, err error) error {
	if ns == "" {
		return fmt.Errorf("link %s: %w", name, err)
	}
	return fmt.Errorf("link %s/%s: %w", ns, name, err)
}

// checkInput rejects input values the CRD schema would reject, since the
// Composition's input is not validated by an API server.
func checkInput(in *fnv1beta1.Input) error {
	switch in.DefaultKeyManagement {
	case "", linkv1alpha1.KeyManagementECK, linkv1alpha1.KeyManagementProvider:
	default:
		return fmt.Errorf("function input defaultKeyManagement %q is not a key management mode: use ECK or Provider in the Composition's input", in.DefaultKeyManagement)
	}
	for field, r := range map[string]*linkv1alpha1.ProviderConfigReference{"remoteProviderConfigRef": in.RemoteProviderConfigRef, "localProviderConfigRef": in.LocalProviderConfigRef} {
		if r == nil {
			continue
		}
		if r.Kind != "ProviderConfig" && r.Kind != "ClusterProviderConfig" {
			return fmt.Errorf("function input %s.kind %q is not ProviderConfig or ClusterProviderConfig: fix the Composition's input", field, r.Kind)
		}
		if r.Name == "" {
			return fmt.Errorf("function input %s.name is empty: name the provider config in the Composition's input", field)
		}
	}
	if in.MinimumKeyLifetime != "" {
		if _, err := keylifetime.ParseDuration("function input minimumKeyLifetime", in.MinimumKeyLifetime); err != nil {
			return fmt.Errorf("%w: fix the Composition's input", err)
		}
	}
	return nil
}

// setStatus writes the link's status and readiness on the desired XR,
// keeping what earlier pipeline steps put there.
func setStatus(req *fnv1.RunFunctionRequest, rsp *fnv1.RunFunctionResponse, st linkv1alpha1.XRemoteClusterLinkStatus, ready bool) error {
	dxr, err := request.GetDesiredCompositeResource(req)
	if err != nil {
		return err
	}
	m, err := runtime.DefaultUnstructuredConverter.ToUnstructured(&st)
	if err != nil {
		return err
	}
	status, _ := dxr.Resource.Object["status"].(map[string]any)
	if status == nil {
		status = make(map[string]any, len(m))
		dxr.Resource.Object["status"] = status
	}
	// Set field by field: earlier steps' status fields stay.
	for k, v := range m {
		status[k] = v
	}
	dxr.Ready = resource.ReadyFalse
	if ready {
		dxr.Ready = resource.ReadyTrue
	}
	return response.SetDesiredCompositeResource(rsp, dxr)
}
