// Command eck-operator runs ECK's operator (its manager command from
// github.com/elastic/cloud-on-k8s/v3/cmd/manager) for eslink's tests, with
// one change to its surroundings: host names resolve through an in-process
// DNS responder that reads a hosts file the test's kubelet stand-in writes,
// so the operator reaches each fake Elasticsearch node on its Pod's loopback
// address (https://<pod>.<sset>.<ns>:9200) without touching the machine's
// resolver configuration.
//
// Usage: eck-operator --eslink-hosts-file=PATH [manager flags...]
//
// The flag must come first; everything after it goes to ECK's manager
// command unchanged.
package main

import (
	"fmt"
	"os"
	"strings"

	"github.com/elastic/cloud-on-k8s/v3/cmd/manager"

	"github.com/eslink/eslink/hack/eck/hosts"
)

const hostsFlag = "--eslink-hosts-file="

func main() {
	args := os.Args[1:]
	if len(args) > 0 && strings.HasPrefix(args[0], hostsFlag) {
		hosts.Install(strings.TrimPrefix(args[0], hostsFlag), os.Stderr)
		args = args[1:]
	}
	cmd := manager.Command()
	cmd.SetArgs(args)
	if err := cmd.Execute(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
