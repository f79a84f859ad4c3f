package esfake

import (
	"bytes"
	"fmt"
	"net/http"
)

// esError models an Elasticsearch exception as rendered by the REST layer:
// {"error":{"root_cause":[...],"type":..,"reason":..,"caused_by":..},"status":N}.
type esError struct {
	Status int
	Type   string
	Reason string
	// Extra holds additional header-like fields ES prints inside the error
	// object (e.g. "license.expired.feature"), in order.
	Extra    [][2]string
	CausedBy *esError
	// javaNative marks exceptions that are not ElasticsearchExceptions
	// (IllegalArgumentException and the like). ES stops unwrapping
	// x_content_parse_exception causes at such exceptions when it guesses
	// root causes, so the distinction changes "root_cause".
	javaNative bool
	// Headers are HTTP headers ES attaches to the response (WWW-Authenticate).
	Headers map[string]string
}

func (e *esError) Error() string { return e.Type + ": " + e.Reason }

func newErr(status int, typ, reason string) *esError {
	return &esError{Status: status, Type: typ, Reason: reason}
}

func errf(status int, typ, format string, args ...any) *esError {
	return newErr(status, typ, fmt.Sprintf(format, args...))
}

func illegalArg(format string, args ...any) *esError {
	e := errf(http.StatusBadRequest, "illegal_argument_exception", format, args...)
	e.javaNative = true
	return e
}

func parseExc(format string, args ...any) *esError {
	return errf(http.StatusBadRequest, "parse_exception", format, args...)
}

func xcontentErr(loc string, reason string, cause *esError) *esError {
	r := reason
	if loc != "" {
		r = loc + " " + reason
	}
	return &esError{Status: http.StatusBadRequest, Type: "x_content_parse_exception", Reason: r, CausedBy: cause}
}

// validationErr renders an ActionRequestValidationException.
func validationErr(msgs []string) *esError {
	var b bytes.Buffer
	b.WriteString("Validation Failed: ")
	for i, m := range msgs {
		fmt.Fprintf(&b, "%d: %s;", i+1, m)
	}
	return newErr(http.StatusBadRequest, "action_request_validation_exception", b.String())
}

func securityErr(status int, format string, args ...any) *esError {
	return errf(status, "security_exception", format, args...)
}

// rootCauses mirrors ElasticsearchException.guessRootCauses: parse
// exceptions are unwrapped to the innermost parse or Elasticsearch
// exception because that is the one that tells the user what is wrong.
func (e *esError) rootCause() *esError {
	cur := e
	for cur.Type == "x_content_parse_exception" && cur.CausedBy != nil && !cur.CausedBy.javaNative {
		cur = cur.CausedBy
	}
	return cur
}

// writeFields writes type, reason, extras and the cause chain into an
// ordered JSON object body (without braces).
func (e *esError) writeFields(b *bytes.Buffer, withCause bool) {
	b.WriteString(`"type":`)
	writeJSONString(b, e.Type)
	b.WriteString(`,"reason":`)
	writeJSONString(b, e.Reason)
	for _, kv := range e.Extra {
		b.WriteByte(',')
		writeJSONString(b, kv[0])
		b.WriteByte(':')
		writeJSONString(b, kv[1])
	}
	if withCause && e.CausedBy != nil {
		b.WriteString(`,"caused_by":{`)
		e.CausedBy.writeFields(b, true)
		b.WriteByte('}')
	}
}

func (e *esError) body() []byte {
	var b bytes.Buffer
	b.WriteString(`{"error":{"root_cause":[{`)
	e.rootCause().writeFields(&b, false)
	b.WriteString(`}],`)
	e.writeFields(&b, true)
	fmt.Fprintf(&b, `},"status":%d}`, e.Status)
	return b.Bytes()
}

func writeJSONString(b *bytes.Buffer, s string) {
	b.Write(mustJSON(s))
}
