/**
 * @module status/name-tracker
 * The most asked names of a server block, and how many NXDOMAIN answers were
 * for search-path suffixes: a name below a cluster zone with a shape no
 * Service, endpoint or pod record has (`www.example.com.shop.svc.<zone>`,
 * `api.svc.<zone>`, `www.example.com.<zone>`): what ndots:5 walks produce.
 * Bounded: at most MAX_NAMES names are counted; when full, the older half
 * is forgotten. Fed by a reply observer (cheap, synchronous).
 */
import { Rcode } from '../dns/constants.ts';
import { isSubdomain } from '../dns/name.ts';

export const MAX_NAMES = 10_000;

interface Counts { count: number; nxdomain: number }

/** Whether the labels below a cluster zone have a shape a record could have. */
export function clusterShape(relative: readonly string[]): boolean {
  const n = relative.length;
  if (n <= 1) return true; // the zone, a namespace, dns-version
  const last = relative[n - 1];
  if (last === 'pod') return n === 3;
  if (last !== 'svc') return false;
  if (relative[0]!.startsWith('_')) return n === 5 || n === 4; // _port._proto.svc.ns / _port.svc.ns (SRV)
  return n === 3 || n === 4; // svc.ns.svc, endpoint.svc.ns.svc
}

export class NameTracker {
  readonly #names = new Map<string, Counts>();
  readonly #zones: () => readonly string[];
  nxdomain = 0;
  suffixNxdomain = 0;

  constructor(zones: () => readonly string[]) {
    this.#zones = zones;
  }

  observe(qname: string, rcode: number): void {
    let c = this.#names.get(qname);
    if (c === undefined) {
      if (this.#names.size >= MAX_NAMES) this.#forgetOlderHalf();
      c = { count: 0, nxdomain: 0 };
      this.#names.set(qname, c);
    }
    c.count++;
    if (rcode !== Rcode.NXDOMAIN) return;
    c.nxdomain++;
    this.nxdomain++;
    for (const z of this.#zones()) {
      if (z === '.' || !isSubdomain(qname, z) || qname === z) continue;
      const relative = qname.slice(0, qname.length - z.length - 1).split('.');
      if (!clusterShape(relative)) this.suffixNxdomain++;
      break;
    }
  }

  top(n: number): { name: string; count: number; nxdomain: number }[] {
    return [...this.#names].sort((a, b) => b[1].count - a[1].count).slice(0, n).map(([name, c]) => ({ name, ...c }));
  }

  #forgetOlderHalf(): void {
    let drop = this.#names.size >> 1;
    for (const k of this.#names.keys()) {
      if (drop-- <= 0) break;
      this.#names.delete(k);
    }
  }
}
