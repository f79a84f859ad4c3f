// Package bench measures eslink's composition function rendered through
// Crossplane's real engine (bin/xprender), side by side with
// crossplane-contrib/function-patch-and-transform v0.10.7 rendering a
// comparable three-resource composition through the same engine.
//
// It holds benchmarks only: run it with `make bench`, after
// `make render-engine` and hack/build-pandt.sh.
package bench
