/**
 * @module plugins/forward/forward
 * The forward handler: queries under FROM (minus `except`) go to the
 * upstreams, picked by policy, skipping those marked down; a timeout or
 * error moves on to the next upstream within the same query, up to an
 * overall deadline. Identical questions in flight share one upstream query
 * (coalescing); `max_concurrent` bounds the upstream queries in flight and
 * answers REFUSED beyond it. The reply is the upstream's message, TTLs as
 * they came.
 */
import { Rcode, Type } from '../../dns/constants.ts';
import { decodeMessage, replyFromMessage } from '../../dns/message.ts';
import { isSubdomain } from '../../dns/name.ts';
import { Reply } from '../../dns/reply.ts';
import type { DnsRequest } from '../../dns/request.ts';
import type { Answer, ChainHandler, Handler } from '../../plugin/plugin.ts';
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
  readonly #nextRcodes: Set<number> | null;
  #inflight = 0;
  #roundRobin = 0;

  constructor(opts: ForwardOptions, upstreams: readonly Upstream[], metrics: ForwardMetrics) {
    this.#opts = opts;
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

  /** Ask the upstreams in policy order until one answers; SERVFAIL with the last error when none does. */
  async #resolve(req: DnsRequest): Promise<Reply> {
    const o = this.#opts;
    const ups = this.upstreams;
    const n = ups.length;
    const deadline = performance.now() + o.deadlineMs;
    const proto: Proto = o.forceTcp ? 'tcp' : o.preferUdp ? 'udp' : req.transport;
    const first = this.#firstIndex(n);
    let lastError: Error | null = null;
    let down = 0;
    for (let i = 0; i < n; i++) {
      let up = ups[(first + i) % n]!;
      if (up.down) {
        if (++down < n) continue;
        // Every upstream is marked down: the health checks may be what is broken, so try one anyway.
        up = ups[(Math.random() * n) | 0]!;
        this.#metrics.healthcheckBroken.inc();
      }
      const left = deadline - performance.now();
      if (left <= 0) break;
      const started = performance.now();
      try {
        const raw = await up.exchange(upstreamQuery(req, randomId()), proto, Math.min(o.readTimeoutMs, left));
        const msg = decodeMessage(raw);
        up.succeeded();
        up.observe(msg.rcode, (performance.now() - started) / 1000);
        return replyFromMessage(msg, 'forward');
      } catch (e) {
        lastError = e as Error;
        up.failed();
      }
    }
    return Reply.error(Rcode.SERVFAIL, 'forward', lastError ?? new Error('no healthy upstream'));
  }

  /** Stop health probes and close pooled connections (idle ones now, busy ones when done). */
  close(): void {
    for (const u of this.upstreams) u.close();
  }
}

/** Same question, same DNSSEC wishes: the same upstream answer will do. */
function coalesceKey(req: DnsRequest): string {
  return `${req.qtype}/${req.qclass}/${req.do ? 1 : 0}${(req.flags & 0x10) !== 0 ? 1 : 0}/${req.qname}`;
}
