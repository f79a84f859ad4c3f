package elasticsearch

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/eslink/eslink/test/fakeelasticsearch/esfake"
)

func ptr[T any](v T) *T { return &v }

func newFake(t *testing.T, opts esfake.Options) (*esfake.Server, *Client) {
	t.Helper()
	opts.TLS = true
	if opts.Users == nil {
		opts.Users = []esfake.User{{Name: "admin", Password: "s3cret-pass", Privileges: []string{"manage_security", "monitor"}}}
	}
	srv := esfake.NewServer(t, opts)
	c, err := New(Config{URL: srv.URL, Username: opts.Users[0].Name, Password: opts.Users[0].Password, CACert: srv.CACertPEM})
	if err != nil {
		t.Fatal(err)
	}
	return srv, c
}

func testAccess() Access {
	return Access{
		Search: []SearchAccess{{
			Names:         []string{"logs-*"},
			Query:         ptr(`{"term":{"category":"shared"}}`),
			FieldSecurity: &FieldSecurity{Grant: []string{"*"}, Except: []string{"private"}},
		}},
	}
}

func TestLifecycle(t *testing.T) {
	ctx := context.Background()
	srv, c := newFake(t, esfake.Options{})

	v, err := c.Version(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if v.String() != "9.3.2" {
		t.Errorf("Version() = %s, want 9.3.2", v)
	}
	if _, err := c.Version(ctx); err != nil {
		t.Fatal(err)
	}
	if n := srv.Counts()["GET /"]; n != 1 {
		t.Errorf("GET / was sent %d times for two Version() calls, want 1 (cached)", n)
	}

	meta := map[string]json.RawMessage{"eslink.io/uid": json.RawMessage(`"uid-1"`), "team": json.RawMessage(`"a"`)}
	created, err := c.CreateCrossClusterAPIKey(ctx, CreateRequest{
		Name: "orders", Access: testAccess(), Expiration: "30d", Metadata: meta, CertificateIdentity: ptr("^CN=local$"),
	})
	if err != nil {
		t.Fatal(err)
	}
	if created.ID == "" || created.APIKey == "" || created.Encoded == "" || created.Expiration == nil {
		t.Fatalf("CreateCrossClusterAPIKey() = %+v, want id, api_key, encoded and expiration", created)
	}

	got, err := c.GetAPIKey(ctx, created.ID)
	if err != nil {
		t.Fatal(err)
	}
	want := &Access{Search: []SearchAccess{{
		Names:         []string{"logs-*"},
		Query:         ptr(`{"term":{"category":"shared"}}`),
		FieldSecurity: &FieldSecurity{Grant: []string{"*"}, Except: []string{"private"}},
	}}}
	if diff := cmp.Diff(want, got.Access); diff != "" {
		t.Errorf("GetAPIKey().Access: -want +got:\n%s", diff)
	}
	if got.Type != "cross_cluster" || got.Name != "orders" || got.Invalidated || !got.Active(time.Now()) {
		t.Errorf("GetAPIKey() = %+v, want an active cross_cluster key named orders", got)
	}
	if diff := cmp.Diff(ptr("^CN=local$"), got.CertificateIdentity); diff != "" {
		t.Errorf("CertificateIdentity: -want +got:\n%s", diff)
	}

	byName, err := c.ActiveCrossClusterKeysByName(ctx, "orders")
	if err != nil {
		t.Fatal(err)
	}
	if len(byName) != 1 || byName[0].ID != created.ID {
		t.Errorf("ActiveCrossClusterKeysByName() = %+v, want [%s]", byName, created.ID)
	}
	byUID, err := c.CrossClusterKeysByMetadata(ctx, "eslink.io/uid", "uid-1", "orders")
	if err != nil {
		t.Fatal(err)
	}
	if len(byUID) != 1 || byUID[0].ID != created.ID {
		t.Errorf("CrossClusterKeysByMetadata() = %+v, want [%s]", byUID, created.ID)
	}
	other, err := c.CrossClusterKeysByMetadata(ctx, "eslink.io/uid", "uid-2", "orders")
	if err != nil {
		t.Fatal(err)
	}
	if len(other) != 0 {
		t.Errorf("CrossClusterKeysByMetadata(uid-2) = %+v, want none", other)
	}

	// The GET access fed back is a noop; a new access is an update.
	upd := UpdateRequest{Access: *got.Access, Metadata: meta, SetCertificateIdentity: true, CertificateIdentity: ptr("^CN=local$")}
	changed, err := c.UpdateCrossClusterAPIKey(ctx, created.ID, upd)
	if err != nil {
		t.Fatal(err)
	}
	if changed {
		t.Error("UpdateCrossClusterAPIKey(same access) = true, want false")
	}
	upd.Access = Access{Replication: []ReplicationAccess{{Names: []string{"archive-*"}}}}
	upd.CertificateIdentity = nil
	if changed, err = c.UpdateCrossClusterAPIKey(ctx, created.ID, upd); err != nil || !changed {
		t.Fatalf("UpdateCrossClusterAPIKey(new access) = %v, %v, want true, nil", changed, err)
	}
	got, err = c.GetAPIKey(ctx, created.ID)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(&upd.Access, got.Access); diff != "" {
		t.Errorf("access after update: -want +got:\n%s", diff)
	}
	if got.CertificateIdentity != nil {
		t.Errorf("CertificateIdentity after null update = %q, want cleared", *got.CertificateIdentity)
	}

	if err := c.InvalidateAPIKeys(ctx, created.ID); err != nil {
		t.Fatal(err)
	}
	// Invalidating twice, or an unknown id, is not an error.
	if err := c.InvalidateAPIKeys(ctx, created.ID); err != nil {
		t.Errorf("second InvalidateAPIKey() = %v, want nil", err)
	}
	if err := c.InvalidateAPIKeys(ctx, "doesnotexist12345678"); err != nil {
		t.Errorf("InvalidateAPIKey(unknown) = %v, want nil", err)
	}
	got, err = c.GetAPIKey(ctx, created.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !got.Invalidated || got.Invalidation == nil || got.Active(time.Now()) {
		t.Errorf("GetAPIKey() after invalidation = %+v, want invalidated with a time", got)
	}
	if byName, err = c.ActiveCrossClusterKeysByName(ctx, "orders"); err != nil || len(byName) != 0 {
		t.Errorf("ActiveCrossClusterKeysByName() after invalidation = %v, %v, want none", byName, err)
	}
	if _, err := c.GetAPIKey(ctx, "doesnotexist12345678"); !IsNotFound(err) {
		t.Errorf("GetAPIKey(unknown) error = %v, want ReasonNotFound", err)
	}
}

func TestTLSModes(t *testing.T) {
	ctx := context.Background()
	srv := esfake.NewServer(t, esfake.Options{TLS: true})
	other := esfake.NewServer(t, esfake.Options{TLS: true})
	cases := map[string]struct {
		cfg  Config
		want Reason
	}{
		"CACert":             {cfg: Config{CACert: srv.CACertPEM}},
		"Fingerprint":        {cfg: Config{CertificateFingerprint: srv.CertFingerprint}},
		"InsecureSkipVerify": {cfg: Config{InsecureSkipVerify: true}},
		"WrongCA":            {cfg: Config{CACert: other.CACertPEM}, want: ReasonTLS},
		"NoCA":               {cfg: Config{}, want: ReasonTLS},
		"WrongFingerprint":   {cfg: Config{CertificateFingerprint: other.CertFingerprint}, want: ReasonTLS},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			tc.cfg.URL, tc.cfg.Username, tc.cfg.Password = srv.URL, "elastic", "changeme"
			c, err := New(tc.cfg)
			if err != nil {
				t.Fatal(err)
			}
			_, err = c.Version(ctx)
			if got := ReasonOf(err); got != tc.want {
				t.Errorf("Version() error = %v, reason %q, want reason %q", err, got, tc.want)
			}
		})
	}
}

func TestErrors(t *testing.T) {
	ctx := context.Background()
	create := func(c *Client) error {
		_, err := c.CreateCrossClusterAPIKey(ctx, CreateRequest{Name: "k", Access: testAccess()})
		return err
	}
	cases := map[string]struct {
		opts   esfake.Options
		user   string
		pass   string
		setup  func(*esfake.Server)
		call   func(*Client) error
		want   Reason
		substr string
	}{
		"LicenseBasicCreate": {
			opts: esfake.Options{License: "basic"}, call: create, want: ReasonLicense, substr: "advanced-remote-cluster-security",
		},
		"LicenseBasicUpdate": {
			opts: esfake.Options{License: "basic"},
			call: func(c *Client) error {
				_, err := c.UpdateCrossClusterAPIKey(ctx, "abcdefghijklmnopqrst", UpdateRequest{Access: testAccess()})
				return err
			},
			want: ReasonLicense,
		},
		"MissingPrivilegeCreate": {
			opts: esfake.Options{Users: []esfake.User{{Name: "limited", Password: "pw-limited", Privileges: []string{"manage_api_key", "monitor"}}}},
			user: "limited", pass: "pw-limited", call: create, want: ReasonPrivilege, substr: "manage_security",
		},
		"MissingPrivilegeInvalidate": {
			opts: esfake.Options{Users: []esfake.User{
				{Name: "admin", Password: "pw-admin", Privileges: []string{"manage_security", "monitor"}},
				{Name: "limited", Password: "pw-limited", Privileges: []string{"manage_api_key", "monitor"}},
			}},
			user: "limited", pass: "pw-limited",
			setup: func(s *esfake.Server) {
				c, err := New(Config{URL: s.URL, Username: "admin", Password: "pw-admin", CACert: s.CACertPEM})
				if err != nil {
					panic(err)
				}
				k, err := c.CreateCrossClusterAPIKey(ctx, CreateRequest{Name: "victim", Access: testAccess()})
				if err != nil {
					panic(err)
				}
				victimID = k.ID
			},
			call:   func(c *Client) error { return c.InvalidateAPIKeys(ctx, victimID) },
			want:   ReasonPrivilege,
			substr: "manage_security",
		},
		"WrongPassword": {
			user: "elastic", pass: "wrong", call: create, want: ReasonAuthentication,
		},
		"CertificateIdentityBefore93": {
			opts: esfake.Options{Version: "9.2.0"},
			call: func(c *Client) error {
				_, err := c.CreateCrossClusterAPIKey(ctx, CreateRequest{Name: "k", Access: testAccess(), CertificateIdentity: ptr("CN=x")})
				return err
			},
			want: ReasonVersion, substr: "spec.forProvider.certificateIdentity",
		},
		"ServerError": {
			setup: func(s *esfake.Server) { s.InjectFault(esfake.Fault{Status: 503, Count: 1}) },
			call:  create, want: ReasonServer,
		},
		"ConnectionDropped": {
			setup: func(s *esfake.Server) { s.InjectFault(esfake.Fault{Drop: true, Count: 1}) },
			call:  create, want: ReasonUnreachable,
		},
		"Unreachable": {
			setup: func(s *esfake.Server) { s.Close() },
			call:  create, want: ReasonUnreachable, substr: "unreachable",
		},
		"BadRequest": {
			call: func(c *Client) error {
				_, err := c.CreateCrossClusterAPIKey(ctx, CreateRequest{Name: "_bad", Access: testAccess()})
				return err
			},
			want: ReasonBadRequest, substr: "underscore",
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			tc.opts.TLS = true
			if tc.opts.Users == nil {
				tc.opts.Users = []esfake.User{{Name: "elastic", Password: "changeme"}}
			}
			srv := esfake.NewServer(t, tc.opts)
			if tc.setup != nil {
				tc.setup(srv)
			}
			user, pass := tc.user, tc.pass
			if user == "" {
				user, pass = tc.opts.Users[0].Name, tc.opts.Users[0].Password
			}
			c, err := New(Config{URL: srv.URL, Username: user, Password: pass, CACert: srv.CACertPEM})
			if err != nil {
				t.Fatal(err)
			}
			err = tc.call(c)
			if got := ReasonOf(err); got != tc.want {
				t.Fatalf("error = %v, reason %q, want reason %q", err, got, tc.want)
			}
			if !strings.Contains(err.Error(), tc.substr) {
				t.Errorf("error %q does not mention %q", err, tc.substr)
			}
			if strings.Contains(err.Error(), pass) {
				t.Errorf("error %q contains the password", err)
			}
		})
	}
}

// victimID is the key the invalidation privilege case creates in setup.
var victimID string
