/**
 * @module bench/kept-breakdown
 * Where the bytes of the kubernetes index's kept answers go: builds a
 * synthetic cluster (10,000 services, 10 endpoints each, one in ten
 * headless), takes a V8 heap snapshot, asks for every service's A, SRV
 * (`_http._tcp`) and one PTR name (or the kinds given), takes another, and
 * prints the difference per object kind (count and self size per kept name)
 * with process.memoryUsage() deltas. `names` builds the service views first,
 * so the difference is the names alone.
 *
 *   node --expose-gc bench/kept-breakdown.ts [all|names] [asp]
 */
import fs from 'node:fs';
import v8 from 'node:v8';
import { ClusterStore } from '../src/cluster/store.ts';
import { convertEndpointSlice, convertNamespace, convertService } from '../src/cluster/api/convert.ts';
import { Type } from '../src/dns/constants.ts';
import { DnsIndex } from '../src/plugins/kubernetes/dns-index.ts';
const gc = (globalThis as { gc: () => void }).gc;
const SERVICES = 10000, PER = 10, NS = 1000, ZONE = 'cluster.local.';
const mode = process.argv[2] ?? 'all';
const store = new ClusterStore();
const index = new DnsIndex(store, { zones: [ZONE, 'in-addr.arpa.'], primaryZone: ZONE, ttl: 5, pods: 'verified', endpointPodNames: false, endpoints: true, ignoreEmptyService: false, zonal: false, namespaces: null, namespaceLabels: null, localAddresses: () => [], maxCachedBytes: Infinity });
const fw = (o: object): unknown => JSON.parse(JSON.stringify(o));
for (let n = 0; n < NS; n++) store.apply({ type: 'ADDED', object: convertNamespace({ metadata: { name: `team-${n}` } }).record! });
const podIp = (i: number, e: number) => { const n = i * PER + e; return `10.${128 + (n >> 16)}.${(n >> 8) & 255}.${n & 255}`; };
for (let i = 0; i < SERVICES; i++) {
  const h = i % 10 === 0; const ip = h ? 'None' : `10.${96 + (i >> 16)}.${(i >> 8) & 255}.${i & 255}`;
  store.apply({ type: 'ADDED', object: convertService(fw({ kind: 'Service', metadata: { name: `svc-${i}`, namespace: `team-${i % NS}` }, spec: { type: 'ClusterIP', clusterIP: ip, clusterIPs: [ip], ports: [{ name: 'http', port: 80, protocol: 'TCP' }] } })).record! });
  store.apply({ type: 'ADDED', object: convertEndpointSlice(fw({ kind: 'EndpointSlice', metadata: { name: `svc-${i}-x`, namespace: `team-${i % NS}`, labels: { 'kubernetes.io/service-name': `svc-${i}` } }, addressType: 'IPv4', endpoints: Array.from({ length: PER }, (_, e) => ({ addresses: [podIp(i, e)], conditions: { ready: true }, hostname: h ? `svc-${i}-${e}` : undefined })), ports: [{ name: 'http', port: 8080, protocol: 'TCP' }] })).record! });
}
for (const k of ['Namespace', 'Service', 'EndpointSlice'] as const) store.markSynced(k);
// `names`: the views are built (and the answers dropped) before the first snapshot, so the difference is the names alone.
function fill(kinds: string): void {
  for (let i = 0; i < SERVICES; i++) {
    const name = `svc-${i}.team-${i % NS}.svc.${ZONE}`;
    if (kinds.includes('a')) index.answer(name, Type.A, ZONE);
    if (kinds.includes('s')) index.answer(`_http._tcp.${name}`, Type.SRV, ZONE);
    if (kinds.includes('p')) index.answer(`${podIp(i, 0).split('.').reverse().join('.')}.in-addr.arpa.`, Type.PTR, 'in-addr.arpa.');
  }
}
const kinds = process.argv[3] ?? 'asp';
if (mode === 'names') { fill('a'); fill('p'); index.forgetAnswers(); }
const m = () => { gc(); gc(); const u = process.memoryUsage(); return u; };
const before = m();
const snapA = v8.writeHeapSnapshot(`${process.env.TMPDIR ?? '/tmp'}/kept-a-${process.pid}.heapsnapshot`);
fill(kinds);
const after = m();
const snapB = v8.writeHeapSnapshot(`${process.env.TMPDIR ?? '/tmp'}/kept-b-${process.pid}.heapsnapshot`);
const n = index.stats.cachedNames;
console.log(`names ${n} views ${index.stats.views} (estimated ${(index.stats.cachedBytes / n).toFixed(0)} B/name): heapUsed +${((after.heapUsed - before.heapUsed) / n).toFixed(0)} B/name, external +${((after.external - before.external) / n).toFixed(0)}, arrayBuffers +${((after.arrayBuffers - before.arrayBuffers) / n).toFixed(0)}, rss +${((after.rss - before.rss) / n).toFixed(0)}`);

interface Snapshot {
  snapshot: { meta: { node_fields: string[]; node_types: [string[]] } };
  nodes: number[];
  strings: string[];
}

/** Count and self size per (node type, constructor name) of a heap snapshot file. */
function snapshotKinds(file: string): Map<string, [number, number]> {
  const s = JSON.parse(fs.readFileSync(file, 'utf8')) as Snapshot;
  const f = s.snapshot.meta.node_fields;
  const types = s.snapshot.meta.node_types[0];
  const iT = f.indexOf('type'), iN = f.indexOf('name'), iS = f.indexOf('self_size');
  const out = new Map<string, [number, number]>();
  for (let i = 0; i < s.nodes.length; i += f.length) {
    const t = types[s.nodes[i + iT]!]!;
    const name = t.includes('string') ? '(string)' : t === 'number' || t === 'code' || t === 'closure' ? `(${t})` : s.strings[s.nodes[i + iN]!]!.slice(0, 60);
    const a = out.get(`${t} ${name}`) ?? [0, 0];
    a[0]++; a[1] += s.nodes[i + iS]!;
    out.set(`${t} ${name}`, a);
  }
  return out;
}

const a = snapshotKinds(snapA), b = snapshotKinds(snapB);
fs.rmSync(snapA); fs.rmSync(snapB);
const rows = [...b].map(([k, [c, sz]]) => [k, c - (a.get(k)?.[0] ?? 0), sz - (a.get(k)?.[1] ?? 0)] as const).sort((x, y) => y[2] - x[2]);
const total = rows.reduce((t, r) => t + r[2], 0), objects = rows.reduce((t, r) => t + r[1], 0);
console.log(`heap snapshot difference: ${(total / n).toFixed(0)} B and ${(objects / n).toFixed(2)} objects per kept name`);
for (const [k, c, sz] of rows.slice(0, 16)) console.log(`${(sz / n).toFixed(1).padStart(8)} B ${(c / n).toFixed(2).padStart(6)} objects  ${k}`);
