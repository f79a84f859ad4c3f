//go:build generate

// Generation of deepcopy methods, managed resource method sets and CRDs.
// Run with `make generate`; CI fails when the output is stale.

//go:generate rm -rf ../package/provider/crds ../package/function/input ../bin/gen/linkcrd
//go:generate go tool controller-gen object:headerFile=../hack/boilerplate.go.txt paths=./...
//go:generate go tool controller-gen crd:crdVersions=v1 paths=./v1alpha1/... paths=./elasticsearch/... paths=./eck/... output:artifacts:config=../package/provider/crds
//go:generate go tool controller-gen crd:crdVersions=v1 paths=./fn/... output:artifacts:config=../package/function/input
//go:generate go tool controller-gen crd:crdVersions=v1 paths=./link/... output:artifacts:config=../bin/gen/linkcrd
//go:generate go tool angryjet generate-methodsets --header-file=../hack/boilerplate.go.txt ./...
//go:generate go run ../hack/genxrd --crd ../bin/gen/linkcrd/eslink.io_xremoteclusterlinks.yaml --out ../package/configuration

package apis
