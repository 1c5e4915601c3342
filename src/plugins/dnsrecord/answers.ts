/**
 * @module plugins/dnsrecord/answers
 * The pre-encoded replies of the dnsrecord plugin, rebuilt whole on every
 * change of the records (or of a Service a record names as its gateway):
 * per host an A reply, an AAAA reply and a NODATA reply with the zone SOA,
 * and per zone an NXDOMAIN with its SOA. A query only looks a name up and
 * returns one of these, already packed.
 */
import { Rcode, Type } from '../../dns/constants.ts';
import { isSubdomain } from '../../dns/name.ts';
import { Reply } from '../../dns/reply.ts';
import { rrs, type RR } from '../../dns/rr.ts';
import type { ClusterStore } from '../../cluster/store.ts';
import type { DnsRecord } from '../../dnsrecord/record.ts';
import { soaRecord } from '../kubernetes/answers.ts';

export const PLUGIN = 'dnsrecord';

interface HostReplies {
  readonly a: Reply;
  readonly aaaa: Reply;
  readonly nodata: Reply;
}

/** The gateway addresses a host answers with: the record's own gateway first, else the plugin's. */
export function gatewayAddresses(r: DnsRecord, cluster: ClusterStore, fallback: readonly string[]): readonly string[] {
  const g = r.gateway;
  if (g === null) return fallback;
  if ('address' in g) return [g.address];
  const svc = cluster.service(g.namespace, g.service);
  if (svc === undefined) return fallback;
  // A load balancer's address reaches the gateway from outside the cluster too; the ClusterIP only from inside.
  if (svc.loadBalancerIPs !== undefined && svc.loadBalancerIPs.length > 0) return svc.loadBalancerIPs;
  return svc.clusterIPs.length > 0 ? svc.clusterIPs : fallback;
}

export class DnsRecordAnswers {
  readonly #hosts = new Map<string, HostReplies>();
  readonly #nxdomain = new Map<string, Reply>();
  readonly #zones: readonly string[];

  constructor(zones: readonly string[], winners: ReadonlyMap<string, DnsRecord>, cluster: ClusterStore, gateways: readonly string[], ttl: number) {
    // Longest zone first: a host's SOA is the most specific zone holding it.
    this.#zones = [...zones].sort((a, b) => b.length - a.length);
    const serial = Math.floor(Date.now() / 1000) >>> 0;
    const soas = new Map(this.#zones.map((z) => [z, soaRecord(z, ttl, serial)] as const));
    for (const z of this.#zones) {
      this.#nxdomain.set(z, new Reply({ rcode: Rcode.NXDOMAIN, authoritative: true, authority: [soas.get(z)!], plugin: PLUGIN }));
    }
    for (const [host, record] of winners) {
      const zone = this.zoneOf(host);
      if (zone === null) continue;
      const addrs = gatewayAddresses(record, cluster, gateways);
      const soa = soas.get(zone)!;
      const v4 = addrs.filter((a) => !a.includes(':')).map((a) => rrs.a(host, ttl, a));
      const v6 = addrs.filter((a) => a.includes(':')).map((a) => rrs.aaaa(host, ttl, a));
      const nodata = reply(host, [], soa);
      this.#hosts.set(host, { a: v4.length > 0 ? reply(host, v4, null) : nodata, aaaa: v6.length > 0 ? reply(host, v6, null) : nodata, nodata });
    }
  }

  get hostCount(): number {
    return this.#hosts.size;
  }

  /** The most specific of our zones holding `qname`, or null. */
  zoneOf(qname: string): string | null {
    for (const z of this.#zones) if (isSubdomain(qname, z)) return z;
    return null;
  }

  /** The reply for a host we hold, or null. */
  answer(qname: string, qtype: number): Reply | null {
    const h = this.#hosts.get(qname);
    if (h === undefined) return null;
    return qtype === Type.A ? h.a : qtype === Type.AAAA ? h.aaaa : h.nodata;
  }

  nxdomain(zone: string): Reply {
    return this.#nxdomain.get(zone)!;
  }
}

function reply(host: string, answer: readonly RR[], soa: RR | null): Reply {
  return new Reply({ authoritative: true, answer, authority: soa === null ? [] : [soa], plugin: PLUGIN }).prepack(host);
}
