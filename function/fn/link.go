package fn

import (
	"fmt"
	"regexp"
	"strings"

	"k8s.io/apimachinery/pkg/runtime"

	"github.com/crossplane/function-sdk-go/resource"

	commonv1alpha1 "github.com/eslink/eslink/apis/common/v1alpha1"
	fnv1beta1 "github.com/eslink/eslink/apis/fn/v1beta1"
	linkv1alpha1 "github.com/eslink/eslink/apis/link/v1alpha1"
	"github.com/eslink/eslink/internal/keylifetime"
)

// aliasPattern is the XRD's pattern for spec.alias. It is checked here too
// because the alias may come from metadata.name, which the XRD cannot check,
// and because render runs without the XRD's validation.
var aliasPattern = regexp.MustCompile(`^[a-zA-Z0-9][a-zA-Z0-9_-]*$`)

const maxAliasLength = 63

// link is an XR with every default applied: what the rest of the function
// works from.
type link struct {
	// Name is the name the user gave the link: the XR's, or the claim's for
	// a legacy XR.
	Name string
	// Namespace is where the link lives and where its managed resources go:
	// the XR's, or the claim's for a legacy XR.
	Namespace string
	// Composite is the XR's name, which Crossplane puts on every composed
	// resource (label crossplane.io/composite): with Namespace, the owner
	// under which the link's pieces claim its alias.
	Composite string
	Spec      linkv1alpha1.XRemoteClusterLinkSpec

	Alias  string
	Flow   linkv1alpha1.Flow
	Local  commonv1alpha1.ElasticsearchReference
	Remote *commonv1alpha1.ElasticsearchReference // nil for an external remote
}

// fieldError is a bad link: it names the field and says how to fix it.
type fieldError struct {
	Field string
	Msg   string
}

func (e *fieldError) Error() string { return e.Field + ": " + e.Msg }

func fieldErrorf(field, format string, a ...any) error {
	return &fieldError{Field: field, Msg: fmt.Sprintf(format, a...)}
}

// parseLink reads the observed XR and applies the defaults of the schema and
// of the function input. It returns a *fieldError for a link that can never
// render, whatever the clusters look like.
func parseLink(oxr *resource.Composite, in *fnv1beta1.Input) (*link, error) {
	xr := oxr.Resource
	l := &link{Name: xr.GetName(), Namespace: xr.GetNamespace(), Composite: xr.GetName()}
	if l.Namespace == "" {
		// A legacy, cluster-scoped XR: its claim's namespace is the one
		// that asked, and the one authorization must see.
		ref := xr.GetClaimReference()
		if ref == nil || ref.Namespace == "" {
			return nil, fieldErrorf("spec.claimRef.namespace",
				"cluster-scoped XRemoteClusterLink %s has no claim: create a RemoteClusterLink claim in the team's namespace, or an XRemoteClusterLink in that namespace", l.Name)
		}
		l.Namespace, l.Name = ref.Namespace, ref.Name
	}
	spec, _ := xr.Object["spec"].(map[string]any)
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(spec, &l.Spec); err != nil {
		return nil, fieldErrorf("spec", "cannot read the link's spec: %v", err)
	}
	s := &l.Spec

	l.Alias = s.Alias
	if l.Alias == "" {
		l.Alias = l.Name
	}
	if err := checkAlias(l.Alias, s.Alias == ""); err != nil {
		return nil, err
	}

	if s.Local.ElasticsearchRef.Name == "" {
		return nil, fieldErrorf("spec.local.elasticsearchRef.name", "is required: name the ECK Elasticsearch object of the local cluster")
	}
	l.Local = withNamespace(s.Local.ElasticsearchRef, l.Namespace)

	switch {
	case s.Remote.ElasticsearchRef != nil && s.Remote.External != nil:
		return nil, fieldErrorf("spec.remote", "set exactly one of remote.elasticsearchRef (an ECK cluster) or remote.external (a cluster outside ECK), not both")
	case s.Remote.ElasticsearchRef == nil && s.Remote.External == nil:
		return nil, fieldErrorf("spec.remote", "set remote.elasticsearchRef (an ECK cluster) or remote.external (a cluster outside ECK)")
	case s.Remote.ElasticsearchRef != nil:
		if s.Remote.ElasticsearchRef.Name == "" {
			return nil, fieldErrorf("spec.remote.elasticsearchRef.name", "is required: name the ECK Elasticsearch object of the remote cluster")
		}
		r := withNamespace(*s.Remote.ElasticsearchRef, l.Namespace)
		l.Remote = &r
	default:
		if s.Remote.External.CASecretRef.Name == "" {
			return nil, fieldErrorf("spec.remote.external.caSecretRef.name", "is required: name a Secret in namespace %s holding the CA that signed the remote cluster server's certificate (key ca.crt by default)", l.Namespace)
		}
	}

	flow, err := chooseFlow(s, in)
	if err != nil {
		return nil, err
	}
	l.Flow = flow
	if err := checkAccess(s, flow); err != nil {
		return nil, err
	}
	return l, nil
}

func withNamespace(ref commonv1alpha1.ElasticsearchReference, ns string) commonv1alpha1.ElasticsearchReference {
	if ref.Namespace == "" {
		ref.Namespace = ns
	}
	return ref
}

func checkAlias(alias string, fromName bool) error {
	origin := fmt.Sprintf("alias %q", alias)
	fix := "use 1 to 63 letters, digits, '_' or '-', starting with a letter or digit"
	if fromName {
		origin = fmt.Sprintf("alias defaults to the link's name %q, which", alias)
		fix = "set spec.alias to a valid alias (" + fix + ")"
	}
	switch {
	case len(alias) > maxAliasLength:
		return fieldErrorf("spec.alias", "%s is longer than %d characters: %s", origin, maxAliasLength, fix)
	case !aliasPattern.MatchString(alias):
		return fieldErrorf("spec.alias", "%s is not a valid remote cluster alias: %s", origin, fix)
	}
	return nil
}

// chooseFlow applies the securityModel and keyManagement defaults and
// rejects combinations that no flow supports.
func chooseFlow(s *linkv1alpha1.XRemoteClusterLinkSpec, in *fnv1beta1.Input) (linkv1alpha1.Flow, error) {
	external := s.Remote.External != nil
	switch s.SecurityModel {
	case "", linkv1alpha1.SecurityModelAPIKey:
	case linkv1alpha1.SecurityModelCertificate:
		if external {
			return "", fieldErrorf("spec.securityModel", "Certificate needs an ECK remote (spec.remote.elasticsearchRef); use APIKey for a remote outside ECK")
		}
		if s.KeyManagement == linkv1alpha1.KeyManagementProvider {
			return "", fieldErrorf("spec.keyManagement", "Provider has no key to manage with securityModel Certificate; remove spec.keyManagement or use securityModel APIKey")
		}
		if f := providerOnlyField(s); f != "" {
			return "", fieldErrorf(f, "needs securityModel APIKey with keyManagement Provider; remove %s or switch to the API key model", f)
		}
		return linkv1alpha1.FlowCertificate, nil
	default:
		return "", fieldErrorf("spec.securityModel", "%q is not a security model: use APIKey or Certificate", s.SecurityModel)
	}

	km := s.KeyManagement
	explicit := km != ""
	if km == "" {
		switch {
		case external:
			km = linkv1alpha1.KeyManagementProvider
		case in.DefaultKeyManagement != "":
			km = in.DefaultKeyManagement
		default:
			km = linkv1alpha1.KeyManagementECK
		}
	}
	switch km {
	case linkv1alpha1.KeyManagementECK:
		if external {
			return "", fieldErrorf("spec.keyManagement", "ECK can only manage keys on an ECK remote; use keyManagement Provider with spec.remote.external")
		}
		if f := providerOnlyField(s); f != "" {
			how := "set spec.keyManagement: Provider"
			if explicit {
				how = "change spec.keyManagement to Provider"
			}
			return "", fieldErrorf(f, "needs keyManagement Provider: ECK cannot expire, rotate or bind keys; %s or remove %s", how, f)
		}
		return linkv1alpha1.FlowECKAPIKey, nil
	case linkv1alpha1.KeyManagementProvider:
		if err := checkKeyLifetime(s, in); err != nil {
			return "", err
		}
		return linkv1alpha1.FlowProviderAPIKey, nil
	default:
		field := "spec.keyManagement"
		if !explicit {
			field = "input defaultKeyManagement"
		}
		return "", fieldErrorf(field, "%q is not a key management mode: use ECK or Provider", km)
	}
}

// checkKeyLifetime applies the rules the provider enforces on key
// durations, so that the link names the field instead of the key resource
// failing later.
func checkKeyLifetime(s *linkv1alpha1.XRemoteClusterLinkSpec, in *fnv1beta1.Input) error {
	for _, d := range []struct{ field, value string }{{"spec.expiration", s.Expiration}, {"spec.rotateBefore", s.RotateBefore}} {
		if d.value != "" && !keylifetime.IsDuration(d.value) {
			return fieldErrorf(d.field, "%q is not an Elasticsearch duration: use a number and a unit, such as 30d or 12h", d.value)
		}
	}
	minimum := keylifetime.DefaultMinKeyLifetime
	from := "the platform (the default)"
	if in.MinimumKeyLifetime != "" {
		// checkInput has refused an input that does not parse.
		m, err := keylifetime.ParseDuration("function input minimumKeyLifetime", in.MinimumKeyLifetime)
		if err != nil {
			return err
		}
		minimum, from = m, "the platform (function input minimumKeyLifetime)"
	}
	fields := keylifetime.Fields{Expiration: "spec.expiration", RotateBefore: "spec.rotateBefore"}
	if err := keylifetime.CheckKeyLifetime(fields, s.Expiration, s.RotateBefore, minimum, from); err != nil {
		field := "spec.expiration"
		if s.RotateBefore != "" {
			field = "spec.rotateBefore"
		}
		return &fieldError{Field: field, Msg: strings.TrimPrefix(strings.TrimPrefix(err.Error(), field+" "), field+": ")}
	}
	return nil
}

// providerOnlyField names the first set field that only the provider's
// own key management supports.
func providerOnlyField(s *linkv1alpha1.XRemoteClusterLinkSpec) string {
	switch {
	case s.Expiration != "":
		return "spec.expiration"
	case s.RotateBefore != "":
		return "spec.rotateBefore"
	case s.CertificateIdentity != nil:
		return "spec.certificateIdentity"
	}
	return ""
}

func checkAccess(s *linkv1alpha1.XRemoteClusterLinkSpec, flow linkv1alpha1.Flow) error {
	a := s.Access
	if flow == linkv1alpha1.FlowCertificate {
		if a != nil {
			return fieldErrorf("spec.access", "is not allowed with securityModel Certificate, which grants what the remote's roles allow; remove spec.access or use securityModel APIKey")
		}
		return nil
	}
	if a == nil || (a.Search == nil && a.Replication == nil) {
		return fieldErrorf("spec.access", "is required with securityModel APIKey: grant search or replication (or both), for example access.search.names: [logs-*]")
	}
	if a.Search != nil && !validNames(a.Search.Names) {
		return fieldErrorf("spec.access.search.names", "must list one or more non-empty index names or patterns, such as logs-*")
	}
	if a.Replication != nil && !validNames(a.Replication.Names) {
		return fieldErrorf("spec.access.replication.names", "must list one or more non-empty index names or patterns, such as archive-*")
	}
	if a.Search != nil && a.Replication != nil && (a.Search.Query != nil || a.Search.FieldSecurity != nil) {
		return fieldErrorf("spec.access.search", "query and fieldSecurity are not allowed together with replication: Elasticsearch rejects document and field level security when replication is assigned; split the link in two")
	}
	return nil
}

func validNames(names []string) bool {
	if len(names) == 0 {
		return false
	}
	for _, n := range names {
		if strings.TrimSpace(n) == "" {
			return false
		}
	}
	return true
}
