package harness

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"syscall"

	coordinationv1 "k8s.io/api/coordination/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// ProviderLeaseName is the Lease the provider's replicas elect a leader
// with (provider/cmd/provider's LeaderElectionID), in CrossplaneNamespace
// with Options.LeaderElection.
const ProviderLeaseName = "crossplane-leader-election-provider-eslink"

// InstalledProvider is the provider process the harness runs for the
// installed Provider package.
func (h *Harness) InstalledProvider() *Provider { return &Provider{p: h.provider} }

// StartProviderReplica runs another provider process, with the installed
// provider's binary and flags, as a Deployment's second replica: with
// Options.LeaderElection it waits for the Lease. Its log is name.log in
// LogDir; ctx bounds it, and the caller stops it.
func (h *Harness) StartProviderReplica(ctx context.Context, name string) (*Provider, error) {
	if h.provider == nil {
		return nil, errors.New("the harness runs no provider to replicate")
	}
	p, err := h.startProvider(ctx, ctx, name)
	if err != nil {
		return nil, err
	}
	return &Provider{p: p}, nil
}

// ProviderLease returns the provider replicas' Lease.
func (h *Harness) ProviderLease(ctx context.Context) (*coordinationv1.Lease, error) {
	l := &coordinationv1.Lease{}
	if err := h.Kube.Get(ctx, client.ObjectKey{Namespace: CrossplaneNamespace, Name: ProviderLeaseName}, l); err != nil {
		return nil, fmt.Errorf("cannot read Lease %s/%s: %w", CrossplaneNamespace, ProviderLeaseName, err)
	}
	return l, nil
}

// Kill kills the provider process with SIGKILL, as the kubelet does when
// a pod's node is lost or its container is OOM-killed: it neither releases
// its Lease nor finishes what it was doing. It waits for the exit.
func (p *Provider) Kill() error {
	if err := p.p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		return fmt.Errorf("cannot kill %s: %w", p.p.log, err)
	}
	<-p.p.done
	return nil
}

// Leading reports whether the provider logged that it acquired the Lease
// (client-go's leader election logs "Successfully acquired lease").
func (p *Provider) Leading() bool {
	return strings.Contains(p.Log(), "Successfully acquired lease")
}

// AwaitControllers waits until the provider p runs a controller for each
// of eslink's managed resource kinds: with leader election, once it leads.
func (h *Harness) AwaitControllers(ctx context.Context, p *Provider) error {
	return h.awaitProviderControllers(ctx, p.p)
}
