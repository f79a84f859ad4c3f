// Module used only to resolve, checksum-verify and download the upstream
// modules whose CRD YAML the test control plane installs
// (hack/build-controlplane.sh). Nothing imports their Go packages: the
// cloud-on-k8s Go code is under the Elastic License, only its CRD YAML is read.
module github.com/eslink/eslink/hack/controlplane/crds

go 1.24.0

require (
	github.com/crossplane/crossplane/v2 v2.4.0
	github.com/elastic/cloud-on-k8s/v3 v3.5.0
)
