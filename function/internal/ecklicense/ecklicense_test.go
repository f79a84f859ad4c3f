package ecklicense

import (
	"encoding/base64"
	"strconv"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

var now = time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)

func secret(name string, data map[string]any) *unstructured.Unstructured {
	u := &unstructured.Unstructured{Object: map[string]any{"apiVersion": "v1", "kind": "Secret"}}
	u.SetName(name)
	u.SetNamespace("elastic-system")
	for k, v := range data {
		u.Object[k] = v
	}
	return u
}

func licenseJSON(typ string, start, expiry time.Time) string {
	return `{"license":{"uid":"u","type":"` + typ + `","start_date_in_millis":` + strconv.FormatInt(start.UnixMilli(), 10) +
		`,"expiry_date_in_millis":` + strconv.FormatInt(expiry.UnixMilli(), 10) + `,"signature":"c2ln"}}`
}

func b64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

func TestCheck(t *testing.T) {
	day := 24 * time.Hour
	cases := map[string]struct {
		reason  string
		secrets []*unstructured.Unstructured
		want    Result
	}{
		"None": {
			reason: "No Secret means no license.",
			want:   Result{},
		},
		"Enterprise": {
			reason:  "A current enterprise license in data is valid.",
			secrets: []*unstructured.Unstructured{secret("l", map[string]any{"data": map[string]any{"license": b64(licenseJSON("enterprise", now.Add(-day), now.Add(day)))}})},
			want:    Result{Valid: true},
		},
		"TrialInStringData": {
			reason:  "A trial in stringData, as written in a manifest, is valid.",
			secrets: []*unstructured.Unstructured{secret("l", map[string]any{"stringData": map[string]any{"license": licenseJSON("enterprise_trial", now.Add(-day), now.Add(day))}})},
			want:    Result{Valid: true},
		},
		"OneGoodAmongBad": {
			reason: "One valid Secret is enough.",
			secrets: []*unstructured.Unstructured{
				secret("basic", map[string]any{"data": map[string]any{"license": b64(licenseJSON("basic", now.Add(-day), now.Add(day)))}}),
				secret("good", map[string]any{"data": map[string]any{"license": b64(licenseJSON("enterprise", now.Add(-day), now.Add(day)))}}),
			},
			want: Result{Valid: true},
		},
		"AllBad": {
			reason: "Each unusable Secret says why, without its content.",
			secrets: []*unstructured.Unstructured{
				secret("future", map[string]any{"data": map[string]any{"license": b64(licenseJSON("enterprise", now.Add(day), now.Add(2*day)))}}),
				secret("expired", map[string]any{"data": map[string]any{"license": b64(licenseJSON("enterprise", now.Add(-2*day), now))}}),
				secret("garbage", map[string]any{"data": map[string]any{"license": b64("not json")}}),
				secret("badb64", map[string]any{"data": map[string]any{"license": "%%%"}}),
				secret("empty", nil),
			},
			want: Result{Reasons: []string{
				"Secret elastic-system/future: license starts at 2026-06-02T00:00:00Z",
				"Secret elastic-system/expired: license expired at 2026-06-01T00:00:00Z",
				`Secret elastic-system/garbage: key "license" is not a license JSON document`,
				"Secret elastic-system/badb64: data.license is not valid base64",
				`Secret elastic-system/empty: no "license" key`,
			}},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, Check(tc.secrets, now)); diff != "" {
				t.Errorf("%s\nCheck(...): -want, +got:\n%s", tc.reason, diff)
			}
		})
	}
}
