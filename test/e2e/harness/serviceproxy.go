package harness

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/eslink/eslink/test/fakeelasticsearch/esfake"
)

// serviceProxy stands for the cluster network between the provider's pod
// and the Elasticsearch Services. In a cluster the provider reaches an ECK
// cluster at https://<name>-es-http.<namespace>.svc:9200, the URL its
// ECK-mode provider config derives; here it runs as a process on loopback,
// so the harness starts it with HTTPS_PROXY pointing at this HTTP CONNECT
// proxy, which resolves each Service address through the esfake.Network
// (as cluster DNS resolves a Service to its pods) and tunnels to that
// fake's listener. TLS runs end to end through the tunnel, so the provider
// verifies the fake's certificate for the Service name, as in a cluster.
// Go never proxies loopback addresses, so the API server is reached
// directly.
type serviceProxy struct {
	network *esfake.Network
	ln      net.Listener
	srv     *http.Server

	mu     sync.Mutex
	tunnel map[net.Conn]struct{}
	closed bool
}

// startServiceProxy listens on a loopback port and serves CONNECT to the
// HTTP Services registered in n.
func startServiceProxy(n *esfake.Network) (*serviceProxy, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("cannot listen for the Service proxy: %w", err)
	}
	p := &serviceProxy{network: n, ln: ln, tunnel: map[net.Conn]struct{}{}}
	p.srv = &http.Server{Handler: p, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = p.srv.Serve(ln) }()
	return p, nil
}

// URL is the proxy's address, for HTTPS_PROXY.
func (p *serviceProxy) URL() string { return "http://" + p.ln.Addr().String() }

func (p *serviceProxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodConnect {
		http.Error(w, "this proxy only tunnels (CONNECT) to Elasticsearch Services", http.StatusMethodNotAllowed)
		return
	}
	addr, ok := p.network.HTTPAddress(r.Host)
	if !ok {
		// What a pod sees for a Service that does not exist.
		http.Error(w, "no such host: "+r.Host, http.StatusBadGateway)
		return
	}
	dst, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		http.Error(w, "connection refused: "+r.Host, http.StatusBadGateway)
		return
	}
	hj, ok := w.(http.Hijacker)
	if !ok {
		_ = dst.Close()
		http.Error(w, "cannot tunnel", http.StatusInternalServerError)
		return
	}
	src, buf, err := hj.Hijack()
	if err != nil {
		_ = dst.Close()
		return
	}
	if !p.track(src, dst) {
		return
	}
	if _, err := src.Write([]byte("HTTP/1.1 200 Connection established\r\n\r\n")); err != nil {
		p.untrack(src, dst)
		return
	}
	go func() {
		// Bytes the client sent after its CONNECT may sit in buf.
		_, _ = io.Copy(dst, buf)
		p.untrack(src, dst)
	}()
	go func() {
		_, _ = io.Copy(src, dst)
		p.untrack(src, dst)
	}()
}

// track records a tunnel's connections, so that Close ends them; false
// when the proxy is closed (and the connections with it).
func (p *serviceProxy) track(conns ...net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		for _, c := range conns {
			_ = c.Close()
		}
		return false
	}
	for _, c := range conns {
		p.tunnel[c] = struct{}{}
	}
	return true
}

// untrack closes both ends of a tunnel once either side is done.
func (p *serviceProxy) untrack(conns ...net.Conn) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range conns {
		_ = c.Close()
		delete(p.tunnel, c)
	}
}

// Close stops the proxy and every tunnel.
func (p *serviceProxy) Close() {
	if p == nil {
		return
	}
	_ = p.srv.Close()
	p.mu.Lock()
	defer p.mu.Unlock()
	p.closed = true
	for c := range p.tunnel {
		_ = c.Close()
	}
	p.tunnel = map[net.Conn]struct{}{}
}

// eckHTTPNames are the subject alternative names ECK gives a cluster's HTTP
// certificate (certificates/http_reconcile.go): the Service's names and
// <name>-es-http.<namespace>.es.local.
func eckHTTPNames(name, ns string) []string {
	svc := name + "-es-http"
	return []string{svc + "." + ns + ".es.local", svc, svc + "." + ns + ".svc", svc + "." + ns}
}
