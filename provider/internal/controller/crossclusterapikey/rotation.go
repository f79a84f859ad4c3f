package crossclusterapikey

import (
	"time"

	esv1alpha1 "github.com/eslink/eslink/apis/elasticsearch/v1alpha1"
	"github.com/eslink/eslink/internal/linkrules"
	"github.com/eslink/eslink/provider/internal/clients/elasticsearch"
)

// nextRotation is when key is replaced: its expiration minus
// spec.forProvider.rotateBefore, nil when it is never rotated. It is
// judged from the key that is current (the one in the connection Secret),
// so a due date is passed once: the successor has its own, at least
// minLifetime after its creation. A key never becomes due before it served
// minLifetime, whatever its expiration says (validation keeps the two
// apart; this guards against clock skew and keys made by older specs).
func nextRotation(cr *esv1alpha1.CrossClusterAPIKey, key *elasticsearch.APIKey, minLifetime time.Duration) (*time.Time, error) {
	rb := cr.Spec.ForProvider.RotateBefore
	if rb == nil || key.Expiration == nil {
		return nil, nil
	}
	before, err := linkrules.ParseDuration("spec.forProvider.rotateBefore", *rb)
	if err != nil {
		return nil, err
	}
	exp := time.UnixMilli(*key.Expiration)
	next := exp.Add(-before)
	if floor := time.UnixMilli(key.Creation).Add(minLifetime); next.Before(floor) && floor.Before(exp) {
		next = floor
	}
	return &next, nil
}

// desiredExpiration is spec.forProvider.expiration as recorded in a key's
// metadata, "" for a key that never expires.
func desiredExpiration(cr *esv1alpha1.CrossClusterAPIKey) string {
	if e := cr.Spec.ForProvider.Expiration; e != nil {
		return *e
	}
	return ""
}

// expirationChanged reports whether the key's expiration was set from
// another spec.forProvider.expiration than the current one.
func expirationChanged(cr *esv1alpha1.CrossClusterAPIKey, key *elasticsearch.APIKey) bool {
	return key.MetadataString(esv1alpha1.MetadataExpiration) != desiredExpiration(cr)
}

// forcedReplacement reports whether a person asked for the key to be
// replaced: spec.forProvider.forceReplaceBefore has passed, and the key was
// not made with that value (its metadata records the one it was made
// with), so one value replaces the key once.
func forcedReplacement(cr *esv1alpha1.CrossClusterAPIKey, key *elasticsearch.APIKey, now time.Time) bool {
	f := forceReplaceBefore(cr)
	return f != "" && !now.Before(cr.Spec.ForProvider.ForceReplaceBefore.Time) && key.MetadataString(esv1alpha1.MetadataForceReplaceBefore) != f
}

// forceReplaceBefore is spec.forProvider.forceReplaceBefore as recorded in
// a key's metadata, "" when unset.
func forceReplaceBefore(cr *esv1alpha1.CrossClusterAPIKey) string {
	if f := cr.Spec.ForProvider.ForceReplaceBefore; f != nil {
		return f.UTC().Format(time.RFC3339)
	}
	return ""
}
