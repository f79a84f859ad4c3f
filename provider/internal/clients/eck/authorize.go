package eck

import (
	"context"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	commonv1alpha1 "github.com/eslink/eslink/apis/common/v1alpha1"
	"github.com/eslink/eslink/internal/linkrules"
)

// Target is es as the target of an authorization check, referenced by the
// managed resource's field (such as spec.forProvider.elasticsearchRef),
// which a denial names. The check decides from the object as read, so a
// Mutate that authorizes inside its MutateFn sees a grant revoked between
// observe and write.
func Target(es *unstructured.Unstructured, field string) linkrules.Target {
	return linkrules.Target{
		Namespace:   es.GetNamespace(),
		Name:        es.GetName(),
		Annotations: es.GetAnnotations(),
		Field:       field,
	}
}

// Fields by which the kinds that wire one alias into a local cluster name
// the clusters they reference.
const (
	FieldLocal  = "spec.forProvider.elasticsearchRef"
	FieldRemote = "spec.forProvider.remoteElasticsearchRef"
)

// AuthorizeAlias checks what every kind that wires alias into local checks
// before it reads or writes anything else: that mg's namespace is granted on
// local and, when the remote is an ECK cluster (remote set), on the remote;
// that no other link owns alias on local (CheckAlias); and that ECK does
// not configure alias itself from spec.remoteClusters.
func (c *Client) AuthorizeAlias(ctx context.Context, mg metav1.Object, local *unstructured.Unstructured, remote *commonv1alpha1.ElasticsearchReference, alias string) error {
	ns := mg.GetNamespace()
	if err := linkrules.AuthorizeNamespace(ns, Target(local, FieldLocal), linkrules.RoleLocal); err != nil {
		return err
	}
	if remote != nil {
		r, err := c.Get(ctx, Ref(*remote, ns), FieldRemote)
		if err != nil {
			return err
		}
		if err := linkrules.AuthorizeNamespace(ns, Target(r, FieldRemote), linkrules.RoleRemote); err != nil {
			return err
		}
	}
	if err := CheckAlias(local, alias, mg); err != nil {
		return err
	}
	if linkrules.AliasUsedByECK(local, alias) {
		return &ConflictError{What: "remote cluster alias", Key: alias,
			Object: local.GetNamespace() + "/" + local.GetName() + " (ECK configures it from spec.remoteClusters)"}
	}
	return nil
}
