/**
 * @module server/dns-server
 * Owns the listeners and the running configuration generation. Starting a
 * generation runs its startup hooks, then opens what it needs; a reload
 * builds and starts the new generation completely, keeps every listener
 * whose address and port are unchanged (only their routes are swapped, in
 * one synchronous step), opens new ones, closes dropped ones, and only then
 * stops the old generation. If anything fails the old one keeps serving.
 */
import type { ConfigGeneration, ListenerSpec } from '../config/build.ts';
import type { Logger } from '../log/logger.ts';
import type { BoundAddress } from '../plugin/plugin.ts';
import { processLoopDelay } from './loop-delay.ts';
import { ServeStats } from './serve.ts';
import { TcpListener, DEFAULT_TCP_OPTIONS, type TcpOptions } from './tcp-listener.ts';
import { UdpListener } from './udp-listener.ts';
import { udpPathChoice, type UdpBatchAddon } from './udp-batch/addon.ts';
import { BatchUdpListener } from './udp-batch/batch-listener.ts';
import { errorMessage } from '../errors/to-error.ts';

interface ListenerPair {
  readonly key: string;
  readonly spec: ListenerSpec;
  readonly udp: UdpListener | BatchUdpListener;
  readonly tcp: TcpListener;
  readonly port: number;
}

export interface DnsServerOptions {
  readonly logger: Logger;
  readonly tcp?: TcpOptions | undefined;
  /** SO_REUSEPORT on UDP and TCP sockets, for one socket per worker on the same port. */
  readonly reusePort?: boolean | undefined;
  /**
   * false: run configurations (their startup and shutdown hooks) without
   * opening any DNS listener: the primary of a worker pool, whose workers
   * serve DNS. Default true.
   */
  readonly listen?: boolean | undefined;
  /**
   * The native UDP addon (recvmmsg/sendmmsg) to use; null: node:dgram. Absent: the
   * default choice (udpPathChoice: the addon on Linux when it loads, else
   * node:dgram), made when the first listener opens (udpPathMessage).
   */
  readonly udpBatch?: UdpBatchAddon | null | undefined;
}

export class DnsServer {
  readonly stats: ServeStats;
  readonly #opts: DnsServerOptions;
  readonly #listeners = new Map<string, ListenerPair>();
  #generation: ConfigGeneration | null = null;
  /** The addon UDP listeners use (null: node:dgram), chosen when the first one opens. */
  #udpBatch: UdpBatchAddon | null | undefined;
  #udpPathMessage = '';
  /** This server counts as a user of the process's event-loop delay histogram (while it serves). */
  #measuringLoop = false;

  constructor(opts: DnsServerOptions) {
    this.#opts = opts;
    this.stats = new ServeStats(opts.logger);
    if (opts.udpBatch !== undefined) this.#udpBatch = opts.udpBatch;
  }

  /** The UDP path, chosen once, when the first listener opens (a primary without listeners never loads the addon). */
  #udpPath(): UdpBatchAddon | null {
    if (this.#udpPathMessage === '') {
      if (this.#udpBatch === undefined) {
        const choice = udpPathChoice();
        this.#udpBatch = choice.addon;
        this.#udpPathMessage = choice.message;
      } else if (this.#udpBatch === null) {
        this.#udpPathMessage = 'UDP on node:dgram, as asked';
      } else {
        this.#udpPathMessage = `UDP on batched I/O (recvmmsg/sendmmsg, up to ${this.#udpBatch.BATCH} datagrams a call), as asked`;
      }
    }
    return this.#udpBatch ?? null;
  }

  /**
   * The start-up line saying which UDP path serves ('' before any listener
   * opened): "UDP on batched I/O (...)" or "UDP on node:dgram (why)". The
   * process prints it with its other start-up lines.
   */
  get udpPathMessage(): string {
    return this.#udpPathMessage;
  }

  get generation(): ConfigGeneration | null {
    return this.#generation;
  }

  /** Which UDP path the listeners use: 'batch' (recvmmsg/sendmmsg) or 'dgram'; null before any listener opened. */
  get udpPath(): 'batch' | 'dgram' | null {
    if (this.#udpPathMessage === '') return null;
    return this.#udpBatch ? 'batch' : 'dgram';
  }

  /** Start `gen` (first start or reload). Throws, leaving the running generation in place, when it cannot start. */
  async apply(gen: ConfigGeneration): Promise<void> {
    try {
      await Promise.all(gen.startup.map((fn) => fn()));
    } catch (e) {
      await runAll(gen.shutdown, this.#opts.logger);
      throw e;
    }
    const listen = this.#opts.listen ?? true;
    const wanted = new Map(listen ? gen.listeners.map((l) => [keyOf(l), l]) : []);
    const opened: ListenerPair[] = [];
    try {
      for (const [key, spec] of wanted) {
        if (!this.#listeners.has(key)) opened.push(await this.#open(key, spec));
      }
    } catch (e) {
      await Promise.all(opened.map((p) => closePair(p)));
      await runAll(gen.shutdown, this.#opts.logger);
      throw e;
    }
    // The swap: synchronous, so no query sees half of it.
    for (const [key, spec] of wanted) {
      const pair = this.#listeners.get(key);
      if (pair) {
        pair.udp.routes = spec.routes;
        pair.tcp.routes = spec.routes;
        this.#listeners.set(key, { ...pair, spec });
      }
    }
    for (const p of opened) this.#listeners.set(p.key, p);
    if (listen && !this.#measuringLoop) { this.#measuringLoop = true; processLoopDelay().acquire(); }
    const dropped = [...this.#listeners.values()].filter((p) => !wanted.has(p.key));
    for (const p of dropped) this.#listeners.delete(p.key);
    const old = this.#generation;
    this.#generation = gen;
    await Promise.all(dropped.map((p) => closePair(p)));
    if (old) await runAll(old.shutdown, this.#opts.logger);
    if (listen) this.#announceListening(gen);
  }

  /** Tell each block of `gen` where it is being served now (its listening hooks). */
  #announceListening(gen: ConfigGeneration): void {
    for (const block of gen.blocks) {
      if (block.listening.length === 0) continue;
      const bound: BoundAddress[] = [];
      for (const p of this.#listeners.values()) {
        if (p.spec.routes.some((r) => r.block === block)) bound.push({ address: p.spec.address, port: p.port });
      }
      for (const fn of block.listening) {
        try { fn(bound); } catch (e) { this.#opts.logger.error(`listening hook failed: ${errorMessage(e)}`); }
      }
    }
  }

  async #open(key: string, spec: ListenerSpec): Promise<ListenerPair> {
    // UDP and TCP share one port number; with port 0 the kernel picks it for UDP and TCP follows.
    for (let attempt = 0; ; attempt++) {
      const batch = this.#udpPath();
      const udp = batch !== null ? new BatchUdpListener(batch, spec.routes, this.stats) : new UdpListener(spec.routes, this.stats);
      const port = await udp.listen(spec.address, spec.port, this.#opts.reusePort ?? false);
      const tcp = new TcpListener(spec.routes, this.stats, this.#opts.tcp ?? DEFAULT_TCP_OPTIONS);
      try {
        await tcp.listen(spec.address, port, this.#opts.reusePort ?? false);
        return { key, spec, udp, tcp, port };
      } catch (e) {
        await udp.close();
        if (spec.port !== 0 || attempt >= 10) throw e;
      }
    }
  }

  /** Open TCP connections over every listener (the connection limit applies per listener). */
  get tcpConnectionCount(): number {
    let n = 0;
    for (const p of this.#listeners.values()) n += p.tcp.connectionCount;
    return n;
  }

  /** Bound ports, by "address|port" as configured; for tests and the startup banner. */
  boundPorts(): { address: string; configuredPort: number; port: number; recvBufferBytes: number | null }[] {
    return [...this.#listeners.values()].map((p) => ({
      address: p.spec.address, configuredPort: p.spec.port, port: p.port,
      recvBufferBytes: p.udp.recvBufferBytes,
    }));
  }

  /** Stop accepting, let in-flight queries finish (up to graceMs), close everything. */
  async shutdown(graceMs = 5000): Promise<void> {
    const pairs = [...this.#listeners.values()];
    this.#listeners.clear();
    for (const p of pairs) p.udp.drain();
    const tcpClosed = Promise.all(pairs.map((p) => p.tcp.close()));
    const deadline = Date.now() + graceMs;
    while (this.stats.inflight > 0 && Date.now() < deadline) await sleep(10);
    await settledWithin(tcpClosed, deadline - Date.now());
    for (const p of pairs) p.tcp.destroyAll();
    await Promise.all(pairs.map((p) => p.udp.close()));
    const gen = this.#generation;
    this.#generation = null;
    if (gen) await runAll(gen.shutdown, this.#opts.logger);
    this.stats.panicLog.flush();
    if (this.#measuringLoop) { this.#measuringLoop = false; processLoopDelay().release(); }
  }
}

function keyOf(l: ListenerSpec): string {
  return `${l.address}|${l.port}`;
}

async function closePair(p: ListenerPair): Promise<void> {
  await p.udp.close();
  await p.tcp.close();
  p.tcp.destroyAll();
}

async function runAll(fns: readonly (() => Promise<void> | void)[], logger: Logger): Promise<void> {
  await Promise.all(fns.map(async (fn) => {
    try { await fn(); } catch (e) { logger.error(`shutdown hook failed: ${errorMessage(e)}`); }
  }));
}

/** Waits for `p` but at most `ms`; the timer is cleared when `p` wins, so nothing is left to hold the process open. */
function settledWithin(p: Promise<unknown>, ms: number): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(resolve, Math.max(0, ms));
    p.then(() => { clearTimeout(t); resolve(); }, () => { clearTimeout(t); resolve(); });
  });
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
