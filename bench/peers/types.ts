/**
 * @module bench/peers/types
 * The contract every benchmarked DNS server implements: write its config into
 * a work dir, start pinned to CPU 0 on 127.0.0.1 with a free port, resolve
 * once it answers `dns-version.cluster.local TXT`, and stop on request.
 */

import type { Mix, ZoneData } from '../cluster-gen.ts';

export interface RunningPeer {
  readonly port: number;
  readonly pid: number;
  /** Milliseconds from spawning the process to its first answer. */
  readonly startupMs: number;
  /** Where the process's stdout/stderr go. */
  readonly logFile: string;
  /** Prometheus endpoint, for servers that have one (the cache hit ratio comes from it). */
  readonly metricsUrl?: string;
  stop(): Promise<void>;
}

export interface Peer {
  readonly name: string;
  /** One line for the report: what it is and how it is fed. */
  readonly description: string;
  /** Version string of the binary, or null when it cannot be told. */
  version(): Promise<string | null>;
  /**
   * Starts the server on zoneData in workDir (created, may be reused).
   * Rejects with a readable reason when the server cannot run here
   * (binary missing, build failed, no answer in time, exited early).
   */
  start(zoneData: ZoneData, workDir: string): Promise<RunningPeer>;
  /** Mixes this server is not fed the data for, with the reason (the report says so; not run). */
  readonly leavesOut?: Readonly<Partial<Record<Mix, string>>>;
}
