package fn

import (
	"fmt"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/utils/ptr"

	xpv2 "github.com/crossplane/crossplane/apis/v2/core/v2"
	"github.com/crossplane/function-sdk-go/resource"

	commonv1alpha1 "github.com/eslink/eslink/apis/common/v1alpha1"
	eckv1alpha1 "github.com/eslink/eslink/apis/eck/v1alpha1"
	esv1alpha1 "github.com/eslink/eslink/apis/elasticsearch/v1alpha1"
	linkv1alpha1 "github.com/eslink/eslink/apis/link/v1alpha1"
	"github.com/eslink/eslink/internal/linkrules"
)

// Values of the link's status fields.
const (
	serverEnabled     = "Enabled"
	serverPending     = "Pending"
	serverNotRequired = "NotRequired"
	entryPresent      = "Present"
	entryPending      = "Pending"
	entryNotRequired  = "NotRequired"
	partPresent       = "Present"
	partPending       = "Pending"
	partNotRequired   = "NotRequired"
	credsDelivered    = "Delivered"
	credsRotating     = "Rotating"
	credsPending      = "Pending"
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

	// Observed atProvider of the link's parts, zero when not observed.
	server       eckv1alpha1.RemoteClusterServerObservation
	entry        eckv1alpha1.RemoteClusterEntryObservation
	key          esv1alpha1.CrossClusterAPIKeyObservation
	credentials  eckv1alpha1.RemoteClusterCredentialsObservation
	trust        eckv1alpha1.RemoteClusterTrustObservation
	signing      eckv1alpha1.RemoteClusterSigningObservation
	connectivity esv1alpha1.RemoteClusterConnectivityObservation
}

// observe derives the link's status from the observed composed resources
// of the rendered ones. It reads conditions and atProvider only: observed
// connection details hold the encoded key and never reach status. local is
// the local cluster's Elasticsearch object.
func observe(l *link, local *unstructured.Unstructured, rendered map[resource.Name]bool, observed map[resource.Name]resource.ObservedComposed) *observation {
	o := &observation{
		Status: linkv1alpha1.XRemoteClusterLinkStatus{Alias: l.Alias, Flow: l.Flow},
		Ready:  map[resource.Name]bool{},
	}
	redact := redactor(observed)
	at := func(n resource.Name, into any) {
		if oc, ok := observed[n]; ok {
			atProviderInto(oc.Resource.Object, into) // A part without status reads as not yet observed.
		}
	}
	at(nameServer, &o.server)
	at(nameEntry, &o.entry)
	at(nameKey, &o.key)
	at(nameCredentials, &o.credentials)
	at(nameTrust, &o.trust)
	at(nameSigning, &o.signing)
	at(nameConnectivity, &o.connectivity)

	names := make([]string, 0, len(rendered))
	for n := range rendered {
		names = append(names, string(n))
	}
	sort.Strings(names)
	var connectivity *xpv2.Condition
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
			continue
		}
		if name == nameConnectivity {
			// Not connected is explained below, from the other parts.
			connectivity = &ready
			continue
		}
		if !o.Ready[name] {
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
		if o.server.Enabled {
			o.Status.RemoteClusterServer = serverEnabled
		} else {
			o.block(false, "RemoteClusterServerNotEnabled", fmt.Sprintf(
				"remote cluster server not enabled on %s yet: eslink enables it, which restarts that cluster", refString(*l.Remote)))
		}
	}

	o.Status.RemoteClusterEntry = entryNotRequired
	if rendered[nameEntry] {
		o.Status.RemoteClusterEntry = entryPending
		if o.entry.Present {
			o.Status.RemoteClusterEntry = entryPresent
		} else {
			o.block(false, "RemoteClusterEntryPending", fmt.Sprintf(
				"remote cluster entry %s not yet in spec.remoteClusters of %s", l.Alias, refString(l.Local)))
		}
	}

	if rendered[nameKey] {
		o.observeKey(l)
	}
	if l.Flow == linkv1alpha1.FlowProviderAPIKey {
		o.observeLocalWiring(local, rendered)
	}
	if connectivity != nil {
		o.observeConnectivity(l, *connectivity)
	}
	return o
}

func (o *observation) observeKey(l *link) {
	at := o.key
	remote := "the remote"
	if l.Remote != nil {
		remote = refString(*l.Remote)
	}
	keyName := ownedKeyName(l)
	fix := "the provider creates it"
	if l.Flow == linkv1alpha1.FlowECKAPIKey {
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
		NextRotation: at.NextRotation, AwaitingHandoverKeyID: at.AwaitingHandoverKeyID,
	}
	switch {
	case at.Invalidated:
		o.block(true, "KeyInvalidated", fmt.Sprintf("key %s (id %s) on %s is invalidated: %s again", keyName, at.ID, remote, fix))
	case at.Expired:
		o.block(true, "KeyExpired", fmt.Sprintf("key %s (id %s) on %s has expired: set spec.rotateBefore so it is replaced in time", keyName, at.ID, remote))
	case !at.AccessMatches:
		updater := "the provider updates it"
		if l.Flow == linkv1alpha1.FlowECKAPIKey {
			updater = "ECK updates it from the entry"
		}
		o.block(false, "KeyAccessMismatch", fmt.Sprintf("key %s (id %s) on %s does not grant the requested access yet: %s", keyName, at.ID, remote, updater))
	}
}

// observeLocalWiring reports how far the local cluster is wired to use the
// key the provider owns. The resources' own conditions already say what
// each waits for.
func (o *observation) observeLocalWiring(local *unstructured.Unstructured, rendered map[resource.Name]bool) {
	fileBased := linkrules.FileBasedSecureSettings(local)
	w := &linkv1alpha1.LocalWiringStatus{
		Credentials:           credsPending,
		KeyID:                 o.credentials.TakenUpKeyID,
		SecureSettings:        eckv1alpha1.DeliveryKeystore,
		RotationRestartsLocal: ptr.To(!fileBased),
		ConnectionSettings:    partPending,
		Trust:                 partPending,
		Signing:               partNotRequired,
	}
	if fileBased {
		w.SecureSettings = eckv1alpha1.DeliveryFileBased
	}
	switch taken := o.credentials.TakenUpKeyID; {
	case taken != "" && taken == o.key.ID:
		w.Credentials = credsDelivered
	case taken != "":
		w.Credentials = credsRotating
	}
	if o.Ready[nameSettings] {
		w.ConnectionSettings = partPresent
	}
	if o.Ready[nameTrust] {
		w.Trust = partPresent
	}
	if rendered[nameSigning] {
		w.Signing = partPending
		if o.Ready[nameSigning] && (!rendered[nameSigningTrust] || o.Ready[nameSigningTrust]) {
			w.Signing = partPresent
		}
	}
	o.Status.Local = w
}

// observeConnectivity reports L's GET /_remote/info for the alias and, when
// it is not connected, names the part that breaks it.
func (o *observation) observeConnectivity(l *link, ready xpv2.Condition) {
	if ready.Status == corev1.ConditionUnknown {
		o.block(false, "ConnectivityUnknown", fmt.Sprintf("waiting for the first GET /_remote/info of %s for alias %s", refString(l.Local), l.Alias))
		return
	}
	o.Status.Connected = ptr.To(o.connectivity.Connected)
	if o.connectivity.Connected {
		return
	}
	cause, broken := o.diagnose(l)
	o.block(broken, "NotConnected", fmt.Sprintf("alias %s on %s is not connected to %s: %s", l.Alias, refString(l.Local), remoteString(l), cause))
}

// diagnose names the first part that keeps the alias from connecting, and
// whether it is broken rather than on its way.
func (o *observation) diagnose(l *link) (string, bool) {
	remote := remoteString(l)
	keyName := ownedKeyName(l)
	if l.Flow == linkv1alpha1.FlowECKAPIKey {
		keyName = eckKeyName(l)
	}
	switch {
	case l.Remote != nil && l.Flow != linkv1alpha1.FlowCertificate && !o.server.Enabled:
		return fmt.Sprintf("the remote cluster server of %s is not enabled", remote), false
	case l.Flow != linkv1alpha1.FlowCertificate && o.key.Invalidated:
		return fmt.Sprintf("key %s (id %s) is invalidated", keyName, o.key.ID), true
	case l.Flow != linkv1alpha1.FlowCertificate && o.key.Expired:
		return fmt.Sprintf("key %s (id %s) has expired", keyName, o.key.ID), true
	case l.Flow != linkv1alpha1.FlowCertificate && o.key.ID == "":
		return fmt.Sprintf("key %s does not exist yet", keyName), false
	case l.Flow == linkv1alpha1.FlowProviderAPIKey && o.credentials.TakenUpKeyID == "":
		return fmt.Sprintf("%s has not loaded the key yet", refString(l.Local)), false
	case l.Flow == linkv1alpha1.FlowProviderAPIKey && o.credentials.TakenUpKeyID != o.key.ID:
		// A rotation keeps the replaced key valid until it is taken up, so
		// the replaced key was invalidated or expired outside the rotation.
		return fmt.Sprintf("%s still uses key %s (id %s), which %s no longer accepts: it was invalidated or expired there; eslink delivered its replacement (id %s), which %s has not loaded yet",
			refString(l.Local), keyName, o.credentials.TakenUpKeyID, remote, o.key.ID, refString(l.Local)), false
	case l.Flow == linkv1alpha1.FlowProviderAPIKey && !o.trust.InBundle:
		return fmt.Sprintf("%s does not trust the CA of the remote cluster server yet (its eslink CA bundle lacks it)", refString(l.Local)), false
	case l.Flow == linkv1alpha1.FlowProviderAPIKey && !(o.trust.Mounted && o.trust.RolledOut):
		return fmt.Sprintf("%s has not mounted its eslink CA bundle yet (a rolling restart)", refString(l.Local)), false
	case l.Spec.CertificateIdentity != nil && !(o.signing.Configured && o.signing.RolledOut):
		return fmt.Sprintf("%s does not sign its requests to alias %s yet (a rolling restart)", refString(l.Local), l.Alias), false
	case l.Flow == linkv1alpha1.FlowProviderAPIKey && !o.Ready[nameSettings]:
		return fmt.Sprintf("the proxy settings of alias %s are not set on %s yet", l.Alias, refString(l.Local)), false
	case l.Flow != linkv1alpha1.FlowProviderAPIKey && !o.entry.Present:
		return fmt.Sprintf("the entry %s is not in spec.remoteClusters of %s yet", l.Alias, refString(l.Local)), false
	case !o.connectivity.Configured:
		return fmt.Sprintf("%s does not know the alias yet (GET /_remote/info does not list it)", refString(l.Local)), false
	}
	address, serverName := remoteAddress(l)
	switch l.Flow {
	case linkv1alpha1.FlowProviderAPIKey:
		why := fmt.Sprintf("every part is in place, yet %s cannot connect to %s (server name %s): check the network path, that the remote cluster server's certificate is signed by the trusted CA and valid for that name, and the remote's license",
			refString(l.Local), address, serverName)
		if l.Remote == nil && l.Spec.CertificateIdentity != nil {
			why += fmt.Sprintf(", and that the remote trusts the transport CA of %s in cluster.remote.signing.certificate_authorities", refString(l.Local))
		}
		return why, true
	default:
		return fmt.Sprintf("every part is in place, yet %s cannot connect to %s: check ECK's events on %s and the network path", refString(l.Local), remote, refString(l.Local)), true
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
		if l.Flow == linkv1alpha1.FlowECKAPIKey {
			return "key " + eckKeyName(l)
		}
		return "key " + ownedKeyName(l)
	case nameCredentials:
		return "credentials entry of alias " + l.Alias + " on " + refString(l.Local)
	case nameSettings:
		return "proxy connection of alias " + l.Alias + " on " + refString(l.Local)
	case nameTrust:
		return "CA trust of " + refString(l.Local) + " for the remote cluster server"
	case nameSigning:
		return "request signing of alias " + l.Alias + " on " + refString(l.Local)
	case nameSigningTrust:
		return "signature trust of " + refString(*l.Remote) + " for " + refString(l.Local)
	case nameConnectivity:
		return "connectivity check of alias " + l.Alias + " on " + refString(l.Local)
	}
	return string(n)
}

// readyMessage is the LinkReady message of a ready link: what connects, and
// for a key the provider owns, what its rotation costs.
func readyMessage(l *link, local *unstructured.Unstructured) string {
	msg := fmt.Sprintf("alias %s on %s reaches %s", l.Alias, refString(l.Local), remoteString(l))
	if l.Flow != linkv1alpha1.FlowProviderAPIKey || l.Spec.Expiration == "" {
		return msg
	}
	if linkrules.FileBasedSecureSettings(local) {
		return msg + fmt.Sprintf("; key rotations reload in place on %s (file-based secure settings), without a restart", refString(l.Local))
	}
	return msg + fmt.Sprintf("; each key rotation restarts %s (keystore secure settings): with Elasticsearch 9.5+, ECK 3.5+ and annotation %s: \"true\" it reloads them in place",
		refString(l.Local), linkrules.AnnotationFileBasedSecureSettings)
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
