package esfake

import (
	"bufio"
	"bytes"
	"crypto/subtle"
	"sort"
	"strings"

	"golang.org/x/crypto/bcrypt"
	"sigs.k8s.io/yaml"
)

// The file realm: users, users_roles and roles.yml in the node's config
// directory, as ECK mounts them from <name>-es-xpack-file-realm. Each node
// reads its own files, so nodes of one cluster may disagree while a change
// rolls out, as in Elasticsearch.

// fileRealmName is the name of the node's file realm
// (xpack.security.authc.realms.file.<name>), default_file without one.
func (st *state) fileRealmName() string {
	for k := range st.node.config {
		if rest, found := strings.CutPrefix(k, "xpack.security.authc.realms.file."); found {
			if name, _, ok := strings.Cut(rest, "."); ok {
				return name
			}
		}
	}
	return "default_file"
}

// fileUser looks a user up in the users and users_roles files.
func (st *state) fileUser(name string) (u *User, hash string, found bool) {
	for _, line := range fileLines(st.node.files[resolvePath("users")]) {
		n, h, ok := strings.Cut(line, ":")
		if ok && n == name {
			hash, found = h, true
			break
		}
	}
	if !found {
		return nil, "", false
	}
	u = &User{Name: name}
	for _, line := range fileLines(st.node.files[resolvePath("users_roles")]) {
		role, users, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		for _, member := range strings.Split(users, ",") {
			if strings.TrimSpace(member) == name {
				u.Roles = append(u.Roles, strings.TrimSpace(role))
			}
		}
	}
	sort.Strings(u.Roles)
	return u, hash, true
}

// fileLines are the meaningful lines of a realm file: no blanks, no
// comments.
func fileLines(b []byte) []string {
	var out []string
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		out = append(out, line)
	}
	return out
}

// verifyHash checks a password against a users file hash: bcrypt
// ($2a$, $2b$, $2y$) as ECK writes them; any other value is compared as
// plain text (Hasher.NOOP). Other Elasticsearch hashes are not supported.
func verifyHash(hash, password string) bool {
	if strings.HasPrefix(hash, "$2a$") || strings.HasPrefix(hash, "$2b$") || strings.HasPrefix(hash, "$2y$") {
		return bcrypt.CompareHashAndPassword([]byte(hash), []byte(password)) == nil
	}
	return subtle.ConstantTimeCompare([]byte(hash), []byte(password)) == 1
}

// fileRoles reads the cluster privileges of the roles in roles.yml.
func (st *state) fileRoles() map[string][]string {
	b := st.node.files[resolvePath("roles.yml")]
	if len(b) == 0 {
		return nil
	}
	var doc map[string]struct {
		Cluster []string `json:"cluster"`
	}
	if yaml.Unmarshal(b, &doc) != nil {
		return nil
	}
	out := make(map[string][]string, len(doc))
	for name, r := range doc {
		out[name] = r.Cluster
	}
	return out
}
