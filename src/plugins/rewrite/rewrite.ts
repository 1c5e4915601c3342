/**
 * @module plugins/rewrite/rewrite
 * The rewrite handler. Request rules run in Corefile order on a copy of the
 * question (a `stop` rule that matched ends the list); when anything changed
 * the next plugin gets a new request built from it. What comes back is
 * turned round for the client: the question is always the client's own (the
 * writer copies it from the original packet), and the response rules the
 * matched rules left (answer names and values, TTLs, rcodes, CNAME targets)
 * are applied last rule first, so chained renames unwind.
 */
import { Rcode, Type } from '../../dns/constants.ts';
import { Reply } from '../../dns/reply.ts';
import { DnsRequest } from '../../dns/request.ts';
import { withName, withTtl, type RR } from '../../dns/rr.ts';
import type { Answer, ChainHandler, Handler } from '../../plugin/plugin.ts';
import { newOpt, readOpt, rewrittenRequest, type OptRecord } from './query-wire.ts';
import { rdataName, withRdataName, type QueryState, type ResponseRule, type Rule } from './rules.ts';

export class RewriteHandler implements ChainHandler {
  readonly name = 'rewrite';
  next!: Handler;
  readonly #rules: readonly Rule[];
  /** The block's chain head, for looking up rewritten CNAME targets. */
  readonly #head: () => Handler;

  constructor(rules: readonly Rule[], head: () => Handler) {
    this.#rules = rules;
    this.#head = head;
  }

  serveDNS(req: DnsRequest): Answer {
    const q: QueryState = { qname: req.qname, qtype: req.qtype, qclass: req.qclass, opt: null, optChanged: false };
    const opt = (): OptRecord => (q.opt ??= readOpt(req) ?? newOpt());
    let responses: ResponseRule[] | null = null;
    for (const rule of this.#rules) {
      const r = rule.apply(q, req, opt);
      if (r === null) continue;
      if (r.length > 0) (responses ??= []).push(...r);
      if (rule.mode === 'stop') break;
    }
    const changed = q.qname !== req.qname || q.qtype !== req.qtype || q.qclass !== req.qclass || q.optChanged;
    if (!changed && responses === null) return this.next.serveDNS(req);
    let inner = req;
    if (changed) {
      try {
        inner = rewrittenRequest(req, q.qname, q.qtype, q.qclass, q.optChanged ? q.opt : 'keep');
      } catch {
        return Reply.error(Rcode.SERVFAIL, 'rewrite', new Error(`plugin/rewrite: invalid name after rewrite: ${q.qname}`));
      }
    }
    const answer = this.next.serveDNS(inner);
    if (responses === null) return answer;
    const rules = responses;
    return answer instanceof Promise ? answer.then((r) => this.#respond(r, rules, inner)) : this.#respond(answer, rules, inner);
  }

  #respond(reply: Reply, rules: readonly ResponseRule[], inner: DnsRequest): Answer {
    let answer: readonly RR[] = reply.answer;
    let rcode = reply.rcode;
    let cname: Promise<readonly RR[]> | null = null;
    // Last rewrite first, so a chain of continue rules unwinds back to the name the client asked.
    for (let k = rules.length - 1; k >= 0; k--) {
      const rule = rules[k]!;
      switch (rule.kind) {
        case 'name':
          answer = answer.map((r) => { const n = rule.rewrite.apply(r.name); return n === null ? r : withName(r, n); });
          break;
        case 'value':
          answer = answer.map((r) => {
            const target = rdataName(r);
            const n = target === null ? null : rule.rewrite.apply(target);
            return n === null ? r : withRdataName(r, n);
          });
          break;
        case 'ttl':
          answer = answer.map((r) => (r.ttl < rule.min ? withTtl(r, rule.min) : r.ttl > rule.max ? withTtl(r, rule.max) : r));
          break;
        case 'rcode':
          if (rcode === rule.from) rcode = rule.to;
          break;
        case 'cname': {
          const i = answer.findIndex((r) => r.type === Type.CNAME && rule.rewrite.apply(rdataName(r) ?? '') !== null);
          if (i < 0 || inner.qtype === Type.CNAME) break;
          const target = rule.rewrite.apply(rdataName(answer[i]!)!)!;
          const kept = [...answer.slice(0, i), withRdataName(answer[i]!, target)];
          cname = this.#lookup(inner, target).then((more) => [...kept, ...more]);
          answer = kept;
          break;
        }
      }
    }
    const done = (a: readonly RR[]): Reply => (a === reply.answer && rcode === reply.rcode ? reply : reply.with({ answer: a, rcode }));
    return cname === null ? done(answer) : cname.then(done);
  }

  /** The answer records for `target` from this server block, as CoreDNS's upstream lookup. */
  async #lookup(inner: DnsRequest, target: string): Promise<readonly RR[]> {
    const sub = DnsRequest.synthetic(target, inner.qtype, inner);
    sub.server = inner.server;
    sub.zone = inner.zone;
    return (await this.#head().serveDNS(sub)).answer;
  }
}
