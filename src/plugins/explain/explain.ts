/**
 * @module plugins/explain/explain
 * A debug-only side channel that says which plugin answered: with `explain`
 * in a server block, the block remembers, per client address and question,
 * the plugin that wrote the last reply and its rcode (a bounded table), and
 * answers `TXT _explain.<NAME>` from that client with it. `clusterdns
 * explain` asks it after each query of a search walk. Off unless the
 * Corefile has the directive; not a CoreDNS plugin.
 */
import { rcodeName, Rcode, Type, typeName } from '../../dns/constants.ts';
import { Reply } from '../../dns/reply.ts';
import type { DnsRequest } from '../../dns/request.ts';
import { rrs } from '../../dns/rr.ts';
import { argCount, noBlock } from '../../plugin/options.ts';
import type { Answer, ChainHandler, Handler, PluginDefinition } from '../../plugin/plugin.ts';

const P = 'explain';
export const EXPLAIN_LABEL = '_explain.';
/** Questions remembered (oldest forgotten first): bounded whatever the traffic. */
export const EXPLAIN_ENTRIES = 4096;

const nothing = new Reply({ rcode: Rcode.NXDOMAIN, plugin: P });

export class ExplainHandler implements ChainHandler {
  readonly name = P;
  next!: Handler;
  /** "client qname" -> type name -> "plugin=... rcode=..." */
  readonly #seen = new Map<string, Map<string, string>>();

  serveDNS(req: DnsRequest): Answer {
    if (req.qtype === Type.TXT && req.qname.startsWith(EXPLAIN_LABEL)) return this.#answer(req);
    const a = this.next.serveDNS(req);
    if (a instanceof Promise) return a.then((r) => { this.#note(req, r); return r; });
    this.#note(req, a);
    return a;
  }

  #note(req: DnsRequest, r: Reply): void {
    const key = `${req.remoteAddress} ${req.qname}`;
    let types = this.#seen.get(key);
    if (types === undefined) {
      if (this.#seen.size >= EXPLAIN_ENTRIES) this.#seen.delete(this.#seen.keys().next().value!);
      types = new Map();
      this.#seen.set(key, types);
    }
    types.set(typeName(req.qtype), `plugin=${r.plugin === '' ? '-' : r.plugin} rcode=${rcodeName(r.rcode)}`);
  }

  #answer(req: DnsRequest): Reply {
    const asked = req.qname.slice(EXPLAIN_LABEL.length);
    const types = this.#seen.get(`${req.remoteAddress} ${asked === '' ? '.' : asked}`);
    if (types === undefined) return nothing;
    const texts = [...types].map(([t, v]) => `type=${t} ${v}`);
    return new Reply({ answer: [rrs.txt(req.qname, 0, ...texts)], plugin: P });
  }
}

export const explain: PluginDefinition = {
  name: P,
  once: true,
  setup(d) {
    argCount(d, P, 0, 0);
    noBlock(d, P);
    return new ExplainHandler();
  },
};
