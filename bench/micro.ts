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
 */
import { App } from '../src/app/app.ts';
import type { BlockConfig, Route } from '../src/config/build.ts';
import { Type } from '../src/dns/constants.ts';
import { encodeQuery } from '../src/dns/message.ts';
import { Reply } from '../src/dns/reply.ts';
import { DnsRequest, parseQuery, type ParsedQuestion } from '../src/dns/request.ts';
import { writeReply } from '../src/dns/response.ts';
import { rrs } from '../src/dns/rr.ts';
import { memoryLogger } from '../src/log/logger.ts';
import type { Handler } from '../src/plugin/plugin.ts';
import { routeFor, serveQuery, ServeStats, type Responder } from '../src/server/serve.ts';
import { missingMix, servingMix, startChain } from './micro-chain.ts';

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
const route = routeFor(routes, QNAME)!;
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
const responder: Responder = { send: () => { sent++; } };
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
  bench(`routeFor (${routes.length} zones)`, () => routeFor(routes, QNAME)),
  bench('chain: whoami (builds its reply)', () => whoamiHead.serveDNS(request)),
  bench('chain: pre-packed reply', () => prepackedHandler.serveDNS(request)),
  bench('writeReply: whoami reply (packs it)', () => writeReply(request, whoamiReply, route.block)),
  bench('writeReply: pre-packed reply', () => writeReply(request, prepacked, route.block)),
  bench('serveQuery: whoami, fake responder', () => serveQuery(query, 'udp', '10.0.0.7', 40000, '10.0.0.10', 53, routes, responder, stats)),
  bench('serveQuery: pre-packed, fake responder', () => serveQuery(query, 'udp', '10.0.0.7', 40000, '10.0.0.10', 53, prepackedRoutes, responder, stats)),
];

if (only === undefined && caseFilter === undefined && (sent === 0 || stats.panics !== 0)) throw new Error('the responder saw no replies, or a handler failed');

if (only === undefined || only === 'chain') {
  const chain = await startChain(services);
  for (const mix of ['hit-a', 'blend'] as const) {
    results.push(bench(`chain ${services / 1000}k ${mix}: cache hits`, servingMix(chain, mix)));
    results.push(bench(`chain ${services / 1000}k ${mix}: cache misses`, missingMix(chain, mix)));
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
