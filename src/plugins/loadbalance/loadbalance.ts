/**
 * @module plugins/loadbalance
 * Spreads clients over a name's addresses: in NOERROR replies with two or
 * more A/AAAA (or MX) records in the answer, those records are rotated by a
 * random offset, so each comes first equally often; CNAMEs and other
 * records keep their place in front. A reply with fewer than two is passed
 * through untouched, without allocating; the count is kept on the reply
 * (Reply.spreadMemo), so a kept reply is scanned once. Rotated replies are built and
 * packed once per (answer, offset) and kept beside the answer they came from
 * (a WeakMap keyed by the answer array, which cached copies of a reply
 * share, or by a slim reply's packed bytes), so a cache hit with
 * loadbalance packs nothing; the variants are slim (Reply.slim) too.
 */
import { Rcode, Type } from '../../dns/constants.ts';
import { Reply } from '../../dns/reply.ts';
import type { DnsRequest } from '../../dns/request.ts';
import type { RR } from '../../dns/rr.ts';
import { argCount, fail, noBlock } from '../../plugin/options.ts';
import type { Answer, ChainHandler, Handler, PluginDefinition } from '../../plugin/plugin.ts';

/** Answers with more records than this are rotated without keeping the variants. */
const MAX_MEMO_RECORDS = 64;

function isAddress(t: number): boolean {
  return t === Type.A || t === Type.AAAA;
}

export class LoadBalance implements ChainHandler {
  readonly name = 'loadbalance';
  next!: Handler;
  readonly #rotations = new WeakMap<object, (Reply | undefined)[]>();
  /** xorshift32 state (a typed array: a 32-bit value in a field or variable would be a boxed double). */
  readonly #seed = Int32Array.of((Math.random() * 0x7fffffff) | 1);
  /**
   * The rotation offset for `span` records, uniform in [0, span); replaceable
   * in tests. Not Math.random, whose result is a new boxed double each call
   * (16 B for every reply with several addresses): an integer generator
   * allocates nothing.
   */
  pick: (span: number) => number = (span) => {
    let x = this.#seed[0]!;
    x ^= x << 13; x ^= x >>> 17; x ^= x << 5;
    this.#seed[0] = x;
    return ((x >>> 0) % span) | 0;
  };

  serveDNS(req: DnsRequest): Answer {
    const a = this.next.serveDNS(req);
    if (a instanceof Promise) return a.then((r) => this.balance(r, req.qname));
    return this.balance(a, req.qname);
  }

  /** `r` with its address (and MX) records rotated by a random offset; `r` itself when there is nothing to spread. */
  balance(r: Reply, qname: string): Reply {
    if (r.rcode !== Rcode.NOERROR || r.answerCount < 2) return r;
    let span = r.spreadMemo;
    if (span < 0) span = r.spreadMemo = spreadOf(r);
    if (span < 2) return r;
    const k = this.pick(span);
    if (k === 0) return r;
    // Keyed by the answer records, or a slim reply's packed bytes (Reply.slim): it stays slim, records never decoded for it.
    const key: object = r.holdsRecords ? r.answer : r.packedFor(qname);
    let variants = this.#rotations.get(key);
    let v = variants?.[k];
    if (v === undefined || v.plugin !== r.plugin || v.authoritative !== r.authoritative || v.error !== r.error) {
      v = rotated(r, k, qname);
      if (r.answerCount <= MAX_MEMO_RECORDS) {
        if (variants === undefined) { variants = []; this.#rotations.set(key, variants); }
        variants[k] = v;
      }
    }
    return r.ttlAge > 0 ? v.aged(r.ttlAge) : v;
  }
}

/** How many records a rotation spreads: the A/AAAA records, or the MX records when there are more of those. */
function spreadOf(r: Reply): number {
  let addrs = 0, mx = 0;
  for (let i = 0, n = r.answerCount; i < n; i++) {
    const t = r.answerType(i);
    if (isAddress(t)) addrs++; else if (t === Type.MX) mx++;
  }
  return addrs > mx ? addrs : mx;
}

/** Other records first (CNAMEs stay in front), then the addresses and the MX records each rotated by k. */
function rotated(r: Reply, k: number, qname: string): Reply {
  const rest: RR[] = [], a: RR[] = [], m: RR[] = [];
  // peekSections: a slim reply's records are decoded for this variant only, not kept on it.
  const [answerIn, authority, additional] = r.peekSections();
  for (const x of answerIn) {
    if (isAddress(x.type)) a.push(x); else if (x.type === Type.MX) m.push(x); else rest.push(x);
  }
  const ka = a.length > 0 ? k % a.length : 0, km = m.length > 0 ? k % m.length : 0;
  const answer = [...rest, ...a.slice(ka), ...a.slice(0, ka), ...m.slice(km), ...m.slice(0, km)];
  const out = new Reply({
    rcode: r.rcode, authoritative: r.authoritative, recursionAvailable: r.recursionAvailable, plugin: r.plugin,
    answer, authority, additional,
  }, 0, r.error).slim(qname); // kept here, beside the answer: bytes only when it is a plain positive answer
  return out;
}

export const loadbalance: PluginDefinition = {
  name: 'loadbalance',
  once: true,
  setup(d) {
    argCount(d, 'loadbalance', 0, 1);
    const policy = d.args[0] ?? 'round_robin';
    if (policy === 'weighted') fail(d, 'loadbalance', "the 'weighted' policy is not supported; use round_robin");
    if (policy !== 'round_robin') fail(d, 'loadbalance', `unknown policy '${policy}'`);
    noBlock(d, 'loadbalance');
    return new LoadBalance();
  },
};
