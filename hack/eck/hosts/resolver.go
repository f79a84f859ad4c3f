// Package hosts resolves names for the eck-operator wrapper from a hosts
// file the kubelet stand-in writes, through an in-process DNS responder.
package hosts

import (
	"bufio"
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"strings"

	"golang.org/x/net/dns/dnsmessage"
)

// Install makes every lookup of the process (ECK's HTTP transport
// dials through a zero net.Dialer, hence net.DefaultResolver) ask an
// in-process responder that answers from hostsFile. The binary is built
// with CGO_ENABLED=0, so the Go resolver is the only one; /etc/hosts is
// still read first, as it is for any Go program. The file is read on every
// query, so the kubelet stand-in's updates (written by rename) count at
// once; names it does not hold get NXDOMAIN and one line on logw, so a name
// the stand-in forgot shows in the operator's log.
func Install(hostsFile string, logw io.Writer) {
	r := &responder{hostsFile: hostsFile, log: logw}
	net.DefaultResolver = &net.Resolver{
		PreferGo: true,
		Dial: func(context.Context, string, string) (net.Conn, error) {
			client, server := net.Pipe()
			go r.serve(server)
			return client, nil
		},
	}
}

type responder struct {
	hostsFile string
	log       io.Writer
}

// serve answers queries on one connection. net.Pipe is not a PacketConn,
// so the Go resolver frames messages as over TCP: a two-byte length first.
func (r *responder) serve(c net.Conn) {
	defer c.Close() //nolint:errcheck // Nothing to report to.
	for {
		var n uint16
		if err := binary.Read(c, binary.BigEndian, &n); err != nil {
			return
		}
		q := make([]byte, n)
		if _, err := io.ReadFull(c, q); err != nil {
			return
		}
		resp, err := r.answer(q)
		if err != nil {
			fmt.Fprintf(r.log, "eck-operator resolver (eslink test wrapper): %v\n", err)
			return
		}
		out := binary.BigEndian.AppendUint16(nil, uint16(len(resp))) //nolint:gosec // A DNS message is < 64 KiB.
		if _, err := c.Write(append(out, resp...)); err != nil {
			return
		}
	}
}

func (r *responder) answer(query []byte) ([]byte, error) {
	var p dnsmessage.Parser
	h, err := p.Start(query)
	if err != nil {
		return nil, fmt.Errorf("cannot parse DNS query: %w", err)
	}
	q, err := p.Question()
	if err != nil {
		return nil, fmt.Errorf("cannot parse DNS question: %w", err)
	}
	name := strings.TrimSuffix(strings.ToLower(q.Name.String()), ".")
	addrs, err := r.lookup(name)
	if err != nil {
		return nil, err
	}
	rh := dnsmessage.Header{ID: h.ID, Response: true, Authoritative: true, RecursionDesired: h.RecursionDesired, RecursionAvailable: true}
	if len(addrs) == 0 {
		rh.RCode = dnsmessage.RCodeNameError
		if q.Type == dnsmessage.TypeA {
			fmt.Fprintf(r.log, "eck-operator resolver (eslink test wrapper): no address for %s in %s\n", name, r.hostsFile)
		}
	}
	b := dnsmessage.NewBuilder(nil, rh)
	b.EnableCompression()
	if err := b.StartQuestions(); err != nil {
		return nil, err
	}
	if err := b.Question(q); err != nil {
		return nil, err
	}
	if err := b.StartAnswers(); err != nil {
		return nil, err
	}
	// Pods have IPv4 loopback addresses only: AAAA gets an empty answer.
	if q.Type == dnsmessage.TypeA {
		for _, a := range addrs {
			hdr := dnsmessage.ResourceHeader{Name: q.Name, Class: dnsmessage.ClassINET, TTL: 0}
			if err := b.AResource(hdr, dnsmessage.AResource{A: a.As4()}); err != nil {
				return nil, err
			}
		}
	}
	return b.Finish()
}

// lookup reads hostsFile ("<ipv4> <name>..." lines, # comments) for name.
func (r *responder) lookup(name string) ([]netip.Addr, error) {
	f, err := os.Open(r.hostsFile)
	if os.IsNotExist(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("cannot read hosts file: %w", err)
	}
	defer f.Close() //nolint:errcheck // Read only.
	var out []netip.Addr
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line, _, _ := strings.Cut(sc.Text(), "#")
		fields := strings.Fields(line)
		if len(fields) < 2 {
			continue
		}
		addr, err := netip.ParseAddr(fields[0])
		if err != nil || !addr.Is4() {
			continue
		}
		for _, n := range fields[1:] {
			if strings.EqualFold(n, name) {
				out = append(out, addr)
				break
			}
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("cannot read hosts file: %w", err)
	}
	return out, nil
}
