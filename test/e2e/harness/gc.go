package harness

import (
	"context"
	"fmt"
	"strconv"
	"time"

	corev1 "k8s.io/api/core/v1"
	kerrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/uuid"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// awaitGarbageCollector waits until Kubernetes' garbage collector handles
// owners of the given kinds. It learns of new kinds (those eslink's packages
// just installed) only when it next re-reads discovery, every 30 seconds;
// until then a deleted link's composed resources would linger. Its answer
// is observable only by its deeds, so the harness keeps creating canaries,
// ConfigMaps owned by objects of those kinds that do not exist, until the
// collector deletes one. A fresh canary each second avoids the growing
// backoff of one the collector could not resolve yet.
func (h *Harness) awaitGarbageCollector(ctx context.Context, kinds []schema.GroupVersionKind) error {
	var canaries []*corev1.ConfigMap
	defer func() {
		for _, c := range canaries {
			_ = h.Kube.Delete(context.Background(), c)
		}
	}()
	for i := 0; ; i++ {
		owners := make([]metav1.OwnerReference, 0, len(kinds))
		for _, k := range kinds {
			owners = append(owners, metav1.OwnerReference{
				APIVersion: k.GroupVersion().String(), Kind: k.Kind, Name: "gc-canary", UID: uuid.NewUUID(),
			})
		}
		c := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{
			Namespace: CrossplaneNamespace, Name: "eslink-gc-canary-" + strconv.Itoa(i), OwnerReferences: owners,
		}}
		if err := h.Kube.Create(ctx, c); err != nil {
			return fmt.Errorf("cannot create garbage collector canary: %w", err)
		}
		canaries = append(canaries, c)
		for _, old := range canaries {
			err := h.Kube.Get(ctx, client.ObjectKeyFromObject(old), &corev1.ConfigMap{})
			if kerrors.IsNotFound(err) {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("the garbage collector does not handle eslink's kinds yet: %w", ctx.Err())
		case <-time.After(time.Second):
		}
	}
}
