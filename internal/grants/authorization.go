package grants

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	commonv1alpha1 "github.com/eslink/eslink/apis/common/v1alpha1"
	"github.com/eslink/eslink/internal/eckschema"
)

// Annotations on an ECK Elasticsearch object that grant access to links from
// other namespaces and restrict what links may request from it as a remote.
// Only the platform team, which owns the object, can write them.
const (
	// AnnotationAllowedNamespaces lists the namespaces, comma separated,
	// whose links may use the object as local or remote cluster; "*" allows
	// all. Links in the object's own namespace are always allowed.
	AnnotationAllowedNamespaces = "eslink.io/allowed-namespaces"

	// AnnotationAllowedIndexPatterns restricts, comma separated, the index
	// names or patterns a link may request from this cluster as a remote.
	// The patterns use * and ? as Elasticsearch does; every requested name
	// must provably lie within one of them. Unset means no restriction.
	AnnotationAllowedIndexPatterns = "eslink.io/allowed-index-patterns"

	// AnnotationAllowedAccess lists, comma separated, the access kinds a
	// link may request: search, replication, certificate. Unset means
	// search,replication: the certificate model is never allowed implicitly.
	AnnotationAllowedAccess = "eslink.io/allowed-access"

	// AnnotationAllowedIndexRegexes is a JSON array of regular expression
	// names ("/.../") that links may request verbatim. Any other regular
	// expression is refused: no regular expression is compared with the
	// granted patterns.
	AnnotationAllowedIndexRegexes = "eslink.io/allowed-index-regexes"

	// AnnotationAllowSingleCharacterWildcards, when "true", lets requested
	// names use the ? wildcard.
	AnnotationAllowSingleCharacterWildcards = "eslink.io/allow-single-character-wildcards"

	// AnnotationAllowRestrictedIndices, when "true", lets requests set
	// allowRestrictedIndices, which makes patterns match restricted indices
	// such as .security (where Elasticsearch keeps credentials).
	AnnotationAllowRestrictedIndices = "eslink.io/allow-restricted-indices"
)

// Access kinds named in AnnotationAllowedAccess.
const (
	AccessSearch      = "search"
	AccessReplication = "replication"
	// AccessCertificate is the certificate security model: the local
	// cluster's roles keep their full rights on the remote, so no index or
	// access restriction applies to it.
	AccessCertificate = "certificate"
)

// defaultAccess is what a remote allows without AnnotationAllowedAccess.
var defaultAccess = []string{AccessSearch, AccessReplication}

// Role is the part a cluster plays in a link.
type Role string

// Roles.
const (
	RoleLocal  Role = "local"
	RoleRemote Role = "remote"
)

// Target is the Elasticsearch object a link wants to touch.
type Target struct {
	Namespace   string
	Name        string
	Annotations map[string]string
	// Field is the reference that names the target, such as
	// spec.remote.elasticsearchRef; a namespace denial names it. Empty
	// means the link's reference for the role.
	Field string
}

func (t Target) String() string { return t.Namespace + "/" + t.Name }

// DeniedError says why a namespace may not use a target, and how to fix it.
type DeniedError struct {
	// Field is the field of the request that was denied, such as
	// spec.access.search.names or spec.remote.elasticsearchRef.
	Field string
	// Reason says what was denied and names the grant to ask for.
	Reason string
}

func (e *DeniedError) Error() string {
	if e.Field == "" {
		return e.Reason
	}
	return e.Field + ": " + e.Reason
}

// IsDenied reports whether err is an authorization denial.
func IsDenied(err error) bool {
	_, ok := err.(*DeniedError) //nolint:errorlint // Denials are never wrapped before this check.
	return ok
}

func denied(field, format string, a ...any) *DeniedError {
	return &DeniedError{Field: field, Reason: fmt.Sprintf(format, a...)}
}

// AccessEntry is one entry of what a link or managed resource requests from
// a remote.
type AccessEntry struct {
	// Field holds the entry, such as spec.access.search or
	// spec.forProvider.access.replication[0]; messages name it.
	Field string
	// Kind is AccessSearch or AccessReplication.
	Kind  string
	Names []string
	// AllowRestrictedIndices is the entry's allowRestrictedIndices.
	AllowRestrictedIndices bool
}

// AccessEntries lists the entries of a link's access, held at field prefix
// (such as spec.access).
func AccessEntries(prefix string, a *commonv1alpha1.LinkAccess) []AccessEntry {
	if a == nil {
		return nil
	}
	var out []AccessEntry
	if s := a.Search; s != nil {
		out = append(out, AccessEntry{Field: prefix + ".search", Kind: AccessSearch, Names: s.Names,
			AllowRestrictedIndices: s.AllowRestrictedIndices != nil && *s.AllowRestrictedIndices})
	}
	if r := a.Replication; r != nil {
		out = append(out, AccessEntry{Field: prefix + ".replication", Kind: AccessReplication, Names: r.Names})
	}
	return out
}

// AuthorizeNamespace returns a *DeniedError when a link or managed resource
// in namespace ns may not use target in role at all.
func AuthorizeNamespace(ns string, target Target, role Role) error {
	if ns == target.Namespace {
		return nil
	}
	if NamespaceListed(eckschema.SplitList(target.Annotations[AnnotationAllowedNamespaces]), ns) {
		return nil
	}
	field := target.Field
	switch {
	case field != "":
	case role == RoleRemote:
		field = "spec.remote.elasticsearchRef"
	default:
		field = "spec.local.elasticsearchRef"
	}
	return denied(field,
		"namespace %s is not allowed to link %s as %s cluster: the platform team must add %s to annotation %s on Elasticsearch %s",
		ns, target, role, ns, AnnotationAllowedNamespaces, target)
}

// NamespaceListed reports whether a grant list (namespaces, or "*" for
// all) holds ns.
func NamespaceListed(allowed []string, ns string) bool {
	return slices.Contains(allowed, "*") || slices.Contains(allowed, ns)
}

// AuthorizeAccess returns a *DeniedError unless namespace ns may use target
// as a remote and request every entry from it. It checks the namespace,
// then each entry's kind, restricted indices and names.
func AuthorizeAccess(ns string, target Target, entries []AccessEntry) error {
	if err := AuthorizeNamespace(ns, target, RoleRemote); err != nil {
		return err
	}
	if len(entries) == 0 {
		return nil
	}
	g, err := readGrants(target)
	if err != nil {
		return err
	}
	for _, e := range entries {
		if err := g.authorizeEntry(e); err != nil {
			return err
		}
	}
	return nil
}

// AuthorizeCertificate returns a *DeniedError unless namespace ns may link
// target as a remote with the certificate security model. That model gives
// the local cluster's roles their full rights on the remote, beyond any
// index or access restriction, so only an explicit certificate grant allows
// it. field names where the request chose the model.
func AuthorizeCertificate(ns string, target Target, field string) error {
	if err := AuthorizeNamespace(ns, target, RoleRemote); err != nil {
		return err
	}
	allowed := allowedAccess(target)
	if slices.Contains(allowed, AccessCertificate) {
		return nil
	}
	return denied(field,
		"the certificate security model is not allowed on remote %s: it gives the local cluster's roles their full rights there, past any index restriction, so a remote allows it only with %s in annotation %s (which allows [%s]); use the API key model, or ask the platform team to add %s to %s on Elasticsearch %s",
		target, AccessCertificate, AnnotationAllowedAccess, strings.Join(allowed, ","), AccessCertificate, AnnotationAllowedAccess, target)
}

func allowedAccess(target Target) []string {
	raw, ok := target.Annotations[AnnotationAllowedAccess]
	if !ok {
		return defaultAccess
	}
	return eckschema.SplitList(raw)
}

// grants are a remote's restrictions, read from its annotations.
type grants struct {
	target Target
	access []string
	// patterns apply only when restrictsPatterns: an annotation that lists
	// nothing allows nothing.
	patterns          []string
	restrictsPatterns bool
	regexes           []string
	anyCharWildcards  bool
	restrictedIndices bool
}

func readGrants(target Target) (*grants, error) {
	a := target.Annotations
	g := &grants{
		target:            target,
		access:            allowedAccess(target),
		anyCharWildcards:  a[AnnotationAllowSingleCharacterWildcards] == "true",
		restrictedIndices: a[AnnotationAllowRestrictedIndices] == "true",
	}
	if raw, ok := a[AnnotationAllowedIndexPatterns]; ok {
		g.restrictsPatterns = true
		g.patterns = eckschema.SplitList(raw)
	}
	if raw, ok := a[AnnotationAllowedIndexRegexes]; ok && strings.TrimSpace(raw) != "" {
		if err := json.Unmarshal([]byte(raw), &g.regexes); err != nil {
			return nil, denied(target.Field,
				"annotation %s on Elasticsearch %s is not a JSON array of strings, so no regular expression is granted and the request cannot be checked: ask the platform team to fix it",
				AnnotationAllowedIndexRegexes, target)
		}
	}
	return g, nil
}

func (g *grants) authorizeEntry(e AccessEntry) error {
	if !slices.Contains(g.access, e.Kind) {
		return denied(e.Field,
			"access kind %s is not allowed on remote %s: its annotation %s allows only [%s]; remove %s or ask the platform team to add %s to %s",
			e.Kind, g.target, AnnotationAllowedAccess, strings.Join(g.access, ","), e.Field, e.Kind, AnnotationAllowedAccess)
	}
	if e.AllowRestrictedIndices && !g.restrictedIndices {
		f := e.Field + ".allowRestrictedIndices"
		return denied(f,
			"true lets the patterns match restricted indices such as .security, where Elasticsearch keeps credentials, and remote %s does not allow it: remove it, or ask the platform team to set annotation %s: \"true\" on Elasticsearch %s",
			g.target, AnnotationAllowRestrictedIndices, g.target)
	}
	for i, n := range e.Names {
		if err := g.authorizeName(fmt.Sprintf("%s.names[%d]", e.Field, i), n); err != nil {
			return err
		}
	}
	return nil
}

func (g *grants) authorizeName(field, name string) error {
	kind, why := classifyName(name)
	switch kind {
	case nameInvalid:
		return denied(field, "index name %q %s: request a literal name or a wildcard pattern such as logs-*", name, why)
	case nameRegex:
		if slices.Contains(g.regexes, name) {
			return nil
		}
		return denied(field,
			"index name %q is a regular expression, which Elasticsearch matches against every index name, and remote %s does not grant it: use wildcard patterns such as logs-*, or ask the platform team to add it verbatim to annotation %s (a JSON array) on Elasticsearch %s",
			name, g.target, AnnotationAllowedIndexRegexes, g.target)
	}
	if usesAnyChar(name) && !g.anyCharWildcards {
		return denied(field,
			"index pattern %q uses the single-character wildcard ?, which remote %s does not allow: use * or literal names, or ask the platform team to set annotation %s: \"true\" on Elasticsearch %s",
			name, g.target, AnnotationAllowSingleCharacterWildcards, g.target)
	}
	if !g.restrictsPatterns {
		return nil
	}
	for _, p := range g.patterns {
		if PatternWithin(name, p) {
			return nil
		}
	}
	return denied(field,
		"index pattern %q is outside what remote %s grants (%s: [%s]): request a name or pattern within one of them, or ask the platform team to grant a pattern that covers it",
		name, g.target, AnnotationAllowedIndexPatterns, strings.Join(g.patterns, ","))
}

// ConfigAllowsNamespace returns a *DeniedError unless a provider config
// (kind and name, for the message) whose spec.allowedNamespaces is allowed
// may be used from namespace ns. field names the reference that chose the
// config.
func ConfigAllowsNamespace(kind, name string, allowed []string, ns, field string) error {
	if NamespaceListed(allowed, ns) {
		return nil
	}
	return denied(field,
		"%s %s does not allow namespace %s: a provider config is a credential, usable only from the namespaces in its spec.allowedNamespaces; ask the platform team to add %s to spec.allowedNamespaces of %s %s, or use a provider config that allows it",
		kind, name, ns, ns, kind, name)
}
