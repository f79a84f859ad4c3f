package elasticsearch

import (
	"context"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/eslink/eslink/test/fakeelasticsearch/esfake"
)

func TestRemoteClusterSettingsAndInfo(t *testing.T) {
	ctx := context.Background()
	_, c := newFake(t, esfake.Options{Users: []esfake.User{{Name: "admin", Password: "s3cret-pass", Privileges: []string{"manage"}}}})

	err := c.PutPersistentSettings(ctx, map[string]*string{
		"cluster.remote.logs.mode":          ptr("proxy"),
		"cluster.remote.logs.proxy_address": ptr("c2-es-remote-cluster.ns2.svc:9443"),
		"cluster.remote.logs.server_name":   ptr("c2-es-remote-cluster.ns2.svc"),
		"cluster.remote.other.seeds":        ptr("10.0.0.1:9300"),
	})
	if err != nil {
		t.Fatal(err)
	}
	persistent, transient, err := c.RemoteClusterSettings(ctx, "logs")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"mode": "proxy", "proxy_address": "c2-es-remote-cluster.ns2.svc:9443", "server_name": "c2-es-remote-cluster.ns2.svc"}
	if diff := cmp.Diff(want, persistent); diff != "" || len(transient) != 0 {
		t.Errorf("RemoteClusterSettings(logs): -want +got persistent:\n%s\ntransient: %v", diff, transient)
	}

	info, err := c.RemoteInfo(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if r := info["logs"]; r.Mode != "proxy" || r.ProxyAddress != want["proxy_address"] || r.ServerName != want["server_name"] {
		t.Errorf("RemoteInfo()[logs] = %+v, want the proxy settings", r)
	}

	if err := c.PutPersistentSettings(ctx, map[string]*string{"cluster.remote.logs.*": nil}); err != nil {
		t.Fatal(err)
	}
	if persistent, _, _ := c.RemoteClusterSettings(ctx, "logs"); len(persistent) != 0 {
		t.Errorf("after removing cluster.remote.logs.*: %v is left", persistent)
	}
	if other, _, _ := c.RemoteClusterSettings(ctx, "other"); other["seeds"] != "10.0.0.1:9300" {
		t.Errorf("removing alias logs touched alias other: %v", other)
	}
}

func TestFileSettings(t *testing.T) {
	ctx := context.Background()
	srv, c := newFake(t, esfake.Options{Version: "9.5.0", Users: []esfake.User{{Name: "admin", Password: "s3cret-pass", Privileges: []string{"monitor"}}}})
	if fs, err := c.FileSettings(ctx); err != nil || fs != nil {
		t.Fatalf("FileSettings() before any file = %+v, %v; want nil, nil", fs, err)
	}
	if err := srv.ApplyFileSettings(1754000000000000000, nil); err != nil {
		t.Fatal(err)
	}
	fs, err := c.FileSettings(ctx)
	if err != nil || fs == nil || fs.Version != 1754000000000000000 || fs.Errors != nil {
		t.Fatalf("FileSettings() = %+v, %v; want version 1754000000000000000 without errors", fs, err)
	}
	srv.FailFileSettings(1754000000000000001, "validation")
	fs, err = c.FileSettings(ctx)
	if err != nil || fs.Errors == nil || fs.Errors.Version != 1754000000000000001 || fs.Errors.ErrorKind != "validation" {
		t.Fatalf("FileSettings() after a failure = %+v, %v", fs, err)
	}
}
