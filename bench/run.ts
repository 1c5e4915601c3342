/**
 * @module bench/run
 * The benchmark harness: clusterdns side by side with peer DNS servers (Knot,
 * NSD, Unbound, dnsmasq, a Go miekg/dns map server) on the same synthetic
 * cluster, reported as ratios. For each cluster size, each peer, each query
 * mix: dnsperf at saturation (with clusterdns's cache hit ratio from its
 * /metrics), then dnsperf at a fixed 5,000 q/s for p50/p99/p99.9 latency;
 * plus start-to-first-answer time and peak RSS; then the extra sections
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
import { sanityCheck } from './check.ts';
import { cpuSeconds, machineBusySeconds, NOISY_CPU_PCT, peakRss, processTree } from './proc.ts';
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

/** Runs fn and tells the server's CPU use and everyone else's (besides dnsperf) meanwhile, % of one core. */
async function withCpu<T extends { clientCpuS: number }>(pid: number, fn: () => Promise<T>): Promise<{ r: T; serverCpuPct: number; othersCpuPct: number }> {
  const server0 = cpuSeconds(pid);
  const busy0 = machineBusySeconds();
  const t0 = performance.now();
  const r = await fn();
  const wallS = (performance.now() - t0) / 1000;
  const server = cpuSeconds(pid) - server0;
  const others = machineBusySeconds() - busy0 - server - (Number.isFinite(r.clientCpuS) ? r.clientCpuS : 0);
  return { r, serverCpuPct: (100 * server) / wallS, othersCpuPct: Math.max(0, (100 * others) / wallS) };
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

/** Saturation runs of one mix (best of the repeats, disturbed runs retried). */
async function benchMix(peer: Peer, running: RunningPeer, zoneData: ZoneData, mix: Mix, settings: BenchSettings): Promise<MixResult> {
  const { pid, port } = running;
  const cache = <T>(fn: () => Promise<T>): ReturnType<typeof withMetrics<T>> => withMetrics(running, fn);
  const file = zoneData.mixes[mix].path;
  const out = (kind: string): string => dnsperfOut(zoneData, peer, mix, kind);
  const sat = settings.saturation;
  const common = { port, file, clients: sat.clients, outstanding: sat.outstanding };
  if (sat.warmupS > 0) await runDnsperf({ ...common, durationS: sat.warmupS, outFile: out('warmup') });

  let saturation: SaturationResult | null = null;
  for (let i = 0, retries = 0; ; i++) {
    const c = await cache(() => withCpu(pid, () => runDnsperf({ ...common, durationS: sat.durationS, outFile: out(`saturation-${i}`) })));
    const m = c.r;
    if (saturation === null || m.r.qps > saturation.qps) {
      saturation = {
        ...m.r, serverCpuPct: m.serverCpuPct, othersCpuPct: m.othersCpuPct, attempts: 0,
        rcodeMatchPct: rcodeMatch(m.r.rcodes, m.r.completed, zoneData.mixes[mix].expectedRcodes),
        ...(c.cacheHitPct !== undefined ? { cacheHitPct: c.cacheHitPct } : {}),
        ...(c.cachePassedPct !== undefined ? { cachePassedPct: c.cachePassedPct } : {}),
      };
    }
    saturation = { ...saturation, attempts: i + 1 };
    if (i + 1 < sat.repeats) continue;
    if (!mayRetry(settings, retries, m.othersCpuPct)) break;
    retries++;
  }
  return { mix, saturation, latency: null };
}

type KeptLatency = NonNullable<MixResult['latency']>;

/**
 * The fixed-rate runs of every mix, after all saturation runs: `runs` rounds,
 * each round one run per mix in turn (so a disturbed stretch of time hits
 * different mixes, not all runs of one), each run after an untimed warm-up at
 * the same rate; per mix the run with the median p99 is kept. A disturbed run
 * (others over NOISY_CPU_PCT) is retried as the saturation runs are. With a
 * real-time priority the server's threads and dnsperf run real-time for this
 * phase only (setRealtime, realtimeArgs), so other jobs cannot preempt them.
 */
async function benchLatency(peer: Peer, running: RunningPeer, zoneData: ZoneData, mixes: readonly MixResult[], settings: BenchSettings): Promise<Map<Mix, KeptLatency>> {
  const lat = settings.latency;
  const todo = mixes.filter((m) => lat.mixes.includes(m.mix) && (m.saturation?.qps ?? 0) > 0).map((m) => m.mix);
  const runs = new Map<Mix, KeptLatency[]>(todo.map((m) => [m, []]));
  if (todo.length === 0) return new Map();
  const rt = lat.rtPriority;
  if (rt > 0) await setRealtime(processTree(running.pid), rt);
  try {
    for (let round = 0; round < lat.runs; round++) {
      for (const mix of todo) {
        const common = { port: running.port, file: zoneData.mixes[mix].path, clients: settings.saturation.clients, outstanding: settings.saturation.outstanding, rateQps: lat.rateQps, rtPriority: rt };
        for (let retry = 0; ; retry++) {
          const outFile = dnsperfOut(zoneData, peer, mix, `latency-${round}-${retry}`);
          if (lat.warmupS > 0) await runDnsperf({ ...common, durationS: lat.warmupS, outFile });
          const c = await withMetrics(running, () => withCpu(running.pid, () => measureLatency({ ...common, durationS: lat.durationS, outFile })));
          const m = c.r;
          // Under SCHED_FIFO other jobs cannot preempt the server or dnsperf: their CPU share is reported, not retried.
          const disturbed = rt === 0 && mayRetry(settings, retry, m.othersCpuPct);
          if (!disturbed) {
            runs.get(mix)!.push({
              ...m.r, othersCpuPct: m.othersCpuPct, attempts: retry + 1, runs: 0, p99sUs: [],
              ...(c.cacheHitPct !== undefined ? { cacheHitPct: c.cacheHitPct } : {}),
              ...(c.loop !== undefined ? { loop: c.loop } : {}),
            });
            break;
          }
        }
      }
    }
  } finally {
    if (rt > 0 && alive(running.pid)) await setRealtime(processTree(running.pid), 0);
  }
  const kept = new Map<Mix, KeptLatency>();
  for (const [mix, rs] of runs) {
    const median = medianByP99(rs);
    if (median) kept.set(mix, { ...median, runs: rs.length, p99sUs: rs.map((r) => r.p99Us), attempts: rs.reduce((n, r) => n + r.attempts, 0) });
  }
  return kept;
}

/** Sizes at which a clusterdns variant already sat out its whole readiness bound: the others are not tried. */
const subjectTimedOut = new Set<number>();

async function benchPeer(peer: Peer, zoneData: ZoneData, settings: BenchSettings): Promise<PeerResult> {
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
  const mixes: MixResult[] = [];
  let sanity;
  let failure: string | null = null;
  let rss;
  try {
    sanity = await sanityCheck(running.port, zoneData, settings.mixes.filter((m) => peer.leavesOut?.[m] === undefined));
    if (sanity.failed > 0) log(`${tag}: sanity ${sanity.failed}/${sanity.checked} wrong, e.g. ${sanity.examples[0]}`);
    for (const mix of settings.mixes) {
      const leftOut = peer.leavesOut?.[mix];
      if (leftOut !== undefined) {
        mixes.push({ mix, saturation: null, latency: null, leftOut });
        log(`${tag} ${mix}: left out: ${leftOut}`);
        continue;
      }
      try {
        const m = await benchMix(peer, running, zoneData, mix, settings);
        mixes.push(m);
        const s = m.saturation!;
        log(`${tag} ${mix}: ${Math.round(s.qps).toLocaleString('en-US')} qps (server CPU ${Math.round(s.serverCpuPct)}%, others ${Math.round(s.othersCpuPct)}%, lost ${s.lost}, runs ${s.attempts}` +
          `${s.cacheHitPct !== undefined ? `, cache hits ${s.cacheHitPct.toFixed(1)}%` : ''}` +
          `${s.cachePassedPct !== undefined ? `, kept answers past the cache ${s.cachePassedPct.toFixed(1)}%` : ''})`);
      } catch (err) {
        mixes.push({ mix, saturation: null, latency: null, error: errorMessage(err) });
        log(`${tag} ${mix}: error: ${errorMessage(err).split('\n')[0]}`);
      }
      if (!alive(running.pid)) { failure = `process exited during the ${mix} run; see ${running.logFile}`; break; }
    }
    if (failure === null) {
      try {
        const kept = await benchLatency(peer, running, zoneData, mixes, settings);
        for (let i = 0; i < mixes.length; i++) {
          const m = mixes[i]!;
          const l = kept.get(m.mix);
          if (!l) continue;
          mixes[i] = { ...m, latency: l };
          log(`${tag} ${m.mix}: @${Math.round(l.targetQps).toLocaleString('en-US')} qps p50 ${Math.round(l.p50Us)} µs p99 ${Math.round(l.p99Us)} µs p99.9 ${Math.round(l.p999Us)} µs ` +
            `(median p99 of ${l.runs}: ${l.p99sUs.map((v) => Math.round(v)).join(', ')} µs; others ${Math.round(l.othersCpuPct)}%)` +
            (l.loop ? `; loop delay p99 ≤${l.loop.loopP99Ms} ms max ≤${l.loop.loopMaxMs} ms, GC ${l.loop.gcCount} pauses ${l.loop.gcTotalMs.toFixed(1)} ms` : ''));
        }
      } catch (err) {
        log(`${tag} latency: error: ${errorMessage(err).split('\n')[0]}`);
      }
      if (!alive(running.pid)) failure = `process exited during the latency runs; see ${running.logFile}`;
    }
    rss = alive(running.pid) ? peakRss(running.pid) : undefined;
  } finally {
    await running.stop();
  }
  return {
    ...base,
    status: failure ? 'failed' : 'ok',
    ...(failure ? { reason: failure } : {}),
    startupMs: running.startupMs,
    ...(rss ? { peakRss: rss } : {}),
    ...(sanity ? { sanity } : {}),
    mixes,
  };
}

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
    const peers: PeerResult[] = [];
    for (const peer of run) {
      if (settings.waitQuietS > 0) {
        const w = await waitQuiet(settings.waitQuietS);
        if (w > 1.5) log(`[${size}] waited ${Math.round(w)} s for other processes to calm down${w >= settings.waitQuietS ? ' (gave up)' : ''}`);
      }
      peers.push(await benchPeer(peer, zoneData, settings));
    }
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
