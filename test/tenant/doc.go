// Package tenant is the adversarial suite of eslink's tenant boundary. An
// application team, modelled as an impersonated user whose Role in its own
// namespace lets it write eslink's managed resources (an RBAC mistake the
// provider must survive), tries to reach further than the platform team's
// grants allow: clusters and index patterns it was not granted, regular
// expressions, restricted indices, the certificate model, other teams'
// provider configs and keys, turning off what it did not turn on. It runs
// against a real API server (test/controlplane), fake Elasticsearch servers
// and the provider as its real binary, and checks that every attempt ends
// with a condition naming the field and the grant to ask for, while the
// fakes' request logs and the Elasticsearch objects show nothing was
// written.
package tenant
