/**
 * @module plugins/kubernetes/coredns-names.test
 * CoreDNS behaviour for names and query types: C1 name grammar, C2
 * namespaces, C3 negative answers, C4 SOA, C5 NS (ns.dns fallback and the
 * server's own Service), C6 TXT, C7 query types, C20 case, C21 TTLs, C22 no
 * wildcards, plus the D9 quirks CoreDNS has there.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { checkAll, soa, startCluster, type ClusterServer, type DnsCase } from '../../../test/support/k8s-dns.ts';
import { ns, slice, svc, testCluster } from '../../../test/support/k8s-objects.ts';

const Z = 'cluster.local.';
const SOA = soa();
const nx = (name: string, type = 'A'): DnsCase => ({ name, type, rcode: 'NXDOMAIN', authority: [SOA] });
const nodata = (name: string, type = 'A', zoneSoa = SOA): DnsCase => ({ name, type, rcode: 'NOERROR', authority: [zoneSoa] });

describe('CoreDNS names and types (C1-C7, C20-C22)', () => {
  let srv: ClusterServer;
  before(async () => { srv = await startCluster(testCluster()); });
  after(() => srv.stop());

  it('C1 name grammar', () => checkAll(srv, [
    nodata(Z), nodata(`svc.${Z}`), nodata(`pod.${Z}`),
    nx(`foo.${Z}`), nx(`nginx.default.foo.${Z}`),
    // Leading underscores are stripped: http.tcp works like _http._tcp.
    {
      name: `http.tcp.nginx.default.svc.${Z}`, type: 'SRV', rcode: 'NOERROR',
      answer: [`http.tcp.nginx.default.svc.${Z} 5 IN SRV 0 100 80 nginx.default.svc.${Z}`],
      additional: [`nginx.default.svc.${Z} 5 IN A 10.96.0.20`],
    },
    nx(`a.b.c.nginx.default.svc.${Z}`), nx(`x.y.nginx.default.svc.${Z}`),
  ], true));

  it('C2 namespaces must exist', () => checkAll(srv, [
    nodata(`default.svc.${Z}`), nodata(`empty-ns.svc.${Z}`), nx(`nope.svc.${Z}`),
    nx(`nginx.nope.svc.${Z}`),
  ], true));

  it('C3/C4 SOA at the apex, NODATA below, NXDOMAIN for missing names; reverse zones alike', () => checkAll(srv, [
    { name: Z, type: 'SOA', rcode: 'NOERROR', answer: [SOA] },
    { name: 'in-addr.arpa.', type: 'SOA', rcode: 'NOERROR', answer: [soa('in-addr.arpa.')] },
    nodata(`nginx.default.svc.${Z}`, 'SOA'),
    nx(`missing.default.svc.${Z}`, 'SOA'),
  ], true));

  it('C5 NS: ns.dns.<zone> with the server\'s own address when its Service is not found', () => checkAll(srv, [
    { name: Z, type: 'NS', rcode: 'NOERROR', answer: [`${Z} 5 IN NS ns.dns.${Z}`], additional: [`ns.dns.${Z} 5 IN A 127.0.0.1`] },
    { name: `ns.dns.${Z}`, type: 'A', rcode: 'NOERROR', answer: [`ns.dns.${Z} 5 IN A 127.0.0.1`] },
    nodata(`ns.dns.${Z}`, 'AAAA'),
    nodata(`nginx.default.svc.${Z}`, 'NS'),
    nx(`missing.default.svc.${Z}`, 'NS'),
  ], true));

  it('C6 TXT: only dns-version; NODATA on other existing names, NXDOMAIN at the apex and namespaces (D9)', () => checkAll(srv, [
    nodata(`nginx.default.svc.${Z}`, 'TXT'),
    nodata(`ext.default.svc.${Z}`, 'TXT'),
    nx(Z, 'TXT'), nx(`default.svc.${Z}`, 'TXT'), nx(`missing.default.svc.${Z}`, 'TXT'),
    // Any other type at dns-version is NXDOMAIN (D9).
    nx(`dns-version.${Z}`, 'A'),
  ], true));

  it('C7 query types: MX, ANY, others NODATA when the name exists; AXFR/IXFR refused', async () => {
    await checkAll(srv, [
      nodata(`nginx.default.svc.${Z}`, 'MX'), nx(`missing.default.svc.${Z}`, 'MX'),
      nodata(`nginx.default.svc.${Z}`, 'ANY'), nodata(`redis-ha.shared.svc.${Z}`, 'HINFO'),
      nodata(`nginx.default.svc.${Z}`, 'CNAME'), nodata(`nginx.default.svc.${Z}`, 'PTR'),
      nx(`missing.default.svc.${Z}`, 'PTR'), nodata(Z, 'PTR'),
      nx(`missing.default.svc.${Z}`, 'HTTPS'),
    ], true);
    const axfr = await srv.query(Z, 'AXFR', { transport: 'tcp' });
    assert.equal(axfr.rcode, 5, 'AXFR REFUSED');
    const ixfr = await srv.query(Z, 'IXFR', { transport: 'tcp' });
    assert.equal(ixfr.rcode, 5, 'IXFR REFUSED');
  });

  it('C22 no wildcards: * and any are plain labels that do not exist', () => checkAll(srv, [
    nx(`*.default.svc.${Z}`), nx(`any.default.svc.${Z}`), nx(`nginx.*.svc.${Z}`), nx(`nginx.any.svc.${Z}`),
    nx(`*.nginx.default.svc.${Z}`), nx(`_*._tcp.nginx.default.svc.${Z}`, 'SRV'), nx(`_http._any.nginx.default.svc.${Z}`, 'SRV'),
  ], true));

  it('D9 reverse-tree quirks: NXDOMAIN for non-PTR types and empty non-terminals', () => checkAll(srv, [
    { name: '20.0.96.10.in-addr.arpa.', type: 'A', rcode: 'NXDOMAIN', authority: [soa('in-addr.arpa.')] },
    { name: '0.96.10.in-addr.arpa.', type: 'PTR', rcode: 'NXDOMAIN', authority: [soa('in-addr.arpa.')] },
    { name: 'in-addr.arpa.', type: 'PTR', rcode: 'NOERROR', authority: [soa('in-addr.arpa.')] },
  ], true));
});

describe('C5 NS: the server\'s own Service', () => {
  it('names the Service whose endpoints hold the server address, with its ClusterIP as glue', async () => {
    const srv = await startCluster([
      ns('kube-system'),
      svc('kube-system', 'kube-dns', ['10.96.0.10'], [{ name: 'dns', port: 53, protocol: 'UDP' }]),
      slice('kube-system', 'kube-dns-a', 'kube-dns', [{ ip: '127.0.0.1' }], [{ name: 'dns', port: 53, protocol: 'UDP' }]),
    ]);
    try {
      await checkAll(srv, [{
        name: Z, type: 'NS', rcode: 'NOERROR',
        answer: [`${Z} 5 IN NS kube-dns.kube-system.svc.${Z}`], additional: [`kube-dns.kube-system.svc.${Z} 5 IN A 10.96.0.10`],
      }], true);
    } finally {
      await srv.stop();
    }
  });

  it('a headless own Service gives the endpoint name and address', async () => {
    const srv = await startCluster([
      svc('kube-system', 'dns-headless', 'None', [{ name: 'dns', port: 53, protocol: 'UDP' }]),
      slice('kube-system', 'dns-headless-a', 'dns-headless', [{ ip: '127.0.0.1', hostname: 'me' }], [{ name: 'dns', port: 53, protocol: 'UDP' }]),
    ]);
    try {
      await checkAll(srv, [{
        name: Z, type: 'NS', rcode: 'NOERROR',
        answer: [`${Z} 5 IN NS me.dns-headless.kube-system.svc.${Z}`], additional: [`me.dns-headless.kube-system.svc.${Z} 5 IN A 127.0.0.1`],
      }], true);
    } finally {
      await srv.stop();
    }
  });
});
