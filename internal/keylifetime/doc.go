// Package keylifetime holds the Elasticsearch durations of key expiration
// and rotation and the rule that bounds them: a key serves at least the
// platform's minimum lifetime between its creation and its replacement.
// The function checks it on a link, the provider on a key.
package keylifetime
