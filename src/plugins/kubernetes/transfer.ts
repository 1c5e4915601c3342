/**
 * @module plugins/kubernetes/transfer
 * The kubernetes zone as a list of records, for AXFR (CoreDNS's kubernetes
 * Transfer): the SOA, the apex NS and its addresses, and for every exposed
 * Service its A/AAAA (or CNAME for ExternalName), SRV per named port, and
 * for headless Services each endpoint's A/AAAA and SRV. Every record is
 * taken from the same index that answers queries, so a secondary holds
 * exactly what is served.
 */
import { Rcode, Type } from '../../dns/constants.ts';
import type { RR } from '../../dns/rr.ts';
import { CnameFollow } from './answers.ts';
import type { DnsIndex } from './dns-index.ts';
import { buildServiceView } from './service-view.ts';

export function kubernetesZoneRecords(index: DnsIndex, zone: string): RR[] {
  const out: RR[] = [index.soa(zone)];
  const seen = new Set<string>();
  const add = (name: string, type: number): void => {
    const a = index.answer(name, type, zone);
    // peekSections: a transfer goes over every name once, so the kept answers are not left holding decoded records.
    let records: readonly RR[] = [];
    if (a instanceof CnameFollow) records = [a.cname];
    else if (a.rcode === Rcode.NOERROR) { const [answer, , additional] = a.peekSections(); records = [...answer, ...additional]; }
    for (const r of records) {
      if (r.type === Type.SOA) continue;
      const key = `${r.name}/${r.type}/${Buffer.from(r.data).toString('hex')}`;
      if (!seen.has(key)) { seen.add(key); out.push(r); }
    }
  };
  add(zone, Type.NS);
  const suffix = zone === '.' ? '' : zone;
  for (const svc of index.store.services()) {
    if (!index.namespaceExposed(svc.namespace)) continue;
    const base = `${svc.name}.${svc.namespace}.svc.${suffix}`;
    if (svc.type === 'ExternalName') { add(base, Type.CNAME); continue; }
    add(base, Type.A);
    add(base, Type.AAAA);
    const view = buildServiceView(index.store, svc, index.opts.endpointPodNames, index.opts.endpoints);
    const ports = new Map<string, { name: string; protocol: string }>();
    for (const p of svc.ports) if (p.name !== '') ports.set(`${p.name}/${p.protocol}`, p);
    if (svc.headless) for (const e of view.endpoints) for (const p of e.ports) if (p.name !== '') ports.set(`${p.name}/${p.protocol}`, p);
    for (const p of ports.values()) add(`_${p.name}._${p.protocol}.${base}`, Type.SRV);
    if (svc.headless) for (const e of view.endpoints) { add(`${e.label}.${base}`, Type.A); add(`${e.label}.${base}`, Type.AAAA); }
  }
  return out;
}
