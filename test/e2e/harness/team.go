package harness

import (
	"context"
	"fmt"
	"path/filepath"

	kerrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// teamRBAC is the RBAC docs/install.md gives application teams.
const teamRBAC = "examples/rbac/application-team.yaml"

// grantTeams applies teamRBAC, and binds its ClusterRole in each namespace
// to the group named like the namespace, as the example does for team-a.
func (h *Harness) grantTeams(ctx context.Context, namespaces ...string) error {
	docs, err := readYAMLDocs(filepath.Join(h.Root, teamRBAC))
	if err != nil {
		return err
	}
	var binding *unstructured.Unstructured
	for _, d := range docs {
		u := &unstructured.Unstructured{Object: d}
		if err := h.Kube.Create(ctx, u); err != nil && !kerrors.IsAlreadyExists(err) {
			return fmt.Errorf("cannot apply %s: %s %s: %w", teamRBAC, u.GetKind(), u.GetName(), err)
		}
		if u.GetKind() == "RoleBinding" {
			binding = u
		}
	}
	if binding == nil {
		return fmt.Errorf("%s has no RoleBinding", teamRBAC)
	}
	for _, ns := range namespaces {
		b := &unstructured.Unstructured{Object: map[string]any{
			"apiVersion": binding.GetAPIVersion(), "kind": binding.GetKind(),
			"metadata": map[string]any{"name": binding.GetName(), "namespace": ns},
			"roleRef":  binding.Object["roleRef"],
			"subjects": []any{map[string]any{"apiGroup": "rbac.authorization.k8s.io", "kind": "Group", "name": ns}},
		}}
		if err := h.Kube.Create(ctx, b); err != nil && !kerrors.IsAlreadyExists(err) {
			return fmt.Errorf("cannot bind the application team's role in %s: %w", ns, err)
		}
	}
	return nil
}

// Team returns a client that acts as a member of the application team of
// namespace ns (user developer@<ns> in group <ns>), with only the RBAC of
// examples/rbac/application-team.yaml: links and claims in its namespace,
// read access to what they compose, no rights on Elasticsearch objects. The
// API server enforces it through impersonation.
func (h *Harness) Team(ns string) (client.Client, error) {
	h.teamsMu.Lock()
	defer h.teamsMu.Unlock()
	if c, ok := h.teams[ns]; ok {
		return c, nil
	}
	cfg := rest.CopyConfig(h.Env.Config)
	cfg.Impersonate = rest.ImpersonationConfig{UserName: "developer@" + ns, Groups: []string{ns, "system:authenticated"}}
	c, err := client.New(cfg, client.Options{Scheme: h.Env.Scheme})
	if err != nil {
		return nil, fmt.Errorf("cannot create a client for team %s: %w", ns, err)
	}
	if h.teams == nil {
		h.teams = map[string]client.Client{}
	}
	h.teams[ns] = c
	return c, nil
}
