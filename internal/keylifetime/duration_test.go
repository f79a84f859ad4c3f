package keylifetime

import (
	"strings"
	"testing"
	"time"
)

func TestParseDuration(t *testing.T) {
	cases := map[string]struct {
		in      string
		want    string
		wantErr bool
	}{
		"Days":    {in: "7d", want: "168h0m0s"},
		"Millis":  {in: "1500ms", want: "1.5s"},
		"Nanos":   {in: "10nanos", want: "10ns"},
		"NoUnit":  {in: "7", wantErr: true},
		"BadUnit": {in: "7w", wantErr: true},
		"Huge":    {in: "99999999999999d", wantErr: true},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got, err := ParseDuration("spec.forProvider.rotateBefore", tc.in)
			if tc.wantErr {
				if err == nil || !strings.Contains(err.Error(), "spec.forProvider.rotateBefore") {
					t.Fatalf("ParseDuration(%q) error = %v, want one naming the field", tc.in, err)
				}
				return
			}
			if err != nil || got.String() != tc.want {
				t.Errorf("ParseDuration(%q) = %s, %v, want %s", tc.in, got, err, tc.want)
			}
		})
	}
}

func TestCheckKeyLifetime(t *testing.T) {
	fields := Fields{Expiration: "spec.expiration", RotateBefore: "spec.rotateBefore"}
	cases := map[string]struct {
		expiration, rotateBefore string
		minimum                  time.Duration
		want                     []string // every string must appear in the error; none means valid
	}{
		"NoExpiration":     {},
		"ExpirationOnly":   {expiration: "30d", minimum: DefaultMinKeyLifetime},
		"Rotation":         {expiration: "30d", rotateBefore: "7d", minimum: DefaultMinKeyLifetime},
		"OneMinuteInTests": {expiration: "1m", rotateBefore: "20s", minimum: 30 * time.Second},
		"RotateBeforeLonger": {
			expiration: "1d", rotateBefore: "2d", minimum: time.Minute,
			want: []string{"spec.rotateBefore 2d must be shorter than spec.expiration 1d"},
		},
		"RotateBeforeEqual": {
			expiration: "24h", rotateBefore: "1d", minimum: time.Minute,
			want: []string{"spec.rotateBefore 1d must be shorter than spec.expiration 24h"},
		},
		"UnitsEndingInS": {
			// 1500ms is shorter than 2s although "ms" ends with "s".
			expiration: "2s", rotateBefore: "1500ms", minimum: 100 * time.Millisecond,
		},
		"RotateBeforeWithoutExpiration": {
			rotateBefore: "1d", minimum: time.Minute,
			want: []string{"spec.rotateBefore needs spec.expiration"},
		},
		"ExpirationBelowMinimum": {
			expiration: "1h", minimum: DefaultMinKeyLifetime,
			want: []string{"spec.expiration 1h is shorter than the minimum key lifetime 24h0m0s that the platform sets"},
		},
		"RotationTooOften": {
			expiration: "2d", rotateBefore: "47h", minimum: DefaultMinKeyLifetime,
			want: []string{"leaves 1h0m0s between rotations", "lengthen spec.expiration or shorten spec.rotateBefore"},
		},
		"BadDuration": {
			expiration: "30 days", minimum: time.Minute,
			want: []string{"spec.expiration \"30 days\" is not an Elasticsearch duration"},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			err := CheckKeyLifetime(fields, tc.expiration, tc.rotateBefore, tc.minimum, "the platform")
			if len(tc.want) == 0 {
				if err != nil {
					t.Fatalf("CheckKeyLifetime(%q, %q) = %v, want valid", tc.expiration, tc.rotateBefore, err)
				}
				return
			}
			if err == nil {
				t.Fatalf("CheckKeyLifetime(%q, %q) = nil, want an error", tc.expiration, tc.rotateBefore)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
}
