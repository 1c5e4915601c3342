/**
 * @module server/workers/pool
 * The primary's workers (node:cluster processes): forks them, waits until
 * each serves, restarts one that dies (after a short backoff that grows while
 * it keeps dying), routes their messages (cluster-state subscriptions to the
 * StateHub), and reaches all of them for a reload, a metrics scrape or a
 * stop. A worker that fails a reload is replaced by a fresh one, which starts
 * from the Corefile as it is now.
 */
import cluster, { type Worker } from 'node:cluster';
import type { Logger } from '../../log/logger.ts';
import {
  isProtocolMessage, WORKER_HTTP_ENV, WORKER_INDEX_ENV, type MetricsJson, type StatePeer, type ToPrimary, type ToWorker,
} from './messages.ts';
import type { StateHub } from './state-hub.ts';

/** Longest wait for a worker to serve after it was forked (its configuration's startup waits for a first sync). */
export const WORKER_START_TIMEOUT_MS = 120_000;
/** Longest wait for a worker's reply to a reload or a metrics request. */
const RELOAD_TIMEOUT_MS = 60_000;
const METRICS_TIMEOUT_MS = 3_000;
/** Restart backoff: doubles per death within RESTART_WINDOW_MS, up to the cap. */
const RESTART_BASE_MS = 100;
const RESTART_CAP_MS = 10_000;
const RESTART_WINDOW_MS = 60_000;

class Slot implements StatePeer {
  readonly index: number;
  worker: Worker | null = null;
  listening = false;
  /** When it died recently: the restart backoff grows with these. */
  deaths: number[] = [];
  restartTimer: NodeJS.Timeout | null = null;

  constructor(index: number) {
    this.index = index;
  }

  send(msg: ToWorker): void {
    const w = this.worker;
    if (w !== null && w.isConnected()) w.send(msg);
  }
}

interface Waiter {
  readonly slot: Slot;
  readonly resolve: (msg: ToPrimary) => void;
}

export interface PoolOptions {
  readonly size: number;
  readonly hub: StateHub;
  readonly logger: Logger;
  /** The primary's HTTP listeners now ([address, port]): handed to each worker. */
  readonly httpPorts: () => [string, number][];
  /** A worker reported an unrecoverable condition (a detected loop): the whole server must stop. */
  readonly onFatal: (message: string) => void;
}

export class WorkerPool {
  readonly #opts: PoolOptions;
  readonly #slots: Slot[];
  readonly #waiters = new Map<number, Waiter>();
  #nextId = 1;
  #stopping = false;
  /** Settles the first start: every worker serving, or the first failure. */
  #started: { resolve: () => void; reject: (e: Error) => void } | null = null;

  constructor(opts: PoolOptions) {
    this.#opts = opts;
    this.#slots = Array.from({ length: opts.size }, (_, i) => new Slot(i));
    // Structured clone: cluster records and metric objects travel as they are.
    cluster.setupPrimary({ serialization: 'advanced' });
  }

  get size(): number {
    return this.#slots.length;
  }

  /** Process ids of the live workers, by slot (0 for none). */
  get pids(): number[] {
    return this.#slots.map((s) => s.worker?.process.pid ?? 0);
  }

  /** Forks every worker; resolves once all serve, rejects (with the worker's reason) if one cannot start. */
  start(): Promise<void> {
    const done = new Promise<void>((resolve, reject) => { this.#started = { resolve, reject }; });
    const timer = setTimeout(() => this.#failStart(new Error(`workers did not start within ${WORKER_START_TIMEOUT_MS / 1000}s`)), WORKER_START_TIMEOUT_MS);
    timer.unref();
    for (const s of this.#slots) this.#fork(s);
    return done.finally(() => clearTimeout(timer));
  }

  #failStart(e: Error): void {
    const started = this.#started;
    this.#started = null;
    started?.reject(e);
  }

  #fork(slot: Slot): void {
    slot.restartTimer = null;
    slot.listening = false;
    const w = cluster.fork({ [WORKER_INDEX_ENV]: String(slot.index), [WORKER_HTTP_ENV]: JSON.stringify(this.#opts.httpPorts()) });
    slot.worker = w;
    w.on('message', (m: unknown) => { if (isProtocolMessage(m)) this.#onMessage(slot, m as ToPrimary); });
    w.on('exit', (code, signal) => { this.#onExit(slot, w, code, signal); });
  }

  #onMessage(slot: Slot, m: ToPrimary): void {
    switch (m.t) {
      case 'listening':
        slot.listening = true;
        if (this.#started !== null && this.#slots.every((s) => s.listening)) {
          const started = this.#started;
          this.#started = null;
          started.resolve();
        }
        break;
      case 'start-failed':
        if (this.#started !== null) this.#failStart(new Error(m.message));
        else this.#opts.logger.error(`worker ${slot.index} could not start: ${m.message}`);
        break;
      case 'subscribe':
        this.#opts.hub.subscribe(slot, m.sub, m.key);
        break;
      case 'unsubscribe':
        this.#opts.hub.unsubscribe(slot, m.sub);
        break;
      case 'reloaded':
      case 'metrics': {
        const w = this.#waiters.get(m.id);
        if (w !== undefined && w.slot === slot) { this.#waiters.delete(m.id); w.resolve(m); }
        break;
      }
      case 'fatal':
        this.#opts.onFatal(m.message);
        break;
    }
  }

  #onExit(slot: Slot, w: Worker, code: number | null, signal: string | null): void {
    if (slot.worker !== w) return;
    slot.worker = null;
    slot.listening = false;
    this.#opts.hub.dropPeer(slot);
    for (const [id, waiter] of this.#waiters) {
      if (waiter.slot === slot) { this.#waiters.delete(id); waiter.resolve({ t: 'reloaded', id, error: 'worker exited' }); }
    }
    if (this.#stopping) return;
    const how = signal !== null ? `signal ${signal}` : `code ${code}`;
    if (this.#started !== null) {
      this.#failStart(new Error(`worker ${slot.index} exited with ${how} while starting`));
      return;
    }
    const now = Date.now();
    slot.deaths = slot.deaths.filter((t) => now - t < RESTART_WINDOW_MS);
    slot.deaths.push(now);
    const delay = Math.min(RESTART_CAP_MS, RESTART_BASE_MS * 2 ** (slot.deaths.length - 1));
    this.#opts.logger.warn(`worker ${slot.index} (pid ${w.process.pid}) exited with ${how}; restarting it in ${delay}ms`);
    slot.restartTimer = setTimeout(() => { if (!this.#stopping) this.#fork(slot); }, delay);
  }

  /** Sends `msg` (carrying `id`) to a serving worker and waits for its reply with that id; null on timeout. */
  #ask(slot: Slot, id: number, msg: ToWorker, timeoutMs: number): Promise<ToPrimary | null> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => { this.#waiters.delete(id); resolve(null); }, timeoutMs);
      this.#waiters.set(id, { slot, resolve: (m) => { clearTimeout(timer); resolve(m); } });
      slot.send(msg);
    });
  }

  /** Every serving worker reloads its configuration; one that fails is replaced by a fresh worker. */
  async reload(): Promise<void> {
    const http = this.#opts.httpPorts();
    await Promise.all(this.#slots.filter((s) => s.listening).map(async (s) => {
      const id = this.#nextId++;
      const reply = await this.#ask(s, id, { t: 'reload', id, http }, RELOAD_TIMEOUT_MS);
      const error = reply === null ? 'no answer' : reply.t === 'reloaded' ? reply.error : null;
      if (error === null) return;
      this.#opts.logger.error(`worker ${s.index} failed to reload (${error}); replacing it`);
      s.worker?.process.kill('SIGKILL');
    }));
  }

  /** The metrics registries of the serving workers (those that answer in time). */
  async metrics(): Promise<MetricsJson[]> {
    const replies = await Promise.all(this.#slots.filter((s) => s.listening).map((s) => {
      const id = this.#nextId++;
      return this.#ask(s, id, { t: 'metrics', id }, METRICS_TIMEOUT_MS);
    }));
    const out: MetricsJson[] = [];
    for (const r of replies) if (r !== null && r.t === 'metrics' && r.metrics !== null) out.push(r.metrics);
    return out;
  }

  /** Stops every worker: each goes lameduck (if configured), finishes in-flight queries and exits; stragglers are killed at `deadlineMs`. */
  async stop(graceMs: number, deadlineMs: number): Promise<void> {
    this.#stopping = true;
    const live: Worker[] = [];
    for (const s of this.#slots) {
      if (s.restartTimer !== null) clearTimeout(s.restartTimer);
      s.restartTimer = null;
      if (s.worker !== null) live.push(s.worker);
      s.send({ t: 'stop', graceMs });
    }
    const exited = (w: Worker): Promise<void> => new Promise((r) => {
      if (w.process.exitCode !== null || w.process.signalCode !== null) { r(); return; }
      w.once('exit', () => r());
    });
    let timer: NodeJS.Timeout | null = null;
    const deadline = new Promise<void>((r) => { timer = setTimeout(r, deadlineMs); });
    await Promise.race([Promise.all(live.map(exited)), deadline]);
    if (timer !== null) clearTimeout(timer);
    for (const w of live) if (w.process.exitCode === null && w.process.signalCode === null) w.process.kill('SIGKILL');
    await Promise.all(live.map(exited));
  }
}
