// Package faultpoint lets a test make the real provider process die at a
// named step between two side effects, as a crash or an OOM kill would, so
// that it can restart the provider and check what recovery makes of the
// state left behind.
//
// Only a provider built with the build tag BuildTag has fault points, and
// only the crash tests build it so: in the shipped binaries Reach does
// nothing and no environment variable can make the provider exit.
package faultpoint

// BuildTag is the build tag that compiles the fault points in.
const BuildTag = "eslink_faultpoints"

// EnvVar names the step at which a provider built with BuildTag exits.
const EnvVar = "ESLINK_FAULT_POINT"

// ExitCode is the process's exit status at a fault point, so that a test
// can tell it from any other exit.
const ExitCode = 86
