package harness

import (
	"github.com/eslink/eslink/test/e2e/ecksim"
	"github.com/eslink/eslink/test/fakeelasticsearch/esfake"
)

// Pid is the process id, for reading its resource use from /proc.
func (p *Process) Pid() int { return p.p.cmd.Process.Pid }

// ECKCluster is how the simulated ECK reaches fake s: over TLS, trusting
// its CA, as the elastic user.
func ECKCluster(s *esfake.Server) *ecksim.Cluster { return (&Harness{}).simCluster(s) }
