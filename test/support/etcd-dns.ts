/**
 * @module test/support/etcd-dns
 * etcd plugin test tables: write keys into a real etcd (test/support/etcd.ts),
 * start a server whose Corefile has an etcd block pointing at it, and check
 * cases written as zone-file lines (the same DnsCase rows as the kubernetes
 * tables) in-process, with dig over UDP and with kdig over TCP.
 */
import assert from 'node:assert/strict';
import { rcodeName } from '../../src/dns/constants.ts';
import { checkDig, checkInject, type ClusterServer, type DnsCase } from './k8s-dns.ts';
import { inject, parseDig, runClient, startServer, type DigRecord } from './harness.ts';
import type { TestEtcd } from './etcd.ts';

export type { DnsCase };

/** Puts every key (values as given: strings are written raw, objects as JSON). */
export async function putKeys(etcd: TestEtcd, keys: Readonly<Record<string, string | object>>): Promise<void> {
  const c = etcd.client();
  for (const [k, v] of Object.entries(keys)) await c.put(k).value(typeof v === 'string' ? v : JSON.stringify(v));
}

/** A started server, in the shape the k8s-dns checks take (no manifest folder: `dir` is ''). */
export type EtcdDnsServer = ClusterServer;

/** Starts a server from Corefile text; with `waitFor`, until a query for that name is answered other than SERVFAIL (the first list is in). */
export async function startEtcdDns(corefile: string, opts: { waitFor?: string } = {}): Promise<EtcdDnsServer> {
  const server = await startServer(corefile);
  const srv: EtcdDnsServer = {
    server, port: server.port, dir: '', logs: server.logs,
    query: (name, type, o) => inject(server.app, name, type, o),
    stop: () => server.stop(),
  };
  if (opts.waitFor !== undefined) {
    const name = opts.waitFor;
    let ok = false;
    for (let i = 0; i < 200 && !ok; i++) {
      const m = await srv.query(name, 'A');
      ok = rcodeName(m.rcode) !== 'SERVFAIL';
      if (!ok) await new Promise((r) => setTimeout(r, 50));
    }
    assert.ok(ok, `the etcd plugin never answered ${name}: ${server.logs.join('\n')}`);
  }
  return srv;
}

function tcpLine(r: DigRecord): string {
  let data = r.data.replace(/\s+/g, ' ').trim();
  if (r.type === 'SOA') data = data.replace(/^(\S+ \S+) \d+ /, '$1 SERIAL ');
  return `${r.name.toLowerCase()} ${r.ttl} ${r.class} ${r.type} ${data}`;
}

/** Checks a case with kdig over TCP. */
export async function checkKdigTcp(srv: ClusterServer, c: DnsCase): Promise<void> {
  const r = parseDig(await runClient('kdig', srv.port, ['+tcp', '-t', c.type, c.name]));
  const what = `kdig +tcp ${c.name} ${c.type}`;
  assert.equal(r.status, c.rcode, `${what}: status\n${r.raw}`);
  const sorted = (x: readonly string[] | undefined): string[] => [...(x ?? [])].sort();
  assert.deepEqual(r.answer.map(tcpLine).sort(), sorted(c.answer), `${what}: answer`);
  assert.deepEqual(r.authority.map(tcpLine).sort(), sorted(c.authority), `${what}: authority`);
}

/** Every case in-process, then with dig (UDP) and kdig (TCP). */
export async function checkEtcdCases(srv: ClusterServer, cases: readonly DnsCase[]): Promise<void> {
  for (const c of cases) {
    await checkInject(srv, c);
    await checkDig(srv, c);
    await checkKdigTcp(srv, c);
  }
}
