// Package linkrules holds the rules that both the function and the provider
// apply to a link, so that the two can never disagree:
//   - authorization: which namespaces may use an ECK Elasticsearch object, and
//     what they may request from it as a remote (annotations the platform team
//     sets on that object);
//   - the parts of ECK's Elasticsearch object that eslink reads and writes,
//     including the annotations that record what eslink owns there. ECK's Go
//     types are under the Elastic License, so the schema is re-expressed over
//     unstructured objects, which also keeps every field eslink does not know;
//   - version floors, and the Elasticsearch durations of key expiry and
//     rotation.
//
// The function checks these rules to explain a denial on the link; the
// provider enforces them, because its managed resources can be written
// without the function.
package eckschema
