/**
 * @module plugins/kubernetes/handler
 * The kubernetes plugin in the chain: picks the longest of its zones holding
 * the name (else passes the query on), takes the answer from the index, and
 * applies what depends on the moment rather than the data: fallthrough of
 * NXDOMAIN (O11), SERVFAIL before the first sync (C23, checked after
 * fallthrough), and following ExternalName CNAMEs (C18) locally or through
 * the rest of the server's chain. Cached answers are returned as they are:
 * no allocation on that path.
 */
import { Rcode, Type } from '../../dns/constants.ts';
import { isSubdomain } from '../../dns/name.ts';
import { Reply } from '../../dns/reply.ts';
import { DnsRequest } from '../../dns/request.ts';
import type { RR } from '../../dns/rr.ts';
import type { Fallthrough } from '../../plugin/options.ts';
import type { Answer, ChainHandler, Handler } from '../../plugin/plugin.ts';
import { CnameFollow, PLUGIN } from './answers.ts';
import type { DnsIndex } from './index.ts';

/** CoreDNS stops adding CNAMEs after this many (C18: "chains stop after 10 CNAMEs"). */
const MAX_CNAME_CHAIN = 8;

export interface HandlerOptions {
  readonly index: DnsIndex;
  readonly zones: readonly string[];
  readonly fallthrough: Fallthrough;
  /** Whether every watched kind has had its first list (C23). */
  readonly synced: () => boolean;
  /** Where out-of-zone ExternalName targets are resolved: the head of this server block's chain. */
  readonly upstream: () => Handler;
  /** Zones of the server block, to label synthetic upstream queries. */
  readonly blockZones: readonly string[];
}

const refused = Reply.error(Rcode.REFUSED, PLUGIN);

export class KubernetesHandler implements ChainHandler {
  readonly name = 'kubernetes';
  next!: Handler;
  readonly index: DnsIndex;
  /** Longest first, so the first match is the longest. */
  readonly zones: readonly string[];
  readonly #fallthrough: Fallthrough;
  readonly #synced: () => boolean;
  readonly #upstream: () => Handler;
  readonly #blockZones: readonly string[];

  constructor(opts: HandlerOptions) {
    this.index = opts.index;
    this.zones = [...opts.zones].sort((a, b) => b.length - a.length);
    this.#fallthrough = opts.fallthrough;
    this.#synced = opts.synced;
    this.#upstream = opts.upstream;
    this.#blockZones = [...opts.blockZones].sort((a, b) => b.length - a.length);
  }

  /** The longest zone of this plugin holding `qname`, or null. */
  zoneOf(qname: string): string | null {
    const z = this.zones;
    for (let i = 0; i < z.length; i++) if (isSubdomain(qname, z[i]!)) return z[i]!;
    return null;
  }

  serveDNS(req: DnsRequest): Answer {
    const zone = this.zoneOf(req.qname);
    if (zone === null) return this.next.serveDNS(req);
    const qtype = req.qtype;
    if (qtype === Type.AXFR || qtype === Type.IXFR) return refused;
    const a = this.index.answer(req.qname, qtype, zone);
    if (a instanceof CnameFollow) return this.#follow(req, a, zone);
    if (a.rcode === Rcode.NXDOMAIN) return this.#nxdomain(req, a, zone);
    return a;
  }

  /** C25 support for autopath: the search list for a client pod, or null (needs `pods verified`). */
  searchPathFor(clientIp: string, qname?: string): string[] | null {
    const zone = qname === undefined ? undefined : this.zoneOf(qname);
    if (zone === null) return null;
    return this.index.searchPathFor(clientIp, zone);
  }

  #nxdomain(req: DnsRequest, reply: Reply, zone: string): Answer {
    if (this.#fallthrough.through(req.qname)) return this.next.serveDNS(req);
    if (!this.#synced()) {
      return new Reply({ rcode: Rcode.SERVFAIL, authoritative: true, authority: [this.index.soa(zone)], plugin: PLUGIN });
    }
    return reply;
  }

  #follow(req: DnsRequest, f: CnameFollow, zone: string): Answer {
    const records = this.#resolve(req, req.qname, f, []);
    if (records instanceof Promise) return records.then((r) => this.#followed(r, zone));
    return this.#followed(records, zone);
  }

  #followed(records: readonly RR[], zone: string): Reply {
    if (records.length === 0) {
      // The target has nothing of this type: NODATA without the CNAME (D9), as CoreDNS.
      return new Reply({ authoritative: true, authority: [this.index.soa(zone)], plugin: PLUGIN });
    }
    return new Reply({ authoritative: true, answer: records, plugin: PLUGIN });
  }

  /** The CNAME followed by the target's records of the asked type; [] when it leads nowhere. */
  #resolve(req: DnsRequest, owner: string, f: CnameFollow, previous: readonly RR[]): readonly RR[] | Promise<readonly RR[]> {
    const target = f.target;
    if (target === owner) return []; // x CNAME x
    if (previous.length >= MAX_CNAME_CHAIN) return [];
    for (const p of previous) if (p.name === owner) return []; // a loop through several names
    const chain = [...previous, f.cname];
    const zone = this.zoneOf(target);
    if (zone !== null) {
      const sub = this.index.answer(target, req.qtype, zone);
      if (sub instanceof CnameFollow) {
        const next = this.#resolve(req, target, sub, chain);
        const join = (n: readonly RR[]): readonly RR[] => (n.length === 0 ? [] : [f.cname, ...n]);
        return next instanceof Promise ? next.then(join) : join(next);
      }
      return sub.rcode === Rcode.NOERROR && sub.answer.length > 0 ? [f.cname, ...sub.answer] : [];
    }
    const sub = DnsRequest.synthetic(target, req.qtype, req);
    sub.server = req.server;
    sub.zone = this.#blockZoneOf(target);
    let upstream: Answer;
    try {
      upstream = this.#upstream().serveDNS(sub);
    } catch {
      return [];
    }
    if (upstream instanceof Promise) return upstream.then((r) => [f.cname, ...r.answer], () => []);
    return [f.cname, ...upstream.answer];
  }

  #blockZoneOf(name: string): string {
    for (const z of this.#blockZones) if (isSubdomain(name, z)) return z;
    return '.';
  }
}
