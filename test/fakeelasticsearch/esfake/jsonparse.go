package esfake

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
)

// mustJSON marshals without HTML escaping (ES writes '<' and '&' verbatim)
// and never fails for the plain values this package renders.
func mustJSON(v any) []byte {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return []byte("null")
	}
	return bytes.TrimRight(b.Bytes(), "\n")
}

// doc is one request body; offsets of nested values are relative to it so
// that errors can carry ES-style "[line:column]" locations.
type doc struct {
	data []byte
}

// loc renders the Jackson-style 1-based "[line:col]" of a byte offset.
func (d *doc) loc(off int) string {
	if off < 0 {
		off = 0
	}
	if off > len(d.data) {
		off = len(d.data)
	}
	line, col := 1, 1
	for _, c := range d.data[:off] {
		if c == '\n' {
			line++
			col = 1
		} else {
			col++
		}
	}
	return fmt.Sprintf("[%d:%d]", line, col)
}

// jval is a JSON value with its absolute offset in the document.
type jval struct {
	raw json.RawMessage
	off int
}

// token returns the XContent token name of the value, as ES prints it in
// "doesn't support values of type" messages.
func (v jval) token() string {
	if len(v.raw) == 0 {
		return "VALUE_NULL"
	}
	switch v.raw[0] {
	case '{':
		return "START_OBJECT"
	case '[':
		return "START_ARRAY"
	case '"':
		return "VALUE_STRING"
	case 't', 'f':
		return "VALUE_BOOLEAN"
	case 'n':
		return "VALUE_NULL"
	default:
		return "VALUE_NUMBER"
	}
}

func (v jval) isNull() bool { return v.token() == "VALUE_NULL" }

func (v jval) str() (string, bool) {
	if v.token() != "VALUE_STRING" {
		return "", false
	}
	var s string
	if err := json.Unmarshal(v.raw, &s); err != nil {
		return "", false
	}
	return s, true
}

// jfield is one member of a JSON object, in document order.
type jfield struct {
	key    string
	keyOff int
	val    jval
}

func skipSpace(data []byte, i int) int {
	for i < len(data) {
		switch data[i] {
		case ' ', '\t', '\n', '\r':
			i++
		default:
			return i
		}
	}
	return i
}

// syntaxErr is reported like Jackson's JsonParseException, which ES turns
// into a 400 x_content_parse_exception.
func (d *doc) syntaxErr(off int, err error) *esError {
	msg := "Unexpected character"
	var se *json.SyntaxError
	switch {
	case errors.As(err, &se):
		off = int(se.Offset)
		if off > 0 {
			off--
		}
		msg = "Unexpected character: " + strings.TrimPrefix(se.Error(), "invalid character ")
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		msg = "Unexpected end-of-input"
		off = len(d.data)
	}
	return xcontentErr(d.loc(off), msg, nil)
}

// fields reads the object at v in order. It returns the members read before
// any syntax error together with that error, so callers can report the
// first semantic error that precedes a later syntax error, as ES's streaming
// parser does. Duplicate keys are rejected like Jackson's strict duplicate
// detection, which ES enables.
func (d *doc) fields(v jval) ([]jfield, *esError) {
	data := v.raw
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	tok, err := dec.Token()
	if err != nil {
		return nil, d.syntaxErr(v.off, err)
	}
	if delim, ok := tok.(json.Delim); !ok || delim != '{' {
		return nil, xcontentErr(d.loc(v.off), "Expected START_OBJECT but was: "+v.token(), nil)
	}
	var out []jfield
	seen := map[string]bool{}
	for dec.More() {
		before := int(dec.InputOffset())
		kt, err := dec.Token()
		if err != nil {
			return out, d.syntaxErr(v.off+int(dec.InputOffset()), err)
		}
		key, ok := kt.(string)
		if !ok {
			return out, xcontentErr(d.loc(v.off+before), "Unexpected token, expected a field name", nil)
		}
		keyOff := v.off + skipSpaceComma(data, before)
		if seen[key] {
			return out, xcontentErr(d.loc(keyOff), fmt.Sprintf("Duplicate field '%s'", key), nil)
		}
		seen[key] = true
		var raw json.RawMessage
		afterKey := int(dec.InputOffset())
		if err := dec.Decode(&raw); err != nil {
			return out, d.syntaxErr(v.off+afterKey, err)
		}
		valOff := skipSpace(data, afterKey)
		if valOff < len(data) && data[valOff] == ':' {
			valOff = skipSpace(data, valOff+1)
		}
		out = append(out, jfield{key: key, keyOff: keyOff, val: jval{raw: raw, off: v.off + valOff}})
	}
	if _, err := dec.Token(); err != nil {
		return out, d.syntaxErr(v.off+int(dec.InputOffset()), err)
	}
	return out, nil
}

func skipSpaceComma(data []byte, i int) int {
	for i < len(data) {
		switch data[i] {
		case ' ', '\t', '\n', '\r', ',', '{':
			i++
		default:
			return i
		}
	}
	return i
}

// elems reads the array at v.
func (d *doc) elems(v jval) ([]jval, *esError) {
	data := v.raw
	dec := json.NewDecoder(bytes.NewReader(data))
	tok, err := dec.Token()
	if err != nil {
		return nil, d.syntaxErr(v.off, err)
	}
	if delim, ok := tok.(json.Delim); !ok || delim != '[' {
		return nil, xcontentErr(d.loc(v.off), "Expected START_ARRAY but was: "+v.token(), nil)
	}
	var out []jval
	for dec.More() {
		before := int(dec.InputOffset())
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return out, d.syntaxErr(v.off+before, err)
		}
		out = append(out, jval{raw: raw, off: v.off + skipSpaceComma(data, before)})
	}
	return out, nil
}

// root returns the first JSON value of the body. ES's parser stops at the
// end of the first object and ignores trailing bytes, and its own tests
// rely on that (they send "{...}}" with a stray brace).
func (d *doc) root() (jval, *esError) {
	start := skipSpace(d.data, 0)
	if start < len(d.data) && d.data[start] == '{' {
		// Objects are streamed by fields(), which stops at the closing
		// brace, so syntax errors surface in document order.
		return jval{raw: d.data[start:], off: start}, nil
	}
	dec := json.NewDecoder(bytes.NewReader(d.data))
	var raw json.RawMessage
	if err := dec.Decode(&raw); err != nil {
		return jval{}, d.syntaxErr(start, err)
	}
	return jval{raw: raw, off: start}, nil
}

// compact returns the canonical compact form of a JSON value.
func compact(raw []byte) string {
	var b bytes.Buffer
	if err := json.Compact(&b, raw); err != nil {
		return string(raw)
	}
	return b.String()
}
