package linkrules

import (
	"strings"
	"testing"
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
