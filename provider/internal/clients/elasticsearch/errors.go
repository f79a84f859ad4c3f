package elasticsearch

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"strings"

	"github.com/eslink/eslink/internal/eckschema"
)

// Reason classifies a failure so that controllers can report a condition a
// person can act on.
type Reason string

// Reasons.
const (
	ReasonNotFound         Reason = "NotFound"
	ReasonLicense          Reason = "LicenseNonCompliant"
	ReasonPrivilege        Reason = "MissingPrivilege"
	ReasonVersion          Reason = "VersionTooOld"
	ReasonUnreachable      Reason = "Unreachable"
	ReasonTLS              Reason = "TLSFailure"
	ReasonAuthentication   Reason = "AuthenticationFailed"
	ReasonBadRequest       Reason = "BadRequest"
	ReasonServer           Reason = "ServerError"
	ReasonNotElasticsearch Reason = "NotElasticsearch"
)

// Error is a classified Elasticsearch failure. Its message holds the
// Elasticsearch error type and reason, never a request body, so it cannot
// carry credentials or key secrets.
type Error struct {
	Reason  Reason
	Status  int
	Type    string
	Message string
	err     error
}

func (e *Error) Error() string { return e.Message }

// Unwrap returns the transport error, if any.
func (e *Error) Unwrap() error { return e.err }

// ReasonOf returns the reason of a classified error, or "" for others.
func ReasonOf(err error) Reason {
	var e *Error
	if errors.As(err, &e) {
		return e.Reason
	}
	return ""
}

// IsNotFound reports whether err says the key or resource does not exist.
func IsNotFound(err error) bool { return ReasonOf(err) == ReasonNotFound }

// privilegeAdvice says which cluster privileges the provider config's user
// needs: monitor to read the version (GET /), manage_security to create,
// update and invalidate cross-cluster API keys (manage_api_key and
// manage_own_api_key cannot), and read_security to observe keys other
// users made (manage_security includes it).
const privilegeAdvice = "the provider config's user needs the cluster privileges manage_security and monitor (read_security and monitor to observe keys only)"

// esErrorBody is the error format of Elasticsearch.
type esErrorBody struct {
	Error *struct {
		Type      string `json:"type"`
		Reason    string `json:"reason"`
		RootCause []struct {
			Type   string `json:"type"`
			Reason string `json:"reason"`
		} `json:"root_cause"`
		CausedBy *struct {
			Type   string `json:"type"`
			Reason string `json:"reason"`
		} `json:"caused_by"`
		LicenseFeature string `json:"license.expired.feature"`
	} `json:"error"`
	Status int `json:"status"`
}

// classifyResponse turns an error response into an *Error. op names the
// operation for the message, e.g. "create cross-cluster API key".
func classifyResponse(url, op string, status int, body esErrorBody) *Error {
	e := &Error{Status: status}
	reason := ""
	if body.Error != nil {
		e.Type = body.Error.Type
		reason = body.Error.Reason
		if body.Error.CausedBy != nil && body.Error.CausedBy.Reason != "" {
			reason += ": " + body.Error.CausedBy.Reason
		}
	}
	switch {
	case status == 404:
		e.Reason = ReasonNotFound
		e.Message = fmt.Sprintf("cannot %s: not found on Elasticsearch at %s", op, url)
		if reason != "" {
			e.Message += ": " + reason
		}
	case status == 403 && body.Error != nil && (body.Error.LicenseFeature != "" || strings.Contains(reason, "license is non-compliant")):
		feature := body.Error.LicenseFeature
		if feature == "" {
			feature = "advanced-remote-cluster-security"
		}
		e.Reason = ReasonLicense
		e.Message = fmt.Sprintf("cannot %s: the license of Elasticsearch at %s is non-compliant for [%s]; cross-cluster API keys need an enterprise or trial license", op, url, feature)
	case status == 403:
		e.Reason = ReasonPrivilege
		e.Message = fmt.Sprintf("cannot %s: missing privilege on Elasticsearch at %s: %s; %s", op, url, reason, privilegeAdvice)
	case status == 401:
		e.Reason = ReasonAuthentication
		e.Message = fmt.Sprintf("cannot %s: Elasticsearch at %s rejected the provider config's credentials (HTTP 401); check the credentials Secret", op, url)
	case status == 400 && strings.Contains(reason, "unknown field [certificate_identity]"):
		e.Reason = ReasonVersion
		e.Message = fmt.Sprintf("cannot %s: Elasticsearch at %s does not know certificate_identity (needs 9.3 or later); remove spec.forProvider.certificateIdentity or upgrade", op, url)
	case status >= 400 && status < 500:
		e.Reason = ReasonBadRequest
		e.Message = fmt.Sprintf("cannot %s: Elasticsearch at %s rejected the request (HTTP %d, %s): %s", op, url, status, e.Type, reason)
	default:
		e.Reason = ReasonServer
		e.Message = fmt.Sprintf("cannot %s: Elasticsearch at %s failed (HTTP %d, %s): %s", op, url, status, e.Type, reason)
	}
	return e
}

// classifyTransport turns a transport error into an *Error.
func classifyTransport(url, op string, err error) error {
	if errors.Is(err, context.Canceled) {
		return fmt.Errorf("cannot %s on Elasticsearch at %s: %w", op, url, err)
	}
	var (
		unknownAuthority x509.UnknownAuthorityError
		hostname         x509.HostnameError
		invalid          x509.CertificateInvalidError
	)
	switch {
	case errors.As(err, &unknownAuthority), errors.As(err, &hostname), errors.As(err, &invalid),
		strings.Contains(err.Error(), "x509:"), strings.Contains(err.Error(), "tls:"),
		strings.Contains(err.Error(), "fingerprint"):
		return &Error{Reason: ReasonTLS, err: err, Message: fmt.Sprintf(
			"cannot %s: TLS verification of Elasticsearch at %s failed: %v; check the CA Secret (caSecretRef, or ECK's %s) or tls.certificateFingerprint", op, url, err, eckschema.HTTPCertsPublicSecret("<name>"))}
	case strings.Contains(err.Error(), "server is not Elasticsearch"), strings.Contains(err.Error(), "unknown product"):
		return &Error{Reason: ReasonNotElasticsearch, err: err, Message: fmt.Sprintf(
			"cannot %s: the server at %s is not Elasticsearch (no X-Elastic-Product header); check the provider config's URL", op, url)}
	}
	var netErr net.Error
	if errors.As(err, &netErr) || errors.Is(err, context.DeadlineExceeded) || isConnectionError(err) {
		return &Error{Reason: ReasonUnreachable, err: err, Message: fmt.Sprintf(
			"cannot %s: Elasticsearch at %s is unreachable: %v", op, url, err)}
	}
	return &Error{Reason: ReasonUnreachable, err: err, Message: fmt.Sprintf("cannot %s on Elasticsearch at %s: %v", op, url, err)}
}

func isConnectionError(err error) bool {
	s := err.Error()
	for _, m := range []string{"connection refused", "connection reset", "EOF", "no such host", "i/o timeout"} {
		if strings.Contains(s, m) {
			return true
		}
	}
	return false
}
