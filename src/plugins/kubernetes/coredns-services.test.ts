/**
 * @module plugins/kubernetes/coredns-services.test
 * CoreDNS behaviour for services and endpoints: C8 ClusterIPs without
 * endpoints, C9 SRV at the bare name, C10 SRV layout, C11 SRV matching, C12
 * endpoint names of ClusterIP services, C13 endpoint naming, C14 slices,
 * C15 headless special cases, C16 PTR, C17 reverse zones from CIDRs, C18
 * ExternalName (in zone, chained, through the chain's upstream, loops, gaps).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { rrs } from '../../dns/rr.ts';
import { startFakeUpstream, type FakeUpstream } from '../../../test/support/fake-upstream.ts';
import { checkAll, rrLine, soa, startCluster, type ClusterServer, type DnsCase } from '../../../test/support/k8s-dns.ts';
import { externalName, ns, svc, testCluster } from '../../../test/support/k8s-objects.ts';

const Z = 'cluster.local.';
const SOA = soa();
const RSOA = soa('in-addr.arpa.');
const N = `nginx.default.svc.${Z}`;
const R = `redis-ha.shared.svc.${Z}`;
const nx = (name: string, type = 'A'): DnsCase => ({ name, type, rcode: 'NXDOMAIN', authority: [SOA] });
const nodata = (name: string, type = 'A'): DnsCase => ({ name, type, rcode: 'NOERROR', authority: [SOA] });

describe('CoreDNS services and endpoints (C8-C18)', () => {
  let srv: ClusterServer;
  before(async () => { srv = await startCluster(testCluster()); });
  after(() => srv.stop());

  it('C8 ClusterIP answers do not depend on endpoints; the other family is NODATA', () => checkAll(srv, [
    { name: `noslices.default.svc.${Z}`, type: 'A', rcode: 'NOERROR', answer: [`noslices.default.svc.${Z} 5 IN A 10.96.0.60`] },
    nodata(`noslices.default.svc.${Z}`, 'AAAA'),
    { name: `_http._tcp.noslices.default.svc.${Z}`, type: 'SRV', rcode: 'NOERROR',
      answer: [`_http._tcp.noslices.default.svc.${Z} 5 IN SRV 0 100 80 noslices.default.svc.${Z}`],
      additional: [`noslices.default.svc.${Z} 5 IN A 10.96.0.60`] },
  ], true));

  it('C9 SRV at the bare name lists every port, named or not; endpoint names answer SRV too', () => checkAll(srv, [
    { name: N, type: 'SRV', rcode: 'NOERROR',
      answer: [`${N} 5 IN SRV 0 33 80 ${N}`, `${N} 5 IN SRV 0 33 8443 ${N}`, `${N} 5 IN SRV 0 33 53 ${N}`],
      additional: [`${N} 5 IN A 10.96.0.20`] },
    { name: `redis-ha-server-0.${R}`, type: 'SRV', rcode: 'NOERROR',
      answer: [`redis-ha-server-0.${R} 5 IN SRV 0 25 6379 redis-ha-server-0.${R}`, `redis-ha-server-0.${R} 5 IN SRV 0 25 26379 redis-ha-server-0.${R}`],
      additional: [`redis-ha-server-0.${R} 5 IN A 10.2.0.10`, `redis-ha-server-0.${R} 5 IN AAAA fd00::2:10`] },
    { name: R, type: 'SRV', rcode: 'NOERROR',
      answer: ['redis-ha-server-0', 'redis-ha-server-1', '10-2-0-12'].flatMap((h) => [`${R} 5 IN SRV 0 10 6379 ${h}.${R}`, `${R} 5 IN SRV 0 10 26379 ${h}.${R}`]),
      additional: [`redis-ha-server-0.${R} 5 IN A 10.2.0.10`, `redis-ha-server-1.${R} 5 IN A 10.2.0.11`, `10-2-0-12.${R} 5 IN A 10.2.0.12`, `redis-ha-server-0.${R} 5 IN AAAA fd00::2:10`] },
  ], true));

  it('C10 SRV layout: dual-stack ClusterIP gives one SRV of weight 50 and both addresses; no ports: NODATA', () => checkAll(srv, [
    { name: `_http._tcp.dual.default.svc.${Z}`, type: 'SRV', rcode: 'NOERROR',
      answer: [`_http._tcp.dual.default.svc.${Z} 5 IN SRV 0 50 80 dual.default.svc.${Z}`],
      additional: [`dual.default.svc.${Z} 5 IN A 10.96.0.30`, `dual.default.svc.${Z} 5 IN AAAA fd00::30`] },
    { name: `noports.shared.svc.${Z}`, type: 'A', rcode: 'NOERROR', answer: [`noports.shared.svc.${Z} 5 IN A 10.2.1.1`] },
    nodata(`noports.shared.svc.${Z}`, 'SRV'),
  ], true));

  it('C11 SRV matching: port name and protocol, case-insensitive; no match is NXDOMAIN', () => checkAll(srv, [
    nx(`_http._udp.${N}`, 'SRV'), nx(`_nope._tcp.${N}`, 'SRV'), nx(`_dns._tcp.${N}`, 'SRV'),
    { name: `_DNS._UDP.${N}`, type: 'SRV', rcode: 'NOERROR', answer: [`_dns._udp.${N} 5 IN SRV 0 100 53 ${N}`], additional: [`${N} 5 IN A 10.96.0.20`] },
    // D9: A at a _port._proto name answers the ClusterIP.
    { name: `_http._tcp.${N}`, type: 'A', rcode: 'NOERROR', answer: [`_http._tcp.${N} 5 IN A 10.96.0.20`] },
    // D9: the _proto level above is NXDOMAIN though _http._tcp exists.
    nx(`_tcp.${N}`, 'SRV'),
  ], true));

  it('C12/C13 endpoint names for ClusterIP services: hostname, dashed IPv4 and IPv6 addresses', () => checkAll(srv, [
    { name: `10-1-0-1.${N}`, type: 'A', rcode: 'NOERROR', answer: [`10-1-0-1.${N} 5 IN A 10.1.0.1`] },
    { name: `web-two.${N}`, type: 'A', rcode: 'NOERROR', answer: [`web-two.${N} 5 IN A 10.1.0.2`] },
    { name: `fd00--1-5.v6only.default.svc.${Z}`, type: 'AAAA', rcode: 'NOERROR', answer: [`fd00--1-5.v6only.default.svc.${Z} 5 IN AAAA fd00::1:5`] },
    { name: `fd00--0.v6only.default.svc.${Z}`, type: 'AAAA', rcode: 'NOERROR', answer: [`fd00--0.v6only.default.svc.${Z} 5 IN AAAA fd00::`] },
    nodata(`10-1-0-1.${N}`, 'AAAA'),
    { name: `_http._tcp.10-1-0-1.${N}`, type: 'SRV', rcode: 'NXDOMAIN', authority: [SOA] },
    { name: `10-1-0-1.${N}`, type: 'SRV', rcode: 'NOERROR', answer: [`10-1-0-1.${N} 5 IN SRV 0 100 8080 10-1-0-1.${N}`], additional: [`10-1-0-1.${N} 5 IN A 10.1.0.1`] },
  ], true));

  it('C14/C15 slices merged, duplicates once, no ready endpoint is NXDOMAIN for the name and its SRV names', () => checkAll(srv, [
    { name: `redis-ha-server-1.${R}`, type: 'A', rcode: 'NOERROR', answer: [`redis-ha-server-1.${R} 5 IN A 10.2.0.11`] },
    nx(`empty-headless.shared.svc.${Z}`), nx(`_http._tcp.empty-headless.shared.svc.${Z}`, 'SRV'), nx(`empty-headless.shared.svc.${Z}`, 'SRV'),
  ], true));

  it('C16 PTR: ClusterIP first; else every ready endpoint over all services; none for non-endpoint pods', () => checkAll(srv, [
    { name: '51.0.96.10.in-addr.arpa.', type: 'PTR', rcode: 'NOERROR', answer: [`51.0.96.10.in-addr.arpa. 5 IN PTR announce-1.shared.svc.${Z}`] },
    { name: '11.0.2.10.in-addr.arpa.', type: 'PTR', rcode: 'NOERROR',
      answer: [`11.0.2.10.in-addr.arpa. 5 IN PTR redis-ha-server-1.${R}`, `11.0.2.10.in-addr.arpa. 5 IN PTR 10-2-0-11.announce-1.shared.svc.${Z}`] },
    { name: '1.0.1.10.in-addr.arpa.', type: 'PTR', rcode: 'NOERROR', answer: [`1.0.1.10.in-addr.arpa. 5 IN PTR 10-1-0-1.${N}`] },
    { name: '9.0.1.10.in-addr.arpa.', type: 'PTR', rcode: 'NXDOMAIN', authority: [RSOA] },
    { name: '3.0.1.10.in-addr.arpa.', type: 'PTR', rcode: 'NXDOMAIN', authority: [RSOA] },
  ], true));

  it('C18 ExternalName: in-zone targets resolved here, chains, loops, IP literals, names below, other types', () => checkAll(srv, [
    { name: `ext-chain.default.svc.${Z}`, type: 'A', rcode: 'NOERROR', ordered: true, answer: [
      `ext-chain.default.svc.${Z} 5 IN CNAME ext-in.default.svc.${Z}`, `ext-in.default.svc.${Z} 5 IN CNAME ${N}`, `${N} 5 IN A 10.96.0.20`] },
    // The target has no AAAA: the CNAME is dropped (D9), NODATA.
    nodata(`ext-in.default.svc.${Z}`, 'AAAA'),
    nodata(`ext-missing.default.svc.${Z}`, 'A'),
    nodata(`ext-loop.default.svc.${Z}`, 'A'),
    { name: `ext-in.default.svc.${Z}`, type: 'CNAME', rcode: 'NOERROR', answer: [`ext-in.default.svc.${Z} 5 IN CNAME ${N}`] },
    nx(`ext-ip.default.svc.${Z}`), nx(`ext-ip.default.svc.${Z}`, 'CNAME'),
    nx(`x.ext.default.svc.${Z}`), nx(`_http._tcp.ext.default.svc.${Z}`, 'SRV'),
    nodata(`ext.default.svc.${Z}`, 'SRV'), nodata(`ext.default.svc.${Z}`, 'MX'),
  ], true));
});

describe('C18 ExternalName chains stop at 8 CNAMEs, as CoreDNS', () => {
  const MAX_CNAME_CHAIN = 8;
  // link0 -> link1 -> ... -> linkK -> end (ClusterIP): asking linkI gives K+1-I CNAMEs, then end's A.
  const links = MAX_CNAME_CHAIN + 1;
  const name = (i: number): string => i === links ? `end.chain.svc.${Z}` : `link${i}.chain.svc.${Z}`;
  let srv: ClusterServer;
  before(async () => {
    const objects = [ns('chain'), svc('chain', 'end', ['10.96.7.7'], [{ port: 80 }])];
    for (let i = 0; i < links; i++) objects.push(externalName('chain', `link${i}`, name(i + 1)));
    srv = await startCluster(objects);
  });
  after(() => srv.stop());

  it(`a chain of exactly ${MAX_CNAME_CHAIN} CNAMEs is followed to the address`, () => {
    const answer = Array.from({ length: MAX_CNAME_CHAIN }, (_, k) => `${name(k + 1)} 5 IN CNAME ${name(k + 2)}`);
    return checkAll(srv, [{ name: name(1), type: 'A', rcode: 'NOERROR', ordered: true, answer: [...answer, `${name(links)} 5 IN A 10.96.7.7`] }], true);
  });

  it(`one more (${MAX_CNAME_CHAIN + 1}) is not followed: NODATA`, () => checkAll(srv, [nodata(name(0), 'A')], true));
});

describe('C16/C17 reverse zones', () => {
  it('PTR targets use the primary (first forward) zone', async () => {
    const srv = await startCluster(testCluster(), { zones: 'corp.example cluster.local in-addr.arpa' });
    try {
      await checkAll(srv, [
        { name: '20.0.96.10.in-addr.arpa.', type: 'PTR', rcode: 'NOERROR', answer: ['20.0.96.10.in-addr.arpa. 5 IN PTR nginx.default.svc.corp.example.'] },
        { name: N, type: 'A', rcode: 'NOERROR', answer: [`${N} 5 IN A 10.96.0.20`] },
      ], true);
    } finally {
      await srv.stop();
    }
  });

  it('CIDR zones become octet/nibble reverse zones; addresses outside go to the next plugin', async () => {
    const srv = await startCluster(testCluster(), { zones: 'cluster.local 10.96.0.0/17 fd00::/64', extra: ['whoami'] });
    try {
      await checkAll(srv, [
        { name: '20.0.96.10.in-addr.arpa.', type: 'PTR', rcode: 'NOERROR', answer: ['20.0.96.10.in-addr.arpa. 5 IN PTR nginx.default.svc.cluster.local.'] },
        { name: '0.96.10.in-addr.arpa.', type: 'SOA', rcode: 'NOERROR', answer: [soa('0.96.10.in-addr.arpa.')] },
        { name: '99.0.96.10.in-addr.arpa.', type: 'PTR', rcode: 'NXDOMAIN', authority: [soa('0.96.10.in-addr.arpa.')] },
        {
          name: '0.3.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.d.f.ip6.arpa.', type: 'PTR', rcode: 'NOERROR',
          answer: ['0.3.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.d.f.ip6.arpa. 5 IN PTR dual.default.svc.cluster.local.'],
        },
      ], true);
      // 10.96.128.0 is outside the /17 and 10.1.0.1 outside any zone of the plugin: whoami answers.
      for (const name of ['1.128.96.10.in-addr.arpa.', '1.0.1.10.in-addr.arpa.']) {
        const m = await srv.query(name, 'PTR');
        assert.equal(m.answer.length, 0, name);
        assert.ok(m.additional.some((r) => r.name === `_udp.${name}`), `${name} reached whoami`);
      }
    } finally {
      await srv.stop();
    }
  });
});

describe('C18 ExternalName targets outside the cluster zones', () => {
  let up: FakeUpstream;
  let srv: ClusterServer;
  before(async () => {
    up = await startFakeUpstream((q) => (q.name === 'example.org.' && q.type === 1
      ? { reply: { answer: [rrs.a('example.org.', 60, '192.0.2.80')] } }
      : { reply: { rcode: 3 } }));
    srv = await startCluster(testCluster(), { extra: [`forward . ${up.address}`] });
  });
  after(async () => {
    await srv.stop();
    await up.close();
  });

  it('asks the rest of the chain (forward) and appends its answer after the CNAME, keeping its TTL', async () => {
    await checkAll(srv, [{
      name: `ext.default.svc.${Z}`, type: 'A', rcode: 'NOERROR', ordered: true,
      answer: [`ext.default.svc.${Z} 5 IN CNAME example.org.`, 'example.org. 60 IN A 192.0.2.80'],
    }], true);
    assert.ok(up.count('example.org.') >= 1);
  });

  it('an upstream NXDOMAIN leaves the CNAME alone', async () => {
    const m = await srv.query(`ext.default.svc.${Z}`, 'AAAA');
    assert.equal(m.rcode, 0);
    assert.deepEqual(m.answer.map(rrLine), [`ext.default.svc.${Z} 5 IN CNAME example.org.`]);
  });
});
