/**
 * @module bench/micro
 * Micro-benchmark of the hot path, step by step, in process: parseQuery,
 * routeFor, the chain (whoami, which builds its reply per query, and a
 * handler returning a pre-packed reply), writeReply, and the whole
 * serveQuery with a responder that only counts. Each case is calibrated to
 * run for about TARGET_MS after a warm-up, three times; reports the fastest
 * round's ns/op and ops/s.
 *
 * Then the bench's real chain (micro-chain.ts: kubernetes + cache +
 * prometheus + errors + loadbalance over a generated cluster) per mix, for
 * cache hits and for cache misses.
 *
 *   npm run bench:micro            # 3 x ~0.3 s per case, chain over 10k services
 *   node bench/micro.ts --quick    # fewer iterations, 1k services, for a smoke run
 *   node bench/micro.ts --services 1000 --only chain
 *   node bench/micro.ts --only malformed   # the cost of rejecting bad packets (FORMERR)
 *
 * For instruction counts (repeatable on a busy machine, unlike time), run a
 * case a fixed number of times under callgrind, twice with different counts;
 * the difference of the totals over the difference of the counts is the
 * instructions per operation (start-up and JIT warm-up cancel out):
 *
 *   valgrind --tool=callgrind --callgrind-out-file=/dev/null node bench/micro.ts --only malformed --case 'self-pointing' --fixed 20000
 *
 * Where the bytes come from, by allocating function (V8's sampling heap
 * profiler over the --steady chain): node bench/alloc-sites.ts --mix srv
 *
 * Bytes allocated per query (heap growth over a run of queries between two
 * full collections, no collection in between; rounds where one happened
 * anyway are thrown away), for the chain's mixes on a cache hit, a cache
 * miss (the kubernetes index answers) and a cold name (cache and index
 * both emptied first, so the answer is built):
 *
 *   node bench/micro.ts --alloc [--services 1000]
 *
 * Young-generation collections per query: 200,000 queries of the blend mix
 * (cache misses, the garbage-heavy case) with the scavenges and their pauses
 * counted (PerformanceObserver 'gc'); run it with node flags to size the
 * young generation and compare:
 *
 *   node bench/micro.ts --gc --services 1000
 *   node --max-semi-space-size=64 bench/micro.ts --gc --services 1000
 *   node bench/micro.ts --gc --no-cache --services 1000   # the chain without the cache plugin
 *
 * The chain as dnsperf drives it, query files in order, caches never emptied
 * (with the bench's 100,000-line files the working set exceeds what a 10k
 * cache holds): bytes and ns per query, cache hit ratio, index names (and their estimated bytes, the byte bound's measure):
 *
 *   node bench/micro.ts --steady [--services 10000] [--lines 100000] [--mix srv,ptr] [--passes 3]
 *
 * (--passes: timed passes per mix, the fastest reported. Under callgrind the totals of runs with
 * 3, 13 and 23 passes were not linear in the count, JIT warm-up dominating: no instruction
 * counts per query from this mode.)
 */
import { App } from '../src/app/app.ts';
import type { BlockConfig, Route } from '../src/config/build.ts';
import { Type } from '../src/dns/constants.ts';
import { encodeQuery } from '../src/dns/message.ts';
import { Reply } from '../src/dns/reply.ts';
import { DnsRequest, newParsedQuestion, parseQuery, type ParsedQuestion } from '../src/dns/request.ts';
import { ReplyScratch, writeReply } from '../src/dns/response.ts';
import { rrs } from '../src/dns/rr.ts';
import { memoryLogger } from '../src/log/logger.ts';
import type { Handler } from '../src/plugin/plugin.ts';
import { routeFor, serveQuery, ServeStats, type Responder } from '../src/server/serve.ts';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { KubernetesHandler } from '../src/plugins/kubernetes/handler.ts';
import { missingMix, servingMix, startChain, type ChainFixture } from './micro-chain.ts';
import type { Mix } from './cluster-gen.ts';

const quick = process.argv.includes('--quick');
const argAfter = (name: string): string | undefined => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
};
const services = Number(argAfter('--services') ?? (quick ? 1000 : 10_000));
const only = argAfter('--only');
const TARGET_MS = quick ? 50 : 300;
/** --fixed N: each selected case runs N times to warm up and N times measured, once (for callgrind). */
const fixed = argAfter('--fixed') === undefined ? 0 : Number(argAfter('--fixed'));
/** --case TEXT: only the cases whose name contains TEXT. */
const caseFilter = argAfter('--case');

interface Result { name: string; nsPerOp: number; opsPerSec: number; iterations: number }

const ROUNDS = 3;

/** The fastest of ROUNDS runs: the machine may be busy with other work, and noise only ever adds time. */
function bench(name: string, fn: () => unknown): Result {
  if (caseFilter !== undefined && !name.includes(caseFilter)) return { name, nsPerOp: NaN, opsPerSec: NaN, iterations: 0 };
  if (fixed > 0) return fixedRound(name, fn, fixed);
  let best: Result | null = null;
  for (let r = 0; r < ROUNDS; r++) {
    const result = round(name, fn);
    if (best === null || result.nsPerOp < best.nsPerOp) best = result;
  }
  return best!;
}

function fixedRound(name: string, fn: () => unknown, n: number): Result {
  let sink: unknown;
  for (let i = 0; i < n; i++) sink = fn();
  const t0 = performance.now();
  for (let i = 0; i < n; i++) sink = fn();
  const nsPerOp = ((performance.now() - t0) * 1e6) / n;
  if (sink === Symbol.for('never')) console.log(sink);
  return { name, nsPerOp, opsPerSec: 1e9 / nsPerOp, iterations: n };
}

/** Runs `fn` in batches until about TARGET_MS have passed; `sink` keeps results alive. */
function round(name: string, fn: () => unknown): Result {
  let sink: unknown;
  for (let i = 0; i < 10_000; i++) sink = fn(); // warm-up: let the JIT settle
  let n = 1000;
  let elapsed = 0;
  for (;;) {
    const t0 = performance.now();
    for (let i = 0; i < n; i++) sink = fn();
    elapsed = performance.now() - t0;
    if (elapsed >= TARGET_MS || n >= 1 << 28) break;
    n = Math.min(1 << 28, Math.ceil(n * Math.max(2, (TARGET_MS * 1.1) / Math.max(elapsed, 0.01))));
  }
  if (sink === Symbol.for('never')) console.log(sink);
  const nsPerOp = (elapsed * 1e6) / n;
  return { name, nsPerOp, opsPerSec: 1e9 / nsPerOp, iterations: n };
}

// A configuration with a few zones, so routing has something to choose from.
const COREFILE = [
  'cluster.local:53 in-addr.arpa:53 ip6.arpa:53 {\n whoami\n}',
  'example.org:53 {\n whoami\n}',
  '.:53 {\n whoami\n}',
].join('\n');
const app = new App({ corefilePath: 'Corefile', corefileText: COREFILE, logger: memoryLogger(), dnsPort: 53 });
const gen = app.build(app.load());
const routes: readonly Route[] = gen.listeners[0]!.routes;

const QNAME = 'nginx.default.svc.cluster.local.';
const query = encodeQuery(QNAME, Type.A, { id: 4242, udpSize: 1232 });
const parsed = parseQuery(query) as ParsedQuestion;
const request = new DnsRequest(query, parsed, 'udp', '10.0.0.7', 40000, '10.0.0.10', 53, 0);
const route = routeFor(routes, request)!;
request.server = route.server;
request.zone = route.zone;

// The kind of reply the kubernetes index keeps: built and packed once, served many times.
const prepacked = new Reply({ authoritative: true, answer: [rrs.a(QNAME, 5, '10.96.0.42')], plugin: 'bench' }).prepack(QNAME);
// Malformed packets a client (or an attacker) can send: each must cost what a good query costs, not an exception.
/** The question name is a compression pointer to itself (a loop). */
const selfPointer = Buffer.from(query);
selfPointer[12] = 0xc0; selfPointer[13] = 12;
/** A label runs past the end of the message. */
const shortLabel = Buffer.from(query.subarray(0, 20));
/** The additional section's OPT record is cut in the middle. */
const shortOpt = Buffer.from(query.subarray(0, query.length - 4));
/** The header claims two answer records; the packet ends after one. */
const missingRecord = Buffer.from(query);
missingRecord[7] = 2;

const prepackedHandler: Handler = { serveDNS: () => prepacked };
const prepackedBlock: BlockConfig = { ...route.block, head: prepackedHandler };
const prepackedRoutes: Route[] = routes.map((r) => r === route ? { ...r, block: prepackedBlock } : r);

const whoamiHead = route.block.head;
const whoamiReply = whoamiHead.serveDNS(request) as Reply;

let sent = 0;
// Replies into reused memory, as the UDP listeners write them (this send keeps nothing).
const responder: Responder = { send: () => { sent++; }, scratch: new ReplyScratch() };
const stats = new ServeStats();

const malformed: Result[] = only !== undefined && only !== 'malformed' ? [] : [
  bench('parseQuery: good query (for scale)', () => parseQuery(query)),
  bench('parseQuery: self-pointing name', () => parseQuery(selfPointer)),
  bench('parseQuery: label past the end', () => parseQuery(shortLabel)),
  bench('parseQuery: truncated OPT', () => parseQuery(shortOpt)),
  bench('parseQuery: record missing', () => parseQuery(missingRecord)),
  bench('serveQuery: self-pointing name -> FORMERR', () => serveQuery(selfPointer, 'udp', '10.0.0.7', 40000, '10.0.0.10', 53, routes, responder, stats)),
  bench('serveQuery: truncated OPT -> FORMERR', () => serveQuery(shortOpt, 'udp', '10.0.0.7', 40000, '10.0.0.10', 53, routes, responder, stats)),
];

const results: Result[] = only === 'chain' || only === 'malformed' ? malformed : [...malformed,
  bench('parseQuery (A with EDNS)', () => parseQuery(query)),
  bench(`routeFor (${routes.length} zones)`, () => routeFor(routes, request)),
  bench('chain: whoami (builds its reply)', () => whoamiHead.serveDNS(request)),
  bench('chain: pre-packed reply', () => prepackedHandler.serveDNS(request)),
  bench('writeReply: whoami reply (packs it)', () => writeReply(request, whoamiReply, route.block)),
  bench('writeReply: pre-packed reply', () => writeReply(request, prepacked, route.block)),
  bench('serveQuery: whoami, fake responder', () => serveQuery(query, 'udp', '10.0.0.7', 40000, '10.0.0.10', 53, routes, responder, stats)),
  bench('serveQuery: pre-packed, fake responder', () => serveQuery(query, 'udp', '10.0.0.7', 40000, '10.0.0.10', 53, prepackedRoutes, responder, stats)),
];

if (only === undefined && caseFilter === undefined && (sent === 0 || stats.panics !== 0)) throw new Error('the responder saw no replies, or a handler failed');

/** A full collection on demand, without starting node with --expose-gc. */
function collector(): () => void {
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
}

/**
 * Heap bytes allocated per call of `fn`: heapUsed before and after `n`
 * calls, from a full collection; the smallest of five rounds that saw no
 * collection (a scavenge in the middle makes heapUsed drop: such a round is
 * skipped). NaN when every round was disturbed.
 */
function bytesPerOp(fn: () => unknown, gc: () => void, n = 4000): number {
  for (let i = 0; i < 20_000; i++) fn();
  let best = Infinity;
  for (let round = 0; round < 5; round++) {
    gc();
    const before = process.memoryUsage().heapUsed;
    for (let i = 0; i < n; i++) fn();
    const grew = process.memoryUsage().heapUsed - before;
    if (grew >= 0 && grew / n < best) best = grew / n;
  }
  return best === Infinity ? NaN : best;
}

if (process.argv.includes('--alloc')) {
  const gc = collector();
  const reusedQuestion = newParsedQuestion();
  const rows: [string, number][] = [
    ['serveQuery: whoami (builds its reply)', bytesPerOp(() => serveQuery(query, 'udp', '10.0.0.7', 40000, '10.0.0.10', 53, routes, responder, stats), gc)],
    ['serveQuery: pre-packed reply', bytesPerOp(() => serveQuery(query, 'udp', '10.0.0.7', 40000, '10.0.0.10', 53, prepackedRoutes, responder, stats), gc)],
    ['serveQuery: malformed (FORMERR)', bytesPerOp(() => serveQuery(selfPointer, 'udp', '10.0.0.7', 40000, '10.0.0.10', 53, routes, responder, stats), gc)],
    // Where the bytes of a pre-packed answer go: the parsed name, the request view, the reply buffer.
    ['  of which parseQuery (into a reused question)', bytesPerOp(() => parseQuery(query, reusedQuestion), gc)],
    ['  of which new DnsRequest', bytesPerOp(() => new DnsRequest(query, parsed, 'udp', '10.0.0.7', 40000, '10.0.0.10', 53, 0), gc)],
    ['  of which writeReply (pre-packed), new buffer (TCP)', bytesPerOp(() => writeReply(request, prepacked, route.block), gc)],
    ['  of which writeReply (pre-packed), reused memory (UDP)', bytesPerOp(() => writeReply(request, prepacked, route.block, responder.scratch ?? null), gc)],
  ];
  const chain = await startChain(services);
  const k8s = chain.routes[0]!.block.handlers.find((h) => h.name === 'kubernetes') as KubernetesHandler;
  const withoutCache = withoutCachePlugin(chain);
  for (const mix of ['hit-a', 'nxdomain-search', 'srv', 'ptr', 'blend'] as const) {
    rows.push([`chain ${services / 1000}k ${mix}: cache hit`, bytesPerOp(servingMix(chain, mix), gc)]);
    rows.push([`chain ${services / 1000}k ${mix}: no cache plugin, index answers`, bytesPerOp(servingMix(withoutCache, mix), gc)]);
    rows.push([`chain ${services / 1000}k ${mix}: cache miss, index answers`, bytesPerOp(missingMix(chain, mix), gc)]);
    rows.push([`chain ${services / 1000}k ${mix}: cold name (built)`, bytesPerOp(coldMix(chain, mix, k8s), gc)]);
  }
  await chain.app.stop(0);
  const w = Math.max(...rows.map(([name]) => name.length));
  console.log(`clusterdns bytes allocated per query, node ${process.version} (heap growth between full collections)`);
  for (const [name, bytes] of rows) console.log(`${name.padEnd(w)}  ${Number.isNaN(bytes) ? '   (a GC each round)' : bytes.toFixed(0).padStart(8)} B/op`);
  process.exit(0);
}

/** The same chain with the cache plugin taken out (its predecessor linked to its successor): what a query costs if cache stepped aside. */
function withoutCachePlugin(f: ChainFixture): ChainFixture {
  const route = f.routes[0]!;
  const handlers = route.block.handlers;
  const at = handlers.findIndex((h) => h.name === 'cache');
  // A copy of the chain object graph would need new plugins; instead a head that skips cache by calling what it calls.
  const cache = handlers[at]!;
  const head = at === 0 ? cache.next : route.block.head;
  const skip = { serveDNS: (req: DnsRequest) => cache.next.serveDNS(req) };
  const block: BlockConfig = { ...route.block, head: at === 0 ? head : chainSkipping(route.block.handlers, at, skip) };
  return { ...f, routes: f.routes.map((r) => (r === route ? { ...r, block } : r)) };
}

/** A head for `handlers` that behaves as the chain with handlers[at] replaced by `skip` (the plugins before it are re-linked through wrappers). */
function chainSkipping(handlers: BlockConfig['handlers'], at: number, skip: Handler): Handler {
  let next: Handler = skip;
  for (let i = at - 1; i >= 0; i--) {
    const h = handlers[i]!;
    const after = next;
    next = { serveDNS: (req: DnsRequest) => { const saved = h.next; h.next = after; try { return h.serveDNS(req); } finally { h.next = saved; } } };
  }
  return next;
}

if (process.argv.includes('--gc')) {
  const { PerformanceObserver, constants } = await import('node:perf_hooks');
  const { getHeapSpaceStatistics } = await import('node:v8');
  const chain = await startChain(services);
  // --no-cache: the same queries without the cache plugin (the index answers each).
  const noCache = process.argv.includes('--no-cache');
  const serve = noCache ? servingMix(withoutCachePlugin(chain), 'blend') : missingMix(chain, 'blend');
  for (let i = 0; i < 20_000; i++) serve();
  const pauses: { kind: number; ms: number }[] = [];
  const obs = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) pauses.push({ kind: (e as unknown as { detail: { kind: number } }).detail.kind, ms: e.duration });
  });
  obs.observe({ entryTypes: ['gc'] });
  const N = 200_000;
  const t0 = performance.now();
  for (let i = 0; i < N; i++) serve();
  const ms = performance.now() - t0;
  await new Promise((r) => setTimeout(r, 50)); // gc entries are delivered after the loop
  obs.disconnect();
  const young = pauses.filter((p) => p.kind === constants.NODE_PERFORMANCE_GC_MINOR);
  const old = pauses.filter((p) => p.kind !== constants.NODE_PERFORMANCE_GC_MINOR);
  const semi = getHeapSpaceStatistics().find((sp) => sp.space_name === 'new_space');
  const stat = (xs: { ms: number }[]): string => xs.length === 0 ? '0' :
    `${xs.length} (total ${xs.reduce((a, p) => a + p.ms, 0).toFixed(1)} ms, max ${Math.max(...xs.map((p) => p.ms)).toFixed(2)} ms)`;
  console.log(`blend, ${noCache ? 'no cache plugin' : 'cache misses'}, ${N} queries in ${ms.toFixed(0)} ms; new space ${((semi?.space_size ?? 0) / 1048576).toFixed(1)} MiB`);
  console.log(`  young-generation collections: ${stat(young)}; one per ${young.length === 0 ? '-' : Math.round(N / young.length)} queries`);
  console.log(`  other collections: ${stat(old)}`);
  await chain.app.stop(0);
  process.exit(0);
}

/**
 * --steady [--lines N] [--mix M]: the chain as it runs under dnsperf, each mix's
 * query file served in order with nothing emptied (with the bench's 100,000-line
 * files the caches hold only part of the working set, as in the bench): after
 * one warm pass, bytes allocated per query, ns per query (fastest of 3 passes;
 * a loaded-machine figure), CPU ns per query (the process's CPU time over a
 * pass, fastest of the 3; less inflated by a shared core than wall time),
 * the cache plugin's hit ratio over a pass and the kubernetes index's cached
 * names.
 */
if (process.argv.includes('--steady')) {
  const gc = collector();
  const lines = Number(argAfter('--lines') ?? 100_000);
  // Timed passes per mix (the fastest is reported): more of them find a quieter moment on a loaded machine.
  const passes = Number(argAfter('--passes') ?? 3);
  const chain = await startChain(services, true, lines);
  const k8s = chain.routes[0]!.block.handlers.find((h) => h.name === 'kubernetes') as KubernetesHandler;
  const mixes = (argAfter('--mix')?.split(',') ?? ['hit-a', 'nxdomain-search', 'srv', 'ptr', 'blend']) as Mix[];
  const tally = (): { hits: number; misses: number } => {
    let hits = 0, misses = 0;
    for (const c of chain.cache.counters()) { hits += c.hitsSuccess + c.hitsDenial; misses += c.misses; }
    return { hits, misses };
  };
  console.log(`clusterdns chain in file order, ${services} services, ${lines}-line query files, node ${process.version}`);
  for (const mix of mixes) {
    const serve = servingMix(chain, mix);
    const n = chain.queries[mix].length;
    for (let i = 0; i < n; i++) serve();
    const t = tally();
    for (let i = 0; i < n; i++) serve();
    const after = tally();
    const handled = after.hits + after.misses - t.hits - t.misses;
    const ratio = handled === 0 ? 'no queries' : `${((100 * (after.hits - t.hits)) / handled).toFixed(1)}% of ${handled}`;
    const bytes = bytesPerOp(serve, gc);
    let best = Infinity, bestCpu = Infinity;
    for (let r = 0; r < passes; r++) {
      const c0 = process.cpuUsage();
      const t0 = performance.now();
      for (let i = 0; i < n; i++) serve();
      best = Math.min(best, ((performance.now() - t0) * 1e6) / n);
      const c = process.cpuUsage(c0);
      bestCpu = Math.min(bestCpu, ((c.user + c.system) * 1e3) / n);
    }
    // CPU ns/q: the process's CPU time (all its threads), which time on a shared core does not inflate as much as wall time.
    console.log(`${mix.padEnd(16)} ${bytes.toFixed(0).padStart(6)} B/q  ${best.toFixed(0).padStart(6)} ns/q  ${bestCpu.toFixed(0).padStart(6)} CPU ns/q  cache hits ${ratio}  index names ${k8s.index.stats.cachedNames} (~${(k8s.index.stats.cachedBytes / 1048576).toFixed(1)} MiB est.)`);
  }
  if (chain.stats.panics !== 0) throw new Error('a handler failed');
  await chain.app.stop(0);
  process.exit(0);
}

/** Like missingMix, with the kubernetes index's answers forgotten too: each answer is built from the store. */
function coldMix(f: ChainFixture, mix: Mix, k8s: KubernetesHandler): () => unknown {
  const serve = missingMix(f, mix);
  return () => {
    k8s.index.forgetAnswers();
    return serve();
  };
}

if (only === undefined || only === 'chain') {
  const chain = await startChain(services);
  const withoutCache = withoutCachePlugin(chain);
  for (const mix of ['hit-a', 'nxdomain-search', 'blend'] as const) {
    results.push(bench(`chain ${services / 1000}k ${mix}: cache hits`, servingMix(chain, mix)));
    results.push(bench(`chain ${services / 1000}k ${mix}: cache misses`, missingMix(chain, mix)));
    results.push(bench(`chain ${services / 1000}k ${mix}: no cache plugin`, servingMix(withoutCache, mix)));
  }
  if ((caseFilter === undefined && chain.responder.replies === 0) || chain.stats.panics !== 0) throw new Error('the chain sent no replies, or a handler failed');
  await chain.app.stop(0);
}

const width = Math.max(...results.map((r) => r.name.length));
console.log(`clusterdns hot path, node ${process.version}, best of ${ROUNDS} rounds of ~${TARGET_MS} ms per case`);
console.log(`${'case'.padEnd(width)}  ${'ns/op'.padStart(9)}  ${'ops/s'.padStart(12)}`);
for (const r of results) {
  if (r.iterations === 0) continue;
  console.log(`${r.name.padEnd(width)}  ${r.nsPerOp.toFixed(1).padStart(9)}  ${Math.round(r.opsPerSec).toLocaleString('en-US').padStart(12)}`);
}
