package linkrules

import (
	"fmt"
	"slices"
	"strings"

	commonv1alpha1 "github.com/eslink/eslink/apis/common/v1alpha1"
)

// Annotations on an ECK Elasticsearch object that grant access to links from
// other namespaces and restrict what links may request from it as a remote.
const (
	// AnnotationAllowedNamespaces lists the namespaces, comma separated, whose
	// links may use the object as local or remote cluster; "*" allows all.
	// Links in the object's own namespace are always allowed.
	AnnotationAllowedNamespaces = "eslink.io/allowed-namespaces"

	// AnnotationAllowedIndexPatterns restricts, comma separated, the index
	// names or patterns a link may request from this cluster as a remote.
	// Each requested name must match one of them, where * matches any run
	// of characters. Unset means no restriction.
	AnnotationAllowedIndexPatterns = "eslink.io/allowed-index-patterns"

	// AnnotationAllowedAccess restricts the access kinds, comma separated,
	// a link may request: search, replication. Unset means both.
	AnnotationAllowedAccess = "eslink.io/allowed-access"
)

// Access kinds named in AnnotationAllowedAccess.
const (
	AccessSearch      = "search"
	AccessReplication = "replication"
)

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
}

func (t Target) String() string { return t.Namespace + "/" + t.Name }

// DeniedError says why a namespace may not use a target, and how to fix it.
type DeniedError struct {
	Reason string
}

func (e *DeniedError) Error() string { return e.Reason }

// IsDenied reports whether err is an authorization denial.
func IsDenied(err error) bool {
	_, ok := err.(*DeniedError) //nolint:errorlint // Denials are never wrapped before this check.
	return ok
}

// Authorize returns a *DeniedError when a link in namespace ns may not use
// target in role, or may not request access from it. A nil access checks
// the namespace only.
func Authorize(ns string, target Target, role Role, access *commonv1alpha1.LinkAccess) error {
	if err := authorizeNamespace(ns, target, role); err != nil {
		return err
	}
	if role != RoleRemote || access == nil {
		return nil
	}
	if err := authorizeAccessKinds(target, access); err != nil {
		return err
	}
	return authorizeIndexPatterns(target, access)
}

func authorizeNamespace(ns string, target Target, role Role) error {
	if ns == target.Namespace {
		return nil
	}
	allowed := splitList(target.Annotations[AnnotationAllowedNamespaces])
	if slices.Contains(allowed, "*") || slices.Contains(allowed, ns) {
		return nil
	}
	return &DeniedError{Reason: fmt.Sprintf(
		"namespace %s is not allowed to link %s as %s cluster: the platform team must add %s to annotation %s on Elasticsearch %s",
		ns, target, role, ns, AnnotationAllowedNamespaces, target)}
}

func authorizeAccessKinds(target Target, access *commonv1alpha1.LinkAccess) error {
	raw, ok := target.Annotations[AnnotationAllowedAccess]
	if !ok {
		return nil
	}
	allowed := splitList(raw)
	var requested []string
	if access.Search != nil {
		requested = append(requested, AccessSearch)
	}
	if access.Replication != nil {
		requested = append(requested, AccessReplication)
	}
	for _, kind := range requested {
		if !slices.Contains(allowed, kind) {
			return &DeniedError{Reason: fmt.Sprintf(
				"access kind %s is not allowed on remote %s: its annotation %s allows only [%s]; remove spec.access.%s or ask the platform team",
				kind, target, AnnotationAllowedAccess, strings.Join(allowed, ","), kind)}
		}
	}
	return nil
}

func authorizeIndexPatterns(target Target, access *commonv1alpha1.LinkAccess) error {
	raw, ok := target.Annotations[AnnotationAllowedIndexPatterns]
	if !ok {
		return nil
	}
	grants := splitList(raw)
	check := func(field string, names []string) error {
		for _, n := range names {
			if !slices.ContainsFunc(grants, func(g string) bool { return MatchPattern(g, n) }) {
				return &DeniedError{Reason: fmt.Sprintf(
					"index pattern %q in spec.access.%s.names is outside what remote %s grants (%s: [%s]); request a narrower pattern",
					n, field, target, AnnotationAllowedIndexPatterns, strings.Join(grants, ","))}
			}
		}
		return nil
	}
	if access.Search != nil {
		if err := check(AccessSearch, access.Search.Names); err != nil {
			return err
		}
	}
	if access.Replication != nil {
		return check(AccessReplication, access.Replication.Names)
	}
	return nil
}

// MatchPattern reports whether name lies within the granted pattern, where *
// in the grant matches any run of characters, including a literal * in the
// requested name. So logs-app-* lies within logs-*, but * does not.
func MatchPattern(grant, name string) bool {
	parts := strings.Split(grant, "*")
	if len(parts) == 1 {
		return grant == name
	}
	if !strings.HasPrefix(name, parts[0]) {
		return false
	}
	rest := name[len(parts[0]):]
	last := parts[len(parts)-1]
	for _, p := range parts[1 : len(parts)-1] {
		i := strings.Index(rest, p)
		if i < 0 {
			return false
		}
		rest = rest[i+len(p):]
	}
	return len(rest) >= len(last) && strings.HasSuffix(rest, last)
}

func splitList(s string) []string {
	var out []string
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}
