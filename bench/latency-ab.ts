/**
 * @module bench/latency-ab
 * A/B of latency-measurement methods on one running peer, interleaved round
 * by round so machine load hits every method alike: prints p50/p99/p99.9 of
 * each method per round and the median over rounds. Used to find what
 * inflates the fixed-rate tail of peers that are independent of our code
 * (Knot), see bench/README.md "Latency method".
 *
 * CLI: node bench/latency-ab.ts [--peer knot] [--mix blend] [--rounds 3]
 *        [--duration 5] [--methods old,quiet,...]
 */

import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { generate, type Mix } from './cluster-gen.ts';
import { runDnsperf } from './dnsperf.ts';
import { measureLatency, type LatencyResult } from './latency.ts';
import { ALL_PEERS } from './peers/index.ts';
import { killAllLaunched } from './peers/process.ts';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

interface Method {
  /** Saturation run right before (as run.ts did: the latency run followed the mix's saturation runs). */
  readonly afterSaturation: boolean;
  /** Idle ms and fixed-rate warm-up seconds before the timed run. */
  readonly gapMs: number;
  readonly warmupS: number;
  readonly clients: number;
  /** Busy-loop the harness during the run (what a harness parsing a pipe live would cost). */
  readonly busyHarness: boolean;
  /** Where dnsperf -v writes its line per query: the bench work dir (disk) or /dev/shm (tmpfs); 'none': no -v (only dnsperf's avg/stddev/max). */
  readonly verboseTo: 'disk' | 'shm' | 'none';
}

const METHODS: Record<string, Method> = {
  old: { afterSaturation: true, gapMs: 0, warmupS: 0, clients: 10, busyHarness: false, verboseTo: 'disk' },
  quiet: { afterSaturation: true, gapMs: 1000, warmupS: 1, clients: 10, busyHarness: false, verboseTo: 'disk' },
  shm: { afterSaturation: true, gapMs: 1000, warmupS: 1, clients: 10, busyHarness: false, verboseTo: 'shm' },
  nov: { afterSaturation: true, gapMs: 1000, warmupS: 1, clients: 10, busyHarness: false, verboseTo: 'none' },
  nosat: { afterSaturation: false, gapMs: 1000, warmupS: 1, clients: 10, busyHarness: false, verboseTo: 'disk' },
  c1: { afterSaturation: true, gapMs: 1000, warmupS: 1, clients: 1, busyHarness: false, verboseTo: 'disk' },
  busy: { afterSaturation: true, gapMs: 1000, warmupS: 1, clients: 10, busyHarness: true, verboseTo: 'disk' },
};

async function main(argv: readonly string[]): Promise<void> {
  let peerName = 'knot';
  let mix: Mix = 'blend';
  let rounds = 3;
  let duration = 5;
  let methods = ['old', 'quiet'];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const next = (): string => argv[++i] ?? '';
    if (a === '--peer') peerName = next();
    else if (a === '--mix') mix = next() as Mix;
    else if (a === '--rounds') rounds = Number(next());
    else if (a === '--duration') duration = Number(next());
    else if (a === '--methods') methods = next().split(',');
    else throw new Error(`unknown option ${a}`);
  }
  for (const m of methods) if (!(m in METHODS)) throw new Error(`unknown method ${m}; methods: ${Object.keys(METHODS).join(', ')}`);
  const peer = ALL_PEERS.find((p) => p.name === peerName);
  if (!peer) throw new Error(`unknown peer ${peerName}`);
  const work = path.join(import.meta.dirname, 'work');
  const data = generate({ services: 10_000, outDir: path.join(work, 'cluster-10000') });
  const outDir = path.join(work, 'latency-ab');
  mkdirSync(outDir, { recursive: true });
  const running = await peer.start(data, path.join(work, 'peers', peer.name));
  const file = data.mixes[mix].path;
  const port = running.port;
  const results = new Map<string, LatencyResult[]>();
  try {
    for (let r = 0; r < rounds; r++) {
      for (const name of methods) {
        const m = METHODS[name]!;
        const out = path.join(outDir, `${name}.txt`);
        if (m.afterSaturation) await runDnsperf({ port, file, durationS: 2, clients: 10, outstanding: 100, outFile: out });
        if (m.gapMs > 0) await sleep(m.gapMs);
        if (m.warmupS > 0) await runDnsperf({ port, file, durationS: m.warmupS, clients: m.clients, outstanding: 100, rateQps: 5000, outFile: out });
        let spin = true;
        const spinner = m.busyHarness ? (async () => { while (spin) { const t = performance.now(); while (performance.now() - t < 20); await sleep(0); } })() : null;
        const timedOut = m.verboseTo === 'shm' ? path.join('/dev/shm', `latency-ab-${process.pid}.txt`) : out;
        const opts = { port, file, rateQps: 5000, durationS: duration, clients: m.clients, outstanding: 100, outFile: timedOut };
        if (m.verboseTo === 'none') {
          const d = await runDnsperf(opts);
          spin = false;
          await spinner;
          console.log(`round ${r + 1} ${name}: avg ${Math.round(d.avgLatencyUs)} stddev ${Math.round(d.stddevUs)} max ${Math.round(d.maxLatencyUs)} µs (${d.completed} answers)`);
          continue;
        }
        const l = await measureLatency(opts);
        spin = false;
        await spinner;
        (results.get(name) ?? results.set(name, []).get(name)!).push(l);
        console.log(`round ${r + 1} ${name}: p50 ${Math.round(l.p50Us)} p99 ${Math.round(l.p99Us)} p99.9 ${Math.round(l.p999Us)} max ${Math.round(l.maxUs)} µs; avg ${Math.round(l.avgUs)} µs (${l.samples} answers)`);
      }
    }
  } finally {
    await running.stop();
  }
  const median = (xs: number[]): number => { const s = [...xs].sort((a, b) => a - b); return s[Math.floor(s.length / 2)] ?? NaN; };
  for (const [name, ls] of results) {
    console.log(`median ${name}: p50 ${Math.round(median(ls.map((l) => l.p50Us)))} p99 ${Math.round(median(ls.map((l) => l.p99Us)))} p99.9 ${Math.round(median(ls.map((l) => l.p999Us)))} µs over ${ls.length} runs`);
  }
}

process.on('exit', killAllLaunched);
if (import.meta.main) await main(process.argv.slice(2));
