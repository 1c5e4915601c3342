// go-map-dns: a minimal authoritative DNS server on github.com/miekg/dns (the
// library CoreDNS is built on) answering from an in-memory map loaded from
// zone files. It stands in for "CoreDNS's engine" in the clusterdns
// benchmark: same DNS library and Go runtime, none of CoreDNS's plugin chain.
//
// Built offline against Debian's golang-github-miekg-dns-dev:
//   GO111MODULE=off GOPATH=/usr/share/gocode go build -o go-map-dns .
//
// Usage: go-map-dns -addr 127.0.0.1:5353 zonefile...
package main

import (
	"flag"
	"fmt"
	"log"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/miekg/dns"
)

type zone struct {
	origin string
	soa    dns.RR
}

type store struct {
	rrs   map[string]map[uint16][]dns.RR // owner -> type -> records
	names map[string]bool                // owners and their ancestors (empty non-terminals)
	zones []zone
}

func (s *store) load(file string) error {
	f, err := os.Open(file)
	if err != nil {
		return err
	}
	defer f.Close()
	zp := dns.NewZoneParser(f, "", file)
	var z zone
	for rr, ok := zp.Next(); ok; rr, ok = zp.Next() {
		h := rr.Header()
		name := strings.ToLower(h.Name)
		h.Name = name
		if h.Rrtype == dns.TypeSOA {
			z = zone{origin: name, soa: rr}
		}
		byType := s.rrs[name]
		if byType == nil {
			byType = make(map[uint16][]dns.RR)
			s.rrs[name] = byType
		}
		byType[h.Rrtype] = append(byType[h.Rrtype], rr)
		for n := name; n != "" && !s.names[n]; {
			s.names[n] = true
			i := strings.IndexByte(n, '.')
			if i < 0 || i == len(n)-1 {
				break
			}
			n = n[i+1:]
		}
	}
	if err := zp.Err(); err != nil {
		return err
	}
	if z.soa == nil {
		return fmt.Errorf("%s: no SOA", file)
	}
	s.zones = append(s.zones, z)
	return nil
}

func (s *store) zoneOf(name string) *zone {
	var best *zone
	for i := range s.zones {
		z := &s.zones[i]
		if dns.IsSubDomain(z.origin, name) && (best == nil || len(z.origin) > len(best.origin)) {
			best = z
		}
	}
	return best
}

func (s *store) serve(w dns.ResponseWriter, req *dns.Msg) {
	m := new(dns.Msg)
	m.SetReply(req)
	if len(req.Question) != 1 {
		m.Rcode = dns.RcodeFormatError
		w.WriteMsg(m)
		return
	}
	q := req.Question[0]
	name := strings.ToLower(q.Name)
	z := s.zoneOf(name)
	if z == nil {
		m.Rcode = dns.RcodeRefused
		w.WriteMsg(m)
		return
	}
	m.Authoritative = true
	if byType, ok := s.rrs[name]; ok {
		m.Answer = byType[q.Qtype]
	}
	if len(m.Answer) == 0 {
		if !s.names[name] {
			m.Rcode = dns.RcodeNameError
		}
		m.Ns = []dns.RR{z.soa}
	} else if q.Qtype == dns.TypeSRV {
		for _, rr := range m.Answer {
			if srv, ok := rr.(*dns.SRV); ok {
				if t, ok := s.rrs[strings.ToLower(srv.Target)]; ok {
					m.Extra = append(m.Extra, t[dns.TypeA]...)
				}
			}
		}
	}
	if opt := req.IsEdns0(); opt != nil {
		m.SetEdns0(opt.UDPSize(), false)
	}
	w.WriteMsg(m)
}

func main() {
	addr := flag.String("addr", "127.0.0.1:5353", "listen address")
	flag.Parse()
	s := &store{rrs: map[string]map[uint16][]dns.RR{}, names: map[string]bool{}}
	for _, f := range flag.Args() {
		if err := s.load(f); err != nil {
			log.Fatal(err)
		}
	}
	dns.HandleFunc(".", s.serve)
	for _, proto := range []string{"udp", "tcp"} {
		srv := &dns.Server{Addr: *addr, Net: proto}
		go func() {
			if err := srv.ListenAndServe(); err != nil {
				log.Fatal(err)
			}
		}()
	}
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
	<-sig
}
