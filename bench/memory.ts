/**
 * @module bench/memory
 * Memory and update cost of the cluster store + DNS index at scale
 * (default 100,000 services and 1,000,000 endpoints, synthetic, in one
 * process): heap and RSS per service and per endpoint record, the cost of
 * the answer cache when full, the time of one incremental update at that
 * size (p50/p99 over 1000 Service and 1000 EndpointSlice updates), heap per
 * pod-IP entry (`pods verified`, one running pod per service), and that
 * a full relist (`replace` with equal copies of every object) neither
 * doubles the heap nor emits changes; and the same relist collected as the
 * API reflector does (each object swapped for the held one as it arrives).
 *
 *   node --expose-gc bench/memory.ts [--services N] [--endpoints-per-service M] [--namespaces K] [--names Q]
 */
import { performance } from 'node:perf_hooks';
import { convertEndpointSlice, convertNamespace, convertPod, convertService } from '../src/cluster/api/convert.ts';
import { ClusterStore } from '../src/cluster/store.ts';
import type { ClusterRecord } from '../src/cluster/types.ts';
import { Type } from '../src/dns/constants.ts';
import { DnsIndex } from '../src/plugins/kubernetes/dns-index.ts';

const gc = (globalThis as { gc?: () => void }).gc;
if (gc === undefined) {
  process.stderr.write('run with: node --expose-gc bench/memory.ts\n');
  process.exit(2);
}

function arg(name: string, dflt: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : dflt;
}

const SERVICES = arg('services', 100_000);
const PER_SERVICE = arg('endpoints-per-service', 10);
const NAMESPACES = arg('namespaces', 1000);
/** Names asked to fill the answer cache (A, SRV and PTR of one service in turn). */
const NAMES = arg('names', 30_000);
const HEADLESS_EVERY = 10; // one service in ten is headless
const ZONE = 'cluster.local.';

interface Mem { heap: number; rss: number }
function measure(): Mem {
  for (let i = 0; i < 3; i++) gc!();
  const m = process.memoryUsage();
  return { heap: m.heapUsed, rss: m.rss };
}
const mb = (b: number): string => `${(b / 1048576).toFixed(1)} MB`;

function nsName(i: number): string {
  return `team-${i % NAMESPACES}`;
}
function svcName(i: number): string {
  return `svc-${i}`;
}
function clusterIp(i: number, version = 0): string {
  return `10.${96 + version + (i >> 16)}.${(i >> 8) & 255}.${i & 255}`;
}
function podIp(i: number, e: number): string {
  const n = i * PER_SERVICE + e;
  return `10.${128 + (n >> 16)}.${(n >> 8) & 255}.${n & 255}`;
}

/** As decoded from an API response: flat strings, one copy per object (template literals would make rope strings). */
function fromWire(o: object): unknown {
  return JSON.parse(JSON.stringify(o));
}

/** The JSON a list/watch would deliver, converted as the API source does. */
function serviceRecord(i: number, version = 0): ClusterRecord {
  const headless = i % HEADLESS_EVERY === 0;
  const ip = headless ? 'None' : clusterIp(i, version);
  const r = convertService(fromWire({
    apiVersion: 'v1', kind: 'Service',
    metadata: { name: svcName(i), namespace: nsName(i), labels: { app: svcName(i), 'app.kubernetes.io/part-of': 'bench' } },
    spec: { type: 'ClusterIP', clusterIP: ip, clusterIPs: [ip], ports: [{ name: 'http', port: 80, protocol: 'TCP' }, { name: 'metrics', port: 9090, protocol: 'TCP' }] },
  }));
  if (r.error !== undefined) throw new Error(r.error);
  return r.record;
}

function sliceRecord(i: number, readyFlip = -1): ClusterRecord {
  const name = svcName(i);
  const r = convertEndpointSlice(fromWire({
    apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice',
    metadata: { name: `${name}-abcde`, namespace: nsName(i), labels: { 'kubernetes.io/service-name': name, 'endpointslice.kubernetes.io/managed-by': 'endpointslice-controller.k8s.io' } },
    addressType: 'IPv4',
    endpoints: Array.from({ length: PER_SERVICE }, (_, e) => ({
      addresses: [podIp(i, e)],
      conditions: { ready: e !== readyFlip, serving: true, terminating: false },
      nodeName: `node-${(i + e) % 5000}`,
      zone: `zone-${e % 3}`,
      hostname: i % HEADLESS_EVERY === 0 ? `${name}-${e}` : undefined,
      targetRef: { kind: 'Pod', name: `${name}-7d9f8c6b5-${e.toString(36).padStart(5, 'x')}`, namespace: nsName(i) },
    })),
    ports: [{ name: 'http', port: 8080, protocol: 'TCP' }, { name: 'metrics', port: 9090, protocol: 'TCP' }],
  }));
  if (r.error !== undefined) throw new Error(r.error);
  return r.record;
}

function podRecord(i: number): ClusterRecord {
  const r = convertPod(fromWire({
    apiVersion: 'v1', kind: 'Pod',
    metadata: { name: `${svcName(i)}-7d9f8c6b5-abcde`, namespace: nsName(i), labels: { app: svcName(i), 'pod-template-hash': '7d9f8c6b5' } },
    status: { phase: 'Running', podIP: `10.${200 + (i >> 16)}.${(i >> 8) & 255}.${i & 255}`, podIPs: [{ ip: `10.${200 + (i >> 16)}.${(i >> 8) & 255}.${i & 255}` }] },
  }));
  if (r.error !== undefined) throw new Error(r.error);
  return r.record;
}

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))]!;
}
const us = (ms: number): string => `${(ms * 1000).toFixed(1)} µs`;

function timeEach(n: number, fn: (k: number) => void): { p50: number; p99: number; max: number } {
  const t: number[] = [];
  for (let k = 0; k < n; k++) {
    const s = performance.now();
    fn(k);
    t.push(performance.now() - s);
  }
  t.sort((a, b) => a - b);
  return { p50: percentile(t, 0.5), p99: percentile(t, 0.99), max: t[t.length - 1]! };
}

function main(): void {
  const base = measure();
  console.log(`clusterdns memory bench: ${SERVICES} services (${SERVICES / HEADLESS_EVERY} headless), ${SERVICES * PER_SERVICE} endpoints, ${NAMESPACES} namespaces; node ${process.version}`);
  console.log(`base (modules loaded):            heap ${mb(base.heap)}, rss ${mb(base.rss)}`);

  const store = new ClusterStore();
  const index = new DnsIndex(store, {
    zones: [ZONE, 'in-addr.arpa.'], primaryZone: ZONE, ttl: 5, pods: 'verified', endpointPodNames: false, endpoints: true,
    ignoreEmptyService: false, zonal: false, namespaces: null, namespaceLabels: null, localAddresses: () => [],
    // Unbounded in bytes: this measures what the names cost (the byte bound would cap them).
    maxCachedBytes: Infinity,
  });
  let t0 = performance.now();
  for (let n = 0; n < NAMESPACES; n++) store.apply({ type: 'ADDED', object: convertNamespace({ metadata: { name: `team-${n}` } }).record! });
  for (let i = 0; i < SERVICES; i++) store.apply({ type: 'ADDED', object: serviceRecord(i) });
  const tServices = performance.now() - t0;
  const afterServices = measure();
  t0 = performance.now();
  for (let i = 0; i < SERVICES; i++) store.apply({ type: 'ADDED', object: sliceRecord(i) });
  for (const k of ['Namespace', 'Service', 'EndpointSlice'] as const) store.markSynced(k);
  const tSlices = performance.now() - t0;
  const afterSlices = measure();

  // Pods (`pods verified` keeps one entry per running pod IP): one per service.
  t0 = performance.now();
  for (let i = 0; i < SERVICES; i++) store.apply({ type: 'ADDED', object: podRecord(i) });
  store.markSynced('Pod');
  const tPods = performance.now() - t0;
  const afterPods = measure();
  const perPod = (afterPods.heap - afterSlices.heap) / SERVICES;

  const endpoints = SERVICES * PER_SERVICE;
  const perService = (afterServices.heap - base.heap) / SERVICES;
  const perEndpoint = (afterSlices.heap - afterServices.heap) / endpoints;
  const perRecord = (afterSlices.heap - base.heap) / (SERVICES + endpoints);
  console.log(`+ ${SERVICES} services:              heap ${mb(afterServices.heap)} (${perService.toFixed(0)} B/service incl. reverse index), built in ${(tServices / 1000).toFixed(1)} s`);
  console.log(`+ ${endpoints} endpoints (${SERVICES} slices): heap ${mb(afterSlices.heap)} (${perEndpoint.toFixed(0)} B/endpoint incl. slice share + reverse index), built in ${(tSlices / 1000).toFixed(1)} s`);
  console.log(`+ ${SERVICES} pods (pods verified):   heap ${mb(afterPods.heap)} (${perPod.toFixed(0)} B/pod-IP entry incl. store record), built in ${(tPods / 1000).toFixed(1)} s`);
  console.log(`  store + index total:            ${mb(afterSlices.heap - base.heap)} heap, ${mb(afterSlices.rss - base.rss)} rss; ${perRecord.toFixed(0)} B per service+endpoint record (target <= 512)`);
  console.log(`  reverse index: ${index.stats.clusterIps} ClusterIPs, ${index.stats.endpointIps} endpoint IPs`);

  // Fill the answer cache with distinct names (A, SRV, PTR mix). Measured from after the pods (they were added since the slices).
  t0 = performance.now();
  let q = 0;
  for (let i = 0; q < NAMES; i = (i + 7919) % SERVICES) {
    const name = `${svcName(i)}.${nsName(i)}.svc.${ZONE}`;
    index.answer(name, Type.A, ZONE);
    index.answer(`_http._tcp.${name}`, Type.SRV, ZONE);
    const ip = podIp(i, 0).split('.').reverse().join('.');
    index.answer(`${ip}.in-addr.arpa.`, Type.PTR, 'in-addr.arpa.');
    q += 3;
  }
  const tFill = performance.now() - t0;
  const afterCache = measure();
  console.log(`+ answer cache full (${index.stats.cachedNames} names, ${index.stats.views} service views): heap ${mb(afterCache.heap)} (+${mb(afterCache.heap - afterPods.heap)}, ${((afterCache.heap - afterPods.heap) / index.stats.cachedNames).toFixed(0)} B/name; estimated ${mb(index.stats.cachedBytes)}, the byte bound's measure); ${q} cold answers in ${tFill.toFixed(0)} ms (${us(tFill / q)} each)`);
  const hot = `${svcName(1)}.${nsName(1)}.svc.${ZONE}`;
  index.answer(hot, Type.A, ZONE);
  const hits = timeEach(100_000, () => { index.answer(hot, Type.A, ZONE); });
  console.log(`  cached answer: p50 ${us(hits.p50)}, p99 ${us(hits.p99)}`);

  // Incremental updates at full size: a Service (new ClusterIP), an EndpointSlice (one endpoint turns not ready).
  const svcUpdates = Array.from({ length: 1000 }, (_, k) => serviceRecord((k * 97 + 1) % SERVICES, 1));
  const sliceUpdates = Array.from({ length: 1000 }, (_, k) => sliceRecord((k * 89 + 3) % SERVICES, k % PER_SERVICE));
  const su = timeEach(1000, (k) => { store.apply({ type: 'MODIFIED', object: svcUpdates[k]! }); });
  const eu = timeEach(1000, (k) => { store.apply({ type: 'MODIFIED', object: sliceUpdates[k]! }); });
  console.log(`incremental update (store + index), ${SERVICES} services: Service p50 ${us(su.p50)} p99 ${us(su.p99)} max ${us(su.max)}; EndpointSlice p50 ${us(eu.p50)} p99 ${us(eu.p99)} max ${us(eu.max)}`);
  const afterUpdates = measure();

  // Relist: the source hands over a complete list of fresh, equal objects.
  let changes = 0;
  store.subscribe((c) => { changes += c.length; });
  // Fresh objects equal to what the store holds, as a relist after a watch expiry would deliver them.
  const list: ClusterRecord[] = [];
  for (const kind of ['Namespace', 'Service', 'EndpointSlice'] as const) {
    const all: Iterable<ClusterRecord> = kind === 'Namespace' ? store.namespaces() : kind === 'Service' ? store.services() : store.slices();
    for (const r of all) list.push(fromWire(r) as ClusterRecord);
  }
  const withList = measure();
  t0 = performance.now();
  store.replace(['Namespace', 'Service', 'EndpointSlice'], list);
  const tRelist = performance.now() - t0;
  list.length = 0;
  const afterRelist = measure();
  console.log(`relist of ${store.count('Service') + store.count('EndpointSlice') + store.count('Namespace')} equal objects: heap before ${mb(afterUpdates.heap)}, with the new list held ${mb(withList.heap)}, after replace + gc ${mb(afterRelist.heap)} (${((afterRelist.heap - afterUpdates.heap) / 1048576).toFixed(1)} MB kept); ${changes} changes emitted; ${(tRelist / 1000).toFixed(2)} s`);

  // The same relist as the API reflector collects it: each listed object is replaced at once by the equal record the
  // store holds (ClusterStateSink.held), so the fresh copies die page by page and the list is references.
  const heldList: ClusterRecord[] = [];
  for (const kind of ['Namespace', 'Service', 'EndpointSlice'] as const) {
    const all: Iterable<ClusterRecord> = kind === 'Namespace' ? store.namespaces() : kind === 'Service' ? store.services() : store.slices();
    for (const r of all) heldList.push(store.held(fromWire(r) as ClusterRecord));
  }
  const withHeldList = measure();
  store.replace(['Namespace', 'Service', 'EndpointSlice'], heldList);
  heldList.length = 0;
  console.log(`relist collected as the reflector does (held records): with the list held ${mb(withHeldList.heap)} (+${mb(withHeldList.heap - afterRelist.heap)}); ${changes} changes emitted in all`);
  console.log(`rss at the end: ${mb(process.memoryUsage().rss)}`);
  console.log(`formula: heap ≈ ${mb(base.heap)} + ${perService.toFixed(0)} B × services + ${perEndpoint.toFixed(0)} B × endpoints + ${perPod.toFixed(0)} B × pod IPs (pods verified) + answer cache (≤ ${((afterCache.heap - afterPods.heap) / Math.max(1, index.stats.cachedNames)).toFixed(0)} B × cached names)`);
}

main();
