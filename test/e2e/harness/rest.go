package harness

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/eslink/eslink/test/fakeelasticsearch/esfake"
)

// call sends one request to fake es's REST API as its elastic user, as a
// person with curl would, and returns the body of a 2xx or 404 answer.
func call(ctx context.Context, es *esfake.Server, method, path, body string) ([]byte, int, error) {
	c := (&Harness{}).simCluster(es)
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, es.URL+path, r)
	if err != nil {
		return nil, 0, err
	}
	req.SetBasicAuth(c.Username, c.Password)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.HTTP.Do(req)
	if err != nil {
		return nil, 0, fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer resp.Body.Close() //nolint:errcheck // Read-only body.
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, 0, err
	}
	if resp.StatusCode/100 != 2 && resp.StatusCode != http.StatusNotFound {
		return nil, resp.StatusCode, fmt.Errorf("%s %s: HTTP %d: %s", method, path, resp.StatusCode, bytes.TrimSpace(b))
	}
	return b, resp.StatusCode, nil
}

// InvalidateKey invalidates API key id on fake es by hand, as a person
// with access to the cluster would, outside eslink.
func InvalidateKey(ctx context.Context, es *esfake.Server, id string) error {
	_, status, err := call(ctx, es, http.MethodDelete, "/_security/api_key", `{"ids":["`+id+`"]}`)
	if err == nil && status == http.StatusNotFound {
		err = fmt.Errorf("API key %s not found", id)
	}
	return err
}
