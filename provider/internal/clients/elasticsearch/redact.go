package elasticsearch

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strings"
)

// Error messages quote Elasticsearch's error reasons, because they say what
// to fix. A reason is text the server chose: a proxy may echo the
// Authorization header, a misbehaving server the request or a key. Every
// response body is therefore scrubbed before anything reads it. The
// client's own credentials are removed from every string of every body;
// credential-shaped text (an Authorization value, a long random token) is
// removed from every string of an error body, and from every "reason" of a
// successful one (invalidation reports per-key errors there). Other
// strings of a successful body are kept whole: a created key's secret and
// the user's key metadata arrive in them. The scrubbing works on decoded
// JSON strings, so no JSON escape sequence can hide a value from it.

const (
	redacted = "[redacted]"
	// maxBody bounds what is read of one response, as decode does.
	maxBody = 16 << 20
	// minSecretLength is the shortest credential removed by value; a
	// shorter one (Elasticsearch requires six characters for a password)
	// would garble every message it occurs in by chance.
	minSecretLength = 6
)

var (
	// authorizationValue is an Authorization header value: its scheme
	// followed by a token.
	authorizationValue = regexp.MustCompile(`(?i)\b(basic|apikey|bearer)\s+[A-Za-z0-9+/=._~-]+`)
	// longToken is a run of base64 or base64url characters long enough to
	// be a key secret (22 characters) or an encoded key, and longer than a
	// key id (20), which messages keep.
	longToken = regexp.MustCompile(`[A-Za-z0-9+/_-]{21,}={0,2}`)
)

// secrets returns the config's credentials in every form a server could
// repeat them in.
func (cfg Config) secrets() []string {
	var out []string
	add := func(s string) {
		if len(s) >= minSecretLength {
			out = append(out, s)
		}
	}
	if cfg.Password != "" {
		add(cfg.Password)
		add(base64.StdEncoding.EncodeToString([]byte(cfg.Username + ":" + cfg.Password)))
	}
	if cfg.APIKey != "" {
		add(cfg.APIKey)
		if dec, err := base64.StdEncoding.DecodeString(cfg.APIKey); err == nil {
			add(string(dec))
			if _, secret, ok := strings.Cut(string(dec), ":"); ok {
				add(secret)
			}
		}
	}
	return out
}

// redactBody scrubs a response body as described above. A body that is not
// JSON is scrubbed as text: the client never decodes one into a message.
func redactBody(body []byte, secrets []string, isError bool) []byte {
	if !isError && !mayHideSecrets(body, secrets) {
		return body
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil || dec.More() {
		return []byte(redactString(string(body), secrets, isError))
	}
	v = redactValue(v, secrets, isError)
	var out bytes.Buffer
	enc := json.NewEncoder(&out)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return []byte(redacted)
	}
	return bytes.TrimSuffix(out.Bytes(), []byte("\n"))
}

// mayHideSecrets is the fast path of a successful response, such as a
// page of keys: only a body with a secret, an escape sequence that could
// spell one, or a reason needs decoding.
func mayHideSecrets(body []byte, secrets []string) bool {
	if bytes.Contains(body, []byte(`\u`)) || bytes.Contains(body, []byte(`"reason"`)) {
		return true
	}
	for _, s := range secrets {
		if bytes.Contains(body, []byte(s)) {
			return true
		}
	}
	return false
}

func redactValue(v any, secrets []string, shaped bool) any {
	switch t := v.(type) {
	case string:
		return redactString(t, secrets, shaped)
	case []any:
		for i := range t {
			t[i] = redactValue(t[i], secrets, shaped)
		}
		return t
	case map[string]any:
		out := make(map[string]any, len(t))
		for k, e := range t {
			out[redactString(k, secrets, shaped)] = redactValue(e, secrets, shaped || k == "reason")
		}
		return out
	}
	return v
}

// redactString removes secrets from s, and with shaped also
// credential-shaped text.
func redactString(s string, secrets []string, shaped bool) string {
	for _, sec := range secrets {
		s = strings.ReplaceAll(s, sec, redacted)
	}
	if !shaped {
		return s
	}
	s = authorizationValue.ReplaceAllString(s, "${1} "+redacted)
	return longToken.ReplaceAllStringFunc(s, func(tok string) string {
		if looksRandom(tok) {
			return redacted
		}
		return tok
	})
}

// looksRandom tells an encoded key from words: index names and messages are
// lower case, while base64 of random bytes mixes cases and digits.
func looksRandom(tok string) bool {
	var upper, lower, digit bool
	for _, c := range []byte(tok) {
		switch {
		case c >= 'A' && c <= 'Z':
			upper = true
		case c >= 'a' && c <= 'z':
			lower = true
		case c >= '0' && c <= '9':
			digit = true
		}
	}
	return upper && lower && digit
}

// redactingTransport scrubs every response body before the client reads it.
type redactingTransport struct {
	base    http.RoundTripper
	secrets []string
}

func (t *redactingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	res, err := t.base.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	body, err := io.ReadAll(io.LimitReader(res.Body, maxBody))
	_ = res.Body.Close() // The body was read; a failed close changes nothing.
	if err != nil {
		return nil, fmt.Errorf("cannot read the response body: %w", err)
	}
	body = redactBody(body, t.secrets, res.StatusCode >= http.StatusBadRequest)
	res.Body = io.NopCloser(bytes.NewReader(body))
	res.ContentLength = int64(len(body))
	res.Header.Del("Content-Length")
	return res, nil
}
