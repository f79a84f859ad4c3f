// Command scale is eslink's scale benchmark (`make scale`): for each link
// count N it starts a real API server, R fake remote Elasticsearch clusters
// and one fake local cluster per remote behind ECK Elasticsearch objects, the
// provider as a separate process with a short poll interval, and a simulated
// ECK (package ecksim); creates the managed resources of N links across ten
// namespaces; waits until all are Ready; measures a steady-state window of
// several poll intervals; deletes everything; and checks on the fakes that no
// key is left valid. Each run prints exactly one line:
//
//	scale: mix=X links=N remotes=R ready_s=S es_requests_per_poll=E api_writes_per_poll=W api_reads_per_poll=G rss_mib=M cpu_s_per_poll=C delete_s=D keys_left=K api_requests_per_link=Q
//
// mix is the kind of links (-mix, both by default): flow3, where every link
// is flow 3 (a key the provider owns and its delivery to the local
// cluster), or mixed, where every -owned-every-th link is flow 3 and the
// others flow 1. api_requests_per_link counts the provider's API requests
// from the first create until all are Ready, divided by N; the API reads
// and writes per poll are the provider's too, in the steady-state window.
//
// It is a benchmark, run by hand, never part of `make test`. Progress and
// diagnostics go to stderr, the result lines to stdout.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"time"
)

// The kinds of links a run creates.
const (
	mixMixed = "mixed"
	mixFlow3 = "flow3"
)

type config struct {
	mixes            []string
	links            []int
	remotes          int
	namespaces       int
	ownedEvery       int
	otherSecrets     int
	poll             time.Duration
	windowPolls      int
	maxReconcileRate int
	eckInterval      time.Duration
	readyTimeout     time.Duration
	deleteTimeout    time.Duration
	verbose          bool
	providerBin      string
	keepLogs         bool
}

func parseFlags(fs *flag.FlagSet, args []string) (*config, error) {
	c := &config{}
	links := fs.String("links", "1000", "Link counts to run, comma separated; each run starts from scratch.")
	fs.IntVar(&c.remotes, "remotes", 5, "Remote clusters; each has its own local cluster, and links are spread over the pairs.")
	fs.IntVar(&c.namespaces, "namespaces", 10, "Namespaces the links are spread over.")
	mixes := fs.String("mix", mixFlow3+","+mixMixed, "The kinds of links to run, comma separated, each with every link count: mixed (flow 1 links with every -owned-every-th a flow 3 link) or flow3 (every link a key the provider owns, delivered to the local cluster).")
	fs.IntVar(&c.ownedEvery, "owned-every", 10, "With -mix mixed, every n-th link is a flow 3 link whose key the provider owns (0: none); the others are flow 1 links.")
	fs.IntVar(&c.otherSecrets, "other-secrets", 0, "Secrets of 8 KiB that are none of eslink's business (Helm releases, certificates), spread over the namespaces, as a cluster shared by many teams holds.")
	fs.DurationVar(&c.poll, "poll", 30*time.Second, "The provider's --poll.")
	fs.IntVar(&c.windowPolls, "window-polls", 3, "Length of the steady-state window, in poll intervals (at least 3).")
	fs.IntVar(&c.maxReconcileRate, "max-reconcile-rate", 100, "The provider's --max-reconcile-rate.")
	fs.DurationVar(&c.eckInterval, "eck-interval", time.Second, "How often the simulated ECK reconciles.")
	fs.DurationVar(&c.readyTimeout, "ready-timeout", 30*time.Minute, "How long to wait for all managed resources to be Ready.")
	fs.DurationVar(&c.deleteTimeout, "delete-timeout", 15*time.Minute, "How long to wait for all managed resources to be gone.")
	fs.StringVar(&c.providerBin, "provider", "", "A provider binary to run instead of building ./provider/cmd/provider, e.g. an older build to compare with.")
	fs.BoolVar(&c.keepLogs, "keep-logs", false, "Keep the provider's log after the run and say where it is.")
	fs.BoolVar(&c.verbose, "v", false, "Report progress and the API writes of the window by resource on stderr.")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	for _, s := range strings.Split(*links, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n < 1 {
			return nil, fmt.Errorf("--links must be positive integers, comma separated; got %q", *links)
		}
		c.links = append(c.links, n)
	}
	for _, m := range strings.Split(*mixes, ",") {
		m = strings.TrimSpace(m)
		if m != mixMixed && m != mixFlow3 {
			return nil, fmt.Errorf("--mix must be %s or %s, comma separated; got %q", mixFlow3, mixMixed, *mixes)
		}
		c.mixes = append(c.mixes, m)
	}
	switch {
	case c.remotes < 1:
		return nil, fmt.Errorf("--remotes must be at least 1, got %d", c.remotes)
	case c.namespaces < 1:
		return nil, fmt.Errorf("--namespaces must be at least 1, got %d", c.namespaces)
	case c.otherSecrets < 0:
		return nil, fmt.Errorf("--other-secrets must not be negative, got %d", c.otherSecrets)
	case c.ownedEvery < 0:
		return nil, fmt.Errorf("--owned-every must not be negative, got %d", c.ownedEvery)
	case c.poll < time.Second:
		return nil, fmt.Errorf("--poll must be at least 1s, got %s", c.poll)
	case c.windowPolls < 3:
		return nil, fmt.Errorf("--window-polls must be at least 3, got %d", c.windowPolls)
	case c.maxReconcileRate < 1:
		return nil, fmt.Errorf("--max-reconcile-rate must be at least 1, got %d", c.maxReconcileRate)
	}
	return c, nil
}

func main() {
	c, err := parseFlags(flag.CommandLine, os.Args[1:])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := runAll(ctx, c); err != nil {
		fmt.Fprintln(os.Stderr, "scale:", err)
		stop()
		os.Exit(1) //nolint:gocritic // stop ran above.
	}
}

func runAll(ctx context.Context, c *config) error {
	provider := c.providerBin
	if provider == "" {
		var err error
		if provider, err = buildProvider(ctx); err != nil {
			return err
		}
	}
	for _, mix := range c.mixes {
		for _, n := range c.links {
			r, err := run(ctx, c, mix, provider, n)
			if err != nil {
				return fmt.Errorf("mix=%s links=%d: %w", mix, n, err)
			}
			fmt.Println(r)
		}
	}
	return nil
}

// result is one run's figures.
type result struct {
	mix            string
	links, remotes int
	readyS         float64
	esPerPoll      float64
	writesPerPoll  float64
	readsPerPoll   float64
	requestsPerLnk float64
	rssMiB         float64
	cpuPerPoll     float64
	deleteS        float64
	keysLeft       int
}

func (r result) String() string {
	return fmt.Sprintf("scale: mix=%s links=%d remotes=%d ready_s=%.1f es_requests_per_poll=%.1f api_writes_per_poll=%.1f api_reads_per_poll=%.1f rss_mib=%.1f cpu_s_per_poll=%.2f delete_s=%.1f keys_left=%d api_requests_per_link=%.1f",
		r.mix, r.links, r.remotes, r.readyS, r.esPerPoll, r.writesPerPoll, r.readsPerPoll, r.rssMiB, r.cpuPerPoll, r.deleteS, r.keysLeft, r.requestsPerLnk)
}

func (c *config) progress(format string, args ...any) {
	if c.verbose {
		fmt.Fprintf(os.Stderr, "%s scale: %s\n", time.Now().Format("15:04:05"), fmt.Sprintf(format, args...))
	}
}
