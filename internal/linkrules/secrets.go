package linkrules

// Every Secret the provider writes (connection Secrets of the keys it owns,
// credentials Secrets, CA bundles) carries LabelManagedBy: ManagedBy. The
// provider caches the Secrets with that label, and only those: a cache of
// every Secret would hold every team's credentials in its memory.
const (
	LabelManagedBy = "eslink.io/managed-by"
	ManagedBy      = "eslink"
)
