package fn

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/utils/ptr"

	fnv1 "github.com/crossplane/function-sdk-go/proto/v1"
	"github.com/crossplane/function-sdk-go/request"

	commonv1alpha1 "github.com/eslink/eslink/apis/common/v1alpha1"
	fnv1beta1 "github.com/eslink/eslink/apis/fn/v1beta1"
	linkv1alpha1 "github.com/eslink/eslink/apis/link/v1alpha1"
	"github.com/eslink/eslink/function/internal/ecklicense"
	"github.com/eslink/eslink/internal/linkrules"
)

// Names of the resources the function requires from Crossplane.
const (
	requiredLocal          = "local-elasticsearch"
	requiredRemote         = "remote-elasticsearch"
	requiredLicenses       = "eck-operator-licenses"
	requiredProviderConfig = "remote-provider-config"
	// requiredLocalProviderConfig is the config that reaches the local
	// cluster's REST API, which every flow reads (connectivity).
	requiredLocalProviderConfig = "local-provider-config"
)

// providerConfigGVK is the cluster-scoped provider config the function
// reads, to explain on the link a config that does not allow its
// namespace. A namespaced ProviderConfig is the link's own namespace's.
var providerConfigGVK = schema.GroupVersionKind{Group: "m.eslink.io", Version: "v1alpha1", Kind: "ClusterProviderConfig"}

// clusters are the required resources, once Crossplane resolved them all.
type clusters struct {
	Local    *unstructured.Unstructured
	Remote   *unstructured.Unstructured // nil for an external remote
	Licenses []*unstructured.Unstructured
	// ProviderConfig is the ClusterProviderConfig the key resource uses,
	// nil when the flow has no key, the config is namespaced, or it does
	// not exist.
	ProviderConfig *unstructured.Unstructured
	// LocalProviderConfig is the ClusterProviderConfig that reaches the
	// local cluster's REST API, nil when the config is namespaced or does
	// not exist.
	LocalProviderConfig *unstructured.Unstructured
}

// requirements asks for the link's Elasticsearch objects and, when the
// platform team told where ECK runs, for its operator licenses. They are
// sent on every call: Crossplane stops resolving what a call leaves out.
func requirements(l *link, in *fnv1beta1.Input) *fnv1.Requirements {
	es := func(ref commonv1alpha1.ElasticsearchReference) *fnv1.ResourceSelector {
		return &fnv1.ResourceSelector{
			ApiVersion: linkrules.ElasticsearchGVK.GroupVersion().String(),
			Kind:       linkrules.ElasticsearchGVK.Kind,
			Match:      &fnv1.ResourceSelector_MatchName{MatchName: ref.Name},
			Namespace:  ptr.To(ref.Namespace),
		}
	}
	rs := map[string]*fnv1.ResourceSelector{requiredLocal: es(l.Local)}
	if l.Remote != nil {
		rs[requiredRemote] = es(*l.Remote)
	}
	config := func(name string) *fnv1.ResourceSelector {
		return &fnv1.ResourceSelector{
			ApiVersion: providerConfigGVK.GroupVersion().String(),
			Kind:       providerConfigGVK.Kind,
			Match:      &fnv1.ResourceSelector_MatchName{MatchName: name},
		}
	}
	if pc, ok := clusterProviderConfig(l, in); ok {
		rs[requiredProviderConfig] = config(pc.Name)
	}
	if pc := localProviderConfig(in); pc.Kind == providerConfigGVK.Kind {
		rs[requiredLocalProviderConfig] = config(pc.Name)
	}
	if needsECKLicense(l, in) {
		rs[requiredLicenses] = &fnv1.ResourceSelector{
			ApiVersion: "v1",
			Kind:       "Secret",
			Match: &fnv1.ResourceSelector_MatchLabels{MatchLabels: &fnv1.MatchLabels{
				Labels: map[string]string{ecklicense.LabelScope: ecklicense.ScopeOperator},
			}},
			Namespace: ptr.To(in.ECKOperatorNamespace),
		}
	}
	return &fnv1.Requirements{Resources: rs}
}

// clusterProviderConfig returns the ClusterProviderConfig the link's key
// resource will use, if it uses one.
func clusterProviderConfig(l *link, in *fnv1beta1.Input) (linkv1alpha1.ProviderConfigReference, bool) {
	if !composesKey(l) {
		return linkv1alpha1.ProviderConfigReference{}, false
	}
	pc := remoteProviderConfig(l, in)
	return pc, pc.Kind == providerConfigGVK.Kind
}

// needsECKLicense is true for the flows where ECK does the work on the
// entry: it ignores spec.remoteClusters without an enterprise license.
func needsECKLicense(l *link, in *fnv1beta1.Input) bool {
	return in.ECKOperatorNamespace != "" && (l.Flow == linkv1alpha1.FlowECKAPIKey || l.Flow == linkv1alpha1.FlowCertificate)
}

// getClusters returns the required resources, or nil while Crossplane has
// not resolved every requirement yet.
func getClusters(req *fnv1.RunFunctionRequest, l *link, in *fnv1beta1.Input) (*clusters, error) {
	one := func(name string, ref commonv1alpha1.ElasticsearchReference, field string) (*unstructured.Unstructured, bool, error) {
		rs, resolved, err := request.GetRequiredResource(req, name)
		if err != nil {
			return nil, true, fmt.Errorf("cannot read required Elasticsearch %s/%s: %w", ref.Namespace, ref.Name, err)
		}
		if !resolved {
			return nil, false, nil
		}
		if len(rs) == 0 {
			return nil, true, fieldErrorf(field, "Elasticsearch %s/%s not found: create it, or correct the reference", ref.Namespace, ref.Name)
		}
		return rs[0].Resource, true, nil
	}
	c := &clusters{}
	allResolved := true
	var resolved bool
	var err error
	if c.Local, resolved, err = one(requiredLocal, l.Local, "spec.local.elasticsearchRef"); err != nil {
		return nil, err
	}
	allResolved = allResolved && resolved
	if l.Remote != nil {
		if c.Remote, resolved, err = one(requiredRemote, *l.Remote, "spec.remote.elasticsearchRef"); err != nil {
			return nil, err
		}
		allResolved = allResolved && resolved
	}
	if pc, ok := clusterProviderConfig(l, in); ok {
		rs, resolved, err := request.GetRequiredResource(req, requiredProviderConfig)
		if err != nil {
			return nil, fmt.Errorf("cannot read required ClusterProviderConfig %s: %w", pc.Name, err)
		}
		if len(rs) > 0 {
			c.ProviderConfig = rs[0].Resource
		}
		allResolved = allResolved && resolved
	}
	if pc := localProviderConfig(in); pc.Kind == providerConfigGVK.Kind {
		rs, resolved, err := request.GetRequiredResource(req, requiredLocalProviderConfig)
		if err != nil {
			return nil, fmt.Errorf("cannot read required ClusterProviderConfig %s: %w", pc.Name, err)
		}
		if len(rs) > 0 {
			c.LocalProviderConfig = rs[0].Resource
		}
		allResolved = allResolved && resolved
	}
	if needsECKLicense(l, in) {
		rs, ok, err := request.GetRequiredResource(req, requiredLicenses)
		if err != nil {
			return nil, fmt.Errorf("cannot read ECK operator license Secrets in namespace %s: %w", in.ECKOperatorNamespace, err)
		}
		for _, r := range rs {
			c.Licenses = append(c.Licenses, r.Resource)
		}
		allResolved = allResolved && ok
	}
	if !allResolved {
		return nil, nil
	}
	return c, nil
}

// checkResult is what the cluster checks found: warnings to show, or a
// fatal error.
type checkResult struct {
	Warnings []string
}

// checkClusters validates the link against its clusters. The order puts
// the checks a link author can fix first.
// ownerUIDs are the uids of this link's observed resources that own an
// alias on the local cluster, empty before they exist.
type ownerUIDs struct {
	// Entry is the RemoteClusterEntry (flows 1 and 2).
	Entry string
	// Settings is the RemoteClusterSettings (flow 3).
	Settings string
}

func checkClusters(l *link, c *clusters, in *fnv1beta1.Input, owners ownerUIDs, now time.Time) (*checkResult, error) {
	r := &checkResult{}
	if err := authorize(l, c); err != nil {
		return nil, err
	}
	if err := authorizeProviderConfig(l, c, in); err != nil {
		return nil, err
	}
	if err := authorizeLocalProviderConfig(l, c, in); err != nil {
		return nil, err
	}
	if err := checkVersions(l, c, r); err != nil {
		return nil, err
	}
	if err := checkAliasFree(l, c.Local, owners); err != nil {
		return nil, err
	}
	if needsECKLicense(l, in) {
		if res := ecklicense.Check(c.Licenses, now); !res.Valid {
			detail := "no Secret labelled " + ecklicense.LabelScope + "=" + ecklicense.ScopeOperator + " found"
			if len(res.Reasons) > 0 {
				detail = strings.Join(res.Reasons, "; ")
			}
			return nil, fieldErrorf("spec.keyManagement",
				"the %s flow relies on ECK, and ECK in namespace %s has no valid enterprise or trial operator license (%s): without one ECK silently ignores spec.remoteClusters; ask the platform team to install a license, or use keyManagement Provider",
				l.Flow, in.ECKOperatorNamespace, detail)
		}
	}
	return r, nil
}

func target(es *unstructured.Unstructured, field string) linkrules.Target {
	return linkrules.Target{Namespace: es.GetNamespace(), Name: es.GetName(), Annotations: es.GetAnnotations(), Field: field}
}

// authorize repeats the provider's checks of the clusters' grants, so that
// a denial is explained on the link and nothing is composed. Its errors are
// *linkrules.DeniedError, which name the field.
func authorize(l *link, c *clusters) error {
	local := target(c.Local, "spec.local.elasticsearchRef")
	if err := linkrules.AuthorizeNamespace(l.Namespace, local, linkrules.RoleLocal); err != nil {
		return err
	}
	if c.Remote == nil {
		return linkrules.AuthorizeExternalCA(l.Namespace, local, "spec.remote.external.caSecretRef")
	}
	remote := target(c.Remote, "spec.remote.elasticsearchRef")
	if err := authorizeTrustSources(l, c, local, remote); err != nil {
		return err
	}
	if l.Flow == linkv1alpha1.FlowCertificate {
		return linkrules.AuthorizeCertificate(l.Namespace, remote, "spec.securityModel")
	}
	return linkrules.AuthorizeAccess(l.Namespace, remote, linkrules.AccessEntries("spec.access", l.Spec.Access))
}

// authorizeTrustSources repeats the provider's check of the CAs the link's
// trusts add: the local cluster trusts the remote's transport CA (flow 3),
// and with a certificate identity the remote trusts the local's.
func authorizeTrustSources(l *link, c *clusters, local, remote linkrules.Target) error {
	if l.Flow != linkv1alpha1.FlowProviderAPIKey {
		return nil
	}
	if err := linkrules.AuthorizeTrustSource(l.Namespace, local, c.Remote.GetNamespace(), c.Remote.GetName(), "spec.remote.elasticsearchRef"); err != nil {
		return err
	}
	if l.Spec.CertificateIdentity == nil {
		return nil
	}
	return linkrules.AuthorizeTrustSource(l.Namespace, remote, c.Local.GetNamespace(), c.Local.GetName(), "spec.local.elasticsearchRef")
}

// authorizeProviderConfig repeats the provider's check that the key's
// ClusterProviderConfig allows the link's namespace. A config the link
// names must exist; a missing default is the platform team's to fix, and
// the key resource reports it.
func authorizeProviderConfig(l *link, c *clusters, in *fnv1beta1.Input) error {
	pc, ok := clusterProviderConfig(l, in)
	if !ok {
		return nil
	}
	_, field := chosenProviderConfig(l, in)
	if c.ProviderConfig == nil {
		if field == "" {
			return nil
		}
		return fieldErrorf(field, "ClusterProviderConfig %s not found: name an existing provider config", pc.Name)
	}
	allowed, _, err := unstructured.NestedStringSlice(c.ProviderConfig.Object, "spec", "allowedNamespaces")
	if err != nil {
		return fmt.Errorf("cannot read spec.allowedNamespaces of ClusterProviderConfig %s: %w", pc.Name, err)
	}
	if field != "" {
		return linkrules.ConfigAllowsNamespace(pc.Kind, pc.Name, allowed, l.Namespace, field)
	}
	err = linkrules.ConfigAllowsNamespace(pc.Kind, pc.Name, allowed, l.Namespace, "spec.remote.providerConfigRef")
	var d *linkrules.DeniedError
	if errors.As(err, &d) {
		d.Reason = "the link names no provider config, and the Composition's default " + d.Reason
	}
	return err
}

// authorizeLocalProviderConfig repeats the provider's check that the
// ClusterProviderConfig reaching the local cluster allows the link's
// namespace: without it the link could never be reported connected. The
// platform team chooses that config in the Composition, so a missing one is
// theirs to fix, and the resources using it report it.
func authorizeLocalProviderConfig(l *link, c *clusters, in *fnv1beta1.Input) error {
	pc := localProviderConfig(in)
	if pc.Kind != providerConfigGVK.Kind || c.LocalProviderConfig == nil {
		return nil
	}
	allowed, _, err := unstructured.NestedStringSlice(c.LocalProviderConfig.Object, "spec", "allowedNamespaces")
	if err != nil {
		return fmt.Errorf("cannot read spec.allowedNamespaces of ClusterProviderConfig %s: %w", pc.Name, err)
	}
	if linkrules.NamespaceListed(allowed, l.Namespace) {
		return nil
	}
	return &linkrules.DeniedError{Field: "spec.local.elasticsearchRef", Reason: fmt.Sprintf(
		"the Composition reaches the local cluster's Elasticsearch API through %s %s (function input localProviderConfigRef), which does not allow namespace %s: a provider config is a credential, usable only from the namespaces in its spec.allowedNamespaces; ask the platform team to add %s to spec.allowedNamespaces of %s %s",
		pc.Kind, pc.Name, l.Namespace, l.Namespace, pc.Kind, pc.Name)}
}

func checkVersions(l *link, c *clusters, r *checkResult) error {
	type side struct {
		field string
		es    *unstructured.Unstructured
	}
	sides := []side{{"spec.local.elasticsearchRef", c.Local}}
	if c.Remote != nil {
		sides = append(sides, side{"spec.remote.elasticsearchRef", c.Remote})
	}
	for _, s := range sides {
		v, err := linkrules.RunningVersion(s.es)
		if err != nil {
			return fieldErrorf(s.field, "%v: ECK must report a version before the link can be checked", err)
		}
		name := s.es.GetNamespace() + "/" + s.es.GetName()
		switch l.Flow {
		case linkv1alpha1.FlowCertificate:
			// One warning is enough: the fix is the same for both sides.
			if !v.Less(linkrules.CertificateModelDeprecatedVersion) && len(r.Warnings) == 0 {
				r.Warnings = append(r.Warnings, fmt.Sprintf(
					"the certificate security model is deprecated since Elasticsearch 9.0 and %s runs %s: move the link to securityModel APIKey", name, v))
			}
		default:
			if v.Less(linkrules.MinAPIKeyVersion) {
				return fieldErrorf(s.field,
					"Elasticsearch %s runs %s, below %s, the minimum ECK and Elasticsearch enforce for API-key remote clusters (the Elastic documentation says %s): upgrade it or use securityModel Certificate",
					name, v, short(linkrules.MinAPIKeyVersion), short(linkrules.DocumentedAPIKeyVersion))
			}
			if v.Less(linkrules.DocumentedAPIKeyVersion) {
				r.Warnings = append(r.Warnings, fmt.Sprintf(
					"Elasticsearch %s runs %s: ECK accepts API-key remote clusters from %s, but the Elastic documentation states %s as the minimum; upgrade to %s or later for a supported setup",
					name, v, short(linkrules.MinAPIKeyVersion), short(linkrules.DocumentedAPIKeyVersion), short(linkrules.DocumentedAPIKeyVersion)))
			}
		}
	}
	// certificate_identity is stored on the key by the remote, and needs
	// signed requests from the local cluster: both need 9.3. An external
	// remote's version is unknown here; the provider reports
	// Elasticsearch's rejection on the key instead.
	if l.Spec.CertificateIdentity != nil {
		for _, s := range sides {
			v, _ := linkrules.RunningVersion(s.es)
			if v.Less(linkrules.CertificateIdentityVersion) {
				role := "local cluster, which signs its requests"
				if s.es == c.Remote {
					role = "remote, which checks them"
				}
				return fieldErrorf("spec.certificateIdentity",
					"needs Elasticsearch %s or later on both clusters, and %s/%s (the %s) runs %s: remove spec.certificateIdentity or upgrade it",
					short(linkrules.CertificateIdentityVersion), s.es.GetNamespace(), s.es.GetName(), role, v)
			}
		}
	}
	return nil
}

func short(v linkrules.Version) string { return fmt.Sprintf("%d.%d", v.Major, v.Minor) }

// checkAliasFree rejects an alias that another link, ECK or a person
// already uses on the local cluster: the owner the provider records for
// the alias across all of its pieces, and, for records written before
// aliases had one owner, the entry's and settings' own. own are this
// link's resources that hold the alias.
func checkAliasFree(l *link, local *unstructured.Unstructured, own ownerUIDs) error {
	name := local.GetNamespace() + "/" + local.GetName()
	record := func(annotation string) (map[string]string, error) {
		owners := map[string]string{}
		if raw := local.GetAnnotations()[annotation]; raw != "" {
			if err := json.Unmarshal([]byte(raw), &owners); err != nil {
				return nil, errors.New("cannot check whether alias " + l.Alias + " is free: annotation " + annotation +
					" on Elasticsearch " + name + " is not a JSON object of alias to owner; ask the platform team to repair it")
			}
		}
		return owners, nil
	}
	aliasOwners, err := record(linkrules.AnnotationAliasOwners)
	if err != nil {
		return err
	}
	entryOwners, err := record(linkrules.AnnotationRemoteClusterOwners)
	if err != nil {
		return err
	}
	settingsOwners, err := record(linkrules.AnnotationRemoteClusterSettingsOwners)
	if err != nil {
		return err
	}
	entries, err := linkrules.RemoteClusters(local)
	if err != nil {
		return err
	}
	present := false
	for _, e := range entries {
		if linkrules.EntryName(e) == l.Alias {
			present = true
			break
		}
	}
	me := linkrules.AliasOwner(l.Namespace, map[string]string{linkrules.LabelComposite: l.Composite}, "")
	owner, owned := aliasOwners[l.Alias]
	entryOwner, entryOwned := entryOwners[l.Alias]
	settingsOwner, settingsOwned := settingsOwners[l.Alias]
	switch {
	case owned && owner != me:
		return fieldErrorf("spec.alias",
			"alias %q is already used on Elasticsearch %s by %s: choose another spec.alias", l.Alias, name, linkrules.DescribeAliasOwner(owner, l.Namespace))
	case !owned && (entryOwned && entryOwner != own.Entry || settingsOwned && settingsOwner != own.Settings):
		return fieldErrorf("spec.alias",
			"alias %q is already used on Elasticsearch %s by another resource: choose another spec.alias", l.Alias, name)
	case present && !entryOwned:
		return fieldErrorf("spec.alias",
			"alias %q is already used on Elasticsearch %s by a hand-written spec.remoteClusters entry: choose another spec.alias, or have the cluster's owner remove that entry", l.Alias, name)
	case l.Flow == linkv1alpha1.FlowProviderAPIKey && linkrules.AliasUsedByECK(local, l.Alias):
		return fieldErrorf("spec.alias",
			"alias %q is configured by ECK on Elasticsearch %s (annotation %s): choose another spec.alias", l.Alias, name, linkrules.AnnotationECKManagedRemoteClusters)
	}
	return nil
}
