// Package grants decides what a namespace may do with an ECK Elasticsearch
// object: the eslink.io/allowed-* annotations the platform team sets on it,
// whether a requested index name lies within a granted pattern, the grant
// to add a CA to a cluster's remote cluster trust, and which namespaces may
// use a provider config. The function checks these rules to explain a
// denial on the link; the provider enforces them, because its managed
// resources can be written without the function.
package grants
