// Command fakeelasticsearch runs the fake Elasticsearch server standalone,
// for demos and for test suites in other languages or processes.
package main

import (
	"flag"
	"fmt"
	"io/fs"
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
	configDir := flag.String("config-dir", "", "start the node as Elasticsearch starts from its config directory: DIR/elasticsearch.yml and every file under DIR (certificates, users, users_roles, roles.yml); the cluster, license basic, has no native users")
	var env envFlags
	flag.Var(&env, "env", "NAME=VALUE for ${NAME} placeholders in elasticsearch.yml (repeatable)")
	flag.Parse()

	// Before the ready line: a caller may stop the program as soon as it
	// reads it, and an unhandled SIGTERM would kill it instead.
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)

	opts := esfake.Options{
		Version: *version, License: *license, Users: users, TLS: *tlsDir != "",
		Addr: *listen, ClusterName: *cluster,
		// A request the fake cannot answer shows at once.
		Log: func(line string) { fmt.Fprintln(os.Stderr, line) },
	}
	if *configDir != "" {
		if err := fromConfigDir(&opts, *configDir, env); err != nil {
			return err
		}
	}
	s, err := esfake.Start(opts)
	if err != nil {
		return fmt.Errorf("start: %w", err)
	}
	defer s.Close()
	if *tlsDir != "" && s.CACertPEM != nil {
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

type envFlags map[string]string

func (e *envFlags) String() string { return fmt.Sprint(len(*e)) }

func (e *envFlags) Set(v string) error {
	name, value, found := strings.Cut(v, "=")
	if !found || name == "" {
		return fmt.Errorf("env %q: want NAME=VALUE", v)
	}
	if *e == nil {
		*e = envFlags{}
	}
	(*e)[name] = value
	return nil
}

// fromConfigDir configures a node from a directory laid out like
// Elasticsearch's config directory.
func fromConfigDir(opts *esfake.Options, dir string, env envFlags) error {
	yml, err := os.ReadFile(filepath.Join(dir, "elasticsearch.yml"))
	if err != nil {
		return fmt.Errorf("read elasticsearch.yml: %w", err)
	}
	settings, err := esfake.ParseElasticsearchYML(yml)
	if err != nil {
		return err
	}
	files := map[string][]byte{}
	err = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		files[filepath.ToSlash(rel)] = b
		return nil
	})
	if err != nil {
		return fmt.Errorf("read config dir: %w", err)
	}
	name := configClusterName(settings)
	cl, err := esfake.NewCluster(esfake.ClusterOptions{Name: name, Version: opts.Version})
	if err != nil {
		return err
	}
	opts.Cluster, opts.Config, opts.Files = cl, &esfake.NodeConfig{Settings: settings, Env: env}, files
	return nil
}

// configClusterName finds cluster.name, flat or nested.
func configClusterName(settings map[string]any) string {
	if v, ok := settings["cluster.name"].(string); ok {
		return v
	}
	if c, ok := settings["cluster"].(map[string]any); ok {
		if v, ok := c["name"].(string); ok {
			return v
		}
	}
	return ""
}
