/**
 * @module bench/run
 * The benchmark harness: clusterdns side by side with peer DNS servers (Knot,
 * NSD, Unbound, dnsmasq, a Go miekg/dns map server) on the same synthetic
 * cluster, reported as ratios. For each cluster size every peer is started
 * and kept up; then in rounds, each mix on each peer in turn: dnsperf at
 * saturation (with clusterdns's cache hit ratio from its /metrics), then
 * dnsperf at a fixed 5,000 q/s for p50/p99/p99.9 latency (benchPeers says
 * why in rounds); plus start-to-first-answer time and peak RSS; then the extra sections
 * (memory and start at 100,000 services through the API and manifests,
 * workers). Writes bench/results/<date>-<quick|full>.md (and .json) and
 * prints the markdown.
 *
 *   npm run bench:quick   N=1000, short runs (< 2 min)
 *   npm run bench         N=10k, then the 100k memory/start section, ~15 min
 *
 * Options: --sizes 1000,10000  --peers knot,nsd  --mixes hit-a,blend
 *          --duration S  --latency-duration S  --large-peers a,b  --nice -10
 *          --wait-quiet S  --no-save  --sections profile,start-memory,memory,workers|none
 *          --latency-runs N  --rt PRIO (0: off)
 * See bench/README.md.
 */

import { cpus, release, totalmem } from 'node:os';
import { mkdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import { generate, MIXES, type Mix, type ZoneData } from './cluster-gen.ts';
import { runDnsperf, dnsperfVersion } from './dnsperf.ts';
import { measureLatency, medianByP99 } from './latency.ts';
import { sanityCheck, type SanityResult } from './check.ts';
import { cpuSeconds, machineBusySeconds, machineSeconds, memoryLine, NOISY_CPU_PCT, peakRss, processTree } from './proc.ts';
import { renderReport, type RenderedSection } from './report.ts';
import { ALL_PEERS, SUBJECT } from './peers/index.ts';
import { findBinary, killAllLaunched, realtimeAvailable, setRealtime, StartTimeoutError } from './peers/process.ts';
import type { Peer, RunningPeer } from './peers/types.ts';
import { cacheCounters, hitPct, loopAndGc, loopAndGcBetween, passedPct, type LoopAndGcDelta } from './metrics-scrape.ts';
import { startMemorySection } from './start-memory.ts';
import { memorySection } from './memory-section.ts';
import { workersSection } from './scaling.ts';
import { profileSection } from './profile-section.ts';
import type { BenchEnvironment, BenchSettings, ExtraSection, MixResult, PeerResult, SaturationResult, SectionContext, SizeResult } from './types.ts';
import { errorMessage } from '../src/errors/to-error.ts';

// ----------------------------------------------------------------------------
// Extra report sections, run after the throughput/latency part, in order.
// The memory bench goes here, e.g.:
//   import { memorySection } from './memory.ts';
//   const EXTRA_SECTIONS = [memorySection];
// See ExtraSection in ./types.ts for the contract.
// ----------------------------------------------------------------------------
const EXTRA_SECTIONS: readonly (readonly [id: string, section: ExtraSection])[] = [
  ['profile', profileSection], ['start-memory', startMemorySection], ['memory', memorySection], ['workers', workersSection],
];

const BENCH_DIR = import.meta.dirname;
const WORK_DIR = path.join(BENCH_DIR, 'work');
const RESULTS_DIR = path.join(BENCH_DIR, 'results');

/**
 * At 100k services only these peers run in the full mode: each peer costs
 * ~1.5 min per size plus its load time, and the point of that row is how
 * clusterdns scales against a C authoritative server and the Go/miekg engine.
 */
const LARGE_SIZE = 100_000;
const LARGE_PEERS = [SUBJECT, 'knot', 'go-miekg'];
/** Peers of the default run (the others on request with --peers): the issue's anchors plus unbound. */
const DEFAULT_PEERS = [SUBJECT, `${SUBJECT}-batch`, 'knot', 'dnsmasq', 'go-miekg', 'unbound', 'node-floor', 'node-floor-batch'];
/** The fixed rate of the latency runs (a busy cluster's DNS load per core). */
const LATENCY_RATE_QPS = 5000;
/**
 * SCHED_FIFO priority of the server during the latency runs (setRealtime; dnsperf as realtimeArgs says): 0 (normal scheduling) unless --rt asks.
 * Opt-in: it takes preemption by other jobs out of the tail, but a Node server's first fixed-rate run sometimes
 * ran into the kernel's RT throttling (50 ms stalls), see bench/README.md "Latency method".
 */
const LATENCY_RT_PRIORITY = 0;

/** Quick mode retries disturbed runs only this long after the start (it must stay under 2 min). */
const QUICK_RETRY_WINDOW_S = 45;
let retryDeadline = Infinity;

/** A bad command line: reported without a stack trace. */
class UsageError extends Error {}

interface Args {
  quick: boolean;
  /** The extra sections to run, by id (default: all; [] for none). */
  sections?: string[];
  sizes?: number[];
  peers?: string[];
  mixes?: Mix[];
  duration?: number;
  latencyDuration?: number;
  latencyRuns?: number;
  rt?: number;
  largePeers?: string[];
  nice: number;
  waitQuiet?: number;
  save: boolean;
}

function parseArgs(argv: readonly string[]): Args {
  const args: Args = { quick: false, save: true, nice: 0 };
  const list = (v: string | undefined): string[] => (v ?? '').split(',').map((s) => s.trim()).filter(Boolean);
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const next = (): string => {
      const v = argv[++i];
      if (v === undefined) throw new UsageError(`${a} needs a value`);
      return v;
    };
    switch (a) {
      case '--quick': args.quick = true; break;
      case '--full': args.quick = false; break;
      case '--sizes': args.sizes = list(next()).map(Number); break;
      case '--peers': args.peers = list(next()); break;
      case '--large-peers': args.largePeers = list(next()); break;
      case '--mixes': args.mixes = list(next()) as Mix[]; break;
      case '--duration': args.duration = Number(next()); break;
      case '--latency-duration': args.latencyDuration = Number(next()); break;
      case '--latency-runs': args.latencyRuns = Number(next()); break;
      case '--rt': args.rt = Number(next()); break;
      case '--nice': args.nice = Number(next()); break;
      case '--wait-quiet': args.waitQuiet = Number(next()); break;
      case '--no-save': args.save = false; break;
      case '--sections': { const v = next(); args.sections = v === 'none' ? [] : list(v); break; }
      case '-h': case '--help':
        console.log(readFileSync(new URL(import.meta.url), 'utf8').split('*/')[0]);
        process.exit(0);
        break;
      default: throw new UsageError(`unknown option ${a} (see --help)`);
    }
  }
  if (args.latencyRuns !== undefined && !(Number.isInteger(args.latencyRuns) && args.latencyRuns >= 1)) throw new UsageError('--latency-runs wants a whole number ≥ 1');
  if (args.rt !== undefined && !(Number.isInteger(args.rt) && args.rt >= 0 && args.rt <= 98)) throw new UsageError('--rt wants a priority 1-98 (the main thread gets one more), or 0 for normal scheduling');
  for (const m of args.mixes ?? []) if (!MIXES.includes(m)) throw new UsageError(`unknown mix ${m}; mixes: ${MIXES.join(', ')}`);
  for (const p of [...(args.peers ?? []), ...(args.largePeers ?? [])]) {
    if (!ALL_PEERS.some((x) => x.name === p)) throw new UsageError(`unknown peer ${p}; peers: ${ALL_PEERS.map((x) => x.name).join(', ')}`);
  }
  for (const id of args.sections ?? []) {
    if (!EXTRA_SECTIONS.some(([x]) => x === id)) throw new UsageError(`unknown section ${id}; sections: ${EXTRA_SECTIONS.map(([x]) => x).join(', ')}, none`);
  }
  return args;
}

function settingsFor(args: Args): BenchSettings {
  const quick = args.quick;
  const mixes = args.mixes ?? [...MIXES];
  return {
    mode: quick ? 'quick' : 'full',
    sizes: args.sizes ?? (quick ? [1_000] : [10_000]),
    mixes,
    saturation: { durationS: args.duration ?? (quick ? 1 : 5), repeats: quick ? 1 : 2, warmupS: quick ? 0.25 : 1, clients: 10, outstanding: 100 },
    latency: {
      durationS: args.latencyDuration ?? (quick ? 0.6 : 5), rateQps: LATENCY_RATE_QPS, mixes,
      runs: args.latencyRuns ?? (quick ? 1 : 3), warmupS: quick ? 0 : 1,
      rtPriority: realtimeAvailable(args.rt ?? LATENCY_RT_PRIORITY),
    },
    retriesWhenNoisy: quick ? 1 : 2,
    retryWindowS: quick ? QUICK_RETRY_WINDOW_S : null,
    waitQuietS: args.waitQuiet ?? (quick ? 0 : 30),
    nice: args.nice,
  };
}

async function environment(): Promise<BenchEnvironment> {
  let cpuModel = cpus()[0]?.model ?? 'unknown CPU';
  try {
    const m = /^model name\s*:\s*(.+)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'));
    if (m) cpuModel = (m[1] ?? '').trim();
  } catch { /* not Linux? */ }
  return {
    date: new Date().toISOString().slice(0, 10),
    cpuModel,
    cores: cpus().length,
    memGiB: Math.round(totalmem() / 2 ** 30),
    kernel: release(),
    node: process.versions.node,
    dnsperf: await dnsperfVersion(),
  };
}

const log = (msg: string): void => { process.stderr.write(`${msg}\n`); };
const alive = (pid: number): boolean => existsSync(`/proc/${pid}`);

/**
 * Before a peer starts: waits up to maxS for a 1 s window in which the machine
 * (nothing of ours running) is under the noise threshold. Returns seconds waited.
 */
async function waitQuiet(maxS: number): Promise<number> {
  const t0 = performance.now();
  const waited = (): number => (performance.now() - t0) / 1000;
  while (waited() < maxS) {
    const b0 = machineBusySeconds();
    await new Promise((r) => setTimeout(r, 1000));
    if ((machineBusySeconds() - b0) * 100 < NOISY_CPU_PCT) break;
  }
  return waited();
}

/** Σ min(observed share, expected share) over rcodes: 100 when the peer answers as the spec says. */
function rcodeMatch(rcodes: Readonly<Record<string, number>>, completed: number, expected: Readonly<Record<string, number>>): number {
  if (completed === 0) return 0;
  let match = 0;
  for (const [k, want] of Object.entries(expected)) match += Math.min(want, (100 * (rcodes[k] ?? 0)) / completed);
  return match;
}

interface CpuShares {
  serverCpuPct: number;
  /** Everyone but the server, dnsperf and the idle peers (steal is in the machine's busy time, but the host's ticks may land on our processes too). */
  othersCpuPct: number;
  stealPct: number;
  idlePeersCpuPct: number;
}

/**
 * Runs fn and tells the server's CPU use and everyone else's (besides
 * dnsperf) meanwhile, % of one core; the peers idle beside it
 * (`bystanders`) are counted apart from the others.
 */
async function withCpu<T extends { clientCpuS: number }>(pid: number, fn: () => Promise<T>, bystanders: readonly number[] = []): Promise<{ r: T } & CpuShares> {
  const sumCpu = (): number => bystanders.reduce((n, p) => n + (cpuSeconds(p) || 0), 0);
  const server0 = cpuSeconds(pid);
  const m0 = machineSeconds();
  const idle0 = sumCpu();
  const t0 = performance.now();
  const r = await fn();
  const wallS = (performance.now() - t0) / 1000;
  const server = cpuSeconds(pid) - server0;
  const idle = sumCpu() - idle0;
  const m1 = machineSeconds();
  const others = m1.busy - m0.busy - server - idle - (Number.isFinite(r.clientCpuS) ? r.clientCpuS : 0);
  const pct = (s: number): number => Math.max(0, (100 * s) / wallS);
  return { r, serverCpuPct: (100 * server) / wallS, othersCpuPct: pct(others), stealPct: pct(m1.steal - m0.steal), idlePeersCpuPct: pct(idle) };
}

/**
 * /metrics before and after a run (outside the timed window): the cache hit
 * ratio (and the share passed to kept answers), the event-loop delay and the
 * GC pauses of that run (servers with /metrics).
 */
async function withMetrics<T>(running: RunningPeer, fn: () => Promise<T>): Promise<{ r: T; cacheHitPct?: number; cachePassedPct?: number; loop?: LoopAndGcDelta }> {
  const url = running.metricsUrl;
  if (url === undefined) return { r: await fn() };
  const [c0, l0] = await Promise.all([cacheCounters(url), loopAndGc(url)]);
  const r = await fn();
  const [c1, l1] = await Promise.all([cacheCounters(url), loopAndGc(url)]);
  const pctHit = hitPct(c0, c1);
  const pctPassed = passedPct(c0, c1);
  const loop = loopAndGcBetween(l0, l1);
  return {
    r, ...(pctHit !== null ? { cacheHitPct: pctHit } : {}), ...(pctPassed !== null ? { cachePassedPct: pctPassed } : {}),
    ...(loop !== null ? { loop } : {}),
  };
}

function dnsperfOut(zoneData: ZoneData, peer: Peer, mix: Mix, kind: string): string {
  const outDir = path.join(WORK_DIR, 'dnsperf');
  mkdirSync(outDir, { recursive: true });
  return path.join(outDir, `${zoneData.services}-${peer.name}-${mix}-${kind}.txt`);
}

const mayRetry = (settings: BenchSettings, attempt: number, others: number): boolean =>
  others > NOISY_CPU_PCT && attempt < settings.retriesWhenNoisy && performance.now() < retryDeadline;

/** A peer of one size's run: started once, then measured round by round beside the others. */
interface Contender {
  readonly peer: Peer;
  readonly tag: string;
  readonly base: Pick<PeerResult, 'peer' | 'description' | 'version'>;
  readonly running: RunningPeer;
  readonly sanity: SanityResult;
  /** The best saturation run so far per mix, and the disturbed retries it has had. */
  readonly best: Map<Mix, { result: SaturationResult; retries: number }>;
  readonly errors: Map<Mix, string>;
  readonly latencyRuns: Map<Mix, KeptLatency[]>;
  failure: string | null;
}

/** How long the idle peers' own CPU use is sampled once all are started. */
const IDLE_PROBE_MS = 5000;

const measuring = (c: Contender): boolean => c.failure === null;

/** Marks `c` failed when its process is gone (a crash under load is a result, not a harness error). */
function checkAlive(c: Contender, during: string): void {
  if (c.failure === null && !alive(c.running.pid)) c.failure = `process exited during the ${during}; see ${c.running.logFile}`;
}

/** Starts `peer` and checks its answers; a PeerResult when it cannot be measured. */
async function startContender(peer: Peer, zoneData: ZoneData, settings: BenchSettings): Promise<Contender | PeerResult> {
  const version = await peer.version().catch(() => null);
  const base = { peer: peer.name, description: peer.description, version };
  const tag = `[${zoneData.services}] ${peer.name}`;
  const isSubject = peer.name === SUBJECT || peer.name.startsWith(`${SUBJECT}-`);
  if (isSubject && subjectTimedOut.has(zoneData.services)) {
    const reason = `not tried: another ${SUBJECT} variant gave no answer within its readiness bound at this size`;
    log(`${tag}: skipped: ${reason}`);
    return { ...base, status: 'skipped', reason, mixes: [] };
  }
  let running;
  try {
    running = await peer.start(zoneData, path.join(WORK_DIR, 'peers', peer.name));
  } catch (err) {
    const reason = errorMessage(err);
    if (isSubject && err instanceof StartTimeoutError) subjectTimedOut.add(zoneData.services);
    log(`${tag}: skipped: ${reason.split('\n')[0]}`);
    return { ...base, status: 'skipped', reason, mixes: [] };
  }
  log(`${tag}: answering after ${Math.round(running.startupMs)} ms (pid ${running.pid}, port ${running.port})`);
  let sanity;
  try {
    sanity = await sanityCheck(running.port, zoneData, settings.mixes.filter((m) => peer.leavesOut?.[m] === undefined));
  } catch (err) {
    await running.stop();
    return { ...base, status: 'failed', reason: `sanity check: ${errorMessage(err)}`, startupMs: running.startupMs, mixes: [] };
  }
  if (sanity.failed > 0) log(`${tag}: sanity ${sanity.failed}/${sanity.checked} wrong, e.g. ${sanity.examples[0]}`);
  return { peer, tag, base, running, sanity, best: new Map(), errors: new Map(), latencyRuns: new Map(), failure: null };
}

/** One saturation run of `mix` on `c` (after a warm-up on the first), kept when it is c's best. */
async function saturate(c: Contender, zoneData: ZoneData, mix: Mix, settings: BenchSettings, warmUp: boolean, bystanders: readonly number[]): Promise<void> {
  const { pid, port } = c.running;
  const sat = settings.saturation;
  const file = zoneData.mixes[mix].path;
  const had = c.best.get(mix);
  const i = had === undefined ? 0 : had.result.attempts;
  const common = { port, file, clients: sat.clients, outstanding: sat.outstanding };
  const out = (kind: string): string => dnsperfOut(zoneData, c.peer, mix, kind);
  try {
    if (warmUp && sat.warmupS > 0) await runDnsperf({ ...common, durationS: sat.warmupS, outFile: out('warmup') });
    const m = await withMetrics(c.running, () => withCpu(pid, () => runDnsperf({ ...common, durationS: sat.durationS, outFile: out(`saturation-${i}`) }), bystanders));
    const r = m.r;
    const result: SaturationResult = had !== undefined && had.result.qps >= r.r.qps ? { ...had.result, attempts: i + 1 } : {
      ...r.r, serverCpuPct: r.serverCpuPct, othersCpuPct: r.othersCpuPct, stealPct: r.stealPct, idlePeersCpuPct: r.idlePeersCpuPct, attempts: i + 1,
      rcodeMatchPct: rcodeMatch(r.r.rcodes, r.r.completed, zoneData.mixes[mix].expectedRcodes),
      ...(m.cacheHitPct !== undefined ? { cacheHitPct: m.cacheHitPct } : {}),
      ...(m.cachePassedPct !== undefined ? { cachePassedPct: m.cachePassedPct } : {}),
    };
    c.best.set(mix, { result, retries: had?.retries ?? 0 });
  } catch (err) {
    c.errors.set(mix, errorMessage(err));
    log(`${c.tag} ${mix}: error: ${errorMessage(err).split('\n')[0]}`);
  }
  checkAlive(c, `${mix} run`);
}

type KeptLatency = NonNullable<MixResult['latency']>;

/**
 * One fixed-rate run of `mix` on `c`, after an untimed warm-up at the same
 * rate; a disturbed run (others over NOISY_CPU_PCT) is retried as the
 * saturation runs are. With a real-time priority c's threads and dnsperf run
 * real-time for this run only (setRealtime, realtimeArgs), so other jobs
 * cannot preempt them, and the idle peers beside it stay as they were.
 */
async function fixedRate(c: Contender, zoneData: ZoneData, mix: Mix, round: number, settings: BenchSettings, bystanders: readonly number[]): Promise<void> {
  const lat = settings.latency;
  const rt = lat.rtPriority;
  const common = { port: c.running.port, file: zoneData.mixes[mix].path, clients: settings.saturation.clients, outstanding: settings.saturation.outstanding, rateQps: lat.rateQps, rtPriority: rt };
  if (rt > 0) await setRealtime(processTree(c.running.pid), rt);
  try {
    for (let retry = 0; ; retry++) {
      const outFile = dnsperfOut(zoneData, c.peer, mix, `latency-${round}-${retry}`);
      if (lat.warmupS > 0) await runDnsperf({ ...common, durationS: lat.warmupS, outFile });
      const m = await withMetrics(c.running, () => withCpu(c.running.pid, () => measureLatency({ ...common, durationS: lat.durationS, outFile }), bystanders));
      // Under SCHED_FIFO other jobs cannot preempt the server or dnsperf: their CPU share is reported, not retried.
      if (rt === 0 && mayRetry(settings, retry, m.r.othersCpuPct)) continue;
      let runs = c.latencyRuns.get(mix);
      if (runs === undefined) { runs = []; c.latencyRuns.set(mix, runs); }
      runs.push({
        ...m.r.r, othersCpuPct: m.r.othersCpuPct, stealPct: m.r.stealPct, idlePeersCpuPct: m.r.idlePeersCpuPct, attempts: retry + 1, runs: 0, p99sUs: [],
        ...(m.cacheHitPct !== undefined ? { cacheHitPct: m.cacheHitPct } : {}),
        ...(m.loop !== undefined ? { loop: m.loop } : {}),
      });
      break;
    }
  } catch (err) {
    log(`${c.tag} ${mix} latency: error: ${errorMessage(err).split('\n')[0]}`);
  } finally {
    if (rt > 0 && alive(c.running.pid)) await setRealtime(processTree(c.running.pid), 0);
  }
  checkAlive(c, 'latency runs');
}

/**
 * Every peer of one size, measured side by side: all are started first
 * (one at a time, so each start has the machine to itself), then each round
 * runs every mix on every peer in turn, for the saturation runs and then for
 * the fixed-rate runs. A slow stretch of the machine (a busy neighbour, a
 * slower physical core) then lowers one run of every peer rather than every
 * run of one peer, and the ratios between peers stay true; the best
 * saturation run and the median fixed-rate run per peer and mix are kept.
 * The peers not being measured are idle on the same CPU meanwhile.
 */
async function benchPeers(peers: readonly Peer[], zoneData: ZoneData, settings: BenchSettings): Promise<PeerResult[]> {
  const contenders: (Contender | PeerResult)[] = [];
  const quiet = async (what: string): Promise<void> => {
    if (settings.waitQuietS <= 0) return;
    const w = await waitQuiet(settings.waitQuietS);
    if (w > 1.5) log(`[${zoneData.services}] waited ${Math.round(w)} s for other processes to calm down before ${what}${w >= settings.waitQuietS ? ' (gave up)' : ''}`);
  };
  try {
    for (const peer of peers) {
      await quiet(`starting ${peer.name}`);
      contenders.push(await startContender(peer, zoneData, settings));
    }
    const live = contenders.filter((c): c is Contender => 'running' in c);
    // What the idle peers cost the one being measured (they share its CPU): their own CPU over a quiet stretch.
    const idle0 = live.map((c) => cpuSeconds(c.running.pid));
    await new Promise((r) => setTimeout(r, IDLE_PROBE_MS));
    log(`[${zoneData.services}] idle peers, % of a core over ${IDLE_PROBE_MS / 1000} s: ` +
      live.map((c, i) => `${c.peer.name} ${((100 * (cpuSeconds(c.running.pid) - idle0[i]!)) / (IDLE_PROBE_MS / 1000)).toFixed(1)}`).join(', '));
    const beside = (c: Contender): number[] => live.filter((x) => x !== c && measuring(x)).map((x) => x.running.pid);
    const mixesOf = (c: Contender): Mix[] => settings.mixes.filter((m) => c.peer.leavesOut?.[m] === undefined);
    const sat = settings.saturation;
    for (let round = 0; round < sat.repeats; round++) {
      for (const mix of settings.mixes) {
        await quiet(`saturation round ${round + 1}, ${mix}`);
        for (const c of live) if (measuring(c) && mixesOf(c).includes(mix)) await saturate(c, zoneData, mix, settings, round === 0, beside(c));
      }
    }
    // A best run that was disturbed gets another try, as long as the retries last.
    for (const mix of settings.mixes) {
      for (const c of live) {
        for (;;) {
          const b = c.best.get(mix);
          if (b === undefined || !measuring(c) || !mayRetry(settings, b.retries, b.result.othersCpuPct)) break;
          c.best.set(mix, { ...b, retries: b.retries + 1 });
          await saturate(c, zoneData, mix, settings, false, beside(c));
        }
      }
    }
    for (const c of live) {
      for (const mix of mixesOf(c)) {
        const s = c.best.get(mix)?.result;
        if (s === undefined) continue;
        log(`${c.tag} ${mix}: ${Math.round(s.qps).toLocaleString('en-US')} qps (server CPU ${Math.round(s.serverCpuPct)}%, others ${Math.round(s.othersCpuPct)}% (steal ${Math.round(s.stealPct ?? 0)}%), idle peers ${(s.idlePeersCpuPct ?? 0).toFixed(1)}%, lost ${s.lost}, runs ${s.attempts}` +
          `${s.cacheHitPct !== undefined ? `, cache hits ${s.cacheHitPct.toFixed(1)}%` : ''}` +
          `${s.cachePassedPct !== undefined ? `, kept answers past the cache ${s.cachePassedPct.toFixed(1)}%` : ''})`);
      }
      if (process.env.BENCH_HEAP_STATS === '1' && measuring(c)) log(`${c.tag}: after the saturation runs: ${memoryLine(c.running.pid)}`);
    }
    const lat = settings.latency;
    for (let round = 0; round < lat.runs; round++) {
      for (const mix of lat.mixes) {
        await quiet(`fixed-rate round ${round + 1}, ${mix}`);
        for (const c of live) if (measuring(c) && (c.best.get(mix)?.result.qps ?? 0) > 0) await fixedRate(c, zoneData, mix, round, settings, beside(c));
      }
    }
    const results: PeerResult[] = [];
    for (const c of contenders) {
      if (!('running' in c)) { results.push(c); continue; }
      const mixes: MixResult[] = settings.mixes.map((mix) => {
        const leftOut = c.peer.leavesOut?.[mix];
        if (leftOut !== undefined) return { mix, saturation: null, latency: null, leftOut };
        const error = c.errors.get(mix);
        const rs = c.latencyRuns.get(mix) ?? [];
        const median = medianByP99(rs);
        const latency = median ? { ...median, runs: rs.length, p99sUs: rs.map((r) => r.p99Us), attempts: rs.reduce((n, r) => n + r.attempts, 0) } : null;
        return { mix, saturation: c.best.get(mix)?.result ?? null, latency, ...(error !== undefined && c.best.get(mix) === undefined ? { error } : {}) };
      });
      for (const m of mixes) {
        const l = m.latency;
        if (!l) continue;
        log(`${c.tag} ${m.mix}: @${Math.round(l.targetQps).toLocaleString('en-US')} qps p50 ${Math.round(l.p50Us)} µs p99 ${Math.round(l.p99Us)} µs p99.9 ${Math.round(l.p999Us)} µs ` +
          `(median p99 of ${l.runs}: ${l.p99sUs.map((v) => Math.round(v)).join(', ')} µs; others ${Math.round(l.othersCpuPct)}% (steal ${Math.round(l.stealPct ?? 0)}%), idle peers ${(l.idlePeersCpuPct ?? 0).toFixed(1)}%)` +
          (l.loop ? `; loop delay p99 ≤${l.loop.loopP99Ms} ms max ≤${l.loop.loopMaxMs} ms, GC ${l.loop.gcCount} pauses ${l.loop.gcTotalMs.toFixed(1)} ms` : ''));
      }
      const rss = alive(c.running.pid) ? peakRss(c.running.pid) : undefined;
      results.push({
        ...c.base,
        status: c.failure ? 'failed' : 'ok',
        ...(c.failure ? { reason: c.failure } : {}),
        startupMs: c.running.startupMs,
        ...(rss ? { peakRss: rss } : {}),
        sanity: c.sanity,
        mixes,
      });
    }
    return results;
  } finally {
    for (const c of contenders) if ('running' in c) await c.running.stop();
  }
}

/** Sizes at which a clusterdns variant already sat out its whole readiness bound: the others are not tried. */
const subjectTimedOut = new Set<number>();

function selectedPeers(args: Args): Peer[] {
  return ALL_PEERS.filter((p) => (args.peers ?? DEFAULT_PEERS).includes(p.name));
}

function peersFor(size: number, args: Args): { run: Peer[]; notRun: string[] } {
  const selected = selectedPeers(args);
  if (size < LARGE_SIZE || args.quick || (args.peers && !args.largePeers)) return { run: selected, notRun: [] };
  const large = args.largePeers ?? LARGE_PEERS;
  return { run: selected.filter((p) => large.includes(p.name)), notRun: selected.filter((p) => !large.includes(p.name)).map((p) => p.name) };
}

async function runSections(ctx: SectionContext, quick: boolean, only: readonly string[] | undefined): Promise<RenderedSection[]> {
  const out: RenderedSection[] = [];
  for (const [id, section] of EXTRA_SECTIONS) {
    if (only !== undefined ? !only.includes(id) : quick && !section.quick) continue;
    log(`section: ${section.title}`);
    try {
      out.push({ title: section.title, markdown: await section.run(ctx) });
    } catch (err) {
      out.push({ title: section.title, markdown: `Failed: ${errorMessage(err)}` });
    }
  }
  return out;
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  for (const tool of ['dnsperf', 'taskset']) {
    if (!findBinary(tool)) {
      console.error(`${tool} is not installed: run \`bash bench/install.sh\` first.`);
      process.exit(2);
    }
  }
  if (cpus().length < 2) log('warning: fewer than 2 CPUs; server (CPU 0) and dnsperf (CPU 1) cannot be separated, taskset -c 1 will fail');
  const settings = settingsFor(args);
  if (settings.nice !== 0) process.env.BENCH_NICE = String(settings.nice);
  const env = await environment();
  const started = performance.now();
  if (settings.retryWindowS !== null) retryDeadline = started + settings.retryWindowS * 1000;
  log(`bench ${settings.mode}: sizes ${settings.sizes.join(', ')}; mixes ${settings.mixes.join(', ')}; saturation ${settings.saturation.durationS} s, latency ${settings.latency.runs} × ${settings.latency.durationS} s` +
    (settings.latency.rtPriority > 0 ? ` at SCHED_FIFO ${settings.latency.rtPriority}` : (args.rt ?? LATENCY_RT_PRIORITY) > 0 ? ' (--rt: not root or no chrt, so normal scheduling)' : ' (normal scheduling: other jobs on the machine add to the tail; see --rt)'));

  const results: SizeResult[] = [];
  for (const size of settings.sizes) {
    const t0 = performance.now();
    const zoneData = generate({ services: size, outDir: path.join(WORK_DIR, `cluster-${size}`) });
    const generateMs = performance.now() - t0;
    log(`[${size}] generated ${zoneData.stats.records.toLocaleString('en-US')} records in ${Math.round(generateMs)} ms`);
    const { run, notRun } = peersFor(size, args);
    const peers = await benchPeers(run, zoneData, settings);
    const distinct = Object.fromEntries(settings.mixes.map((m) => [m, zoneData.mixes[m].distinct]));
    results.push({ services: size, stats: zoneData.stats, queryLines: zoneData.mixes[settings.mixes[0]!].lines, distinct, generateMs, peers, notRun });
  }

  let cached: ZoneData | null = null;
  const sections = await runSections({
    settings, environment: env, results,
    peers: selectedPeers(args),
    workDir: path.join(WORK_DIR, 'sections'),
    zoneData: (n) => {
      if (cached?.services !== n) cached = generate({ services: n, outDir: path.join(WORK_DIR, `cluster-${n}`) });
      return cached;
    },
  }, args.quick, args.sections);

  const markdown = renderReport(settings, env, results, sections, SUBJECT);
  console.log(markdown);
  if (args.save) {
    mkdirSync(RESULTS_DIR, { recursive: true });
    const stem = path.join(RESULTS_DIR, `${env.date}-${settings.mode}`);
    writeFileSync(`${stem}.md`, markdown);
    writeFileSync(`${stem}.json`, JSON.stringify({ settings, environment: env, results, sections }, null, 2));
    log(`wrote ${path.relative(process.cwd(), stem)}.md and .json`);
  }
  log(`done in ${Math.round((performance.now() - started) / 1000)} s`);
}

process.on('exit', killAllLaunched);
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.on(sig, () => { killAllLaunched(); process.exit(130); });
}
main().catch((err: unknown) => {
  killAllLaunched();
  console.error(err instanceof UsageError ? err.message : err instanceof Error ? err.stack ?? err.message : err);
  process.exit(1);
});
