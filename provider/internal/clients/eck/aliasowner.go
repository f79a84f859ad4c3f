package eck

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/eslink/eslink/internal/linkrules"
)

// AliasOwners records the one owner of each alias of a local cluster,
// across every piece that wires it (linkrules.AnnotationAliasOwners). Each
// piece also keeps its own record (RemoteClusters, SecureSettings,
// SettingsOwners, SigningOwners) of the managed resource that holds it, so
// that it removes exactly its own part; this one says which link all the
// parts of an alias belong to.
var AliasOwners = OwnerRecord{Annotation: linkrules.AnnotationAliasOwners, What: "remote cluster alias"}

// SigningOwners records the aliases whose signing settings a
// RemoteClusterSigning put into a local cluster's nodeSets' config.
var SigningOwners = OwnerRecord{Annotation: linkrules.AnnotationRemoteClusterSigningOwners, What: "remote cluster alias"}

// AliasOwner is the owner under which mg claims its alias.
func AliasOwner(mg metav1.Object) string {
	return linkrules.AliasOwner(mg.GetNamespace(), mg.GetLabels(), string(mg.GetUID()))
}

// CheckAlias refuses an alias of local that another owner holds, with a
// *ConflictError that names that owner only to a resource of its own
// namespace. An alias nobody holds passes: the piece claims it when it
// writes (ClaimAlias).
func CheckAlias(local *unstructured.Unstructured, alias string, mg metav1.Object) error {
	owners, err := AliasOwners.Owners(local)
	if err != nil {
		return err
	}
	if o, ok := owners[alias]; ok && o != AliasOwner(mg) {
		return &ConflictError{What: AliasOwners.What, Key: alias, Object: objectName(local), Owner: linkrules.DescribeAliasOwner(o, mg.GetNamespace())}
	}
	return nil
}

// ClaimAlias records mg's owner as the owner of alias, inside the MutateFn
// that writes mg's piece, so that the claim and the piece are one write. It
// refuses an alias another owner holds, and reports whether local changed.
func ClaimAlias(local *unstructured.Unstructured, alias string, mg metav1.Object) (bool, error) {
	if err := CheckAlias(local, alias, mg); err != nil {
		return false, err
	}
	return AliasOwners.Claim(local, alias, AliasOwner(mg))
}

// OwnsAlias reports whether mg's owner holds alias on local.
func OwnsAlias(local *unstructured.Unstructured, alias string, mg metav1.Object) (bool, error) {
	return AliasOwners.Owns(local, alias, AliasOwner(mg))
}

// ReleaseAliases drops the owner of every alias that no piece holds any
// more. A piece calls it in the MutateFn that removed its own record, so an
// alias is free exactly when the last of its pieces is gone from the
// cluster, and a piece that could not remove what it wrote (its record
// stays) keeps the alias taken. It reports whether local changed.
func ReleaseAliases(local *unstructured.Unstructured) (bool, error) {
	owners, err := AliasOwners.Owners(local)
	if err != nil {
		return false, err
	}
	held, err := heldAliases(local)
	if err != nil {
		return false, err
	}
	changed := false
	for alias := range owners {
		if !held(alias) {
			delete(owners, alias)
			changed = true
		}
	}
	if !changed {
		return false, nil
	}
	return true, AliasOwners.write(local, owners)
}

// heldAliases returns whether a piece's own record holds an alias.
func heldAliases(local *unstructured.Unstructured) (func(alias string) bool, error) {
	entries, err := RemoteClusters.Keys(local)
	if err != nil {
		return nil, err
	}
	secure, err := SecureSettings.Keys(local)
	if err != nil {
		return nil, err
	}
	settings, err := SettingsOwners.Owners(local)
	if err != nil {
		return nil, err
	}
	signing, err := SigningOwners.Owners(local)
	if err != nil {
		return nil, err
	}
	return func(alias string) bool {
		_, e := entries[alias]
		_, c := secure[CredentialsSecretName(alias)]
		_, s := settings[alias]
		_, g := signing[alias]
		return e || c || s || g
	}, nil
}
