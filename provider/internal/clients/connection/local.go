package connection

import (
	"context"
	"fmt"

	kerrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"

	xpv2 "github.com/crossplane/crossplane/apis/v2/core/v2"

	"github.com/eslink/eslink/internal/linkrules"
	"github.com/eslink/eslink/provider/internal/clients/elasticsearch"
)

// A local piece records what it owns on the Elasticsearch object its
// spec.forProvider.elasticsearchRef names, and reads and writes the REST API
// its provider config reaches: the two must be one cluster, or a team could
// claim an alias on one cluster and overwrite it on another that never
// granted it.
//
// An ECK-mode config derives the endpoint and the elastic user from one
// Elasticsearch object, whose password authenticates on that cluster only:
// it reaches elasticsearchRef's cluster when it targets that object. A URL
// endpoint may reach any cluster, so the cluster itself is asked: its GET /
// cluster_uuid, generated when the cluster formed, must be the one ECK
// recorded on elasticsearchRef's object (AnnotationECKClusterUUID, which
// only ECK, the provider and the platform team write). A real cluster
// answers with its own uuid; a server that answers with another's is not
// that cluster, and writing to it reaches nothing of that cluster's.

// pointsElsewhere refuses an ECK-mode config that targets another object
// than the local piece's elasticsearchRef (want), before anything of that
// other object is read.
func pointsElsewhere(pc *xpv2.ProviderConfigReference, target, want types.NamespacedName) error {
	if target == want {
		return nil
	}
	return &Denied{DeniedError: &linkrules.DeniedError{Field: "spec.providerConfigRef", Reason: fmt.Sprintf(
		"%s %s reaches Elasticsearch %s, not %s that spec.forProvider.elasticsearchRef names: a local piece records its ownership on the cluster it names and must act on that cluster only; use a provider config that reaches %s (an ECK-mode config without spec.eck.elasticsearchRef follows spec.forProvider.elasticsearchRef)",
		pc.Kind, pc.Name, target, want, want)}}
}

// checkReachesByUUID refuses a URL-endpoint client c unless the cluster it
// reaches is the one ECK recorded on the Elasticsearch object want.
func (r *Resolver) checkReachesByUUID(ctx context.Context, c *elasticsearch.Client, pc *xpv2.ProviderConfigReference, want types.NamespacedName) error {
	es := linkrules.NewElasticsearch()
	if err := r.kube.Get(ctx, want, es); err != nil {
		if kerrors.IsNotFound(err) {
			return &TargetGoneError{Msg: fmt.Sprintf("cannot get Elasticsearch %s: not found; check spec.forProvider.elasticsearchRef", want)}
		}
		return fmt.Errorf("cannot get Elasticsearch %s: %w", want, err)
	}
	recorded := es.GetAnnotations()[linkrules.AnnotationECKClusterUUID]
	if recorded == "" {
		return &Denied{DeniedError: &linkrules.DeniedError{Field: "spec.providerConfigRef", Reason: fmt.Sprintf(
			"cannot tell whether %s %s reaches Elasticsearch %s (spec.forProvider.elasticsearchRef): the object has no annotation %s yet, which ECK sets once the cluster formed; wait for it, or use an ECK-mode provider config",
			pc.Kind, pc.Name, want, linkrules.AnnotationECKClusterUUID)}}
	}
	got, err := c.ClusterUUID(ctx)
	if err != nil {
		return fmt.Errorf("cannot tell whether %s %s reaches Elasticsearch %s: %w", pc.Kind, pc.Name, want, err)
	}
	if got != recorded {
		return &Denied{DeniedError: &linkrules.DeniedError{Field: "spec.providerConfigRef", Reason: fmt.Sprintf(
			"%s %s reaches %s, a cluster other than Elasticsearch %s that spec.forProvider.elasticsearchRef names (its cluster_uuid is not the one in annotation %s): a local piece must act on the cluster it records its ownership on; use a provider config that reaches %s",
			pc.Kind, pc.Name, c.URL(), want, linkrules.AnnotationECKClusterUUID, want)}}
	}
	return nil
}
