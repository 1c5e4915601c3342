/**
 * @module plugins/kubernetes/names
 * Names relative to one of the plugin's zones: a label in the zone, and the
 * labels of a query name below the zone (what follows a label in a zone is
 * dns/name.ts's zoneSuffix).
 */
import { zoneSuffix } from '../../dns/name.ts';

/** `<label>.<zone>`, also for the root zone. */
export function inZone(label: string, zone: string): string {
  return `${label}.${zoneSuffix(zone)}`;
}

/** The labels of `qname` below `zone`, in the name's order ("a.b" -> ["a","b"]); [] at the apex. */
export function labelsBelow(qname: string, zone: string): string[] {
  if (qname === zone) return [];
  const base = zone === '.' ? qname.slice(0, -1) : qname.slice(0, qname.length - zone.length - 1);
  return base === '' ? [] : base.split('.');
}
