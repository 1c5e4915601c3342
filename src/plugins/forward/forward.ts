/**
 * @module plugins/forward/forward
 * The forward handler: queries under FROM (minus `except`) go to the
 * upstreams, picked by policy, skipping those marked down; an error, or
 * silence past the upstream's per-try timeout (from its measured RTT), moves
 * on to the next upstream within the same query, up to an overall deadline.
 * Identical questions in flight share one upstream query (coalescing); `max_concurrent` bounds the upstream queries in flight and
 * answers REFUSED beyond it. The reply is the upstream's message, TTLs as
 * they came.
 */
import { Rcode, Type } from '../../dns/constants.ts';
import { decodeMessage, replyFromMessage } from '../../dns/message.ts';
import { isSubdomain } from '../../dns/name.ts';
import { Reply } from '../../dns/reply.ts';
import type { DnsRequest } from '../../dns/request.ts';
import { setMetadata, wantsMetadata } from '../../plugin/metadata.ts';
import type { Answer, ChainHandler, Handler } from '../../plugin/plugin.ts';
import type { DeadlineQueue } from './deadlines.ts';
import type { ForwardMetrics } from './metrics.ts';
import type { Proto, Upstream } from './upstream.ts';
import { randomId, upstreamQuery } from './wire.ts';

/** Per-attempt read timeout (CoreDNS: 2s). */
export const READ_TIMEOUT_MS = 2000;
/** A query gives up on all upstreams after this long (CoreDNS: 5s). */
export const QUERY_DEADLINE_MS = 5000;

export type Policy = 'random' | 'round_robin' | 'sequential';

export interface ForwardOptions {
  readonly from: string;
  readonly except: readonly string[];
  readonly forceTcp: boolean;
  readonly preferUdp: boolean;
  readonly policy: Policy;
  /** 0: unlimited. */
  readonly maxConcurrent: number;
  /** Upstream rcodes that hand the query to the next plugin instead. */
  readonly nextRcodes: readonly number[];
  readonly readTimeoutMs: number;
  readonly deadlineMs: number;
}

export class Forward implements ChainHandler {
  readonly name = 'forward';
  next!: Handler;
  readonly upstreams: readonly Upstream[];
  readonly #opts: ForwardOptions;
  readonly #metrics: ForwardMetrics;
  readonly #limitError: Error;
  readonly #coalesced = new Map<string, Promise<Reply>>();
  /** Which upstream gave each reply (the forward/upstream metadata); weak, so replies are not kept. */
  readonly #answeredBy = new WeakMap<Reply, string>();
  readonly #nextRcodes: Set<number> | null;
  /** The read and per-try deadlines of every upstream query of this forward: one timer. */
  readonly #deadlines: DeadlineQueue;
  #inflight = 0;
  #roundRobin = 0;

  constructor(opts: ForwardOptions, upstreams: readonly Upstream[], metrics: ForwardMetrics, deadlines: DeadlineQueue) {
    this.#opts = opts;
    this.#deadlines = deadlines;
    this.upstreams = upstreams;
    this.#metrics = metrics;
    this.#limitError = new Error(`concurrent queries exceeded maximum ${opts.maxConcurrent}`);
    this.#nextRcodes = opts.nextRcodes.length > 0 ? new Set(opts.nextRcodes) : null;
  }

  /** Upstream queries in flight now. */
  get inflight(): number {
    return this.#inflight;
  }

  serveDNS(req: DnsRequest): Answer {
    if (!isSubdomain(req.qname, this.#opts.from) || this.#excepted(req.qname)) return this.next.serveDNS(req);
    // HINFO is the loop plugin's probe: it must travel the whole loop to be seen, not wait on itself here.
    const key = req.qtype === Type.HINFO ? null : coalesceKey(req);
    let pending = key === null ? undefined : this.#coalesced.get(key);
    if (pending === undefined) {
      const max = this.#opts.maxConcurrent;
      if (max > 0 && this.#inflight >= max) {
        this.#metrics.maxConcurrentRejects.inc();
        return Reply.error(Rcode.REFUSED, 'forward', this.#limitError);
      }
      this.#inflight++;
      pending = this.#resolve(req).finally(() => { this.#inflight--; if (key !== null) this.#coalesced.delete(key); });
      if (key !== null) this.#coalesced.set(key, pending);
    }
    // CoreDNS's forward/upstream metadata ("HOST:PORT" of the upstream that answered), for log and template.
    if (wantsMetadata(req)) {
      let upstream = '';
      pending.then((r) => { upstream = this.#answeredBy.get(r) ?? ''; }, () => {});
      setMetadata(req, 'forward/upstream', () => upstream);
    }
    if (this.#nextRcodes === null) return pending;
    const nextRcodes = this.#nextRcodes;
    return pending.then((r) => (nextRcodes.has(r.rcode) ? this.next.serveDNS(req) : r));
  }

  #excepted(qname: string): boolean {
    const ex = this.#opts.except;
    if (ex.length === 0 || qname === this.#opts.from) return false;
    for (let i = 0; i < ex.length; i++) if (isSubdomain(qname, ex[i]!)) return true;
    return false;
  }

  #firstIndex(n: number): number {
    switch (this.#opts.policy) {
      case 'sequential': return 0;
      case 'round_robin': return this.#roundRobin++ % n;
      default: return (Math.random() * n) | 0;
    }
  }

  /**
   * Ask the upstreams in policy order until one answers; SERVFAIL with the last
   * error when none does. An upstream that fails moves the query on at once; one
   * that is silent past its per-try timeout (from its measured RTT) gets the next
   * upstream asked as well, while its own try keeps running to the read timeout,
   * so a slow answer still counts. The last upstream waits the full read timeout.
   */
  #resolve(req: DnsRequest): Promise<Reply> {
    const o = this.#opts;
    const order = this.#order();
    const deadline = performance.now() + o.deadlineMs;
    const proto: Proto = o.forceTcp ? 'tcp' : o.preferUdp ? 'udp' : req.transport;
    const deadlines = this.#deadlines;
    return new Promise<Reply>((resolve) => {
      let next = 0;
      let running = 0;
      let settled = false;
      let lastError: Error | null = null;
      const launch = (): void => {
        if (settled) return;
        const left = deadline - performance.now();
        if (next >= order.length || left <= 0) {
          if (running === 0) {
            settled = true;
            resolve(Reply.error(Rcode.SERVFAIL, 'forward', lastError ?? new Error('no healthy upstream')));
          }
          return;
        }
        const up = order[next++]!;
        running++;
        const started = performance.now();
        const sent = deadlines.now();
        let movedOn = false;
        const tryTimer = next < order.length
          ? deadlines.add(up.tryTimeoutMs, () => { movedOn = true; up.tryTimedOut(); launch(); })
          : null;
        const failed = (e: Error): void => {
          running--;
          if (tryTimer !== null) deadlines.cancel(tryTimer);
          lastError = e;
          // A try that ran past its per-try timeout was counted then, and the next upstream is asked already.
          if (!movedOn) up.failed();
          if (!movedOn || running === 0) launch();
        };
        up.exchange(upstreamQuery(req, randomId()), proto, Math.min(o.readTimeoutMs, left)).then((raw) => {
          let msg: ReturnType<typeof decodeMessage>;
          try { msg = decodeMessage(raw); } catch (e) { failed(e as Error); return; }
          running--;
          if (tryTimer !== null) deadlines.cancel(tryTimer);
          up.succeeded(deadlines.now() - sent);
          up.observe(msg.rcode, (performance.now() - started) / 1000);
          if (settled) return;
          settled = true;
          const reply = replyFromMessage(msg, 'forward');
          this.#answeredBy.set(reply, up.label);
          resolve(reply);
        }, (e: unknown) => { failed(e as Error); });
      };
      launch();
    });
  }

  /** The upstreams to try, in policy order, those marked down left out; when all are down, one at random. */
  #order(): Upstream[] {
    const ups = this.upstreams;
    const n = ups.length;
    const first = this.#firstIndex(n);
    const order: Upstream[] = [];
    for (let i = 0; i < n; i++) {
      const up = ups[(first + i) % n]!;
      if (!up.down) order.push(up);
    }
    if (order.length === 0) {
      // Every upstream is marked down: the health checks may be what is broken, so try one anyway.
      order.push(ups[(Math.random() * n) | 0]!);
      this.#metrics.healthcheckBroken.inc();
    }
    return order;
  }

  /** Stop health probes and close pooled connections (idle ones now, busy ones when done). */
  close(): void {
    for (const u of this.upstreams) u.close();
    // Queries and probes still waiting on an upstream end now rather than at their deadlines.
    this.#deadlines.expireAll();
  }
}

/** Same question, same DNSSEC wishes: the same upstream answer will do. */
function coalesceKey(req: DnsRequest): string {
  return `${req.qtype}/${req.qclass}/${req.do ? 1 : 0}${(req.flags & 0x10) !== 0 ? 1 : 0}/${req.qname}`;
}
