package esfake

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
)

type mediaType struct {
	typ        string // e.g. "application/json"
	compatible int    // compatible-with version, 0 if none
	present    bool
}

const vndJSON = "application/vnd.elasticsearch+json"

// parseMediaType understands the types a JSON client can send; anything
// else is reported as unsupported by the caller.
func parseMediaType(h string) (mediaType, error) {
	h = strings.TrimSpace(h)
	if h == "" {
		return mediaType{}, nil
	}
	// Accept may list several types; ES uses the first one.
	first, _, _ := strings.Cut(h, ",")
	parts := strings.Split(first, ";")
	mt := mediaType{typ: strings.ToLower(strings.TrimSpace(parts[0])), present: true}
	for _, p := range parts[1:] {
		k, v, _ := strings.Cut(p, "=")
		if strings.EqualFold(strings.TrimSpace(k), "compatible-with") {
			n, err := strconv.Atoi(strings.TrimSpace(v))
			if err != nil || n <= 0 {
				return mt, fmt.Errorf("invalid compatible-with value [%s]", strings.TrimSpace(v))
			}
			mt.compatible = n
		}
	}
	return mt, nil
}

func isJSONType(t string) bool {
	switch t {
	case "application/json", "application/x-ndjson", vndJSON, "application/vnd.elasticsearch+x-ndjson":
		return true
	}
	return false
}

// negotiate mirrors RestCompatibleVersionHelper: a compatible-with version
// must be N or N-1 and must agree between Accept and Content-Type when a
// body is sent. It returns the Content-Type for the response.
func (s *Server) negotiate(r *http.Request, hasBody bool) (string, *esError) {
	s.mu.Lock()
	major := s.st.ver.major
	s.mu.Unlock()
	acceptH := r.Header.Get("Accept")
	ctH := r.Header.Get("Content-Type")
	accept, aerr := parseMediaType(acceptH)
	ct, cerr := parseMediaType(ctH)
	if hasBody {
		if !ct.present {
			return "", newErr(http.StatusNotAcceptable, "status_exception", "Content-Type header is missing")
		}
		if cerr != nil || !isJSONType(ct.typ) {
			return "", errf(http.StatusNotAcceptable, "status_exception", "Content-Type header [%s] is not supported", ctH)
		}
	}
	if aerr != nil {
		return "", errf(http.StatusBadRequest, "status_exception", "Accept version must be either version %d or %d, but found %s. Accept=%s", major, major-1, "invalid", acceptH)
	}
	if accept.compatible != 0 && accept.compatible != major && accept.compatible != major-1 {
		return "", errf(http.StatusBadRequest, "status_exception", "Accept version must be either version %d or %d, but found %d. Accept=%s", major, major-1, accept.compatible, acceptH)
	}
	if hasBody {
		if ct.compatible != 0 && ct.compatible != major && ct.compatible != major-1 {
			return "", errf(http.StatusBadRequest, "status_exception", "Content-Type version must be either version %d or %d, but found %d. Content-Type=%s", major, major-1, ct.compatible, ctH)
		}
		if accept.compatible != ct.compatible {
			return "", errf(http.StatusBadRequest, "status_exception",
				"A compatible version is required on both Content-Type and Accept headers if either one has requested a compatible version and the compatible versions must match. Accept=%s, Content-Type=%s", acceptH, ctH)
		}
	}
	if accept.compatible != 0 {
		return fmt.Sprintf("%s;compatible-with=%d", vndJSON, accept.compatible), nil
	}
	return "application/json", nil
}
