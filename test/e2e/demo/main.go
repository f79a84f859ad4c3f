// Command demo runs one link end to end on loopback and prints what happened:
// `make demo`. It starts the same components as the end-to-end tests (a real
// API server, Crossplane core v2.4 installing eslink's packages from a
// registry, the function and the provider as their runtime, two fake
// Elasticsearch clusters and a simulated ECK), applies
// examples/links/flow1-eck-api-key.yaml as the application team of ns1,
// waits for the link to become Ready and for the local cluster's GET
// /_remote/info to say connected, shows what Crossplane composed, the
// link's status, both ECK objects and the key as the remote holds it, then
// deletes the link and checks everything it created is gone.
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"

	"github.com/eslink/eslink/test/e2e/harness"
)

const linkFile = "examples/links/flow1-eck-api-key.yaml"

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "demo failed:", err)
		os.Exit(1)
	}
}

func step(format string, args ...any) {
	fmt.Printf("==> "+format+"\n", args...)
}

func run() error {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
	defer cancel()
	start := time.Now()

	verbose := os.Getenv("DEMO_VERBOSE") != ""
	var keyCreated atomic.Int64 // unix nanos when the ECK simulator created the key
	h, err := harness.Start(ctx, harness.Options{
		Progress: step,
		Log: func(format string, args ...any) {
			if strings.HasPrefix(format, "[ECK simulator] SIMULATES created cross-cluster API key") {
				keyCreated.CompareAndSwap(0, time.Now().UnixNano())
			}
			if verbose || strings.HasPrefix(format, "[ECK simulator]") {
				fmt.Printf("    "+format+"\n", args...)
			}
		},
		FailureLog: func(logs string) { fmt.Fprintln(os.Stderr, logs) },
	})
	if err != nil {
		return err
	}
	defer h.Stop()

	link, err := readLink(filepath.Join(h.Root, linkFile))
	if err != nil {
		return err
	}
	team, err := h.Team(link.GetNamespace())
	if err != nil {
		return err
	}
	step("applying %s as the application team of %s (only the RBAC of examples/rbac/application-team.yaml): %s %s/%s",
		linkFile, link.GetNamespace(), link.GetKind(), link.GetNamespace(), link.GetName())
	applied := time.Now()
	entrySeen := watchEntry(ctx, h, link)
	if err := team.Create(ctx, link); err != nil {
		return fmt.Errorf("cannot create the link: %w", err)
	}
	got, err := h.WaitFor(ctx, link, 3*time.Minute, "Ready", harness.Ready)
	if err != nil {
		return err
	}
	ready := time.Since(applied)
	step("link %s/%s is Ready %s after it was applied", link.GetNamespace(), link.GetName(), ready.Round(100*time.Millisecond))
	if entry, key := <-entrySeen, keyCreated.Load(); !entry.IsZero() && key != 0 {
		eck := time.Unix(0, key).Sub(entry)
		fmt.Printf("    %s: Crossplane, the function and the provider (entry written, server enabled, key observed on the provider's 2s poll, status)\n", (ready - eck).Round(100*time.Millisecond))
		fmt.Printf("    %s: the ECK simulator, from the entry appearing on %s/%s to the key on %s/%s (it polls every second)\n",
			eck.Round(100*time.Millisecond), harness.LocalNamespace, harness.LocalName, harness.RemoteNamespace, harness.RemoteName)
	}

	fmt.Println()
	composed, err := h.Composed(ctx, got)
	if err != nil {
		return err
	}
	step("composed by Crossplane core (kubectl get remoteclusterservers,remoteclusterentries,crossclusterapikeys -n %s -l %s=%s)",
		link.GetNamespace(), harness.LabelComposite, link.GetName())
	for _, c := range composed {
		owner := "none"
		if ref := metav1.GetControllerOf(c); ref != nil {
			owner = ref.Kind + "/" + ref.Name
		}
		st, _, _ := harness.Condition(c, "Ready")
		synced, _, _ := harness.Condition(c, "Synced")
		fmt.Printf("    %-20s %-36s controller %s, Synced=%s Ready=%s\n", c.GetKind(), c.GetName(), owner, synced, st)
	}

	step("kubectl get xremoteclusterlink -n %s %s -o yaml (status)", link.GetNamespace(), link.GetName())
	printYAML(got.Object["status"])

	local, err := h.Elasticsearch(ctx, harness.LocalNamespace, harness.LocalName)
	if err != nil {
		return err
	}
	step("Elasticsearch %s/%s spec.remoteClusters (the local cluster)", harness.LocalNamespace, harness.LocalName)
	printYAML(nested(local, "spec", "remoteClusters"))
	remote, err := h.Elasticsearch(ctx, harness.RemoteNamespace, harness.RemoteName)
	if err != nil {
		return err
	}
	step("Elasticsearch %s/%s spec.remoteClusterServer (the remote cluster)", harness.RemoteNamespace, harness.RemoteName)
	printYAML(nested(remote, "spec", "remoteClusterServer"))

	alias, _, _ := unstructured.NestedString(got.Object, "status", "alias")
	info, err := h.WaitConnected(ctx, alias, 2*time.Minute)
	if err != nil {
		return err
	}
	step("GET /_remote/info on %s/%s: connected to %s (ECK restarted %s/%s %d time(s) and %s/%s %d time(s) on the way)", harness.LocalNamespace, harness.LocalName, alias,
		harness.LocalNamespace, harness.LocalName, h.ECK.Restarts(harness.LocalNamespace, harness.LocalName),
		harness.RemoteNamespace, harness.RemoteName, h.ECK.Restarts(harness.RemoteNamespace, harness.RemoteName))
	printJSON(map[string]harness.RemoteInfo{alias: info})

	keyName := fmt.Sprintf("eck-%s-%s-%s", harness.LocalNamespace, harness.LocalName, alias)
	keys, err := harness.Keys(ctx, h.Remote, keyName)
	if err != nil {
		return err
	}
	step("GET /_security/api_key?name=%s on the remote", keyName)
	printJSON(keys)

	fmt.Println()
	step("deleting the link as the application team of %s", link.GetNamespace())
	if err := team.Delete(ctx, link); err != nil {
		return fmt.Errorf("cannot delete the link: %w", err)
	}
	if err := h.WaitGone(ctx, link, 3*time.Minute); err != nil {
		return err
	}
	if err := waitComposedGone(ctx, h, link); err != nil {
		return err
	}
	if err := waitKeyInvalidated(ctx, h, keyName); err != nil {
		return err
	}
	aliases, err := h.RemoteClusterAliases(ctx, harness.LocalNamespace, harness.LocalName)
	if err != nil {
		return err
	}
	if len(aliases) != 0 {
		return fmt.Errorf("the local cluster still has remote clusters %v after the link was deleted", aliases)
	}
	step("link deleted: Kubernetes' garbage collector removed its %d composed resources, their finalizers removed the entry from %s/%s, and key %s is invalidated",
		len(composed), harness.LocalNamespace, harness.LocalName, keyName)
	step("demo finished in %s", time.Since(start).Round(time.Second))
	return nil
}

// watchEntry reports when the link's entry first appears in the local
// cluster's spec.remoteClusters, to tell the ECK simulator's time apart.
func watchEntry(ctx context.Context, h *harness.Harness, link *unstructured.Unstructured) <-chan time.Time {
	alias, _, _ := unstructured.NestedString(link.Object, "spec", "alias")
	out := make(chan time.Time, 1)
	go func() {
		defer close(out)
		for ctx.Err() == nil {
			aliases, err := h.RemoteClusterAliases(ctx, harness.LocalNamespace, harness.LocalName)
			if err == nil && slices.Contains(aliases, alias) {
				out <- time.Now()
				return
			}
			time.Sleep(50 * time.Millisecond)
		}
	}()
	return out
}

func waitComposedGone(ctx context.Context, h *harness.Harness, link *unstructured.Unstructured) error {
	deadline := time.Now().Add(2 * time.Minute)
	for {
		got, err := h.Composed(ctx, link)
		if err != nil {
			return err
		}
		if len(got) == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%d composed resources of the link are still there", len(got))
		}
		time.Sleep(500 * time.Millisecond)
	}
}

func readLink(path string) (*unstructured.Unstructured, error) {
	b, err := os.ReadFile(path) // A file of the repository.
	if err != nil {
		return nil, fmt.Errorf("cannot read %s: %w", path, err)
	}
	u := &unstructured.Unstructured{}
	if err := yaml.Unmarshal(b, &u.Object); err != nil {
		return nil, fmt.Errorf("cannot parse %s: %w", path, err)
	}
	return u, nil
}

func waitKeyInvalidated(ctx context.Context, h *harness.Harness, name string) error {
	deadline := time.Now().Add(2 * time.Minute)
	for {
		keys, err := harness.Keys(ctx, h.Remote, name)
		if err != nil {
			return err
		}
		active := false
		for _, k := range keys {
			active = active || !k.Invalidated
		}
		if !active {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("key %s is still active on the remote", name)
		}
		time.Sleep(500 * time.Millisecond)
	}
}

func nested(u *unstructured.Unstructured, path ...string) any {
	v, _, _ := unstructured.NestedFieldNoCopy(u.Object, path...)
	return v
}

func printYAML(v any) {
	b, err := yaml.Marshal(v)
	if err != nil {
		fmt.Println("    (cannot render:", err, ")")
		return
	}
	for _, l := range strings.Split(strings.TrimRight(string(b), "\n"), "\n") {
		fmt.Println("    " + l)
	}
}

func printJSON(v any) {
	b, err := json.MarshalIndent(v, "    ", "  ")
	if err != nil {
		fmt.Println("    (cannot render:", err, ")")
		return
	}
	fmt.Println("    " + string(b))
}
