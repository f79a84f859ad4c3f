package crossclusterapikey

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	kerrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/crossplane/crossplane-runtime/v2/pkg/reconciler/managed"
	"github.com/crossplane/crossplane-runtime/v2/pkg/resource"

	esv1alpha1 "github.com/eslink/eslink/apis/elasticsearch/v1alpha1"
	"github.com/eslink/eslink/provider/internal/clients/elasticsearch"
	"github.com/eslink/eslink/provider/internal/clients/kube"
)

// published is the key a connection Secret holds, if it holds one whole:
// id, name, api_key and encoded, where encoded is base64(id:api_key).
type published struct {
	secret *corev1.Secret // nil when there is no Secret
	id     string         // empty unless the Secret is whole and consistent
	name   string
	// why says what is wrong when id is empty, for the condition.
	why string
}

// readPublished reads the connection Secret through secrets. A Secret not
// controlled by cr is not cr's: it is never trusted, and the publisher
// refuses to overwrite it.
func (e *external) readPublished(ctx context.Context, cr *esv1alpha1.CrossClusterAPIKey, secrets client.Reader) (published, error) {
	sr := cr.GetWriteConnectionSecretToReference()
	if sr == nil {
		return published{why: "spec.writeConnectionSecretToReference is not set"}, nil
	}
	nn := types.NamespacedName{Namespace: cr.GetNamespace(), Name: sr.Name}
	s := &corev1.Secret{}
	if err := secrets.Get(ctx, nn, s); err != nil {
		if kerrors.IsNotFound(err) {
			return published{why: fmt.Sprintf("connection Secret %s does not exist", nn)}, nil
		}
		return published{}, fmt.Errorf("cannot get connection Secret %s of %s: %w", nn, ref(cr), err)
	}
	p := published{secret: s}
	if c := metav1.GetControllerOf(s); c == nil || c.UID != cr.GetUID() {
		p.why = fmt.Sprintf("connection Secret %s is not controlled by %s: delete it or name another Secret", nn, ref(cr))
		return p, nil
	}
	d := s.Data
	id, name, key, encoded := string(d[esv1alpha1.ConnectionKeyID]), string(d[esv1alpha1.ConnectionKeyName]),
		string(d[esv1alpha1.ConnectionKeyAPIKey]), string(d[esv1alpha1.ConnectionKeyEncoded])
	switch {
	case id == "" || name == "" || key == "" || encoded == "":
		p.why = fmt.Sprintf("connection Secret %s does not hold all of id, name, api_key and encoded", nn)
	case encoded != base64.StdEncoding.EncodeToString([]byte(id+":"+key)):
		p.why = fmt.Sprintf("connection Secret %s holds an encoded key that does not belong to its id %s", nn, id)
	default:
		p.id, p.name = id, name
	}
	return p, nil
}

// publish writes the connection Secret whole, so that id and encoded key
// always belong to the same key, labelled as the provider's so that its
// cache of Secrets holds it.
//
// The managed reconciler publishes the details of every observation, so
// when Create runs it has just created the Secret, empty, if it was
// missing. A JSON patch that first tests the Secret's owner references
// (cr as its controller, and no other) writes data and label in one
// request, into a Secret cr controls and no one else does, without reading
// it first. A Secret that fails the test, or does not exist, goes the long
// way: created, or read and replaced only if cr controls it.
func (e *external) publish(ctx context.Context, cr *esv1alpha1.CrossClusterAPIKey, k *elasticsearch.CreatedKey) error {
	s := resource.LocalConnectionSecretFor(cr, esv1alpha1.CrossClusterAPIKeyGroupVersionKind)
	if s.Labels == nil {
		s.Labels = map[string]string{}
	}
	s.Labels[kube.LabelManagedBy] = kube.ManagedBy
	s.Data = connectionDetails(k)
	p, err := json.Marshal([]map[string]any{
		{"op": "test", "path": "/metadata/ownerReferences", "value": s.OwnerReferences},
		{"op": "add", "path": "/metadata/labels", "value": s.Labels},
		{"op": "add", "path": "/data", "value": s.Data},
	})
	if err != nil {
		return fmt.Errorf("cannot publish key %s of %s to its connection Secret: %w", k.ID, ref(cr), err)
	}
	if err := e.kube.Patch(ctx, s.DeepCopy(), client.RawPatch(types.JSONPatchType, p)); err == nil {
		return nil
	}
	err = e.kube.Create(ctx, s)
	if kerrors.IsAlreadyExists(err) {
		err = resource.NewAPIUpdatingApplicator(e.kube).Apply(ctx, s, resource.ConnectionSecretMustBeControllableBy(cr.GetUID()))
	}
	if err != nil {
		return fmt.Errorf("cannot publish key %s of %s to its connection Secret: %w", k.ID, ref(cr), err)
	}
	return nil
}

func connectionDetails(k *elasticsearch.CreatedKey) managed.ConnectionDetails {
	return managed.ConnectionDetails{
		esv1alpha1.ConnectionKeyID:      []byte(k.ID),
		esv1alpha1.ConnectionKeyName:    []byte(k.Name),
		esv1alpha1.ConnectionKeyAPIKey:  []byte(k.APIKey),
		esv1alpha1.ConnectionKeyEncoded: []byte(k.Encoded),
	}
}

// deleteConnectionSecret deletes the Secret if cr controls it. It holds a
// dead key once the keys are invalidated, and garbage collection does not
// run everywhere the provider does.
func (e *external) deleteConnectionSecret(ctx context.Context, cr *esv1alpha1.CrossClusterAPIKey, s *corev1.Secret) error {
	if s == nil {
		return nil
	}
	if c := metav1.GetControllerOf(s); c == nil || c.UID != cr.GetUID() {
		return nil
	}
	if err := e.kube.Delete(ctx, s, client.Preconditions{UID: &s.UID}); err != nil && !kerrors.IsNotFound(err) {
		return fmt.Errorf("cannot delete connection Secret %s/%s of %s: %w", s.Namespace, s.Name, ref(cr), err)
	}
	return nil
}
