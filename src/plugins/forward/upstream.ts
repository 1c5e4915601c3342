/**
 * @module plugins/forward/upstream
 * One upstream nameserver: how to reach it (a fresh UDP socket per query, a
 * TCP pool), and whether it is healthy. Every failed query or health probe
 * counts one fail, any answer resets the count; at `max_fails` consecutive
 * fails the upstream is down and queries skip it. A failure starts probing
 * in the background (`. IN NS`, or the `health_check domain`, every
 * `health_check` interval) until the upstream answers again.
 *
 * It also keeps the upstream's measured round-trip time (RFC 6298's smoothed
 * RTT and variance, as unbound's infra cache does) and from it the per-try
 * timeout: how long a query waits for this upstream before the next one is
 * asked too. Until it has measured anything the per-try timeout is
 * INITIAL_TRY_MS; each try that runs past it doubles it (up to the read
 * timeout) until an answer is measured again.
 */
import type { Counter, Histogram } from 'prom-client';
import { encodeQuery } from '../../dns/message.ts';
import { Type, rcodeName } from '../../dns/constants.ts';
import type { Logger } from '../../log/logger.ts';
import type { ForwardMetrics } from './metrics.ts';
import type { ConnectionOptions } from 'node:tls';
import type { DeadlineQueue } from './deadlines.ts';
import { TcpPool } from './tcp-pool.ts';
import { udpExchange, type UdpStats } from './udp-exchange.ts';
import { isTruncated, randomId, setId, UpstreamError, type UpstreamQuery } from './wire.ts';
import { errorMessage } from '../../errors/to-error.ts';

/** Health-probe read timeout (CoreDNS: 1s). */
const PROBE_TIMEOUT_MS = 1000;
/** Per-try timeout of an upstream not measured yet (unbound: 376 ms). */
export const INITIAL_TRY_MS = 400;
/** The per-try timeout never goes below this (unbound's minimum is 50 ms; a loaded host needs slack). */
export const MIN_TRY_MS = 100;

export type Proto = 'udp' | 'tcp';

export interface HealthOptions {
  /** Probe interval; 0 disables health checking (nothing is ever marked down). */
  readonly intervalMs: number;
  readonly maxFails: number;
  /** Probe name ('.' by default). */
  readonly domain: string;
  /** RD bit on probes (off with no_rec). */
  readonly recursionDesired: boolean;
  /** Probe over TCP (force_tcp). */
  readonly tcp: boolean;
}

export class Upstream {
  readonly host: string;
  readonly port: number;
  readonly family: 4 | 6;
  /** "127.0.0.1:53", "[::1]:53": the `to` label. */
  readonly label: string;
  readonly tcp: TcpPool;
  /** Consecutive failures (queries and probes) since the last answer. */
  fails = 0;
  readonly udpStats: UdpStats = { mismatched: 0, timeouts: 0 };
  readonly #health: HealthOptions;
  readonly #metrics: ForwardMetrics;
  readonly #log: Logger;
  readonly #duration: (Histogram.Internal<string> | undefined)[] = [];
  readonly #udpMiss: Counter.Internal;
  readonly #hcFailures: Counter.Internal;
  #probeTimer: NodeJS.Timeout | null = null;
  #closed = false;

  readonly #deadlines: DeadlineQueue;
  readonly #readTimeoutMs: number;
  /** Smoothed RTT and its variance (ms); srtt < 0: not measured yet. */
  #srtt = -1;
  #rttvar = 0;
  /** Current per-try timeout (ms). */
  #tryMs: number;

  /** DNS over TLS: every query goes over the pooled TLS connections. */
  readonly tls: ConnectionOptions | null;

  constructor(
    host: string, port: number, health: HealthOptions, expireMs: number, metrics: ForwardMetrics, log: Logger,
    deadlines: DeadlineQueue, readTimeoutMs: number, tls: ConnectionOptions | null = null,
  ) {
    this.tls = tls;
    this.#deadlines = deadlines;
    this.#readTimeoutMs = readTimeoutMs;
    this.#tryMs = Math.min(INITIAL_TRY_MS, readTimeoutMs);
    this.host = host;
    this.port = port;
    this.family = host.includes(':') ? 6 : 4;
    this.label = this.family === 6 ? `[${host}]:${port}` : `${host}:${port}`;
    this.#health = health;
    this.#metrics = metrics;
    this.#log = log;
    // CoreDNS's proto label for DNS over TLS is "tcp-tls".
    const proto = tls === null ? 'tcp' : 'tcp-tls';
    const hits = metrics.connCacheHits.labels('forward', this.label, proto);
    const misses = metrics.connCacheMisses.labels('forward', this.label, proto);
    this.tcp = new TcpPool(this, expireMs, { hit: () => hits.inc(), miss: () => misses.inc() }, deadlines);
    this.#udpMiss = metrics.connCacheMisses.labels('forward', this.label, 'udp');
    this.#hcFailures = metrics.healthcheckFailures.labels('forward', this.label);
  }

  /** Down: `max_fails` consecutive failures and health checking on. */
  get down(): boolean {
    const h = this.#health;
    return h.maxFails > 0 && h.intervalMs > 0 && this.fails >= h.maxFails;
  }

  /**
   * One exchange: over `proto`, and when a UDP answer comes back truncated,
   * again over TCP. A pooled TCP connection the upstream closed meanwhile is
   * retried once on a new one. Rejects with UpstreamError.
   */
  async exchange(query: UpstreamQuery, proto: Proto, timeoutMs: number): Promise<Buffer> {
    if (proto === 'udp' && this.tls === null) {
      this.#udpMiss.inc(); // every UDP query has a socket of its own: never a cached connection
      const reply = await udpExchange(this, query, timeoutMs, this.#deadlines, this.udpStats);
      if (!isTruncated(reply)) return reply;
      setId(query.bytes, randomId()); // a new ID for the TCP retry; the pool keeps it unique per connection
    }
    const reused = this.tcp.hasOpen();
    try {
      return await this.tcp.exchange(query, timeoutMs);
    } catch (e) {
      const code = (e as UpstreamError).code;
      if (reused && (code === 'ECLOSED' || code === 'ECONNRESET' || code === 'EPIPE')) return this.tcp.exchange(query, timeoutMs);
      throw e;
    }
  }

  /** Observe a finished exchange (coredns_proxy_request_duration_seconds{to,rcode}). */
  observe(rcode: number, seconds: number): void {
    let h = this.#duration[rcode];
    if (h === undefined) {
      h = this.#metrics.requestDuration.labels('forward', this.label, rcodeName(rcode));
      this.#duration[rcode] = h;
    }
    h.observe(seconds);
  }

  /** How long a query waits for this upstream before asking the next one too (ms). */
  get tryTimeoutMs(): number {
    return this.#tryMs;
  }

  /** Smoothed round-trip time in ms, or null before the first answer. */
  get srttMs(): number | null {
    return this.#srtt < 0 ? null : this.#srtt;
  }

  /** An answer came back after `rttMs`: healthy again, and one more RTT sample. */
  succeeded(rttMs: number): void {
    this.fails = 0;
    if (this.#srtt < 0) {
      this.#srtt = rttMs;
      this.#rttvar = rttMs / 2;
    } else {
      this.#rttvar = 0.75 * this.#rttvar + 0.25 * Math.abs(this.#srtt - rttMs);
      this.#srtt = 0.875 * this.#srtt + 0.125 * rttMs;
    }
    this.#tryMs = Math.min(this.#readTimeoutMs, Math.max(MIN_TRY_MS, this.#srtt + 4 * this.#rttvar));
  }

  /** A try ran past the per-try timeout: back off (double it, up to the read timeout) and count a failure. */
  tryTimedOut(): void {
    this.#tryMs = Math.min(this.#readTimeoutMs, this.#tryMs * 2);
    this.failed();
  }

  /** A query failed: count it and start probing. */
  failed(): void {
    if (this.#health.intervalMs <= 0 || this.#health.maxFails <= 0) return;
    this.fails++;
    this.#startProbing();
  }

  #startProbing(): void {
    if (this.#probeTimer !== null || this.#closed) return;
    this.#probeTimer = setTimeout(() => { void this.#probe(); }, this.#health.intervalMs);
    this.#probeTimer.unref();
  }

  async #probe(): Promise<void> {
    const h = this.#health;
    const bytes = encodeQuery(h.domain, Type.NS, { id: randomId(), rd: h.recursionDesired });
    const query: UpstreamQuery = { bytes, questionEnd: bytes.length };
    let ok = true;
    try {
      await (h.tcp || this.tls !== null ? this.tcp.exchange(query, PROBE_TIMEOUT_MS) : udpExchange(this, query, PROBE_TIMEOUT_MS, this.#deadlines));
    } catch (e) {
      ok = false;
      this.#hcFailures.inc();
      this.#log.debug(`health check of ${this.label} failed: ${errorMessage(e)}`);
    }
    this.#probeTimer = null;
    if (this.#closed) return;
    if (ok) {
      if (this.fails >= h.maxFails) this.#log.info(`upstream ${this.label} is healthy again`);
      this.fails = 0;
      return;
    }
    this.fails++;
    this.#startProbing();
  }

  /** Whether a background probe is scheduled or running (tests). */
  get probing(): boolean {
    return this.#probeTimer !== null;
  }

  close(): void {
    this.#closed = true;
    if (this.#probeTimer) clearTimeout(this.#probeTimer);
    this.#probeTimer = null;
    this.tcp.close();
  }
}
