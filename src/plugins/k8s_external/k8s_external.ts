/**
 * @module plugins/k8s_external
 * `k8s_external [ZONE...] { apex APEX; ttl TTL; headless; fallthrough [ZONES...] }`:
 * Services' external IPs and LoadBalancer ingress IPs under an outside
 * zone, `SERVICE.NAMESPACE.ZONE` (A, AAAA, SRV with `_port._proto.`, PTR
 * for those addresses in reverse zones listed), from the kubernetes plugin's
 * store in the same block. With `headless`, headless Services without
 * external IPs answer with their ready endpoints, also per endpoint name.
 * The apex has CoreDNS's SOA and NS (`ns1.APEX.ZONE`); other types are NODATA,
 * unknown names NXDOMAIN with the SOA (or the next plugin with fallthrough).
 */
import type { ClusterStore } from '../../cluster/store.ts';
import type { Directive } from '../../corefile/parser.ts';
import type { ServiceRecord } from '../../cluster/types.ts';
import { Rcode, Type } from '../../dns/constants.ts';
import { ipFromReverseName } from '../../dns/ip.ts';
import { isSubdomain } from '../../dns/name.ts';
import { Reply } from '../../dns/reply.ts';
import type { DnsRequest } from '../../dns/request.ts';
import { rdata, rr, rrs, type RR } from '../../dns/rr.ts';
import { argCount, children, fail, Fallthrough, ttlOption, zonesArg } from '../../plugin/options.ts';
import type { Answer, BlockContext, ChainHandler, Handler, PluginDefinition } from '../../plugin/plugin.ts';
import { KubernetesHandler } from '../kubernetes/handler.ts';

const P = 'k8s_external';

interface ExternalOptions {
  readonly zones: readonly string[];
  readonly apex: string;
  readonly ttl: number;
  readonly headless: boolean;
  readonly fallthrough: Fallthrough;
}

/** What k8s_external reads of the cluster. */
type ExternalStore = Pick<ClusterStore, 'service' | 'services' | 'slicesOfService' | 'subscribe'>;

class ExternalHandler implements ChainHandler {
  readonly name = P;
  next!: Handler;
  readonly #o: ExternalOptions;
  readonly #store: () => ExternalStore;
  /** External IP -> "service.namespace." for PTR; rebuilt after a store change. */
  #byIp: Map<string, string[]> | null = null;
  #subscribed = false;

  constructor(o: ExternalOptions, store: () => ExternalStore) {
    this.#o = o;
    this.#store = store;
  }

  serveDNS(req: DnsRequest): Answer {
    const qname = req.qname;
    const zone = this.#o.zones.find((z) => isSubdomain(qname, z));
    if (zone === undefined) return this.next.serveDNS(req);
    const soa = this.#soa(zone);
    const apexName = `${this.#o.apex}.${zone}`;
    if (qname === zone) {
      if (req.qtype === Type.SOA) return this.#reply([soa]);
      if (req.qtype === Type.NS) return this.#reply([rrs.ns(zone, this.#o.ttl, `ns1.${apexName}`)], [], this.#nsAddresses(req, `ns1.${apexName}`, Type.ANY));
      return this.#reply([], [soa]);
    }
    if (isSubdomain(qname, apexName)) {
      const addrs = qname === `ns1.${apexName}` ? this.#nsAddresses(req, qname, req.qtype) : [];
      if (addrs.length > 0) return this.#reply(addrs);
      return qname === `ns1.${apexName}` || qname === apexName ? this.#reply([], [soa]) : this.#nxdomain(req, soa);
    }
    const answer = this.#lookup(qname, zone, req.qtype);
    if (answer === null) return this.#nxdomain(req, soa);
    return answer.answer.length > 0 ? this.#reply(answer.answer, [], answer.extra) : this.#reply([], [soa]);
  }

  #nxdomain(req: DnsRequest, soa: RR): Answer {
    if (this.#o.fallthrough.through(req.qname)) return this.next.serveDNS(req);
    return new Reply({ rcode: Rcode.NXDOMAIN, authoritative: true, authority: [soa], plugin: P });
  }

  #reply(answer: RR[], authority: RR[] = [], additional: RR[] = []): Reply {
    return new Reply({ authoritative: true, answer, authority, additional, plugin: P });
  }

  /** CoreDNS's apex SOA: static serial 12345, minimum = ttl. */
  #soa(zone: string): RR {
    const ttl = this.#o.ttl;
    return rr(zone, Type.SOA, ttl, rdata.soa(`ns1.${this.#o.apex}.${zone}`, `hostmaster.${zone}`, 12345, 14400, 3600, 604800, ttl));
  }

  /** The server's own address as the name server's (the listener's, when it is a specific one). */
  #nsAddresses(req: DnsRequest, name: string, qtype: number): RR[] {
    const a = req.localAddress;
    if (a === '' || a === '0.0.0.0' || a === '::') return [];
    const v6 = a.includes(':');
    if (qtype !== Type.ANY && qtype !== (v6 ? Type.AAAA : Type.A)) return [];
    return [rrs.addr(name, this.#o.ttl, a)];
  }

  /** Records for a name under the zone; null when it names nothing. */
  #lookup(qname: string, zone: string, qtype: number): { answer: RR[]; extra: RR[] } | null {
    const ttl = this.#o.ttl;
    const ip = ipFromReverseName(qname);
    if (ip !== null) {
      const names = this.#reverse().get(ip);
      if (names === undefined) return null;
      const target = this.#o.zones.find((z) => !z.endsWith('.arpa.')) ?? zone;
      return { answer: qtype === Type.PTR ? names.map((n) => rrs.ptr(qname, ttl, `${n}${target}`)) : [], extra: [] };
    }
    const labels = qname.slice(0, qname.length - zone.length).split('.').filter(Boolean);
    let port: string | null = null, proto: string | null = null, endpoint: string | null = null;
    if (labels.length === 4 && labels[0]!.startsWith('_') && labels[1]!.startsWith('_')) { port = labels[0]!.slice(1); proto = labels[1]!.slice(1); labels.splice(0, 2); }
    if (labels.length === 3 && port === null) endpoint = labels.shift()!;
    if (labels.length !== 2) return null;
    const [name, namespace] = labels as [string, string];
    const svc = this.#store().service(namespace, name);
    if (svc === undefined) return null;
    const owner = `${name}.${namespace}.${zone}`;
    const addrs = this.#addresses(svc, endpoint);
    if (addrs === null || addrs.length === 0) return null;
    if (qtype === Type.A || qtype === Type.AAAA) {
      const want = addrs.filter((a) => a.includes(':') === (qtype === Type.AAAA));
      return { answer: want.map((a) => rrs.addr(qname, ttl, a)), extra: [] };
    }
    if (qtype === Type.SRV && endpoint === null) {
      const ports = svc.ports.filter((p) => port === null || (p.name === port && p.protocol === proto));
      if (ports.length === 0) return port === null ? { answer: [], extra: [] } : null;
      const weight = Math.floor(100 / ports.length);
      return { answer: ports.map((p) => rrs.srv(qname, ttl, 0, weight, p.port, owner)), extra: addrs.map((a) => rrs.addr(owner, ttl, a)) };
    }
    return { answer: [], extra: [] };
  }

  /** External IPs, or with `headless` a headless Service's ready endpoint addresses (one endpoint's, by hostname). */
  #addresses(svc: ServiceRecord, endpoint: string | null): string[] | null {
    if (endpoint === null && svc.externalIPs !== undefined) return [...svc.externalIPs];
    if (!this.#o.headless || !svc.headless) return endpoint === null ? [] : null;
    const out: string[] = [];
    for (const slice of this.#store().slicesOfService(svc.namespace, svc.name)) {
      if (slice.addressType === 'FQDN') continue;
      for (const e of slice.endpoints) {
        if (!e.ready && !svc.publishNotReadyAddresses) continue;
        if (endpoint !== null && e.hostname !== endpoint) continue;
        out.push(...e.addresses);
      }
    }
    return endpoint !== null && out.length === 0 ? null : out;
  }

  #reverse(): Map<string, string[]> {
    if (!this.#subscribed) { this.#store().subscribe(() => { this.#byIp = null; }); this.#subscribed = true; }
    if (this.#byIp !== null) return this.#byIp;
    const m = new Map<string, string[]>();
    for (const s of this.#store().services()) {
      for (const ip of s.externalIPs ?? []) m.set(ip, [...(m.get(ip) ?? []), `${s.name}.${s.namespace}.`]);
    }
    this.#byIp = m;
    return m;
  }
}

function parseOptions(d: Directive, ctx: Pick<BlockContext, 'zones'>): ExternalOptions {
  const zones = zonesArg(d, P, d.args, ctx.zones);
  let apex = 'dns', ttl = 5, headless = false;
  let fallthrough = Fallthrough.none();
  for (const c of children(d)) {
    switch (c.name) {
      case 'apex':
        argCount(c, P, 1, 1);
        if (!/^[a-z0-9_-]+$/i.test(c.args[0]!)) fail(c, P, `apex '${c.args[0]}' is not a single DNS label`);
        apex = c.args[0]!.toLowerCase();
        break;
      case 'ttl':
        ttl = ttlOption(c, P);
        break;
      case 'headless':
        argCount(c, P, 0, 0);
        headless = true;
        break;
      case 'fallthrough':
        fallthrough = Fallthrough.from(c, P);
        break;
      default:
        fail(c, P, `unknown property '${c.name}'`);
    }
  }
  return { zones: [...zones].sort((a, b) => b.length - a.length), apex, ttl, headless, fallthrough };
}

export const k8sExternal: PluginDefinition = {
  name: P,
  once: true,
  inClassOnly: true,
  setup(d, ctx) {
    const opts = parseOptions(d, ctx);
    if (!ctx.plugins.includes('kubernetes')) fail(d, P, 'needs the kubernetes plugin in the same server block');
    let store: ExternalStore | null = null;
    return new ExternalHandler(opts, () => {
      if (store !== null) return store;
      const k = ctx.handlersNamed('kubernetes')[0];
      if (!(k instanceof KubernetesHandler)) throw new Error('plugin/k8s_external: no kubernetes plugin in this server block');
      store = k.index.store;
      return store;
    });
  },
};
