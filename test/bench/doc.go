// Package bench measures eslink's composition function side by side with
// crossplane-contrib/function-patch-and-transform v0.10.7 rendering a
// comparable three-resource composition: called directly over gRPC on
// loopback, against a floor of patch-and-transform's least work
// (BenchmarkFunctionCost), and rendered through Crossplane's real engine,
// bin/xprender (BenchmarkRender).
//
// It holds benchmarks only: run it with `make bench`, after
// `make render-engine` and hack/build-pandt.sh.
package bench
