package tenant

import (
	"context"
	"crypto/sha256"
	"fmt"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/eslink/eslink/internal/grants"
)

// collidingAliases returns two aliases that share their first 40
// characters and the first 32 bits of their SHA-256: a credentials Secret
// name made of the cut alias and a 32-bit hash, as eslink's once was, is
// the same for both. A birthday search finds them in about 2^16 tries.
func collidingAliases(t *testing.T) (string, string) {
	t.Helper()
	prefix := strings.Repeat("c", 40) + "-"
	seen := map[[4]byte]string{}
	for i := range 1 << 22 {
		alias := fmt.Sprintf("%s%x", prefix, i)
		sum := sha256.Sum256([]byte(alias))
		short := [4]byte(sum[:4])
		if other, ok := seen[short]; ok {
			return other, alias
		}
		seen[short] = alias
	}
	t.Fatal("no 32-bit collision found")
	return "", ""
}

// credentialsSecret returns the name of the credentials Secret in ns that
// the RemoteClusterCredentials owner (namespace/name) holds, "" if none.
func credentialsSecret(t *testing.T, ns, owner string) (string, map[string][]byte) {
	t.Helper()
	var list corev1.SecretList
	if err := admin.List(t.Context(), &list, client.InNamespace(ns)); err != nil {
		t.Fatal(err)
	}
	for _, s := range list.Items {
		if strings.HasPrefix(s.Name, "eslink-remote-credentials-") && s.Annotations["eslink.io/owner"] == owner {
			return s.Name, s.Data
		}
	}
	return "", nil
}

// TestCredentialsSecretOfCollidingAlias is issue 18 item 5: a team that
// takes an alias whose credentials Secret name collides with another
// link's alias (same first 40 characters, same short hash) must not take
// that link's Secret, nor keep its credentials from being delivered.
func TestCredentialsSecretOfCollidingAlias(t *testing.T) {
	t.Parallel()
	ns := adminNamespace(t, "collision")
	local := newCluster(t, ns, "shared", map[string]string{grants.AnnotationAllowedNamespaces: tenantNS + "," + victimNS}, true)
	victimAlias, tenantAlias := collidingAliases(t)

	// The tenant comes first, with its own link's settings and
	// credentials for the colliding alias.
	atkS := settingsFor(tenantNS, unique("atk-settings"), tenantAlias, local, clusterPC(local.Config), "attacker.example.com:9443")
	atkC := credentialsFor(t, tenant, tenantNS, unique("atk-credentials"), tenantAlias, local)
	for _, o := range []client.Object{atkS, atkC} {
		inLink(o, "tenant-link")
		if err := tenant.Create(t.Context(), o); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = tenant.Delete(context.Background(), o) })
	}
	var atkSecret string
	waitFor(t, "the tenant's credentials to be delivered", func() (bool, string) {
		atkSecret, _ = credentialsSecret(t, local.NS, tenantNS+"/"+atkC.Name)
		return atkSecret != "", "no credentials Secret of " + atkC.Name
	})

	// The victim's link for the other alias still gets its credentials
	// delivered, in a Secret of its own.
	_, vc := victimFlow3(t, local, victimAlias)
	var victimSecret string
	var data map[string][]byte
	waitFor(t, "the victim's credentials to be delivered", func() (bool, string) {
		victimSecret, data = credentialsSecret(t, local.NS, victimNS+"/"+vc.Name)
		got, _ := fresh(t, vc)
		return victimSecret != "", "no credentials Secret of " + vc.Name + "; " + conditions(got)
	})
	if victimSecret == atkSecret {
		t.Fatalf("the tenant's and the victim's credentials share Secret %s", victimSecret)
	}
	victimID := strings.ReplaceAll(vc.Name, ".", "-")
	if _, ok := data[victimID]; !ok || len(data) != 1 {
		t.Errorf("the victim's credentials Secret %s holds keys %v, want its key %s only", victimSecret, keysOf(data), victimID)
	}
	time.Sleep(3 * poll)
	if _, atkData := credentialsSecret(t, local.NS, tenantNS+"/"+atkC.Name); atkData[victimID] != nil {
		t.Errorf("the tenant's credentials Secret %s holds the victim's key", atkSecret)
	}
	ss, _, _ := unstructured.NestedSlice(getES(t, local).Object, "spec", "secureSettings")
	entries := fmt.Sprint(ss)
	if !strings.Contains(entries, victimSecret) || !strings.Contains(entries, atkSecret) {
		t.Errorf("spec.secureSettings of %s is %s, want one entry for each link's Secret", local, entries)
	}
}

func keysOf(m map[string][]byte) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}
