// Command function serves eslink's composition function over gRPC, with the
// flags of crossplane/function-template-go.
package main

import (
	"github.com/alecthomas/kong"

	"github.com/crossplane/function-sdk-go"

	"github.com/eslink/eslink/function/fn"
)

// CLI of the function.
type CLI struct {
	Debug bool `help:"Emit debug logs in addition to info logs." short:"d"`

	Network            string `default:"tcp"   help:"Network on which to listen for gRPC connections."`
	Address            string `default:":9443" help:"Address at which to listen for gRPC connections."`
	TLSServerCertsDir  string `env:"TLS_SERVER_CERTS_DIR" help:"Directory containing server certs (tls.key, tls.crt) and the CA used to verify client certificates (ca.crt)."`
	Insecure           bool   `help:"Run without mTLS credentials. If you supply this flag --tls-server-certs-dir will be ignored."`
	MaxRecvMessageSize int    `default:"4"     help:"Maximum size of received messages in MB."`
	// The SDK serves metrics on :8080 by default, which collides with the
	// provider when both run on one host, so metrics are off unless asked.
	MetricsAddress string `help:"Address at which to serve Prometheus metrics, such as :8080. Empty disables metrics."`
}

// Run the function.
func (c *CLI) Run() error {
	log, err := function.NewLogger(c.Debug)
	if err != nil {
		return err
	}
	return function.Serve(fn.New(fn.WithLogger(log)),
		function.Listen(c.Network, c.Address),
		function.MTLSCertificates(c.TLSServerCertsDir),
		function.Insecure(c.Insecure),
		function.MaxRecvMessageSize(c.MaxRecvMessageSize*1024*1024),
		function.WithMetricsServer(c.MetricsAddress))
}

func main() {
	ctx := kong.Parse(&CLI{}, kong.Description("eslink's composition function: renders XRemoteClusterLinks."))
	ctx.FatalIfErrorf(ctx.Run())
}
