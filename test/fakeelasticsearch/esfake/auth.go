package esfake

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"net/http"
	"strings"
)

// principal is an authenticated caller: a user, possibly through a REST
// API key owned by that user.
type principal struct {
	user      *User
	realm     string
	realmType string
	key       *apiKey // set when authenticated with an API key
	// privs are the cluster privileges of the user's roles that exist;
	// resolved names those roles.
	privs, resolved []string
}

func realmOf(u *User) (string, string) {
	// ES's built-in elastic user lives in the reserved realm; everyone else
	// here is a native user.
	if u.Name == "elastic" {
		return "reserved", "reserved"
	}
	return "default_native", "native"
}

// wwwAuthenticate is what ES sends with every 401 when the basic, token
// and API key realms are enabled.
const wwwAuthenticate = "Basic realm=\"security\", charset=\"UTF-8\"\nBearer realm=\"security\"\nApiKey"

func unauthenticated(format string, args ...any) *esError {
	e := securityErr(http.StatusUnauthorized, format, args...)
	e.Headers = map[string]string{"WWW-Authenticate": wwwAuthenticate}
	return e
}

const badCredentials = "unable to authenticate with provided credentials and anonymous access is not allowed for this request"

func (st *state) authenticate(r *http.Request) (*principal, *esError) {
	h := strings.TrimSpace(r.Header.Get("Authorization"))
	if h == "" {
		return nil, unauthenticated("missing authentication credentials for REST request [%s]", r.URL.RequestURI())
	}
	scheme, cred, _ := strings.Cut(h, " ")
	cred = strings.TrimSpace(cred)
	switch {
	case strings.EqualFold(scheme, "basic"):
		raw, err := base64.StdEncoding.DecodeString(cred)
		if err != nil {
			return nil, unauthenticated("invalid basic authentication header encoding")
		}
		name, pass, found := strings.Cut(string(raw), ":")
		if !found {
			return nil, unauthenticated("invalid basic authentication header value")
		}
		// The file realm comes first in the realm chain (ECK orders it
		// first); a user it does not authenticate falls through.
		if fu, hash, found := st.fileUser(name); found && verifyHash(hash, pass) {
			p := &principal{user: fu, realm: st.fileRealmName(), realmType: "file"}
			p.privs, p.resolved = st.resolveRoles(fu)
			return p, nil
		}
		u, okUser := st.users[name]
		if !okUser || u.disabled || subtle.ConstantTimeCompare([]byte(u.Password), []byte(pass)) != 1 {
			return nil, unauthenticated("unable to authenticate user [%s] for REST request [%s]", name, r.URL.RequestURI())
		}
		realm, typ := realmOf(u)
		p := &principal{user: u, realm: realm, realmType: typ}
		p.privs, p.resolved = st.resolveRoles(u)
		return p, nil
	case strings.EqualFold(scheme, "apikey"):
		raw, err := base64.StdEncoding.DecodeString(cred)
		if err != nil {
			return nil, unauthenticated(badCredentials)
		}
		id, secret, found := strings.Cut(string(raw), ":")
		if !found {
			return nil, unauthenticated(badCredentials)
		}
		k, okKey := st.keys[id]
		if !okKey {
			return nil, unauthenticated(badCredentials)
		}
		sum := sha256.Sum256([]byte(secret))
		if subtle.ConstantTimeCompare(sum[:], k.secretHash[:]) != 1 {
			return nil, unauthenticated(badCredentials)
		}
		if k.typ != keyTypeREST {
			return nil, unauthenticated("authentication expected API key type of [rest], but API key [%s] has type [%s]", k.id, k.typ)
		}
		if k.invalidated || k.expiredAt(st.clock()) {
			return nil, unauthenticated(badCredentials)
		}
		u, okUser := st.users[k.username]
		if k.realmType == "file" {
			u, _, okUser = st.fileUser(k.username)
		}
		if !okUser || u.disabled {
			return nil, unauthenticated(badCredentials)
		}
		// A key holds the owner's privileges as they were when it was
		// created, not as they are now.
		return &principal{user: u, realm: k.realm, realmType: k.realmType, key: k, privs: k.limitedPrivs}, nil
	}
	return nil, unauthenticated(badCredentials)
}

// has reports whether the caller holds a cluster privilege. An API key
// holds the intersection of its role descriptors' cluster privileges (all
// of its owner's when it has none) and its owner's.
func (p *principal) has(priv string) bool { return p.allows(priv, "") }

// allows reports whether the caller holds priv, or, through a cluster
// action pattern in a role, the action.
func (p *principal) allows(priv, action string) bool {
	if !grants(p.privs, priv, action) {
		return false
	}
	if p.key == nil || len(p.key.restClusterPrivileges) == 0 && !p.key.restHasDescriptors {
		return true
	}
	return grants(p.key.restClusterPrivileges, priv, action)
}

// authorize returns the 403 ES sends when none of grantedBy is held. The
// message format follows AuthorizationDenialMessages (8.x "declared roles").
func (p *principal) authorize(action string, grantedBy ...string) *esError {
	for _, g := range grantedBy {
		if p.allows(g, action) {
			return nil
		}
	}
	var who string
	if p.key != nil {
		who = "API key id [" + p.key.id + "] of user [" + p.user.Name + "]"
	} else {
		who = "user [" + p.user.Name + "]" + rolesDescription(p.user, p.resolved)
	}
	return securityErr(http.StatusForbidden, "action [%s] is unauthorized for %s, this action is granted by the cluster privileges [%s]",
		action, who, strings.Join(grantedBy, ","))
}

// ownsUser reports whether username/realm filters select the caller's own keys.
func (p *principal) ownsFilter(username, realm string) bool {
	return username == p.user.Name && realm == p.realm
}

// licenseAllowsRCS is the advanced-remote-cluster-security feature check
// (OperationMode.ENTERPRISE: only enterprise and trial qualify).
func (st *state) licenseAllowsRCS() *esError {
	if st.license == "enterprise" || st.license == "trial" {
		return nil
	}
	e := securityErr(http.StatusForbidden, "current license is non-compliant for [advanced-remote-cluster-security]")
	e.Extra = [][2]string{{"license.expired.feature", "advanced-remote-cluster-security"}}
	return e
}
