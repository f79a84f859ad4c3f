package esfake

import (
	"errors"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestSettingsRemoteInfoAndKeystore(t *testing.T) {
	t.Parallel()
	s := NewServer(t, Options{Version: "8.15.0"})
	r := do(t, s, "PUT", "/_cluster/settings", `{"persistent":{"cluster":{"remote":{"my_remote":{"mode":"proxy","proxy_address":"remote-host:9443","server_name":"remote-host","skip_unavailable":true}}}}}`, adminAuth)
	jsonEqText(t, string(r.body), `{"acknowledged":true,"persistent":{"cluster":{"remote":{"my_remote":{"mode":"proxy","proxy_address":"remote-host:9443","server_name":"remote-host","skip_unavailable":"true"}}}},"transient":{}}`)
	r = do(t, s, "PUT", "/_cluster/settings", `{"transient":{"cluster.remote.sniffy.seeds":["h1:9300","h2:9300"]}}`, adminAuth)
	if r.status != 200 {
		t.Fatalf("flat transient: %s", r.body)
	}
	// Nothing answers at these addresses (no Network), so neither is
	// connected; the shape is ES's for each mode.
	r = do(t, s, "GET", "/_remote/info", "", adminAuth)
	want := `{"my_remote":{"connected":false,"mode":"proxy","proxy_address":"remote-host:9443","server_name":"remote-host","num_proxy_sockets_connected":0,"max_proxy_socket_connections":18,"initial_connect_timeout":"30s","skip_unavailable":true},` +
		`"sniffy":{"connected":false,"mode":"sniff","seeds":["h1:9300","h2:9300"],"num_nodes_connected":0,"max_connections_per_cluster":3,"initial_connect_timeout":"30s","skip_unavailable":true}}`
	if string(r.body) != want {
		t.Fatalf("remote info\n got %s\nwant %s", r.body, want)
	}
	// Keystore entries are invisible until reload.
	s.SetKeystoreEntry("cluster.remote.my_remote.credentials", "encoded")
	if strings.Contains(string(do(t, s, "GET", "/_remote/info", "", adminAuth).body), "cluster_credentials") {
		t.Fatal("credentials visible before reload")
	}
	r = do(t, s, "POST", "/_nodes/reload_secure_settings", "", adminAuth)
	if !strings.Contains(string(r.body), `"secure_setting_names":["cluster.remote.my_remote.credentials","keystore.seed"]`) {
		t.Fatalf("reload: %s", r.body)
	}
	if !strings.Contains(string(do(t, s, "GET", "/_remote/info", "", adminAuth).body), `"skip_unavailable":true,"cluster_credentials":"::es_redacted::"}`) {
		t.Fatal("credentials not visible after reload")
	}
	// Null removes; mode-specific settings are checked against the mode.
	r = do(t, s, "PUT", "/_cluster/settings", `{"persistent":{"cluster.remote.my_remote.seeds":["x:1"]}}`, adminAuth)
	wantErr(t, r, 400, "illegal_argument_exception", `Setting "cluster.remote.my_remote.seeds" cannot be used with the configured "cluster.remote.my_remote.mode" [required=SNIFF, configured=PROXY]`)
	do(t, s, "PUT", "/_cluster/settings", `{"persistent":{"cluster.remote.my_remote.*":null},"transient":{"cluster":{"remote":{"sniffy":{"seeds":null}}}}}`, adminAuth)
	if got := string(do(t, s, "GET", "/_remote/info", "", adminAuth).body); got != "{}" {
		t.Fatalf("after removal: %s", got)
	}
	p, tr := s.ClusterSettings()
	if len(p) != 0 || len(tr) != 0 {
		t.Fatalf("settings left: %v %v", p, tr)
	}
	r = do(t, s, "PUT", "/_cluster/settings", `{"persistent":{"foo.bar":1}}`, adminAuth)
	wantErr(t, r, 400, "illegal_argument_exception", "persistent setting [foo.bar], not recognized")
}

func TestReloadBefore813KeepsCredentials(t *testing.T) {
	t.Parallel()
	s := NewServer(t, Options{Version: "8.12.0"})
	s.SetKeystoreEntry("cluster.remote.a.credentials", "x")
	do(t, s, "POST", "/_nodes/reload_secure_settings", "", adminAuth)
	if _, ok := s.ActiveKeystore()["cluster.remote.a.credentials"]; ok {
		t.Fatal("8.12 must not reload remote credentials")
	}
	if err := s.Restart(); err != nil {
		t.Fatal(err)
	}
	if _, ok := s.ActiveKeystore()["cluster.remote.a.credentials"]; !ok {
		t.Fatal("restart must load the keystore")
	}
}

func TestVersionUpgradeMakesUpdateNonNoop(t *testing.T) {
	t.Parallel()
	s := NewServer(t, Options{Version: "8.14.3"})
	id, _ := mustCreate(t, s, `{"name":"k","access":`+validAccess+`}`)
	s.SetVersion("8.15.0")
	k := oneKey(t, do(t, s, "GET", "/_security/api_key?id="+id, "", adminAuth))
	if raw(k["role_descriptors"].(map[string]any)["cross_cluster"].(map[string]any)["cluster"]) != `["cross_cluster_search"]` {
		t.Fatalf("stored privileges changed without update: %v", k["role_descriptors"])
	}
	r := do(t, s, "PUT", "/_security/cross_cluster/api_key/"+id, `{"access":`+validAccess+`}`, adminAuth)
	if r.obj["updated"] != true {
		t.Fatalf("first update after upgrade must be true: %s", r.body)
	}
	r = do(t, s, "PUT", "/_security/cross_cluster/api_key/"+id, `{"access":`+validAccess+`}`, adminAuth)
	if r.obj["updated"] != false {
		t.Fatalf("second update must be a no-op: %s", r.body)
	}
	// metadata {} on a key created without metadata is a change.
	r = do(t, s, "PUT", "/_security/cross_cluster/api_key/"+id, `{"access":`+validAccess+`,"metadata":{}}`, adminAuth)
	if r.obj["updated"] != true {
		t.Fatalf("metadata {} over null must update: %s", r.body)
	}
	// Any expiration is an update.
	r = do(t, s, "PUT", "/_security/cross_cluster/api_key/"+id, `{"access":`+validAccess+`,"expiration":"1d"}`, adminAuth)
	if r.obj["updated"] != true {
		t.Fatalf("expiration must update: %s", r.body)
	}
}

func TestCertificateIdentity(t *testing.T) {
	t.Parallel()
	s := NewServer(t, Options{})
	id, _ := mustCreate(t, s, `{"name":"k","access":`+validAccess+`,"certificate_identity":"CN=local-cluster.*"}`)
	k := oneKey(t, do(t, s, "GET", "/_security/api_key?id="+id, "", adminAuth))
	if k["certificate_identity"] != "CN=local-cluster.*" {
		t.Fatalf("cert identity: %v", k)
	}
	r := do(t, s, "PUT", "/_security/cross_cluster/api_key/"+id, `{"certificate_identity":"CN=local-cluster.*"}`, adminAuth)
	if r.obj["updated"] != false {
		t.Fatalf("same identity must be a no-op: %s", r.body)
	}
	r = do(t, s, "PUT", "/_security/cross_cluster/api_key/"+id, `{"certificate_identity":null}`, adminAuth)
	if r.obj["updated"] != true {
		t.Fatalf("null must clear: %s", r.body)
	}
	if ks := s.Keys(); ks[0].CertificateIdentity != nil {
		t.Fatalf("identity not cleared: %v", *ks[0].CertificateIdentity)
	}
}

func TestGetQueryAndInvalidateSemantics(t *testing.T) {
	t.Parallel()
	clock := fixedClock()
	s := NewServer(t, Options{Users: testUsers, Clock: clock.Now})
	a := createAs(t, s, adminAuth, `{"name":"alpha-1","access":`+validAccess+`,"metadata":{"env":"dev"}}`)
	clock.Advance(time.Second)
	b := createAs(t, s, adminAuth, `{"name":"alpha-2","expiration":"1h","access":`+validAccess+`,"metadata":{"env":"prod"}}`)
	clock.Advance(time.Second)
	c := createAs(t, s, basic("sec", "pw"), `{"name":"beta","access":`+validAccess+`}`)

	if n := len(do(t, s, "GET", "/_security/api_key?name=alpha*", "", adminAuth).obj["api_keys"].([]any)); n != 2 {
		t.Fatalf("name prefix: %d", n)
	}
	if n := len(do(t, s, "GET", "/_security/api_key?owner=true", "", basic("sec", "pw")).obj["api_keys"].([]any)); n != 1 {
		t.Fatalf("owner: %d", n)
	}
	clock.Advance(2 * time.Hour)
	if n := len(do(t, s, "GET", "/_security/api_key?active_only=true", "", adminAuth).obj["api_keys"].([]any)); n != 2 {
		t.Fatalf("active_only must drop the expired key: %d", n)
	}
	q := do(t, s, "POST", "/_security/_query/api_key", `{"query":{"bool":{"should":[{"term":{"metadata.env":"prod"}},{"term":{"username":"sec"}}]}},"sort":[{"creation":"desc"}],"size":1}`, adminAuth)
	keys := q.obj["api_keys"].([]any)
	if q.obj["total"] != float64(2) || len(keys) != 1 || keys[0].(map[string]any)["id"] != c {
		t.Fatalf("query: %s", q.body)
	}
	if srt := raw(keys[0].(map[string]any)["_sort"]); srt != "[1767323047000]" {
		t.Fatalf("_sort: %s", srt)
	}
	q = do(t, s, "POST", "/_security/_query/api_key", `{"query":{"wildcard":{"name":"alpha-?"}},"sort":["name"],"search_after":["alpha-1"]}`, adminAuth)
	if q.obj["count"] != float64(1) || q.obj["api_keys"].([]any)[0].(map[string]any)["id"] != b {
		t.Fatalf("search_after: %s", q.body)
	}
	q = do(t, s, "POST", "/_security/_query/api_key", `{"query":{"term":{"api_key_hash":"x"}}}`, adminAuth)
	if q.status != 400 || !strings.Contains(string(q.body), "Field [api_key_hash] is not allowed for querying or aggregation") {
		t.Fatalf("bad field: %s", q.body)
	}
	// manage_api_key cannot invalidate cross-cluster keys: error_details.
	r := do(t, s, "DELETE", "/_security/api_key", `{"ids":["`+a+`"]}`, basic("apim", "pw"))
	jsonEqText(t, string(r.body), `{"invalidated_api_keys":[],"previously_invalidated_api_keys":[],"error_count":1,"error_details":[{"type":"security_exception","reason":"Cannot invalidate cross-cluster API key [`+a+`]. This requires [manage_security] cluster privilege or higher"}]}`)
	r = do(t, s, "DELETE", "/_security/api_key", `{"name":"alpha*"}`, adminAuth)
	if len(r.obj["invalidated_api_keys"].([]any)) != 2 {
		t.Fatalf("invalidate by name: %s", r.body)
	}
	r = do(t, s, "DELETE", "/_security/api_key", `{"ids":["unknown"]}`, adminAuth)
	jsonEqText(t, string(r.body), `{"invalidated_api_keys":[],"previously_invalidated_api_keys":[],"error_count":0}`)
}

func TestFaultsAndRequestLog(t *testing.T) {
	t.Parallel()
	s := NewServer(t, Options{})
	s.InjectFault(Fault{Method: "GET", PathPrefix: "/_security/api_key", Count: 2, Status: 503})
	for i := 0; i < 2; i++ {
		r := do(t, s, "GET", "/_security/api_key", "", adminAuth)
		if r.status != 503 {
			t.Fatalf("fault %d: %d", i, r.status)
		}
	}
	if r := do(t, s, "GET", "/_security/api_key", "", adminAuth); r.status != 200 {
		t.Fatalf("fault outlived its count: %d", r.status)
	}
	s.InjectFault(Fault{PathPrefix: "/_remote", Latency: 150 * time.Millisecond})
	start := time.Now()
	do(t, s, "GET", "/_remote/info", "", adminAuth)
	if time.Since(start) < 150*time.Millisecond {
		t.Fatal("latency not applied")
	}
	s.InjectFault(Fault{PathPrefix: "/_license", Drop: true, Count: 1})
	req, _ := http.NewRequest(http.MethodGet, s.URL+"/_license", nil)
	res, err := (&http.Client{Transport: &http.Transport{DisableKeepAlives: true}}).Do(req)
	if err == nil {
		res.Body.Close()
		t.Fatalf("dropped connection answered %d", res.StatusCode)
	}
	if !errors.Is(err, io.EOF) && !strings.Contains(err.Error(), "EOF") && !strings.Contains(err.Error(), "reset") {
		t.Logf("drop error: %v", err)
	}
	s.ClearFaults()
	counts := s.Counts()
	if counts["GET /_security/api_key"] != 3 || counts["GET /_remote/info"] != 1 || counts["GET /_license"] != 1 {
		t.Fatalf("counts: %v", counts)
	}
	for _, rq := range s.Requests() {
		if rq.Endpoint == "GET /_license" && rq.Status != 0 {
			t.Fatalf("dropped request logged with status %d", rq.Status)
		}
	}
	s.ResetRequests()
	if len(s.Requests()) != 0 {
		t.Fatal("reset failed")
	}
}

func TestConcurrentRequests(t *testing.T) {
	t.Parallel()
	s := NewServer(t, Options{})
	var wg sync.WaitGroup
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := 0; j < 10; j++ {
				id, _ := mustCreate(t, s, `{"name":"c","access":`+validAccess+`}`)
				do(t, s, "PUT", "/_security/cross_cluster/api_key/"+id, `{"access":{"replication":[{"names":["x"]}]}}`, adminAuth)
				do(t, s, "GET", "/_security/api_key?name=c", "", adminAuth)
				do(t, s, "DELETE", "/_security/api_key", `{"ids":["`+id+`"]}`, adminAuth)
			}
		}()
	}
	wg.Wait()
	if n := len(s.Keys()); n != 80 {
		t.Fatalf("keys: %d", n)
	}
	if s.Counts()["PUT /_security/cross_cluster/api_key/{id}"] != 80 {
		t.Fatalf("counts: %v", s.Counts())
	}
}
