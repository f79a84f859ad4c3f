// Command fakeelasticsearch runs the fake Elasticsearch server standalone,
// for demos and for test suites in other languages or processes.
package main

import (
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/eslink/eslink/test/fakeelasticsearch/esfake"
)

type userFlags []esfake.User

func (u *userFlags) String() string { return fmt.Sprint(len(*u)) }

// Set parses NAME:PASSWORD[:PRIV,PRIV...]. Passwords cannot contain ':'
// when privileges follow; the first and last colon split the fields.
func (u *userFlags) Set(v string) error {
	name, rest, found := strings.Cut(v, ":")
	if !found || name == "" {
		return fmt.Errorf("user %q: want NAME:PASSWORD[:PRIVILEGE,...]", v)
	}
	pass, privs := rest, ""
	if i := strings.LastIndex(rest, ":"); i >= 0 {
		pass, privs = rest[:i], rest[i+1:]
	}
	user := esfake.User{Name: name, Password: pass}
	for _, p := range strings.Split(privs, ",") {
		if p = strings.TrimSpace(p); p != "" {
			user.Privileges = append(user.Privileges, p)
		}
	}
	*u = append(*u, user)
	return nil
}

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "fakeelasticsearch:", err)
		os.Exit(1)
	}
}

func run() error {
	var users userFlags
	listen := flag.String("listen", "127.0.0.1:9200", "address to listen on (port 0 picks a free port)")
	version := flag.String("version", "9.3.2", "Elasticsearch version to impersonate")
	license := flag.String("license", "enterprise", "license type: basic, trial or enterprise")
	tlsDir := flag.String("tls-dir", "", "serve HTTPS and write the CA certificate to DIR/ca.crt")
	cluster := flag.String("cluster-name", "eslink-fake", "cluster name")
	flag.Var(&users, "user", "NAME:PASSWORD[:PRIVILEGE,...] (repeatable; no privileges means all)")
	flag.Parse()

	// Before the ready line: a caller may stop the program as soon as it
	// reads it, and an unhandled SIGTERM would kill it instead.
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)

	s, err := esfake.Start(esfake.Options{
		Version: *version, License: *license, Users: users, TLS: *tlsDir != "",
		Addr: *listen, ClusterName: *cluster,
	})
	if err != nil {
		return fmt.Errorf("start: %w", err)
	}
	defer s.Close()
	if *tlsDir != "" {
		if err := os.MkdirAll(*tlsDir, 0o755); err != nil {
			return fmt.Errorf("create TLS dir: %w", err)
		}
		if err := os.WriteFile(filepath.Join(*tlsDir, "ca.crt"), s.CACertPEM, 0o644); err != nil {
			return fmt.Errorf("write CA: %w", err)
		}
	}
	fmt.Printf("fake elasticsearch listening on %s\n", s.URL)
	<-sig
	return nil
}
