/**
 * @module bench/latency-ab
 * A/B of latency-measurement methods and of servers at a fixed rate, run
 * round by round so the load of a shared machine hits every variant alike:
 * each round does one run of every (peer, method) pair in turn, then the
 * median over rounds is printed. All peers are started at once (pinned to
 * CPU 0, idle unless queried). Used to find what inflated the fixed-rate tail
 * of peers independent of our code (Knot) and to pick clusterdns's semi-space
 * size; see bench/README.md "Latency method".
 *
 * CLI: node bench/latency-ab.ts [--peers knot,clusterdns@2,...] [--mix blend]
 *        [--rounds 3] [--duration 5] [--rate 5000] [--rt 10|0] [--methods old,quiet,...]
 *   peer@N: a clusterdns peer started with CLUSTERDNS_SEMI_SPACE_MIB=N.
 *   --rt P: the server's threads and dnsperf at SCHED_FIFO P during the timed
 *   runs (root; 0: normal scheduling).
 */

import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { generate, type Mix } from './cluster-gen.ts';
import { runDnsperf } from './dnsperf.ts';
import { measureLatency, type LatencyResult } from './latency.ts';
import { loopAndGc, loopAndGcBetween } from './metrics-scrape.ts';
import { ALL_PEERS } from './peers/index.ts';
import { killAllLaunched, realtimeAvailable, setRealtime, type HelperMode } from './peers/process.ts';
import type { RunningPeer } from './peers/types.ts';
import { processTree } from './proc.ts';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

interface Method {
  /** A 2 s saturation run right before (run.ts's order until 2026-12: latency right after the mix's saturation runs). */
  readonly afterSaturation: boolean;
  /** Idle ms and fixed-rate warm-up seconds before the timed run. */
  readonly gapMs: number;
  readonly warmupS: number;
  readonly clients: number;
  /** Busy-loop the harness during the run (what a harness parsing output live would cost). */
  readonly busyHarness: boolean;
  /** Where dnsperf -v writes its line per query: the bench work dir (disk) or /dev/shm (tmpfs); 'none': no -v (only dnsperf's avg/stddev/max). */
  readonly verboseTo: 'disk' | 'shm' | 'none';
  /** false: normal scheduling for this method even with --rt (the before of the SCHED_FIFO change). */
  readonly rt?: false;
  /** Where a Node server's runtime helper threads go under --rt (setRealtime); default 'float'. */
  readonly helpers?: HelperMode;
}

const METHODS: Record<string, Method> = {
  old: { afterSaturation: true, gapMs: 0, warmupS: 0, clients: 10, busyHarness: false, verboseTo: 'disk' },
  quiet: { afterSaturation: true, gapMs: 1000, warmupS: 1, clients: 10, busyHarness: false, verboseTo: 'disk' },
  shm: { afterSaturation: true, gapMs: 1000, warmupS: 1, clients: 10, busyHarness: false, verboseTo: 'shm' },
  nov: { afterSaturation: true, gapMs: 1000, warmupS: 1, clients: 10, busyHarness: false, verboseTo: 'none' },
  warm: { afterSaturation: false, gapMs: 0, warmupS: 1, clients: 10, busyHarness: false, verboseTo: 'disk' },
  busy: { afterSaturation: false, gapMs: 0, warmupS: 1, clients: 10, busyHarness: true, verboseTo: 'disk' },
  'warm-allfifo': { afterSaturation: false, gapMs: 0, warmupS: 1, clients: 10, busyHarness: false, verboseTo: 'disk', helpers: 'pinned' },
  'quiet-allfifo': { afterSaturation: true, gapMs: 1000, warmupS: 1, clients: 10, busyHarness: false, verboseTo: 'disk', helpers: 'pinned' },
  'quiet-other': { afterSaturation: true, gapMs: 1000, warmupS: 1, clients: 10, busyHarness: false, verboseTo: 'disk', helpers: 'other' },
  'old-nort': { afterSaturation: true, gapMs: 0, warmupS: 0, clients: 10, busyHarness: false, verboseTo: 'disk', rt: false },
  'warm-nort': { afterSaturation: false, gapMs: 0, warmupS: 1, clients: 10, busyHarness: false, verboseTo: 'disk', rt: false },
};

/** Starts `name` or `name@N` (CLUSTERDNS_SEMI_SPACE_MIB=N for that server only). */
async function startPeer(spec: string, data: ReturnType<typeof generate>, work: string): Promise<RunningPeer> {
  const [name = '', semi] = spec.split('@');
  const peer = ALL_PEERS.find((p) => p.name === name);
  if (!peer) throw new Error(`unknown peer ${name}; peers: ${ALL_PEERS.map((p) => p.name).join(', ')}`);
  const saved = process.env.CLUSTERDNS_SEMI_SPACE_MIB;
  if (semi !== undefined) process.env.CLUSTERDNS_SEMI_SPACE_MIB = semi;
  try {
    return await peer.start(data, path.join(work, 'peers', spec.replace('@', '-semi')));
  } finally {
    if (saved === undefined) delete process.env.CLUSTERDNS_SEMI_SPACE_MIB;
    else process.env.CLUSTERDNS_SEMI_SPACE_MIB = saved;
  }
}

async function main(argv: readonly string[]): Promise<void> {
  let peers = ['knot'];
  let mix: Mix = 'blend';
  let rounds = 3;
  let duration = 5;
  let rate = 5000;
  let rtWanted = 10;
  let methods = ['warm'];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const next = (): string => argv[++i] ?? '';
    if (a === '--peers') peers = next().split(',');
    else if (a === '--mix') mix = next() as Mix;
    else if (a === '--rounds') rounds = Number(next());
    else if (a === '--duration') duration = Number(next());
    else if (a === '--rate') rate = Number(next());
    else if (a === '--rt') rtWanted = Number(next());
    else if (a === '--methods') methods = next().split(',');
    else throw new Error(`unknown option ${a}`);
  }
  for (const m of methods) if (!(m in METHODS)) throw new Error(`unknown method ${m}; methods: ${Object.keys(METHODS).join(', ')}`);
  const rt = realtimeAvailable(rtWanted);
  const work = path.join(import.meta.dirname, 'work');
  const data = generate({ services: 10_000, outDir: path.join(work, 'cluster-10000') });
  const outDir = path.join(work, 'latency-ab');
  mkdirSync(outDir, { recursive: true });
  const file = data.mixes[mix].path;
  const running = new Map<string, RunningPeer>();
  const results = new Map<string, LatencyResult[]>();
  console.log(`mix ${mix}, ${rate} q/s, ${rounds} rounds of ${duration} s, ${rt > 0 ? `SCHED_FIFO ${rt}` : 'normal scheduling'}`);
  try {
    for (const spec of peers) running.set(spec, await startPeer(spec, data, work));
    for (let r = 0; r < rounds; r++) {
      for (const [spec, peer] of running) {
        for (const name of methods) {
          const m = METHODS[name]!;
          const port = peer.port;
          const out = path.join(outDir, `${spec}-${name}.txt`);
          try {
            if (m.afterSaturation) await runDnsperf({ port, file, durationS: 2, clients: 10, outstanding: 100, outFile: out });
            if (m.gapMs > 0) await sleep(m.gapMs);
            const prio = m.rt === false ? 0 : rt;
            if (prio > 0) await setRealtime(processTree(peer.pid), prio, m.helpers ?? 'float');
            const common = { port, file, rateQps: rate, clients: m.clients, outstanding: 100, rtPriority: prio };
            if (m.warmupS > 0) await runDnsperf({ ...common, durationS: m.warmupS, outFile: out });
            const before = peer.metricsUrl !== undefined ? await loopAndGc(peer.metricsUrl) : null;
            let spin = true;
            const spinner = m.busyHarness ? (async () => { while (spin) { const t = performance.now(); while (performance.now() - t < 20); await sleep(0); } })() : null;
            const timedOut = m.verboseTo === 'shm' ? path.join('/dev/shm', `latency-ab-${process.pid}.txt`) : out;
            const opts = { ...common, durationS: duration, outFile: timedOut };
            let line: string;
            if (m.verboseTo === 'none') {
              const d = await runDnsperf(opts);
              line = `avg ${Math.round(d.avgLatencyUs)} stddev ${Math.round(d.stddevUs)} max ${Math.round(d.maxLatencyUs)} µs (${d.completed} answers)`;
            } else {
              const l = await measureLatency(opts);
              const key = `${spec} ${name}`;
              (results.get(key) ?? results.set(key, []).get(key)!).push(l);
              line = `p50 ${Math.round(l.p50Us)} p99 ${Math.round(l.p99Us)} p99.9 ${Math.round(l.p999Us)} max ${Math.round(l.maxUs)} µs; avg ${Math.round(l.avgUs)} µs (${l.samples} answers)`;
            }
            spin = false;
            await spinner;
            if (prio > 0) await setRealtime(processTree(peer.pid), 0);
            const d = peer.metricsUrl !== undefined ? loopAndGcBetween(before, await loopAndGc(peer.metricsUrl)) : null;
            console.log(`round ${r + 1} ${spec} ${name}: ${line}` + (d ? `; loop delay p99 ≤${d.loopP99Ms} max ≤${d.loopMaxMs} ms; GC ${d.gcCount} pauses, ${d.gcTotalMs.toFixed(1)} ms` : ''));
          } catch (err) {
            // One failed run (dnsperf killed by its timeout: see bench/README.md "Latency method") is reported, not fatal.
            if (rt > 0) await setRealtime(processTree(peer.pid), 0);
            console.log(`round ${r + 1} ${spec} ${name}: failed: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`);
          }
        }
      }
    }
  } finally {
    for (const p of running.values()) await p.stop();
  }
  const median = (xs: number[]): number => { const s = [...xs].sort((a, b) => a - b); return s[Math.floor((s.length - 1) / 2)] ?? NaN; };
  for (const [key, ls] of results) {
    console.log(`median ${key}: p50 ${Math.round(median(ls.map((l) => l.p50Us)))} p99 ${Math.round(median(ls.map((l) => l.p99Us)))} p99.9 ${Math.round(median(ls.map((l) => l.p999Us)))} µs over ${ls.length} runs (p99s ${ls.map((l) => Math.round(l.p99Us)).join(', ')})`);
  }
}

process.on('exit', killAllLaunched);
for (const sig of ['SIGINT', 'SIGTERM'] as const) process.on(sig, () => { killAllLaunched(); process.exit(130); });
if (import.meta.main) await main(process.argv.slice(2));
