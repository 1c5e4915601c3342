/**
 * @module plugins/local
 * `local`: answers the local names so they never leave the server, as
 * CoreDNS's local: `localhost.` (A 127.0.0.1, AAAA ::1, SOA, NS), the reverse
 * zones 0, 127 and 255.in-addr.arpa (1.0.0.127.in-addr.arpa PTR localhost.),
 * names below `localhost.` and names starting `localhost.` (e.g.
 * `localhost.default.svc.cluster.local.`, counted in
 * coredns_local_localhost_requests_total) with the loopback addresses.
 * Everything else in those zones is NXDOMAIN with the zone's SOA.
 */
import { Counter } from '../../metrics/prom-client.ts';
import { Rcode, Type } from '../../dns/constants.ts';
import { isSubdomain } from '../../dns/name.ts';
import { Reply } from '../../dns/reply.ts';
import { rdata, rr, rrs, type RR } from '../../dns/rr.ts';
import type { DnsRequest } from '../../dns/request.ts';
import { processMetric } from '../../metrics/registry.ts';
import { argCount, noBlock } from '../../plugin/options.ts';
import type { Answer, ChainHandler, Handler, PluginDefinition } from '../../plugin/plugin.ts';

const TTL = 604800;
const ZONES = ['localhost.', '0.in-addr.arpa.', '127.in-addr.arpa.', '255.in-addr.arpa.'];
const P = 'local';

const soa = (origin: string): RR => rr(origin, Type.SOA, TTL, rdata.soa('localhost.', 'root.localhost.', 1, 0, 0, 0, TTL));
const reply = (init: { answer?: RR[]; authority?: RR[]; rcode?: number }): Reply => new Reply({ ...init, plugin: P });

/** The loopback answer for a localhost name of either form. */
function loopback(name: string, qtype: number): Reply {
  if (qtype === Type.A) return reply({ answer: [rrs.a(name, TTL, '127.0.0.1')] });
  if (qtype === Type.AAAA) return reply({ answer: [rrs.aaaa(name, TTL, '::1')] });
  return reply({ authority: [soa(name)] });
}

class LocalHandler implements ChainHandler {
  readonly name = 'local';
  next!: Handler;
  readonly #prefixed: Counter;
  constructor(prefixed: Counter) { this.#prefixed = prefixed; }

  serveDNS(req: DnsRequest): Answer {
    const name = req.qname;
    const qtype = req.qtype;
    if (name.length > 10 && (name.endsWith('.localhost.') || name.startsWith('localhost.'))) {
      this.#prefixed.inc();
      return loopback(name, qtype);
    }
    const zone = ZONES.find((z) => isSubdomain(name, z));
    if (zone === undefined) return this.next.serveDNS(req);
    if (name === zone) {
      if (qtype === Type.SOA) return reply({ answer: [soa(name)] });
      if (qtype === Type.NS) return reply({ answer: [rrs.ns(name, TTL, 'localhost.')] });
      if (name === 'localhost.' && (qtype === Type.A || qtype === Type.AAAA)) return loopback(name, qtype);
      return reply({ authority: [soa(name)] });
    }
    if (name === '1.0.0.127.in-addr.arpa.') {
      return qtype === Type.PTR ? reply({ answer: [rrs.ptr(name, TTL, 'localhost.')] }) : reply({ authority: [soa(zone)] });
    }
    return reply({ rcode: Rcode.NXDOMAIN, authority: [soa(zone)] });
  }
}

export const local: PluginDefinition = {
  name: 'local',
  once: true,
  setup(d, ctx) {
    argCount(d, P, 0, 0);
    noBlock(d, P);
    const counter = processMetric(ctx.services, 'local', (registry) => new Counter({
      name: 'coredns_local_localhost_requests_total', help: 'Counter of localhost.<domain> requests.', registers: [registry],
    }));
    return new LocalHandler(counter);
  },
};
