package elasticsearch

import (
	"context"
	"encoding/base64"
	"strings"
	"testing"

	"github.com/eslink/eslink/test/fakeelasticsearch/esfake"
)

// Secret-looking values a server might echo back in an error.
const (
	echoPassword = "Pr0vider-Pass!word"
	// otherKey is an encoded cross-cluster key the client never held.
	otherKey = "VnVhQ2ZHY0JDZGJrUW0tZTVhT3g6dWkybHAyYXhUTm1zeWFrdzl0dk5udw=="
)

// TestErrorsNeverEchoSecrets makes the server answer every call with an
// error whose reason holds the client's own credentials in every form, an
// Authorization header and a key the client never held, and checks that no
// error repeats them.
func TestErrorsNeverEchoSecrets(t *testing.T) {
	ctx := context.Background()
	basic := base64.StdEncoding.EncodeToString([]byte("admin:" + echoPassword))
	restKeyID, restKeySecret := "rest-key-id-0001", "Rk3yS3cr3t-Value_0042x"
	restKey := base64.StdEncoding.EncodeToString([]byte(restKeyID + ":" + restKeySecret))

	calls := map[string]func(*Client) error{
		"Version": func(c *Client) error { _, err := c.Version(ctx); return err },
		"Create": func(c *Client) error {
			_, err := c.CreateCrossClusterAPIKey(ctx, CreateRequest{Name: "k", Access: testAccess()})
			return err
		},
		"Update": func(c *Client) error {
			_, err := c.UpdateCrossClusterAPIKey(ctx, "abcdefghijklmnopqrst", UpdateRequest{Access: testAccess()})
			return err
		},
		"Get":    func(c *Client) error { _, err := c.GetAPIKey(ctx, "abcdefghijklmnopqrst"); return err },
		"ByName": func(c *Client) error { _, err := c.ActiveCrossClusterKeysByName(ctx, "k"); return err },
		"ByMetadata": func(c *Client) error {
			_, err := c.CrossClusterKeysByMetadata(ctx, "eslink.io/uid", "u", "k")
			return err
		},
		"Invalidate": func(c *Client) error { return c.InvalidateAPIKeys(ctx, "abcdefghijklmnopqrst") },
	}
	credentials := map[string]struct {
		cfg     Config
		secrets []string
	}{
		"Basic":  {cfg: Config{Username: "admin", Password: echoPassword}, secrets: []string{echoPassword, basic}},
		"APIKey": {cfg: Config{APIKey: restKey}, secrets: []string{restKey, restKeySecret, restKeyID + ":" + restKeySecret}},
	}
	for credName, cred := range credentials {
		secrets := append([]string{otherKey, basic, restKey}, cred.secrets...)
		reason := "failed: " + strings.Join(cred.secrets, " ") + " header [Authorization: Basic " + basic + "] [ApiKey " + restKey + "] other [" + otherKey + "]"
		for _, status := range []int{400, 401, 403, 404, 409, 500, 503} {
			for callName, call := range calls {
				srv := esfake.NewServer(t, esfake.Options{TLS: true})
				srv.InjectFault(esfake.Fault{Status: status, Reason: reason})
				cfg := cred.cfg
				cfg.URL, cfg.CACert = srv.URL, srv.CACertPEM
				c, err := New(cfg)
				if err != nil {
					t.Fatal(err)
				}
				err = call(c)
				srv.Close()
				if err == nil {
					// Finding keys by name reads a 404 as "none".
					if status == 404 && callName == "ByName" {
						continue
					}
					t.Fatalf("%s/%d/%s: no error from a server that answers %d", credName, status, callName, status)
				}
				for _, s := range secrets {
					if strings.Contains(err.Error(), s) {
						t.Errorf("%s/%d/%s: error %q repeats %q", credName, status, callName, err, s)
					}
				}
			}
		}
	}
}

func TestRedactBody(t *testing.T) {
	secrets := Config{Username: "elastic", Password: "changeme-1"}.secrets()
	cases := map[string]struct {
		body    string
		isError bool
		want    string
	}{
		"OwnPasswordAnywhere":   {body: `{"x":"changeme-1"}`, want: `{"x":"[redacted]"}`},
		"SuccessKeepsKeys":      {body: `{"encoded":"` + otherKey + `"}`, want: `{"encoded":"` + otherKey + `"}`},
		"ErrorDropsKeys":        {body: `{"reason":"` + otherKey + `"}`, isError: true, want: `{"reason":"[redacted]"}`},
		"EscapesDoNotHide":      {body: `{"x":"\u0063hangeme-1"}`, want: `{"x":"[redacted]"}`},
		"SuccessReasonScrubbed": {body: `{"error_details":[{"reason":"` + otherKey + `"}]}`, want: `{"error_details":[{"reason":"[redacted]"}]}`},
		"NotJSON":               {body: `<html>Basic ZWxhc3RpYzpjaGFuZ2VtZS0x</html>`, isError: true, want: `<html>Basic [redacted]</html>`},
		"ErrorDropsHeader":      {body: `{"reason":"Authorization: Bearer abc.def"}`, isError: true, want: `{"reason":"Authorization: Bearer [redacted]"}`},
		"ErrorKeepsIndexNames":  {body: `{"reason":"no such index [logs-application-frontend-2026.01.01]"}`, isError: true, want: `{"reason":"no such index [logs-application-frontend-2026.01.01]"}`},
		"ErrorKeepsKeyIDs":      {body: `{"reason":"api key [Q_Mu_HcRDsfTfiKh3qgj] not found"}`, isError: true, want: `{"reason":"api key [Q_Mu_HcRDsfTfiKh3qgj] not found"}`},
		"ErrorKeepsUIDs":        {body: `{"reason":"uid 3f2b9c4e-1d2a-4c3b-9e8f-0a1b2c3d4e5f"}`, isError: true, want: `{"reason":"uid 3f2b9c4e-1d2a-4c3b-9e8f-0a1b2c3d4e5f"}`},
		"ShortPasswordsAreKept": {body: `{"x":"abc"}`, want: `{"x":"abc"}`},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if got := string(redactBody([]byte(tc.body), secrets, tc.isError)); got != tc.want {
				t.Errorf("redactBody(%s) = %s, want %s", tc.body, got, tc.want)
			}
		})
	}
}

// BenchmarkRedactBody measures what scrubbing adds to reading a page of a
// thousand keys, the batch a poll of one remote reads: the fast path of a
// body with nothing to scrub, and the decode and re-encode of one with a
// reason in it.
func BenchmarkRedactBody(b *testing.B) {
	secrets := Config{Username: "elastic", Password: "changeme-1"}.secrets()
	var page strings.Builder
	page.WriteString(`{"total":1000,"count":1000,"api_keys":[`)
	for i := range 1000 {
		if i > 0 {
			page.WriteString(",")
		}
		page.WriteString(`{"id":"` + strings.Repeat("a", 20) + `","name":"eslink-team-link-alias","type":"cross_cluster","creation":1767225600000,` +
			`"invalidated":false,"metadata":{"eslink.io/uid":"3f2b9c4e-1d2a-4c3b-9e8f-0a1b2c3d4e5f"},` +
			`"access":{"search":[{"names":["logs-*"],"allow_restricted_indices":false}]}}`)
	}
	page.WriteString("]}")
	plain := []byte(page.String())
	withReason := []byte(strings.Replace(page.String(), `"total"`, `"reason":"x","total"`, 1))
	for name, body := range map[string][]byte{"NothingToScrub": plain, "Decoded": withReason} {
		b.Run(name, func(b *testing.B) {
			b.SetBytes(int64(len(body)))
			for b.Loop() {
				_ = redactBody(body, secrets, false)
			}
		})
	}
}
