package main

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	xpv2 "github.com/crossplane/crossplane/apis/v2/core/v2"
	kerrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/crossplane/crossplane-runtime/v2/pkg/resource"

	eckv1alpha1 "github.com/eslink/eslink/apis/eck/v1alpha1"
	esv1alpha1 "github.com/eslink/eslink/apis/elasticsearch/v1alpha1"
	"github.com/eslink/eslink/test/fakeelasticsearch/esfake"
)

// workers is how many objects the benchmark creates or deletes at once.
const workers = 16

// run measures n links in a fresh environment.
func run(ctx context.Context, c *config, mix, providerBin string, n int) (result, error) {
	res := result{mix: mix, links: n, remotes: c.remotes}
	e, err := start(ctx, c, providerBin)
	if err != nil {
		return res, err
	}
	defer e.stop()
	fail := func(err error) (result, error) {
		log := e.provider.Log()
		if len(log) > 8000 {
			log = log[len(log)-8000:]
		}
		return res, fmt.Errorf("%w\nend of the provider's log:\n%s", err, log)
	}

	var objs []client.Object
	for i := 0; i < n; i++ {
		objs = append(objs, linkObjects(c, mix, i)...)
	}
	r0, err := e.providerRequests(ctx)
	if err != nil {
		return fail(err)
	}
	t0 := time.Now()
	if err := each(ctx, objs, func(ctx context.Context, o client.Object) error {
		if err := e.kube.Create(ctx, o); err != nil {
			return fmt.Errorf("cannot create %T %s/%s: %w", o, o.GetNamespace(), o.GetName(), err)
		}
		return nil
	}); err != nil {
		return fail(err)
	}
	c.progress("created %d managed resources of %d links in %s", len(objs), n, time.Since(t0).Round(time.Millisecond))

	var last readiness
	lastReport := time.Now()
	if err := waitFor(ctx, c.readyTimeout, 2*time.Second, func(ctx context.Context) (bool, error) {
		r, err := ready(ctx, e.kube)
		if err != nil {
			return false, err
		}
		last = r
		if time.Since(lastReport) > 10*time.Second {
			c.progress("%s after %s", r, time.Since(t0).Round(time.Second))
			lastReport = time.Now()
		}
		return r.total == len(objs) && r.ready == r.total, nil
	}); err != nil {
		return fail(fmt.Errorf("not all managed resources Ready (%w) after %s: %d of %d; not Ready by kind and reason: %s",
			err, time.Since(t0).Round(time.Second), last.ready, len(objs), last.notReady()))
	}
	res.readyS = time.Since(t0).Seconds()
	c.progress("all %d Ready after %.1fs", len(objs), res.readyS)
	r1, err := e.providerRequests(ctx)
	if err != nil {
		return fail(err)
	}
	cr, cw, all := r1.since(r0)
	res.requestsPerLnk = (cr + cw) / float64(n)
	c.progress("creation: the provider's API requests: %.0f reads, %.0f writes; everyone's by verb and resource: %s", cr, cw, breakdown(all))

	// Let the requeues of the ramp-up pass before the window opens.
	if err := sleep(ctx, c.poll); err != nil {
		return res, err
	}
	if err := e.window(ctx, c, &res); err != nil {
		return fail(err)
	}
	if r, err := ready(ctx, e.kube); err == nil && r.ready != r.total {
		c.progress("warning: %d of %d managed resources not Ready at the end of the window: %s", r.total-r.ready, r.total, r.notReady())
	}

	t1 := time.Now()
	if err := each(ctx, objs, func(ctx context.Context, o client.Object) error {
		if err := e.kube.Delete(ctx, o); err != nil && !kerrors.IsNotFound(err) {
			return fmt.Errorf("cannot delete %T %s/%s: %w", o, o.GetNamespace(), o.GetName(), err)
		}
		return nil
	}); err != nil {
		return fail(err)
	}
	if err := waitFor(ctx, c.deleteTimeout, 2*time.Second, func(ctx context.Context) (bool, error) {
		r, err := ready(ctx, e.kube)
		last = r
		return err == nil && r.total == 0, err
	}); err != nil {
		return fail(fmt.Errorf("managed resources left (%w) %s after deleting: %d; by kind and reason: %s", err, time.Since(t1).Round(time.Second), last.total, last.notReady()))
	}
	res.deleteS = time.Since(t1).Seconds()
	c.progress("all deleted after %.1fs", res.deleteS)

	// ECK invalidates the keys of removed entries; one last pass of the
	// simulator after its loop stopped makes that deterministic.
	e.stopECK()
	if err := e.eck.Reconcile(ctx); err != nil {
		return fail(fmt.Errorf("simulated ECK: %w", err))
	}
	res.keysLeft = validKeys(e.remotes)
	return res, nil
}

// window measures the steady state over c.windowPolls poll intervals.
func (e *env) window(ctx context.Context, c *config, res *result) error {
	fakes := append(append([]*esfake.Server(nil), e.remotes...), e.locals...)
	es0 := esRequests(providerUser, fakes...)
	r0, err := e.providerRequests(ctx)
	if err != nil {
		return err
	}
	p0, err := readProc(e.provider.Pid())
	if err != nil {
		return err
	}
	peak := p0.rssMiB
	end := time.Now().Add(time.Duration(c.windowPolls) * c.poll)
	for time.Now().Before(end) {
		if err := sleep(ctx, min(time.Second, time.Until(end))); err != nil {
			return err
		}
		p, err := readProc(e.provider.Pid())
		if err != nil {
			return err
		}
		peak = max(peak, p.rssMiB)
	}
	p1, err := readProc(e.provider.Pid())
	if err != nil {
		return err
	}
	r1, err := e.providerRequests(ctx)
	if err != nil {
		return err
	}
	es := delta(es0, esRequests(providerUser, fakes...))
	apiReads, apiWrites, all := r1.since(r0)
	polls := float64(c.windowPolls)
	res.esPerPoll = float64(sum(es)) / polls
	res.writesPerPoll = apiWrites / polls
	res.readsPerPoll = apiReads / polls
	res.rssMiB = max(peak, p1.rssMiB)
	res.cpuPerPoll = (p1.cpuSeconds - p0.cpuSeconds) / polls
	c.progress("window of %d polls: Elasticsearch requests %s", c.windowPolls, breakdown(es))
	c.progress("window of %d polls: API requests (everyone's) %s", c.windowPolls, breakdown(all))
	return nil
}

// each runs fn on every object with a few workers, stopping at the first
// error.
func each(ctx context.Context, objs []client.Object, fn func(context.Context, client.Object) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	work := make(chan client.Object)
	errs := make(chan error, workers)
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for o := range work {
				if err := fn(ctx, o); err != nil {
					errs <- err
					cancel()
					return
				}
			}
		}()
	}
	func() {
		defer close(work)
		for _, o := range objs {
			select {
			case work <- o:
			case <-ctx.Done():
				return
			}
		}
	}()
	wg.Wait()
	close(errs)
	return errors.Join(<-errs, ctx.Err())
}

// readiness counts the managed resources that exist and are Ready, and the
// others by kind, Ready reason and Synced message.
type readiness struct {
	total, ready int
	byKind       map[string]int // Ready ones
	others       map[string]int
}

func (r readiness) String() string {
	return fmt.Sprintf("%d of %d Ready (%s)", r.ready, r.total, breakdown(r.byKind))
}

func (r readiness) notReady() string {
	keys := make([]string, 0, len(r.others))
	for k := range r.others {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return r.others[keys[i]] > r.others[keys[j]] })
	if len(keys) > 5 {
		keys = keys[:5]
	}
	parts := make([]string, 0, len(keys))
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%d× %s", r.others[k], k))
	}
	return strings.Join(parts, "; ")
}

func ready(ctx context.Context, kube client.Client) (readiness, error) {
	r := readiness{byKind: map[string]int{}, others: map[string]int{}}
	count := func(kind string, items []resource.Managed) {
		for _, mg := range items {
			r.total++
			rc := mg.GetCondition(xpv2.TypeReady)
			if rc.Status == "True" {
				r.ready++
				r.byKind[kind]++
				continue
			}
			sc := mg.GetCondition(xpv2.TypeSynced)
			msg := sc.Message
			if len(msg) > 160 {
				msg = msg[:160] + "…"
			}
			r.others[fmt.Sprintf("%s Ready=%s (%s) Synced=%s: %s", kind, rc.Status, rc.Reason, sc.Status, msg)]++
		}
	}
	servers := &eckv1alpha1.RemoteClusterServerList{}
	entries := &eckv1alpha1.RemoteClusterEntryList{}
	keys := &esv1alpha1.CrossClusterAPIKeyList{}
	creds := &eckv1alpha1.RemoteClusterCredentialsList{}
	settings := &esv1alpha1.RemoteClusterSettingsList{}
	trusts := &eckv1alpha1.RemoteClusterTrustList{}
	for _, l := range []client.ObjectList{servers, entries, keys, creds, settings, trusts} {
		if err := kube.List(ctx, l); err != nil {
			return r, fmt.Errorf("cannot list managed resources: %w", err)
		}
	}
	count("RemoteClusterServer", managed(servers.Items))
	count("RemoteClusterEntry", managed(entries.Items))
	count("CrossClusterAPIKey", managed(keys.Items))
	count("RemoteClusterCredentials", managed(creds.Items))
	count("RemoteClusterSettings", managed(settings.Items))
	count("RemoteClusterTrust", managed(trusts.Items))
	return r, nil
}

func managed[T any, P interface {
	*T
	resource.Managed
}](items []T) []resource.Managed {
	out := make([]resource.Managed, len(items))
	for i := range items {
		out[i] = P(&items[i])
	}
	return out
}

// validKeys counts the keys on the remotes that are neither invalidated nor
// expired: after everything is deleted, none should be.
func validKeys(remotes []*esfake.Server) int {
	n := 0
	now := time.Now()
	for _, s := range remotes {
		for _, k := range s.Keys() {
			if !k.Invalidated && (k.Expiration == nil || k.Expiration.After(now)) {
				n++
			}
		}
	}
	return n
}

func sleep(ctx context.Context, d time.Duration) error {
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(d):
		return nil
	}
}
