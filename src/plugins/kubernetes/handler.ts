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
import type { TransferSource } from '../../plugin/transfer-source.ts';
import { setMetadata } from '../../plugin/metadata.ts';
import { CnameFollow, PLUGIN } from './answers.ts';
import { kubernetesZoneRecords } from './transfer.ts';
import type { DnsIndex } from './dns-index.ts';
import type { PodIpIndex } from '../../cluster/pod-ip-index.ts';

/**
 * Most CNAMEs in one answer, as CoreDNS's backend lookup (it stops following
 * once 8 are in the answer): a longer chain of ExternalName services is
 * answered NODATA, like a chain that leads nowhere. Tested in
 * coredns-services.test.ts.
 */
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
  /** Client address → namespace, when autopath is in the block (cluster/pod-ip-index.ts). */
  readonly podIps?: PodIpIndex | null;
}

const refused = Reply.error(Rcode.REFUSED, PLUGIN);

export class KubernetesHandler implements ChainHandler, TransferSource {
  readonly name = 'kubernetes';
  next!: Handler;
  readonly index: DnsIndex;
  /** For autopath @kubernetes: the namespace of a client pod by its address; null without autopath in the block. */
  readonly podIps: PodIpIndex | null;
  /** Longest first, so the first match is the longest. */
  readonly zones: readonly string[];
  readonly #fallthrough: Fallthrough;
  readonly #synced: () => boolean;
  readonly #upstream: () => Handler;
  readonly #blockZones: readonly string[];

  constructor(opts: HandlerOptions) {
    this.index = opts.index;
    this.podIps = opts.podIps ?? null;
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

  /**
   * The zones without fallthrough: there every answer is the index's kept
   * reply, except the few built per query (ExternalName CNAMEs followed, apex
   * NS, SERVFAIL before the first sync), which a cache in front still stores.
   */
  keptZones(): readonly string[] {
    return this.zones.filter((z) => !this.#fallthrough.touches(z));
  }

  serveDNS(req: DnsRequest): Answer {
    const zone = req.zoneIn(this.zones);
    if (zone === null) return this.next.serveDNS(req);
    const qtype = req.qtype;
    if (qtype === Type.AXFR || qtype === Type.IXFR) return refused;
    const a = this.index.answerTo(req, zone);
    if (a instanceof CnameFollow) return this.#follow(req, a, zone);
    if (a.rcode === Rcode.NXDOMAIN) return this.#nxdomain(req, a, zone);
    return a;
  }

  /**
   * CoreDNS's kubernetes metadata (only called with the *metadata* plugin):
   * the client pod's namespace and name, and the parts of the name asked for.
   */
  offerMetadata(req: DnsRequest): void {
    const pod = this.index.podForClient(req.remoteAddress);
    if (pod !== null) {
      setMetadata(req, 'kubernetes/client-namespace', () => pod.namespace);
      setMetadata(req, 'kubernetes/client-pod-name', () => pod.name);
    }
    const zone = req.zoneIn(this.zones);
    if (zone === null) return;
    const parts = requestParts(req.qname, zone);
    for (const [k, v] of Object.entries(parts)) setMetadata(req, `kubernetes/${k}`, () => v);
  }

  // ---- TransferSource: the forward zones in full, for the transfer plugin ----

  transferZones(): readonly string[] {
    return this.zones.filter((z) => !z.endsWith('.arpa.'));
  }

  transferRecords(zone: string): readonly RR[] | null {
    return this.transferZones().includes(zone) ? kubernetesZoneRecords(this.index, zone) : null;
  }

  onZoneChange(fn: (zone: string) => void): () => void {
    return this.index.store.subscribe(() => { for (const z of this.transferZones()) fn(z); });
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

/** CoreDNS's parseRequest fields for metadata: `[_port._proto.|endpoint.]service.namespace.(svc|pod).zone`. */
function requestParts(qname: string, zone: string): Record<'endpoint' | 'kind' | 'namespace' | 'port-name' | 'protocol' | 'service', string> {
  const out = { endpoint: '', kind: '', namespace: '', 'port-name': '', protocol: '', service: '' };
  const rest = qname === zone ? '' : qname.slice(0, qname.length - zone.length - 1);
  const labels = rest === '' ? [] : rest.split('.');
  const kind = labels.pop();
  if (kind !== 'svc' && kind !== 'pod') return out;
  out.kind = kind;
  out.namespace = labels.pop() ?? '';
  out.service = labels.pop() ?? '';
  if (labels.length === 2 && labels[0]!.startsWith('_') && labels[1]!.startsWith('_')) {
    out['port-name'] = labels[0]!.slice(1);
    out.protocol = labels[1]!.slice(1);
  } else if (labels.length === 1) {
    out.endpoint = labels[0]!;
  }
  return out;
}
