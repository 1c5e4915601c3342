/**
 * @module bench/metrics-overhead
 * What the prometheus plugin costs on the hot path: in-process serveQuery
 * throughput (parse, route, chain, write; no sockets) of the same Corefile
 * with and without `prometheus`, for a prepared answer (chaos) and a built
 * one (whoami). Rounds alternate between the two servers, and the ratio is
 * the median over back-to-back pairs, so drift, warm-up and other load on
 * the machine hit both sides of a pair alike. Target: with >= 90% of without.
 *
 *   node bench/metrics-overhead.ts [--quick]
 */
import { App } from '../src/app/app.ts';
import { Class, Type } from '../src/dns/constants.ts';
import { encodeQuery } from '../src/dns/message.ts';
import { memoryLogger } from '../src/log/logger.ts';
import { serveQuery, ServeStats, type Responder } from '../src/server/serve.ts';
import { dnsCounters } from '../src/plugins/prometheus/dns-metrics.ts';

const quick = process.argv.includes('--quick');
const ROUNDS = quick ? 9 : 41;
const QUERIES_PER_ROUND = quick ? 20_000 : 50_000;

const corefile = (metrics: boolean): string =>
  `.:0 {\n  bind 127.0.0.1\n${metrics ? '  prometheus 127.0.0.1:0\n' : ''}  chaos\n  whoami\n}\n`;

interface Scenario {
  readonly name: string;
  readonly query: Buffer;
}

const scenarios: readonly Scenario[] = [
  { name: 'chaos TXT (prepared reply)', query: encodeQuery('version.bind.', Type.TXT, { qclass: Class.CH, id: 1 }) },
  { name: 'whoami A (reply built per query)', query: encodeQuery('www.example.org.', Type.A, { id: 2, udpSize: 1232 }) },
];

/** Replies go nowhere; a byte count keeps the work from being optimised away. */
class CountingResponder implements Responder {
  bytes = 0;
  send(buf: Buffer): void { this.bytes += buf.length; }
}

async function start(metrics: boolean): Promise<App> {
  const app = new App({ corefilePath: 'Corefile', corefileText: corefile(metrics), logger: memoryLogger() });
  await app.start();
  return app;
}

/** Queries per second for one round. */
function round(app: App, query: Buffer, out: CountingResponder, stats: ServeStats): number {
  const routes = app.server.generation!.listeners[0]!.routes;
  const t0 = performance.now();
  for (let i = 0; i < QUERIES_PER_ROUND; i++) serveQuery(query, 'udp', '127.0.0.1', 40000 + (i & 1023), '127.0.0.1', 53, routes, out, stats);
  return QUERIES_PER_ROUND / ((performance.now() - t0) / 1000);
}

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

async function main(): Promise<void> {
  const without = await start(false);
  const withMetrics = await start(true);
  const out = new CountingResponder();
  const stats = new ServeStats();
  const lines: string[] = [];
  let worst = Infinity;
  try {
    for (const s of scenarios) {
      // Warm-up both, then alternate rounds.
      round(without, s.query, out, stats);
      round(withMetrics, s.query, out, stats);
      const a: number[] = [];
      const b: number[] = [];
      const ratios: number[] = [];
      for (let r = 0; r < ROUNDS; r++) {
        // Alternate which side goes first, so neither always runs on a warmer cache.
        const first = r % 2 === 0;
        const x = first ? round(without, s.query, out, stats) : 0;
        const y = round(withMetrics, s.query, out, stats);
        const x2 = first ? x : round(without, s.query, out, stats);
        a.push(x2);
        b.push(y);
        ratios.push(y / x2);
      }
      const qpsWithout = median(a);
      const qpsWith = median(b);
      const ratio = median(ratios);
      worst = Math.min(worst, ratio);
      const extraNs = 1e9 / qpsWith - 1e9 / qpsWithout;
      lines.push(`${s.name.padEnd(34)} without ${Math.round(qpsWithout).toLocaleString('en').padStart(10)} q/s   with ${Math.round(qpsWith).toLocaleString('en').padStart(10)} q/s   ratio ${(ratio * 100).toFixed(1)}%   (+${Math.round(extraNs)} ns/query)`);
    }
  } finally {
    await without.stop(0);
    await withMetrics.stop(0);
  }
  process.stdout.write(`metrics overhead: in-process serveQuery, ${ROUNDS} pairs of rounds of ${QUERIES_PER_ROUND.toLocaleString('en')} queries; q/s medians, ratio = median of pair ratios (node ${process.version})\n`);
  for (const l of lines) process.stdout.write(`${l}\n`);
  process.stdout.write(`worst ratio ${(worst * 100).toFixed(1)}% (target >= 90%): ${worst >= 0.9 ? 'ok' : 'BELOW TARGET'}\n`);
  if (out.bytes === 0) throw new Error('no replies written');
  // The metrics server really counted every query it served (warm-up included).
  const counted = dnsCounters(withMetrics.services).zones.reduce((n, z) => n + z.requests.reduce((a, b) => a + b, 0), 0);
  const served = scenarios.length * (ROUNDS + 1) * QUERIES_PER_ROUND;
  if (counted !== served) throw new Error(`counted ${counted} requests, served ${served}`);
  process.stdout.write(`counted ${counted.toLocaleString('en')} requests in coredns_dns_requests_total (all served)\n`);
}

await main();
