/**
 * @module bench/cluster-gen
 * Deterministic synthetic cluster for the benchmarks. From (services, seed) it
 * builds the same cluster every time and writes:
 *   manifests/<namespace>.yaml  Namespace, Services, EndpointSlices (for clusterdns)
 *   zones/cluster.local.zone    the records the Kubernetes DNS spec gives
 *   zones/10.in-addr.arpa.zone  PTRs for ClusterIPs and ready endpoints
 *   queries/<mix>.txt           dnsperf query files (see MIXES): 100,000 lines
 *                               over a realistic number of distinct names
 * and returns the same records in memory (ZoneData) for peers that are fed
 * something other than a zone file (dnsmasq, unbound).
 *
 * Model: ~50 namespaces with skewed sizes; ~80% ClusterIP services (IPv4 from
 * 10.96.0.0/12, 1-3 ports named http/grpc/metrics), ~20% headless with 1-5
 * endpoints (10.244.0.0/16; StatefulSet-style hostnames for ~40% of them, ~5%
 * of endpoints not ready, the first always ready). Only headless services get
 * EndpointSlices: DNS answers for ClusterIP services do not depend on them.
 *
 * CLI: node bench/cluster-gen.ts --services 10000 [--seed 1] [--out DIR]
 */

import { mkdirSync, rmSync, writeFileSync, existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { stringify } from 'yaml';

export const ZONE = 'cluster.local.';
export const REVERSE_ZONE = '10.in-addr.arpa.';
export const TTL = 5;
/** Bump when the generated model changes, so cached manifests are rewritten. */
const GENERATOR_VERSION = 3;

export type Mix = 'hit-a' | 'nxdomain-search' | 'srv' | 'ptr' | 'blend';
export const MIXES: readonly Mix[] = ['hit-a', 'nxdomain-search', 'srv', 'ptr', 'blend'];
/** Lines per query file (at least: dnsperf cycles through it). */
export const QUERY_LINES = 100_000;

export type Rr =
  | { readonly type: 'A'; readonly name: string; readonly ip: string }
  | { readonly type: 'SRV'; readonly name: string; readonly priority: number; readonly weight: number; readonly port: number; readonly target: string }
  | { readonly type: 'PTR'; readonly name: string; readonly target: string }
  | { readonly type: 'TXT'; readonly name: string; readonly text: string }
  | { readonly type: 'NS'; readonly name: string; readonly target: string }
  | { readonly type: 'SOA'; readonly name: string; readonly mname: string; readonly rname: string; readonly serial: number; readonly refresh: number; readonly retry: number; readonly expire: number; readonly minimum: number };

export interface ZoneFile {
  readonly origin: string;
  readonly path: string;
  readonly records: readonly Rr[];
}

export interface GenPort { readonly name: string; readonly port: number; readonly protocol: 'tcp' | 'udp' }
export interface GenEndpoint {
  readonly ip: string;
  readonly ready: boolean;
  readonly hostname: string | null;
  readonly podName: string;
  readonly nodeName: string;
}
export interface GenService {
  readonly namespace: string;
  readonly name: string;
  readonly clusterIP: string | null;
  readonly ports: readonly GenPort[];
  readonly endpoints: readonly GenEndpoint[];
}

/** One query line with the outcome every correct peer gives. */
export interface ExpectedQuery {
  readonly name: string;
  readonly qtype: string;
  readonly rcode: 'NOERROR' | 'NXDOMAIN';
  readonly hasAnswer: boolean;
}

export interface MixFile {
  readonly mix: Mix;
  readonly path: string;
  readonly lines: number;
  /** Different (name, type) pairs in the file. */
  readonly distinct: number;
  /** Share of each rcode over the whole file, in percent. */
  readonly expectedRcodes: Readonly<Record<string, number>>;
  /** A few lines spread over the file, for the sanity check. */
  readonly sample: readonly ExpectedQuery[];
}

export interface ZoneData {
  readonly services: number;
  readonly seed: number;
  readonly dir: string;
  readonly manifestDir: string;
  readonly zones: readonly ZoneFile[];
  readonly mixes: Readonly<Record<Mix, MixFile>>;
  readonly stats: {
    readonly namespaces: number;
    readonly clusterIP: number;
    readonly headless: number;
    readonly endpoints: number;
    readonly records: number;
  };
  /** The generated objects (for sections that need them, e.g. a memory bench). */
  readonly cluster: readonly GenService[];
}

// ---------------------------------------------------------------- PRNG

/** sfc32 seeded through splitmix32: fast, good enough, reproducible. */
export class Rng {
  #a: number; #b: number; #c: number; #d: number;
  constructor(seed: number) {
    let s = seed >>> 0;
    const next = (): number => {
      s = (s + 0x9e3779b9) >>> 0;
      let z = s;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.#a = next(); this.#b = next(); this.#c = next(); this.#d = next();
    for (let i = 0; i < 12; i++) this.u32();
  }
  u32(): number {
    const t = (((this.#a + this.#b) >>> 0) + this.#d) >>> 0;
    this.#d = (this.#d + 1) >>> 0;
    this.#a = this.#b ^ (this.#b >>> 9);
    this.#b = (this.#c + (this.#c << 3)) >>> 0;
    this.#c = ((this.#c << 21) | (this.#c >>> 11)) >>> 0;
    this.#c = (this.#c + t) >>> 0;
    return t;
  }
  /** Uniform in [0, 1). */
  float(): number { return this.u32() / 4294967296; }
  /** Uniform integer in [lo, hi]. */
  int(lo: number, hi: number): number { return lo + Math.floor(this.float() * (hi - lo + 1)); }
  /** One of `xs`, uniformly or with the given relative weights. */
  pick<T>(xs: readonly T[], weights?: readonly number[]): T {
    const x = xs[weights ? this.weighted(weights) : Math.floor(this.float() * xs.length)];
    if (x === undefined) throw new Error('pick from an empty list');
    return x;
  }
  chance(p: number): boolean { return this.float() < p; }
  /** Index drawn with the given relative weights. */
  weighted(weights: readonly number[]): number {
    let total = 0;
    for (const w of weights) total += w;
    let x = this.float() * total;
    for (const [i, w] of weights.entries()) {
      x -= w;
      if (x < 0) return i;
    }
    return weights.length - 1;
  }
  shuffle<T>(xs: T[]): T[] {
    for (let i = xs.length - 1; i > 0; i--) {
      const j = Math.floor(this.float() * (i + 1));
      [xs[i], xs[j]] = [xs[j]!, xs[i]!];
    }
    return xs;
  }
  token(len: number): string {
    const alphabet = 'bcdfghjklmnpqrstvwxz2456789';
    let s = '';
    for (let i = 0; i < len; i++) s += alphabet[this.u32() % alphabet.length];
    return s;
  }
}

// ---------------------------------------------------------------- names

const FIXED_NAMESPACES = ['default', 'kube-system', 'monitoring', 'ingress-nginx', 'cert-manager', 'logging', 'istio-system', 'argocd'];
const TEAMS = ['payments', 'checkout', 'search', 'catalog', 'identity', 'billing', 'shipping', 'ads', 'ml', 'data', 'growth', 'notify', 'media', 'edge', 'risk', 'ledger', 'orders', 'inventory', 'support', 'reports', 'social'];
const ENVS = ['prod', 'staging', 'dev'];
const SVC_A = ['api', 'web', 'auth', 'cart', 'user', 'order', 'price', 'quote', 'feed', 'index', 'image', 'video', 'mail', 'sms', 'push', 'event', 'audit', 'geo', 'tax', 'rank', 'fraud', 'cache', 'queue', 'config', 'session', 'profile', 'report', 'export', 'import', 'token'];
const SVC_B = ['service', 'gateway', 'worker', 'server', 'backend', 'frontend', 'proxy', 'store', 'db', 'redis', 'kafka', 'consumer', 'scheduler', 'sync', 'indexer', 'reader', 'writer', 'adapter'];
const HEADLESS_B = ['db', 'redis', 'kafka', 'zookeeper', 'etcd', 'cassandra', 'elastic', 'mongo', 'rabbitmq', 'nats'];
/** External names a pod resolves; each goes through the ndots:5 search path first. */
const EXTERNAL = ['api.github.com', 'www.google.com', 's3.amazonaws.com', 'sts.amazonaws.com', 'registry-1.docker.io', 'login.microsoftonline.com', 'pypi.org', 'registry.npmjs.org', 'api.stripe.com', 'hooks.slack.com', 'oauth2.googleapis.com', 'storage.googleapis.com', 'sqs.us-east-1.amazonaws.com', 'api.twilio.com', 'sentry.io', 'o123.ingest.sentry.io', 'time.cloudflare.com', 'ghcr.io', 'quay.io', 'dl.k8s.io'];
const PORT_DEFS: Readonly<Record<string, readonly number[]>> = { http: [80, 8080, 8000], grpc: [9090, 50051, 8443], metrics: [9100, 9102, 9153] };
const PORT_NAMES = ['http', 'grpc', 'metrics'];

function namespaces(rng: Rng, count: number): string[] {
  const out = [...FIXED_NAMESPACES];
  const seen = new Set(out);
  while (out.length < count) {
    const n = `${rng.pick(TEAMS)}-${rng.pick(ENVS)}`;
    if (!seen.has(n)) { seen.add(n); out.push(n); }
  }
  return out.slice(0, count);
}

function ipv4(n: number): string {
  return `${(n >>> 24) & 255}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;
}

function reverseName(ip: string): string {
  return `${ip.split('.').reverse().join('.')}.in-addr.arpa.`;
}

/** Walks a 2^bits space in a scrambled but collision-free order (odd-multiplier bijection). */
class AddressAllocator {
  readonly #base: number; readonly #mask: number; readonly #mul: number; readonly #add: number;
  readonly #skip: (offset: number) => boolean;
  readonly #used = new Set<number>();
  #i = 0;
  constructor(base: number, bits: number, rng: Rng, skip: (offset: number) => boolean) {
    this.#base = base; this.#mask = (2 ** bits) - 1;
    this.#mul = (rng.u32() | 1) & this.#mask; this.#add = rng.u32() & this.#mask;
    this.#skip = skip;
  }
  reserve(offset: number): string { this.#used.add(offset); return ipv4(this.#base + offset); }
  next(): string {
    while (this.#i <= this.#mask) {
      const off = (Math.imul(this.#i, this.#mul) + this.#add) & this.#mask;
      this.#i++;
      if (this.#skip(off) || this.#used.has(off)) continue;
      this.#used.add(off);
      return ipv4(this.#base + off);
    }
    throw new Error('address range exhausted');
  }
}

// ---------------------------------------------------------------- cluster model

export function generateCluster(services: number, seed = 1): GenService[] {
  const rng = new Rng(seed * 7919 + services);
  const nsNames = namespaces(rng, 50);
  // Skewed namespace sizes: a few big namespaces, a long tail; kube-system stays small.
  const nsWeights = nsNames.map((n, i) => (n === 'kube-system' ? 0.2 : 1 / Math.pow(i + 1, 0.7)));
  const clusterIPs = new AddressAllocator(0x0a600000, 20, rng, (o) => o === 0 || o === 0xfffff);
  const podIPs = new AddressAllocator(0x0af40000, 16, rng, (o) => (o & 255) === 0 || (o & 255) === 255);
  const taken = new Map<string, Set<string>>(nsNames.map((n) => [n, new Set<string>()]));
  const out: GenService[] = [];

  const add = (svc: GenService): void => { taken.get(svc.namespace)!.add(svc.name); out.push(svc); };
  add({ namespace: 'default', name: 'kubernetes', clusterIP: clusterIPs.reserve(1), ports: [{ name: 'https', port: 443, protocol: 'tcp' }], endpoints: [] });
  if (services > 1) {
    add({ namespace: 'kube-system', name: 'kube-dns', clusterIP: clusterIPs.reserve(10), ports: [{ name: 'dns', port: 53, protocol: 'udp' }, { name: 'dns-tcp', port: 53, protocol: 'tcp' }, { name: 'metrics', port: 9153, protocol: 'tcp' }], endpoints: [] });
  }

  while (out.length < services) {
    const namespace = rng.pick(nsNames, nsWeights);
    const headless = rng.chance(0.2);
    const base = `${rng.pick(SVC_A)}-${headless ? rng.pick(HEADLESS_B) : rng.pick(SVC_B)}`;
    const names = taken.get(namespace)!;
    let name = base;
    for (let k = 2; names.has(name); k++) name = `${base}-${k}`;

    const portCount = rng.weighted([50, 35, 15]) + 1;
    const portNames = rng.shuffle([...PORT_NAMES]).slice(0, portCount).sort();
    const ports: GenPort[] = portNames.map((pn) => ({
      name: pn,
      port: rng.pick(PORT_DEFS[pn] ?? [80]),
      protocol: rng.chance(pn === 'metrics' ? 0.15 : 0.05) ? 'udp' : 'tcp',
    }));

    if (!headless) {
      add({ namespace, name, clusterIP: clusterIPs.next(), ports, endpoints: [] });
      continue;
    }
    const count = rng.weighted([30, 25, 20, 15, 10]) + 1;
    const statefulSet = rng.chance(0.4);
    const rs = rng.token(10);
    const endpoints: GenEndpoint[] = [];
    for (let k = 0; k < count; k++) {
      const podName = statefulSet ? `${name}-${k}` : `${name}-${rs}-${rng.token(5)}`;
      endpoints.push({
        ip: podIPs.next(),
        ready: k === 0 || !rng.chance(0.05),
        hostname: statefulSet ? podName : null,
        podName,
        nodeName: `node-${rng.int(1, 200)}`,
      });
    }
    add({ namespace, name, clusterIP: null, ports, endpoints });
  }
  return out;
}

// ---------------------------------------------------------------- DNS records

export function fqdnOf(svc: GenService): string { return `${svc.name}.${svc.namespace}.svc.${ZONE}`; }
/** The endpoint's own name: its hostname, else its dashed IP (as CoreDNS does). */
export function endpointLabel(ep: GenEndpoint): string { return ep.hostname ?? ep.ip.replaceAll('.', '-'); }

function soa(name: string): Rr {
  return { type: 'SOA', name, mname: `ns.dns.${ZONE}`, rname: `hostmaster.${ZONE}`, serial: 1, refresh: 7200, retry: 1800, expire: 86400, minimum: TTL };
}

export function buildRecords(cluster: readonly GenService[]): { forward: Rr[]; reverse: Rr[] } {
  const forward: Rr[] = [
    soa(ZONE),
    { type: 'NS', name: ZONE, target: `ns.dns.${ZONE}` },
    { type: 'A', name: `ns.dns.${ZONE}`, ip: '10.96.0.10' },
    { type: 'TXT', name: `dns-version.${ZONE}`, text: '1.1.0' },
  ];
  const reverse: Rr[] = [soa(REVERSE_ZONE), { type: 'NS', name: REVERSE_ZONE, target: `ns.dns.${ZONE}` }];
  for (const svc of cluster) {
    const fqdn = fqdnOf(svc);
    if (svc.clusterIP !== null) {
      forward.push({ type: 'A', name: fqdn, ip: svc.clusterIP });
      for (const p of svc.ports) {
        forward.push({ type: 'SRV', name: `_${p.name}._${p.protocol}.${fqdn}`, priority: 0, weight: 100, port: p.port, target: fqdn });
      }
      reverse.push({ type: 'PTR', name: reverseName(svc.clusterIP), target: fqdn });
      continue;
    }
    const ready = svc.endpoints.filter((e) => e.ready);
    const weight = Math.floor(100 / Math.max(1, ready.length));
    for (const ep of ready) {
      const host = `${endpointLabel(ep)}.${fqdn}`;
      forward.push({ type: 'A', name: fqdn, ip: ep.ip });
      forward.push({ type: 'A', name: host, ip: ep.ip });
      reverse.push({ type: 'PTR', name: reverseName(ep.ip), target: host });
    }
    for (const p of svc.ports) {
      for (const ep of ready) {
        forward.push({ type: 'SRV', name: `_${p.name}._${p.protocol}.${fqdn}`, priority: 0, weight, port: p.port, target: `${endpointLabel(ep)}.${fqdn}` });
      }
    }
  }
  return { forward, reverse };
}

/** Zone-file presentation of a record's RDATA. */
export function rdataText(rr: Rr): string {
  switch (rr.type) {
    case 'A': return rr.ip;
    case 'SRV': return `${rr.priority} ${rr.weight} ${rr.port} ${rr.target}`;
    case 'PTR': return rr.target;
    case 'NS': return rr.target;
    case 'TXT': return `"${rr.text}"`;
    case 'SOA': return `${rr.mname} ${rr.rname} ${rr.serial} ${rr.refresh} ${rr.retry} ${rr.expire} ${rr.minimum}`;
  }
}

export function zoneFileText(origin: string, records: readonly Rr[]): string {
  const lines = [`$ORIGIN ${origin}`, `$TTL ${TTL}`];
  for (const rr of records) lines.push(`${rr.name} ${TTL} IN ${rr.type} ${rdataText(rr)}`);
  return lines.join('\n') + '\n';
}

// ---------------------------------------------------------------- manifests

export function serviceManifest(svc: GenService): unknown {
  const headless = svc.clusterIP === null;
  const ip = svc.clusterIP ?? 'None';
  return {
    apiVersion: 'v1', kind: 'Service',
    metadata: { name: svc.name, namespace: svc.namespace, labels: { app: svc.name } },
    spec: {
      type: 'ClusterIP', clusterIP: ip, clusterIPs: [ip],
      ipFamilies: ['IPv4'], ipFamilyPolicy: 'SingleStack',
      ports: svc.ports.map((p) => ({ name: p.name, port: p.port, protocol: p.protocol.toUpperCase(), targetPort: headless ? p.port : p.port + 1000 })),
      selector: { app: svc.name },
    },
  };
}

export function sliceManifest(svc: GenService, suffix: string): unknown {
  return {
    apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice',
    metadata: {
      name: `${svc.name}-${suffix}`, namespace: svc.namespace,
      labels: { 'kubernetes.io/service-name': svc.name, 'endpointslice.kubernetes.io/managed-by': 'endpointslice-controller.k8s.io' },
    },
    addressType: 'IPv4',
    endpoints: svc.endpoints.map((ep) => ({
      addresses: [ep.ip],
      conditions: { ready: ep.ready, serving: ep.ready, terminating: false },
      ...(ep.hostname !== null ? { hostname: ep.hostname } : {}),
      nodeName: ep.nodeName,
      targetRef: { kind: 'Pod', name: ep.podName, namespace: svc.namespace },
    })),
    ports: svc.ports.map((p) => ({ name: p.name, port: p.port, protocol: p.protocol.toUpperCase() })),
  };
}

export function writeManifests(cluster: readonly GenService[], dir: string, seed: number): void {
  const byNs = new Map<string, GenService[]>();
  for (const s of cluster) {
    let l = byNs.get(s.namespace);
    if (!l) { l = []; byNs.set(s.namespace, l); }
    l.push(s);
  }
  const rng = new Rng(seed ^ 0x5eed);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  for (const [ns, list] of [...byNs].sort((a, b) => a[0].localeCompare(b[0]))) {
    const docs: string[] = [stringify({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns, labels: { 'kubernetes.io/metadata.name': ns } } })];
    for (const s of list) docs.push(stringify(serviceManifest(s)));
    for (const s of list) if (s.clusterIP === null) docs.push(stringify(sliceManifest(s, rng.token(5))));
    writeFileSync(path.join(dir, `${ns}.yaml`), docs.join('---\n'));
  }
}

// ---------------------------------------------------------------- query mixes

type Gen = () => ExpectedQuery;
type Component = 'hit-a' | 'nx-search' | 'aaaa' | 'srv' | 'ptr';

/**
 * Distinct names per mix at 10,000 services (scaled with the cluster size,
 * bounded by what exists): the working set a cluster's resolvers really
 * touch, so a 10k-entry answer cache does not hide the plugin path.
 */
export const DISTINCT_AT_10K: Readonly<Record<Mix, number>> = {
  'hit-a': 10_000, 'nxdomain-search': 52_000, srv: 20_000, ptr: 12_000, blend: 36_000,
};

/**
 * The realistic blend: line share and distinct names (at 10k services) of
 * each part. 85% A (hits plus the search-path misses glibc/musl send before
 * the hit), 10% AAAA (half NODATA of IPv4-only services, half search-path
 * misses), 5% SRV. Distinct names add up to DISTINCT_AT_10K.blend.
 */
export const BLEND: readonly { readonly part: Component; readonly pct: number; readonly distinct: number }[] = [
  { part: 'hit-a', pct: 40, distinct: 8_000 },
  { part: 'nx-search', pct: 45, distinct: 20_000 },
  { part: 'aaaa', pct: 10, distinct: 5_000 },
  { part: 'srv', pct: 5, distinct: 3_000 },
];

function queryGenerators(cluster: readonly GenService[], records: { forward: Rr[]; reverse: Rr[] }, rng: Rng): Record<Component, Gen> {
  const existing = new Set<string>(); // owner names and their ancestors (empty non-terminals)
  for (const rr of [...records.forward, ...records.reverse]) {
    let n = rr.name;
    while (n.length > 0 && !existing.has(n)) { existing.add(n); n = n.slice(n.indexOf('.') + 1); }
  }
  const withAnswer = cluster.filter((s) => s.clusterIP !== null || s.endpoints.some((e) => e.ready));
  const srvOwners = [...new Set(records.forward.filter((r) => r.type === 'SRV').map((r) => r.name))];
  const ptrOwners = [...new Set(records.reverse.filter((r) => r.type === 'PTR').map((r) => r.name))];
  const nsList = [...new Set(cluster.map((s) => s.namespace))];
  const strip = (n: string): string => n.replace(/\.$/, '');
  const nx = (name: string, qtype: string): ExpectedQuery | null =>
    existing.has(`${name}.`) ? null : { name, qtype, rcode: 'NXDOMAIN', hasAnswer: false };

  const nxSearch = (qtype: string): ExpectedQuery => {
    for (;;) {
      const podNs = rng.pick(nsList);
      const svc = rng.pick(cluster);
      let q: ExpectedQuery | null;
      switch (rng.weighted([50, 20, 15, 15])) {
        case 0: { // external name through the search path
          const ext = rng.pick(EXTERNAL);
          q = nx(rng.pick([`${ext}.${podNs}.svc.cluster.local`, `${ext}.svc.cluster.local`, `${ext}.cluster.local`]), qtype);
          break;
        }
        case 1: // "svc.otherns" from a pod in podNs: first search suffix
          q = nx(`${svc.name}.${svc.namespace}.${podNs}.svc.cluster.local`, qtype);
          break;
        case 2: // short name looked up from the wrong namespace
          q = svc.namespace === podNs ? null : nx(`${svc.name}.${podNs}.svc.cluster.local`, qtype);
          break;
        default: { // "svc.ns.svc.cluster.local" without the trailing dot (4 dots < ndots:5)
          const fq = `${svc.name}.${svc.namespace}.svc.cluster.local`;
          q = nx(rng.pick([`${fq}.${podNs}.svc.cluster.local`, `${fq}.svc.cluster.local`, `${fq}.cluster.local`]), qtype);
        }
      }
      if (q) return q;
    }
  };
  return {
    'hit-a': () => ({ name: strip(fqdnOf(rng.pick(withAnswer))), qtype: 'A', rcode: 'NOERROR', hasAnswer: true }),
    'nx-search': () => nxSearch(rng.chance(0.5) ? 'A' : 'AAAA'),
    aaaa: () => (rng.chance(0.5)
      ? { name: strip(fqdnOf(rng.pick(withAnswer))), qtype: 'AAAA', rcode: 'NOERROR', hasAnswer: false }
      : nxSearch('AAAA')),
    srv: () => ({ name: strip(rng.pick(srvOwners)), qtype: 'SRV', rcode: 'NOERROR', hasAnswer: true }),
    ptr: () => ({ name: strip(rng.pick(ptrOwners)), qtype: 'PTR', rcode: 'NOERROR', hasAnswer: true }),
  };
}

/**
 * `distinct` different queries from gen (fewer when gen runs dry: a small
 * cluster has fewer names than the target).
 */
function pool(gen: Gen, distinct: number): ExpectedQuery[] {
  const seen = new Map<string, ExpectedQuery>();
  for (let tries = 0; seen.size < distinct && tries < distinct * 20; tries++) {
    const q = gen();
    seen.set(`${q.name} ${q.qtype}`, q);
  }
  return [...seen.values()];
}

/** `lines` queries over the pool: every pool entry at least once, the rest uniform draws. */
function spread(p: readonly ExpectedQuery[], lines: number, rng: Rng): ExpectedQuery[] {
  const out = p.slice(0, lines);
  while (out.length < lines) out.push(rng.pick(p));
  return out;
}

function writeMix(mix: Mix, gens: Record<Component, Gen>, rng: Rng, lines: number, scale: number, file: string): MixFile {
  const scaled = (n: number): number => Math.max(1, Math.min(lines, Math.round(n * scale)));
  let queries: ExpectedQuery[];
  if (mix === 'blend') {
    queries = [];
    for (const b of BLEND) queries.push(...spread(pool(gens[b.part], scaled(b.distinct)), Math.round((lines * b.pct) / 100), rng));
  } else {
    const part: Component = mix === 'nxdomain-search' ? 'nx-search' : mix;
    queries = spread(pool(gens[part], scaled(DISTINCT_AT_10K[mix])), lines, rng);
  }
  rng.shuffle(queries);
  const counts: Record<string, number> = {};
  const sample: ExpectedQuery[] = [];
  const distinct = new Set<string>();
  const every = Math.max(1, Math.floor(queries.length / 40));
  const out: string[] = [];
  queries.forEach((q, i) => {
    const line = `${q.name} ${q.qtype}`;
    out.push(line);
    distinct.add(line);
    counts[q.rcode] = (counts[q.rcode] ?? 0) + 1;
    if (i % every === 0) sample.push(q);
  });
  writeFileSync(file, out.join('\n') + '\n');
  const expectedRcodes: Record<string, number> = {};
  for (const [k, v] of Object.entries(counts)) expectedRcodes[k] = (100 * v) / queries.length;
  return { mix, path: file, lines: queries.length, distinct: distinct.size, expectedRcodes, sample };
}

// ---------------------------------------------------------------- entry point

export interface GenerateOptions {
  readonly services: number;
  readonly seed?: number;
  readonly outDir: string;
  /** Lines per query file; default QUERY_LINES. */
  readonly queryLines?: number;
}

export function generate(opts: GenerateOptions): ZoneData {
  const seed = opts.seed ?? 1;
  const cluster = generateCluster(opts.services, seed);
  const records = buildRecords(cluster);
  const dir = path.resolve(opts.outDir);
  const manifestDir = path.join(dir, 'manifests');
  const zonesDir = path.join(dir, 'zones');
  const queriesDir = path.join(dir, 'queries');
  mkdirSync(zonesDir, { recursive: true });
  mkdirSync(queriesDir, { recursive: true });

  const stamp = path.join(dir, 'manifests.stamp');
  const key = JSON.stringify({ v: GENERATOR_VERSION, services: opts.services, seed });
  if (!existsSync(stamp) || readFileSync(stamp, 'utf8') !== key || !existsSync(manifestDir)) {
    writeManifests(cluster, manifestDir, seed);
    writeFileSync(stamp, key);
  }

  const zones: ZoneFile[] = [
    { origin: ZONE, path: path.join(zonesDir, 'cluster.local.zone'), records: records.forward },
    { origin: REVERSE_ZONE, path: path.join(zonesDir, '10.in-addr.arpa.zone'), records: records.reverse },
  ];
  for (const z of zones) writeFileSync(z.path, zoneFileText(z.origin, z.records));

  const lines = opts.queryLines ?? QUERY_LINES;
  const rng = new Rng(seed * 31 + opts.services);
  const gens = queryGenerators(cluster, records, rng);
  const mixes = {} as Record<Mix, MixFile>;
  const scale = opts.services / 10_000;
  for (const mix of MIXES) mixes[mix] = writeMix(mix, gens, rng, lines, scale, path.join(queriesDir, `${mix}.txt`));

  const headless = cluster.filter((s) => s.clusterIP === null);
  return {
    services: opts.services, seed, dir, manifestDir, zones, mixes, cluster,
    stats: {
      namespaces: new Set(cluster.map((s) => s.namespace)).size,
      clusterIP: cluster.length - headless.length,
      headless: headless.length,
      endpoints: headless.reduce((n, s) => n + s.endpoints.length, 0),
      records: records.forward.length + records.reverse.length,
    },
  };
}

if (import.meta.main) {
  const args = process.argv.slice(2);
  const arg = (name: string): string | undefined => {
    const i = args.indexOf(name);
    return i >= 0 ? args[i + 1] : undefined;
  };
  const services = Number(arg('--services') ?? '1000');
  const seed = Number(arg('--seed') ?? '1');
  const outDir = arg('--out') ?? path.join(import.meta.dirname, 'work', `cluster-${services}`);
  const t0 = performance.now();
  const data = generate({ services, seed, outDir });
  console.log(`generated ${services} services in ${Math.round(performance.now() - t0)} ms into ${data.dir}`);
  console.log(JSON.stringify(data.stats));
}
