/**
 * @module plugin/transfer-source
 * What the `transfer` plugin needs from a plugin whose zones it may send out
 * (file, kubernetes): the zones it is authoritative for, every record of one
 * (SOA first), and a signal when a zone changed (to NOTIFY secondaries).
 * Plugins offer it by implementing these methods on their handler; transfer
 * finds them with `handlersNamed`.
 */
import type { RR } from '../dns/rr.ts';

export interface TransferSource {
  /** Zones this handler can send in full. */
  transferZones(): readonly string[];
  /** Every record of `zone`, SOA first (not repeated at the end), or null when the zone is not loaded. */
  transferRecords(zone: string): readonly RR[] | null;
  /** Calls `fn` with the zone whenever its data changed; returns the way to stop. */
  onZoneChange(fn: (zone: string) => void): () => void;
}

export function isTransferSource(h: object): h is TransferSource {
  const t = h as Partial<TransferSource>;
  return typeof t.transferZones === 'function' && typeof t.transferRecords === 'function' && typeof t.onZoneChange === 'function';
}
