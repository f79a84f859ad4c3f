// Command etcd is the etcd server used by the test control plane
// (hack/build-controlplane.sh). etcd publishes no importable main package,
// so this wrapper calls the same entry point as the upstream binary.
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() {
	etcdmain.Main(os.Args)
}
