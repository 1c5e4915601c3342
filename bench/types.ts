/**
 * @module bench/types
 * Shapes of the harness's results (also written as JSON next to the markdown
 * report) and the contract for extra report sections such as a memory bench.
 */

import type { Mix, ZoneData } from './cluster-gen.ts';
import type { DnsperfResult } from './dnsperf.ts';
import type { LatencyResult } from './latency.ts';
import type { LoopAndGcDelta } from './metrics-scrape.ts';
import type { PeakRss } from './proc.ts';
import type { SanityResult } from './check.ts';
import type { Peer } from './peers/types.ts';

export interface SaturationResult extends DnsperfResult {
  /** Server process tree CPU use during the run, % of one core (it is pinned to one). */
  readonly serverCpuPct: number;
  /** How far the answer rcodes match the query file's expected shares (100 = exactly). */
  readonly rcodeMatchPct: number;
  /** CPU other processes on the machine used meanwhile, % of one core (0-200 on 2 cores): noise. */
  readonly othersCpuPct: number;
  /** Time this VM's CPUs waited for the host (steal in /proc/stat), % of one core: noise the processes' CPU times do not show. */
  readonly stealPct?: number;
  /** CPU the other peers, idle beside this one, used meanwhile (not part of othersCpuPct). */
  readonly idlePeersCpuPct?: number;
  /** Runs made (repeats plus retries of disturbed runs); the one with the highest QPS is kept. */
  readonly attempts: number;
  /** Share of queries the answer cache answered during the run (coredns_cache_hits_total ÷ hits+misses), for servers with /metrics. */
  readonly cacheHitPct?: number;
  /** Share of queries the cache let pass because the kubernetes plugin keeps their answers (clusterdns_cache_passed_total ÷ hits+misses). */
  readonly cachePassedPct?: number;
}

export interface MixResult {
  readonly mix: Mix;
  readonly saturation: SaturationResult | null;
  /** The run with the median p99 of its runs (disturbed attempts retried, not counted). */
  readonly latency: (LatencyResult & {
    readonly othersCpuPct: number; readonly stealPct?: number; readonly idlePeersCpuPct?: number;
    readonly attempts: number; readonly cacheHitPct?: number;
    /** Runs the median was taken over, and each one's p99 (µs), in run order. */
    readonly runs: number;
    readonly p99sUs: readonly number[];
    /** The server's event-loop delay and GC pauses during the kept run (servers with clusterdns's /metrics). */
    readonly loop?: LoopAndGcDelta;
  }) | null;
  readonly error?: string;
  /** Not run: the peer is not fed this mix's data (see Peer.leavesOut). */
  readonly leftOut?: string;
}

export interface PeerResult {
  readonly peer: string;
  readonly description: string;
  readonly version: string | null;
  readonly status: 'ok' | 'skipped' | 'failed';
  /** Why it was skipped or failed. */
  readonly reason?: string;
  readonly startupMs?: number;
  readonly peakRss?: PeakRss;
  readonly sanity?: SanityResult;
  readonly mixes: MixResult[];
}

export interface SizeResult {
  readonly services: number;
  readonly stats: ZoneData['stats'];
  readonly queryLines: number;
  /** Distinct (name, type) pairs per mix's query file. */
  readonly distinct: Readonly<Partial<Record<Mix, number>>>;
  readonly generateMs: number;
  readonly peers: PeerResult[];
  /** Peers left out at this size on purpose (time budget), not failures. */
  readonly notRun: readonly string[];
}

export interface BenchSettings {
  readonly mode: 'quick' | 'full';
  readonly sizes: readonly number[];
  readonly mixes: readonly Mix[];
  readonly saturation: { readonly durationS: number; readonly repeats: number; readonly warmupS: number; readonly clients: number; readonly outstanding: number };
  /** Extra attempts allowed for a run disturbed by other processes (quick mode: only within its time budget). */
  readonly retriesWhenNoisy: number;
  /** Retries only happen this many seconds into the run (null: always). */
  readonly retryWindowS: number | null;
  /** Before each peer, wait up to this long for the machine to be quiet (0: don't). */
  readonly waitQuietS: number;
  /** The fixed-rate run: dnsperf -Q rateQps, the same rate for every peer. */
  readonly latency: {
    readonly durationS: number; readonly rateQps: number; readonly mixes: readonly Mix[];
    /** Runs per mix (interleaved over the mixes), the median p99 kept; untimed warm-up before each, seconds. */
    readonly runs: number; readonly warmupS: number;
    /** SCHED_FIFO priority of the server and dnsperf during these runs; 0: normal scheduling. */
    readonly rtPriority: number;
  };
  /** nice value the servers and dnsperf ran at (0 = not reniced). */
  readonly nice: number;
}

export interface BenchEnvironment {
  readonly date: string;
  readonly cpuModel: string;
  readonly cores: number;
  readonly memGiB: number;
  readonly kernel: string;
  readonly node: string;
  readonly dnsperf: string | null;
}

/** What an extra section gets to work with. */
export interface SectionContext {
  readonly settings: BenchSettings;
  readonly environment: BenchEnvironment;
  /** Results of the throughput/latency part, already measured. */
  readonly results: readonly SizeResult[];
  /** The generated cluster for n services (cached on disk; regenerated in memory, ~4 s at 100k). */
  zoneData(services: number): ZoneData;
  /** Peers selected for this run (after --peers). */
  readonly peers: readonly Peer[];
  /** Scratch directory for the section (under bench/work/). */
  readonly workDir: string;
}

/**
 * A further part of the report (e.g. the memory bench): runs after the
 * throughput/latency part and returns markdown placed under `## title`.
 * A section that throws is reported as failed; the rest of the report stands.
 */
export interface ExtraSection {
  readonly title: string;
  /** Also run in --quick mode? */
  readonly quick: boolean;
  run(ctx: SectionContext): Promise<string>;
}
