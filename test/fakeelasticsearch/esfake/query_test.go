package esfake

import (
	"bytes"
	"encoding/json"
	"testing"
)

func TestMetadataValueFlattenedPaths(t *testing.T) {
	meta := json.RawMessage(`{"eslink.io/uid":"u1","team":{"name":"a"},"a.b":{"c":"x"}}`)
	cases := map[string]any{
		"eslink.io/uid": "u1",
		"team.name":     "a",
		"a.b.c":         "x",
		"team":          map[string]any{"name": "a"},
		"missing":       nil,
		"team.missing":  nil,
	}
	for path, want := range cases {
		got := metadataValue(meta, path)
		gb, _ := json.Marshal(got)
		wb, _ := json.Marshal(want)
		if !bytes.Equal(gb, wb) {
			t.Errorf("metadataValue(%q) = %s, want %s", path, gb, wb)
		}
	}
}
