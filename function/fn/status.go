package fn

import (
	"fmt"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"

	xpv2 "github.com/crossplane/crossplane/apis/v2/core/v2"
	"github.com/crossplane/function-sdk-go/resource"

	commonv1alpha1 "github.com/eslink/eslink/apis/common/v1alpha1"
	eckv1alpha1 "github.com/eslink/eslink/apis/eck/v1alpha1"
	esv1alpha1 "github.com/eslink/eslink/apis/elasticsearch/v1alpha1"
	linkv1alpha1 "github.com/eslink/eslink/apis/link/v1alpha1"
)

// Values of status.remoteClusterServer and status.remoteClusterEntry.
const (
	serverEnabled     = "Enabled"
	serverPending     = "Pending"
	serverNotRequired = "NotRequired"
	entryPresent      = "Present"
	entryPending      = "Pending"
)

// blocker is one reason the link is not ready, as a person can act on it.
type blocker struct {
	Warning bool // a failure, rather than work in progress
	Reason  string
	Message string
}

// observation is what the function derives from the observed resources.
type observation struct {
	Status   linkv1alpha1.XRemoteClusterLinkStatus
	Ready    map[resource.Name]bool
	Blockers []blocker
}

// observe derives the link's status from the observed composed resources
// of the rendered ones. It reads conditions and atProvider only: observed
// connection details hold the encoded key and never reach status.
func observe(l *link, rendered map[resource.Name]bool, observed map[resource.Name]resource.ObservedComposed) *observation {
	o := &observation{
		Status: linkv1alpha1.XRemoteClusterLinkStatus{Alias: l.Alias, Flow: string(l.Flow)},
		Ready:  map[resource.Name]bool{},
	}
	redact := redactor(observed)
	names := make([]string, 0, len(rendered))
	for n := range rendered {
		names = append(names, string(n))
	}
	sort.Strings(names)
	for _, n := range names {
		name := resource.Name(n)
		oc, ok := observed[name]
		if !ok {
			o.block(false, "Creating", fmt.Sprintf("%s is being created", describe(l, name)))
			continue
		}
		ready := conditionOf(oc.Resource.Object, xpv2.TypeReady)
		o.Ready[name] = ready.Status == corev1.ConditionTrue
		if synced := conditionOf(oc.Resource.Object, xpv2.TypeSynced); synced.Status == corev1.ConditionFalse {
			o.block(true, "ReconcileError", fmt.Sprintf("%s cannot be reconciled: %s", describe(l, name), redact(condText(synced))))
		} else if !o.Ready[name] {
			msg := describe(l, name) + " is not ready yet"
			if t := condText(ready); t != "" {
				msg += ": " + redact(t)
			}
			o.block(false, "Unavailable", msg)
		}
	}

	o.Status.RemoteClusterServer = serverNotRequired
	if rendered[nameServer] {
		o.Status.RemoteClusterServer = serverPending
		var at eckv1alpha1.RemoteClusterServerObservation
		if oc, ok := observed[nameServer]; ok {
			atProviderInto(oc.Resource.Object, &at)
		}
		if at.Enabled {
			o.Status.RemoteClusterServer = serverEnabled
		} else {
			o.block(false, "RemoteClusterServerNotEnabled", fmt.Sprintf(
				"remote cluster server not enabled on %s yet: eslink enables it, which restarts that cluster", refString(*l.Remote)))
		}
	}

	o.Status.RemoteClusterEntry = entryPending
	if rendered[nameEntry] {
		var at eckv1alpha1.RemoteClusterEntryObservation
		if oc, ok := observed[nameEntry]; ok {
			atProviderInto(oc.Resource.Object, &at)
		}
		if at.Present {
			o.Status.RemoteClusterEntry = entryPresent
		} else {
			o.block(false, "RemoteClusterEntryPending", fmt.Sprintf(
				"remote cluster entry %s not yet in spec.remoteClusters of %s", l.Alias, refString(l.Local)))
		}
	}

	if rendered[nameKey] {
		o.observeKey(l, observed)
	}

	if l.Flow == FlowProviderAPIKey {
		o.block(true, "CredentialsNotDelivered", fmt.Sprintf(
			"the key is created on the remote, but delivering it to %s (keystore credentials, proxy connection settings and trust) is not implemented yet: alias %s cannot be used until it is", refString(l.Local), l.Alias))
	}
	return o
}

func (o *observation) observeKey(l *link, observed map[resource.Name]resource.ObservedComposed) {
	var at esv1alpha1.CrossClusterAPIKeyObservation
	if oc, ok := observed[nameKey]; ok {
		atProviderInto(oc.Resource.Object, &at)
	}
	remote := "the remote"
	if l.Remote != nil {
		remote = refString(*l.Remote)
	}
	keyName := ownedKeyName(l)
	fix := "the provider creates it"
	if l.Flow == FlowECKAPIKey {
		keyName = eckKeyName(l)
		fix = "ECK creates it once the entry is applied"
	}
	if at.ID == "" {
		o.block(false, "KeyNotFound", fmt.Sprintf("key %s not found on %s yet: %s", keyName, remote, fix))
		return
	}
	o.Status.APIKey = &linkv1alpha1.APIKeyStatus{
		ID: at.ID, Name: at.Name, Creation: at.Creation, Expiration: at.Expiration,
		Invalidated: at.Invalidated, AccessMatches: at.AccessMatches,
	}
	switch {
	case at.Invalidated:
		o.block(true, "KeyInvalidated", fmt.Sprintf("key %s (id %s) on %s is invalidated: %s again", keyName, at.ID, remote, fix))
	case at.Expired:
		o.block(true, "KeyExpired", fmt.Sprintf("key %s (id %s) on %s has expired: set spec.rotateBefore so it is replaced in time", keyName, at.ID, remote))
	case !at.AccessMatches:
		updater := "the provider updates it"
		if l.Flow == FlowECKAPIKey {
			updater = "ECK updates it from the entry"
		}
		o.block(false, "KeyAccessMismatch", fmt.Sprintf("key %s (id %s) on %s does not grant the requested access yet: %s", keyName, at.ID, remote, updater))
	}
}

func (o *observation) block(warning bool, reason, msg string) {
	o.Blockers = append(o.Blockers, blocker{Warning: warning, Reason: reason, Message: msg})
}

// LinkReady is true when nothing blocks the link.
func (o *observation) LinkReady() bool { return len(o.Blockers) == 0 }

func describe(l *link, n resource.Name) string {
	switch n {
	case nameServer:
		return "remote cluster server on " + refString(*l.Remote)
	case nameEntry:
		return "remote cluster entry " + l.Alias + " on " + refString(l.Local)
	case nameKey:
		if l.Flow == FlowECKAPIKey {
			return "key " + eckKeyName(l)
		}
		return "key " + ownedKeyName(l)
	}
	return string(n)
}

func condText(c xpv2.Condition) string {
	if c.Message == "" {
		return string(c.Reason)
	}
	return string(c.Reason) + ": " + c.Message
}

// redactor removes the values of observed connection details from text
// copied off managed resources, so that a provider bug that puts a key in
// a condition message cannot leak it onto the link.
func redactor(observed map[resource.Name]resource.ObservedComposed) func(string) string {
	var secrets []string
	for _, oc := range observed {
		for _, v := range oc.ConnectionDetails {
			if len(v) >= 4 {
				secrets = append(secrets, string(v))
			}
		}
	}
	return func(s string) string {
		for _, v := range secrets {
			s = strings.ReplaceAll(s, v, "[redacted]")
		}
		return s
	}
}

func refString(r commonv1alpha1.ElasticsearchReference) string { return r.Namespace + "/" + r.Name }
