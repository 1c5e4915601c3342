/**
 * @module plugins/autopath/autopath
 * CoreDNS's autopath: the client's search-path walk done on the server. When
 * a query ends in the first element of the client's search path, the server
 * strips it to get the name the client meant, asks the rest of the chain for
 * that name with each element in turn (and finally as written), and returns
 * the first answer that is not NXDOMAIN, with a CNAME from the asked name to
 * the name that answered put first. The search path comes from a resolv.conf
 * file, or with `@kubernetes` from the client's namespace, which the
 * kubernetes plugin of the block finds from the source address in its
 * compact pod-IP index (works with `pods insecure`; no Pod records kept).
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { Counter } from '../../metrics/prom-client.ts';
import { Rcode } from '../../dns/constants.ts';
import { canonicalName, isSubdomain } from '../../dns/name.ts';
import type { Reply } from '../../dns/reply.ts';
import { DnsRequest } from '../../dns/request.ts';
import { rrs, type RR } from '../../dns/rr.ts';
import { processMetric } from '../../metrics/registry.ts';
import { argCount, fail, noBlock, zonesArg } from '../../plugin/options.ts';
import type { Answer, BlockContext, ChainHandler, Handler, PluginDefinition } from '../../plugin/plugin.ts';
import type { KubernetesHandler } from '../kubernetes/handler.ts';

const P = 'autopath';

/** Search domains of a resolv.conf as CoreDNS reads them (miekg/dns): the last `search` or `domain` line, made absolute. */
export function searchDomainsOf(text: string): string[] {
  let search: string[] = [];
  for (const line of text.split('\n')) {
    const f = line.trim().split(/\s+/);
    if (f[0] === 'search') search = f.slice(1).filter((s) => s !== '');
    else if (f[0] === 'domain' && f[1] !== undefined) search = [f[1]];
  }
  return search.map(canonicalName);
}

function successCounter(ctx: BlockContext): Counter {
  return processMetric(ctx.services, P, (registry) => new Counter({
    name: 'coredns_autopath_success_total',
    help: 'Counter of requests that did autopath.',
    labelNames: ['server'], registers: [registry],
  }));
}

/** Where a client's search path comes from. */
export type SearchSource = (req: DnsRequest) => readonly string[] | null;

/** The walk stops at the first reply that is neither NXDOMAIN nor an error no one wrote (CoreDNS's ClientWrite). */
function continues(r: Reply): boolean {
  const c = r.rcode;
  return c === Rcode.NXDOMAIN || c === Rcode.SERVFAIL || c === Rcode.REFUSED || c === Rcode.FORMERR || c === Rcode.NOTIMP;
}

/** The reply for `original`: a CNAME to the first answer record owned by another name, put first (CoreDNS's cnamer). */
function withCname(r: Reply, original: string): Reply {
  for (const a of r.answer) {
    if (a.name === original) continue;
    const answer: RR[] = [rrs.cname(original, a.ttl, a.name), ...r.answer];
    return r.with({ answer });
  }
  return r;
}

export class AutopathHandler implements ChainHandler {
  readonly name = P;
  next!: Handler;
  readonly #zones: readonly string[];
  readonly #search: SearchSource;
  readonly #success: Counter;
  /** Counter children by server label (the label holds the real port, known per request). */
  readonly #children = new Map<string, Counter.Internal>();

  constructor(zones: readonly string[], search: SearchSource, success: Counter) {
    this.#zones = zones;
    this.#search = search;
    this.#success = success;
  }

  serveDNS(req: DnsRequest): Answer {
    const qname = req.qname;
    let inZone = false;
    for (const z of this.#zones) if (isSubdomain(qname, z)) { inZone = true; break; }
    if (!inZone) return this.next.serveDNS(req);
    const search = this.#search(req);
    if (search === null || search.length === 0) return this.next.serveDNS(req);
    const first = search[0]!;
    // Only a query for <name>.<first element> is a client walking its search path.
    if (first === '.' || !isSubdomain(qname, first) || qname === first) return this.next.serveDNS(req);
    const base = qname.slice(0, qname.length - first.length - 1);
    return this.#walk(req, base, search, 0, null);
  }

  #count(server: string): void {
    let c = this.#children.get(server);
    if (c === undefined) { c = this.#success.labels(server); this.#children.set(server, c); }
    c.inc();
  }

  #walk(req: DnsRequest, base: string, search: readonly string[], i: number, firstReply: Reply | null): Answer {
    for (; i < search.length; i++) {
      const s = search[i]!;
      const sub = DnsRequest.synthetic(s === '' || s === '.' ? `${base}.` : `${base}.${s}`, req.qtype, req);
      sub.server = req.server;
      sub.zone = req.zone;
      const a = this.next.serveDNS(sub);
      if (a instanceof Promise) {
        const at = i;
        return a.then((r) => {
          const firstSeen = firstReply ?? r;
          return continues(r) ? this.#walk(req, base, search, at + 1, firstSeen) : this.#found(r, req);
        });
      }
      if (firstReply === null) firstReply = a;
      if (!continues(a)) return this.#found(a, req);
    }
    // Every element NXDOMAIN: the first answer as it was; the client walks its search path itself.
    return firstReply!;
  }

  #found(r: Reply, req: DnsRequest): Reply {
    this.#count(req.server);
    return withCname(r, req.qname);
  }
}

/** `@kubernetes`: `<ns>.svc.<zone>`, `svc.<zone>`, `<zone>`, the server's own search domains, and the name as written. */
function kubernetesSearch(ctx: BlockContext, hostSearch: readonly string[]): SearchSource {
  let k8s: KubernetesHandler | null | undefined;
  return (req) => {
    if (k8s === undefined) k8s = (ctx.handlersNamed('kubernetes')[0] as KubernetesHandler | undefined) ?? null;
    if (k8s === null || k8s.podIps === null) return null;
    const zone = k8s.zoneOf(req.qname);
    if (zone === null) return null;
    const ns = k8s.podIps.namespaceOf(req.remoteAddress);
    if (ns === null) return null;
    const z = zone === '.' ? '' : zone;
    return [`${ns}.svc.${z}`, `svc.${z}`, zone, ...hostSearch, ''];
  };
}

function readResolvConf(path: string): string | null {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return null;
  }
}

export const autopath: PluginDefinition = {
  name: P,
  once: true,
  setup(d, ctx) {
    argCount(d, P, 1);
    noBlock(d, P);
    const resolv = d.args[d.args.length - 1]!;
    const zones = zonesArg(d, P, d.args.slice(0, -1), ctx.zones);
    let search: SearchSource;
    if (resolv.startsWith('@')) {
      const plugin = resolv.slice(1);
      if (plugin !== 'kubernetes') fail(d, P, `unknown plugin: ${plugin}`);
      if (!ctx.plugins.includes('kubernetes')) fail(d, P, 'autopath @kubernetes needs the kubernetes plugin in the same server block');
      // As CoreDNS: the server's own resolv.conf search domains follow the cluster ones.
      search = kubernetesSearch(ctx, searchDomainsOf(readResolvConf('/etc/resolv.conf') ?? ''));
    } else {
      const text = readResolvConf(resolve(ctx.configDir, resolv));
      if (text === null) fail(d, P, `failed to parse "${resolv}": open ${resolv}: no such file or directory`);
      const list = [...searchDomainsOf(text), ''];
      search = () => list;
    }
    return new AutopathHandler(zones, search, successCounter(ctx));
  },
};
