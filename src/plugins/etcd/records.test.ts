/**
 * @module plugins/etcd/records.test
 * Every record type and field of the SkyDNS layout against a real etcd,
 * answered in-process, by dig over UDP and by kdig over TCP: A/AAAA, subtree
 * reads, wildcards (`*`, `any`), CNAME chasing inside the zone (loops,
 * dangling targets) and out of it (through forward to a real dnsmasq), TXT
 * (split at 255 octets), MX, SRV (weights per priority, targetstrip, names
 * from the key path), PTR, NS and SOA at the apex, apex.dns entries, groups,
 * TTLs, NXDOMAIN vs NODATA, and bad values skipped with their key logged.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startEtcd, type TestEtcd } from '../../../test/support/etcd.ts';
import { startDnsmasq, type Dnsmasq } from '../../../test/support/dnsmasq.ts';
import { freePort } from '../../../test/support/ports.ts';
import { checkEtcdCases, putKeys, startEtcdDns, type DnsCase, type EtcdDnsServer } from '../../../test/support/etcd-dns.ts';
import { soa as soaLine } from '../../../test/support/k8s-dns.ts';

const Z = 'skydns.test.';
const SOA = soaLine(Z, 30);
const K = '/skydns/test/skydns';
const long = 'x'.repeat(300);

const keys: Record<string, string | object> = {
  [`${K}/a`]: { host: '10.0.0.1', ttl: 60 },
  [`${K}/v6`]: { host: '2001:db8::1' },
  [`${K}/multi/x1`]: { host: '10.0.0.2' },
  [`${K}/multi/x2`]: { host: '10.0.0.3' },
  [`${K}/alias`]: { host: 'a.skydns.test' },
  [`${K}/ext`]: { host: 'www.ext.example', ttl: 40 },
  [`${K}/loop1`]: { host: 'loop2.skydns.test' },
  [`${K}/loop2`]: { host: 'loop1.skydns.test' },
  [`${K}/dangling`]: { host: 'nowhere.skydns.test' },
  [`${K}/txt`]: { text: 'hello world' },
  [`${K}/longtxt`]: { text: long },
  [`${K}/mail`]: { host: '10.0.0.5', mail: true, priority: 20 },
  [`${K}/mx2`]: { host: 'a.skydns.test', mail: true },
  [`${K}/svc/s1`]: { host: '10.0.0.10', port: 8080, priority: 10, weight: 30 },
  [`${K}/svc/s2`]: { host: '10.0.0.11', port: 8080, weight: 10 },
  [`${K}/svc/s3`]: { host: '10.0.0.12', port: 8081, priority: 20 },
  [`${K}/strip/x/y`]: { host: '10.0.0.20', port: 80, targetstrip: 1 },
  [`${K}/srvname`]: { host: 'a.skydns.test', port: 53 },
  [`${K}/srvext`]: { host: 'www.ext.example', port: 443 },
  [`${K}/grp/a`]: { host: '10.0.1.1', group: 'g1' },
  [`${K}/grp/b/c`]: { host: '10.0.1.2', group: 'g2' },
  [`${K}/grp/d`]: { host: '10.0.1.3' },
  [`${K}/region1/web`]: { host: '10.0.2.1' },
  [`${K}/region2/web`]: { host: '10.0.2.2' },
  [`${K}/region2/db`]: { host: '10.0.2.3' },
  [`${K}/dns/ns/ns1`]: { host: '10.0.0.53' },
  [`${K}/dns/apex/x`]: { host: '10.0.0.100' },
  [`${K}/fieldcase`]: { Host: '10.0.0.7', TTL: 70 },
  [`${K}/bad/one`]: 'this is not json',
  [`${K}/bad/two`]: { host: '10.0.3.2' },
  [`${K}/bad/three`]: { host: '10.0.3.3', port: 70000 },
  [`${K}/badport`]: { host: '10.0.3.4', port: '80' },
  '/skydns/arpa/in-addr/10/0/0/127': { host: 'reverse.skydns.test' },
  '/skydnsx/test/skydns/outside': { host: '10.9.9.9' },
};

const nx = (name: string, type = 'A'): DnsCase => ({ name, type, rcode: 'NXDOMAIN', authority: [SOA] });
const nodata = (name: string, type = 'A'): DnsCase => ({ name, type, rcode: 'NOERROR', authority: [SOA] });
const ok = (name: string, type: string, answer: string[], additional?: string[]): DnsCase =>
  ({ name, type, rcode: 'NOERROR', answer, ...(additional ? { additional } : {}) });

describe('etcd plugin records (real etcd; in-process, dig UDP, kdig TCP)', () => {
  let etcd: TestEtcd;
  let upstream: Dnsmasq;
  let srv: EtcdDnsServer;
  before(async () => {
    etcd = await startEtcd();
    upstream = await startDnsmasq(['--address=/ext.example/192.0.2.10', '--address=/ext.example/2001:db8::10']);
    await putKeys(etcd, keys);
    srv = await startEtcdDns(`.:0 {\n  bind 127.0.0.1\n  etcd ${Z} 10.0.0.0/24 {\n    endpoint ${etcd.endpoint}\n  }\n  forward . ${upstream.address}\n}\n`, { waitFor: `a.${Z}` });
  });
  after(async () => {
    await srv?.stop();
    await upstream?.stop();
    await etcd?.dispose();
  });

  test('A and AAAA, TTL from the record or 300, subtree reads, case-insensitive field names', () => checkEtcdCases(srv, [
    ok(`a.${Z}`, 'A', [`a.${Z} 60 IN A 10.0.0.1`]),
    ok(`v6.${Z}`, 'AAAA', [`v6.${Z} 300 IN AAAA 2001:db8::1`]),
    nodata(`a.${Z}`, 'AAAA'),
    nodata(`v6.${Z}`, 'A'),
    ok(`multi.${Z}`, 'A', [`multi.${Z} 300 IN A 10.0.0.2`, `multi.${Z} 300 IN A 10.0.0.3`]),
    ok(`x1.multi.${Z}`, 'A', [`x1.multi.${Z} 300 IN A 10.0.0.2`]),
    ok(`fieldcase.${Z}`, 'A', [`fieldcase.${Z} 70 IN A 10.0.0.7`]),
  ]));

  test('wildcards * and any match one label; groups pick the shortest keys\' group', () => checkEtcdCases(srv, [
    ok(`web.*.${Z}`, 'A', [`web.*.${Z} 300 IN A 10.0.2.1`, `web.*.${Z} 300 IN A 10.0.2.2`]),
    ok(`web.any.${Z}`, 'A', [`web.any.${Z} 300 IN A 10.0.2.1`, `web.any.${Z} 300 IN A 10.0.2.2`]),
    ok(`*.region2.${Z}`, 'A', [`*.region2.${Z} 300 IN A 10.0.2.2`, `*.region2.${Z} 300 IN A 10.0.2.3`]),
    nodata(`nothing.*.${Z}`),
    ok(`grp.${Z}`, 'A', [`grp.${Z} 300 IN A 10.0.1.1`, `grp.${Z} 300 IN A 10.0.1.3`]),
  ]));

  test('CNAME: chased inside the zone, resolved through forward outside it, loops cut, dangling targets NXDOMAIN', () => checkEtcdCases(srv, [
    ok(`alias.${Z}`, 'A', [`alias.${Z} 300 IN CNAME a.${Z}`, `a.${Z} 60 IN A 10.0.0.1`]),
    ok(`alias.${Z}`, 'CNAME', [`alias.${Z} 300 IN CNAME a.${Z}`]),
    nodata(`a.${Z}`, 'CNAME'),
    ok(`ext.${Z}`, 'A', [`ext.${Z} 40 IN CNAME www.ext.example.`, 'www.ext.example. 0 IN A 192.0.2.10']),
    ok(`ext.${Z}`, 'AAAA', [`ext.${Z} 40 IN CNAME www.ext.example.`, 'www.ext.example. 0 IN AAAA 2001:db8::10']),
    { name: `dangling.${Z}`, type: 'A', rcode: 'NXDOMAIN', answer: [`dangling.${Z} 300 IN CNAME nowhere.${Z}`], authority: [SOA] },
  ]));

  test('a CNAME loop ends after a bounded chain', async () => {
    const m = await srv.query(`loop1.${Z}`, 'A');
    assert.ok(m.answer.length <= 8, `chain of ${m.answer.length}`);
    assert.ok(m.answer.every((r) => r.type === 5));
  });

  test('TXT (split at 255 octets), MX with names from the key path, SRV weights, targetstrip and targets', () => checkEtcdCases(srv, [
    ok(`txt.${Z}`, 'TXT', [`txt.${Z} 300 IN TXT "hello world"`]),
    ok(`longtxt.${Z}`, 'TXT', [`longtxt.${Z} 300 IN TXT "${'x'.repeat(255)}" "${'x'.repeat(45)}"`]),
    nodata(`txt.${Z}`, 'A'),
    ok(`mail.${Z}`, 'MX', [`mail.${Z} 300 IN MX 20 mail.${Z}`], [`mail.${Z} 300 IN A 10.0.0.5`]),
    ok(`mx2.${Z}`, 'MX', [`mx2.${Z} 300 IN MX 10 a.${Z}`], [`a.${Z} 60 IN A 10.0.0.1`]),
    ok(`svc.${Z}`, 'SRV', [
      `svc.${Z} 300 IN SRV 10 75 8080 s1.svc.${Z}`, `svc.${Z} 300 IN SRV 10 25 8080 s2.svc.${Z}`, `svc.${Z} 300 IN SRV 20 100 8081 s3.svc.${Z}`,
    ], [`s1.svc.${Z} 300 IN A 10.0.0.10`, `s2.svc.${Z} 300 IN A 10.0.0.11`, `s3.svc.${Z} 300 IN A 10.0.0.12`]),
    ok(`strip.${Z}`, 'SRV', [`strip.${Z} 300 IN SRV 10 100 80 x.strip.${Z}`], [`x.strip.${Z} 300 IN A 10.0.0.20`]),
    ok(`srvname.${Z}`, 'SRV', [`srvname.${Z} 300 IN SRV 10 100 53 a.${Z}`], [`a.${Z} 60 IN A 10.0.0.1`]),
    ok(`srvext.${Z}`, 'SRV', [`srvext.${Z} 300 IN SRV 10 100 443 www.ext.example.`], ['www.ext.example. 0 IN A 192.0.2.10', 'www.ext.example. 0 IN AAAA 2001:db8::10']),
  ]));

  test('PTR from reverse keys, NS and SOA at the apex, apex.dns addresses, NXDOMAIN vs NODATA', () => checkEtcdCases(srv, [
    ok('127.0.0.10.in-addr.arpa.', 'PTR', [`127.0.0.10.in-addr.arpa. 300 IN PTR reverse.${Z}`]),
    { name: '128.0.0.10.in-addr.arpa.', type: 'PTR', rcode: 'NXDOMAIN', authority: [soaLine('0.0.10.in-addr.arpa.', 30)] },
    ok(Z, 'NS', [`${Z} 300 IN NS ns1.ns.dns.${Z}`], [`ns1.ns.dns.${Z} 300 IN A 10.0.0.53`]),
    ok(Z, 'SOA', [SOA]),
    ok(Z, 'A', [`${Z} 300 IN A 10.0.0.100`]),
    nodata(Z, 'AAAA'),
    nx(`missing.${Z}`),
    nx(`missing.${Z}`, 'SOA'),
    nodata(`a.${Z}`, 'SOA'),
    nodata(`a.${Z}`, 'NS'),
    nx(`missing.${Z}`, 'MX'),
    nodata(`a.${Z}`, 'MX'),
    nx(`outside.${Z}`),
  ]));

  test('bad values are skipped and logged with their key; the good records of the name still answer', async () => {
    await checkEtcdCases(srv, [
      ok(`bad.${Z}`, 'A', [`bad.${Z} 300 IN A 10.0.3.2`]),
      nx(`badport.${Z}`),
    ]);
    const logs = srv.logs.join('\n');
    assert.match(logs, /\[WARNING\] plugin\/etcd: \/skydns\/test\/skydns\/bad\/one: bad value \(not JSON/);
    assert.match(logs, /\/skydns\/test\/skydns\/bad\/three: bad value \("port" 70000 is out of range/);
    assert.match(logs, /\/skydns\/test\/skydns\/badport: bad value \("port" is not a whole number/);
  });

  test('several endpoints: the client fails over from a dead one', async () => {
    const dead = `http://127.0.0.1:${await freePort()}`;
    const other = await startEtcdDns(`.:0 {\n  bind 127.0.0.1\n  etcd ${Z} {\n    endpoint ${dead} ${etcd.endpoint}\n  }\n}\n`, { waitFor: `a.${Z}` });
    try {
      await checkEtcdCases(other, [ok(`a.${Z}`, 'A', [`a.${Z} 60 IN A 10.0.0.1`])]);
    } finally {
      await other.stop();
    }
  });
});
