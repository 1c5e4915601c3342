/**
 * @module server/panic
 * A handler that throws (CoreDNS: a plugin that panics) becomes SERVFAIL,
 * and is never silent: the server logs it at ERROR with the plugin's name
 * and the query, at most one line per second per plugin (with a count of the
 * ones not printed), and counts it in coredns_panics_total, whether or not
 * `errors` is in the block.
 *
 * Which plugin threw is known because the chain builder links each plugin
 * to the next through a PluginGuard: a try/catch around one call, which
 * costs nothing until something throws. The guard wraps what it catches in
 * a HandlerPanic naming the innermost plugin; the plugins outside it see
 * that error (the errors plugin turns it into a SERVFAIL reply carrying it),
 * and the server reports it once.
 */
import { Class, typeName } from '../dns/constants.ts';
import type { DnsRequest } from '../dns/request.ts';
import type { Logger } from '../log/logger.ts';
import type { Answer, Handler } from '../plugin/plugin.ts';

/** What a plugin threw (or its promise rejected with), with the plugin's name. The message is the cause's. */
export class HandlerPanic extends Error {
  readonly plugin: string;
  override readonly cause: unknown;
  constructor(plugin: string, cause: unknown) {
    super(cause instanceof Error ? cause.message : String(cause));
    this.name = 'HandlerPanic';
    this.plugin = plugin;
    this.cause = cause;
  }
}

/** Promises a guard has already wrapped: the guards further out pass them on as they are. */
const attributed = new WeakSet<Promise<unknown>>();

/**
 * Calls one plugin; a throw or rejection leaves as a HandlerPanic naming it
 * (unless an inner guard named one already). For an IN-only plugin it is
 * also the class gate: queries of another class than IN or ANY go to
 * `otherClass` instead (what follows the plugin), so a CLASS42 query of a
 * name the plugin knows never gets its IN records. The gate lives here, not
 * in a wrapper of its own, so the chain makes one call per plugin.
 */
export class PluginGuard implements Handler {
  readonly #plugin: Handler;
  readonly #name: string;
  readonly #otherClass: Handler | null;
  constructor(name: string, plugin: Handler, otherClass: Handler | null = null) {
    this.#plugin = plugin;
    this.#name = name;
    this.#otherClass = otherClass;
  }

  serveDNS(req: DnsRequest): Answer {
    const other = this.#otherClass;
    const h = other !== null && req.qclass !== Class.IN && req.qclass !== Class.ANY ? other : this.#plugin;
    let answer: Answer;
    try {
      answer = h.serveDNS(req);
    } catch (e) {
      throw e instanceof HandlerPanic ? e : new HandlerPanic(this.#name, e);
    }
    if (answer instanceof Promise && !attributed.has(answer)) {
      const name = this.#name;
      answer = answer.catch((e: unknown) => { throw e instanceof HandlerPanic ? e : new HandlerPanic(name, e); });
      attributed.add(answer);
    }
    return answer;
  }
}

/** A pending window of suppressed lines for one plugin. */
interface Window {
  /** When the last line was printed (ms, from the clock). */
  printedAt: number;
  /** Panics since then that were counted but not printed. */
  suppressed: number;
  timer: ReturnType<typeof setTimeout> | null;
  readonly log: Logger;
}

/** Gap between two printed lines of one plugin. */
export const PANIC_LOG_INTERVAL_MS = 1000;

/**
 * Logs panics: the first of a plugin at once, then at most one line per
 * PANIC_LOG_INTERVAL_MS; the ones in between are counted and said in one
 * line when the interval ends ("41 more panics in the last 1s").
 */
export class PanicLog {
  readonly #logger: Logger | null;
  readonly #now: () => number;
  readonly #windows = new Map<string, Window>();

  /** `logger` null: count only (benchmarks, tests that look at the counter alone). */
  constructor(logger: Logger | null, now: () => number = () => Date.now()) {
    this.#logger = logger;
    this.#now = now;
  }

  report(plugin: string, req: DnsRequest | null, err: Error): void {
    if (this.#logger === null) return;
    const key = plugin === '' ? 'server' : plugin;
    let w = this.#windows.get(key);
    const now = this.#now();
    if (w === undefined) {
      w = { printedAt: -Infinity, suppressed: 0, timer: null, log: plugin === '' ? this.#logger : this.#logger.plugin(plugin) };
      this.#windows.set(key, w);
    }
    if (now - w.printedAt >= PANIC_LOG_INTERVAL_MS && w.timer === null) {
      w.printedAt = now;
      w.log.error(panicLine(req, err));
      return;
    }
    w.suppressed++;
    if (w.timer === null) {
      const win = w;
      win.timer = setTimeout(() => this.#summarise(win), Math.max(0, win.printedAt + PANIC_LOG_INTERVAL_MS - now));
      win.timer.unref();
    }
  }

  #summarise(w: Window): void {
    w.timer = null;
    if (w.suppressed === 0) return;
    const n = w.suppressed;
    w.suppressed = 0;
    w.printedAt = this.#now();
    w.log.error(`${n} more panic${n === 1 ? '' : 's'} in the last ${PANIC_LOG_INTERVAL_MS / 1000}s`);
  }

  /** Print what is pending now (the server stops). */
  flush(): void {
    for (const w of this.#windows.values()) {
      if (w.timer === null) continue;
      clearTimeout(w.timer);
      this.#summarise(w);
    }
  }
}

/** `panic serving "nginx.default.svc.cluster.local. A" for 10.0.0.7: <message>` */
function panicLine(req: DnsRequest | null, err: Error): string {
  const what = req === null ? '' : ` serving "${req.qname} ${typeName(req.qtype)}" for ${req.remoteAddress}`;
  return `panic${what}: ${err.message}`;
}

/** The plugin a thrown value came from ('' when it did not come through a guard: the server itself). */
export function panicPlugin(e: unknown): string {
  return e instanceof HandlerPanic ? e.plugin : '';
}
