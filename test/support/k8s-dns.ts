/**
 * @module test/support/k8s-dns
 * Cluster DNS test tables: write a set of Kubernetes objects to a temp
 * manifest folder, start a real server whose kubernetes block reads it, and
 * check cases (name, type, expected rcode, answer / authority / additional
 * as zone-file lines) in-process (`inject`) or through real `dig`. SOA
 * serials vary with the data's change time, so they print as `SERIAL`.
 */
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { Type, rcodeName, typeName } from '../../src/dns/constants.ts';
import { bytesToIp } from '../../src/dns/ip.ts';
import type { DecodedMessage } from '../../src/dns/message.ts';
import { readName } from '../../src/dns/name.ts';
import type { RR } from '../../src/dns/rr.ts';
import { dig, inject, runClient, startServer, type DigRecord, type InjectOptions, type TestServer } from './harness.ts';
import { makeTempDir, removeDir } from './kubeconfig.ts';

export interface ClusterServer {
  readonly server: TestServer;
  readonly port: number;
  /** The manifest folder. */
  readonly dir: string;
  readonly logs: string[];
  query(name: string, type: string, opts?: InjectOptions): Promise<DecodedMessage>;
  stop(): Promise<void>;
}

export interface ClusterOptions {
  /** Lines inside the kubernetes block besides `manifests` (e.g. "pods verified"). */
  readonly options?: readonly string[];
  /** Arguments of the kubernetes directive (default: cluster.local in-addr.arpa ip6.arpa). */
  readonly zones?: string;
  /** Other directives of the server block (e.g. "whoami"). */
  readonly extra?: readonly string[];
  /** Server block key (default ".:0"). */
  readonly key?: string;
  /** Whole extra server blocks after the first. */
  readonly moreBlocks?: string;
}

export function corefileFor(dir: string, o: ClusterOptions = {}): string {
  const opts = (o.options ?? []).map((l) => `    ${l}\n`).join('');
  const extra = (o.extra ?? []).map((l) => `  ${l}\n`).join('');
  return `${o.key ?? '.:0'} {\n  bind 127.0.0.1\n${extra}  kubernetes ${o.zones ?? 'cluster.local in-addr.arpa ip6.arpa'} {\n    manifests ${dir}\n${opts}  }\n}\n${o.moreBlocks ?? ''}`;
}

/** Writes objects (or raw YAML text) into a fresh manifest folder and starts a server over it. */
export async function startCluster(objects: readonly object[] | string, o: ClusterOptions = {}): Promise<ClusterServer> {
  const dir = await makeTempDir('clusterdns-k8s-');
  const text = typeof objects === 'string' ? objects : objects.map((x) => stringify(x)).join('---\n');
  await writeFile(join(dir, 'cluster.yaml'), text);
  let server: TestServer;
  try {
    server = await startServer(corefileFor(dir, o));
  } catch (e) {
    await removeDir(dir);
    throw e;
  }
  return {
    server, port: server.port, dir, logs: server.logs,
    query: (name, type, opts) => inject(server.app, name, type, opts),
    async stop() {
      await server.stop();
      await removeDir(dir);
    },
  };
}

/** Presentation text of rdata, as dig prints it. */
export function rdataText(r: RR): string {
  const d = r.data;
  const v = new DataView(d.buffer, d.byteOffset, d.byteLength);
  switch (r.type) {
    case Type.A:
    case Type.AAAA:
      return bytesToIp(d);
    case Type.CNAME:
    case Type.PTR:
    case Type.NS:
      return readName(d, 0).name;
    case Type.MX:
      return `${v.getUint16(0)} ${readName(d, 2).name}`;
    case Type.SRV:
      return `${v.getUint16(0)} ${v.getUint16(2)} ${v.getUint16(4)} ${readName(d, 6).name}`;
    case Type.MX:
      return `${v.getUint16(0)} ${readName(d, 2).name}`;
    case Type.SOA: {
      const m = readName(d, 0);
      const n = readName(d, m.end);
      const at = n.end;
      return `${m.name} ${n.name} SERIAL ${v.getUint32(at + 4)} ${v.getUint32(at + 8)} ${v.getUint32(at + 12)} ${v.getUint32(at + 16)}`;
    }
    case Type.TXT: {
      const parts: string[] = [];
      for (let p = 0; p < d.length;) { const len = d[p]!; parts.push(JSON.stringify(Buffer.from(d.subarray(p + 1, p + 1 + len)).toString())); p += len + 1; }
      return parts.join(' ');
    }
    default:
      return Buffer.from(d).toString('hex');
  }
}

/** "name ttl IN TYPE data" */
export function rrLine(r: RR): string {
  return `${r.name} ${r.ttl} IN ${typeName(r.type)} ${rdataText(r)}`;
}

function digLine(r: DigRecord): string {
  let data = r.data.replace(/\s+/g, ' ').trim();
  if (r.type === 'SOA') data = data.replace(/^(\S+ \S+) \d+ /, '$1 SERIAL ');
  return `${r.name.toLowerCase()} ${r.ttl} ${r.class} ${r.type} ${data}`;
}

/** One row of a test table. */
export interface DnsCase {
  readonly name: string;
  readonly type: string;
  readonly rcode: 'NOERROR' | 'NXDOMAIN' | 'SERVFAIL' | 'REFUSED';
  readonly answer?: readonly string[];
  readonly authority?: readonly string[];
  readonly additional?: readonly string[];
  /** Compare the answer in order (default: as sets). */
  readonly ordered?: boolean;
  /** Client address for inject (pods verified / autopath cases). */
  readonly from?: string;
}

/** The SOA line of a zone with the default TTL (C3). */
export function soa(zone = 'cluster.local.', ttl = 5): string {
  return `${zone} ${Math.min(ttl, 300)} IN SOA ns.dns.${zone === '.' ? '' : zone} hostmaster.${zone === '.' ? '' : zone} SERIAL 7200 1800 86400 ${ttl}`;
}

function compare(label: string, got: readonly string[], want: readonly string[] | undefined, ordered: boolean): void {
  const w = want ?? [];
  if (ordered) assert.deepEqual(got, w, label);
  else assert.deepEqual([...got].sort(), [...w].sort(), label);
}

function describeCase(c: DnsCase): string {
  return `${c.name} ${c.type}`;
}

/** Checks a case through the whole chain in-process. */
export async function checkInject(srv: ClusterServer, c: DnsCase): Promise<void> {
  // EDNS with dig's default size, so both paths see the same (untruncated) reply.
  const m = await srv.query(c.name, c.type, { udpSize: 1232, ...(c.from !== undefined ? { remoteAddress: c.from } : {}) });
  const what = describeCase(c);
  assert.equal(rcodeName(m.rcode), c.rcode, `${what}: rcode`);
  compare(`${what}: answer`, m.answer.map(rrLine), c.answer, c.ordered ?? false);
  compare(`${what}: authority`, m.authority.map(rrLine), c.authority, false);
  compare(`${what}: additional`, m.additional.map(rrLine), c.additional, false);
  if (c.rcode === 'NOERROR' || c.rcode === 'NXDOMAIN') assert.ok((m.flags & 0x0400) !== 0, `${what}: AA bit`);
}

/** Checks a case with real dig (UDP, EDNS). */
export async function checkDig(srv: ClusterServer, c: DnsCase): Promise<void> {
  const r = await dig(srv.port, c.type, c.name);
  const what = `dig ${describeCase(c)}`;
  assert.equal(r.status, c.rcode, `${what}: status`);
  compare(`${what}: answer`, r.answer.map(digLine), c.answer, c.ordered ?? false);
  compare(`${what}: authority`, r.authority.map(digLine), c.authority, false);
  compare(`${what}: additional`, r.additional.filter((x) => x.type !== 'OPT').map(digLine), c.additional, false);
  if (c.rcode === 'NOERROR' || c.rcode === 'NXDOMAIN') assert.ok(r.flags.includes('aa'), `${what}: aa flag`);
}

/** Runs each case both in-process and with dig (dig ones only when `viaDig`). */
export async function checkAll(srv: ClusterServer, cases: readonly DnsCase[], viaDig = false): Promise<void> {
  for (const c of cases) {
    await checkInject(srv, c);
    if (viaDig) await checkDig(srv, c);
  }
}

/** dig's answer section as printed (names keep the case dig received). */
export function runClientRaw(port: number, args: readonly string[]): Promise<string> {
  return runClient('dig', port, ['+noall', '+answer', ...args]);
}
