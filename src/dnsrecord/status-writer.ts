/**
 * @module dnsrecord/status-writer
 * The gateway controller's status writes for DNSRecords read from the API:
 * each record gets an `Accepted` condition, True when it owns its host,
 * False (reason HostClaimed, the conflict in the message) when an older
 * record has the host. A condition is written only when the one the record
 * carries differs, one merge patch of the status subresource at a time; a
 * failed write is logged and tried again on the next change.
 */
import type { Logger } from '../log/logger.ts';
import { conflictMessage, type DnsRecordSet } from './record-set.ts';
import { ACCEPTED, dnsRecordKey, describeDnsRecord, type AcceptedCondition, type DnsRecord } from './record.ts';
import { errorMessage } from '../errors/to-error.ts';

export type StatusPatcher = (namespace: string, name: string, patch: unknown) => Promise<void>;

export class DnsRecordStatusWriter {
  readonly #patch: StatusPatcher;
  readonly #log: Logger;
  readonly #now: () => number;
  /** What was last written per record, until its watch event shows it. */
  readonly #written = new Map<string, string>();
  #queue = new Map<string, { record: DnsRecord; want: AcceptedCondition }>();
  #draining: Promise<void> | null = null;
  /** Status writes that succeeded (tests wait on it). */
  writes = 0;

  constructor(patch: StatusPatcher, log: Logger, now: () => number = () => Date.now()) {
    this.#patch = patch;
    this.#log = log;
    this.#now = now;
  }

  /** Queues the writes that bring every API record's condition to what the host table says. */
  update(set: DnsRecordSet): Promise<void> {
    const losers = new Map(set.conflicts().map((c) => [dnsRecordKey(c.loser), c] as const));
    for (const r of set.records()) {
      if (r.origin !== 'api') continue;
      const key = dnsRecordKey(r);
      const c = losers.get(key);
      const want: AcceptedCondition = c !== undefined
        ? { status: 'False', reason: 'HostClaimed', message: conflictMessage(c) }
        : { status: 'True', reason: 'HostOwned', message: `${describeDnsRecord(r)} owns host ${r.host}` };
      const text = JSON.stringify(want);
      if (r.accepted !== null && JSON.stringify(r.accepted) === text) { this.#written.delete(key); continue; }
      if (this.#written.get(key) === text) continue;
      this.#queue.set(key, { record: r, want });
    }
    this.#draining ??= this.#drain().finally(() => { this.#draining = null; });
    return this.#draining;
  }

  async #drain(): Promise<void> {
    while (this.#queue.size > 0) {
      const [key, job] = this.#queue.entries().next().value!;
      this.#queue.delete(key);
      const condition = { type: ACCEPTED, ...job.want, lastTransitionTime: new Date(this.#now()).toISOString().replace(/\.\d+Z$/, 'Z') };
      try {
        await this.#patch(job.record.namespace, job.record.name, { status: { conditions: [condition] } });
        this.#written.set(key, JSON.stringify(job.want));
        this.writes++;
      } catch (e) {
        this.#log.warn(`writing the status of ${describeDnsRecord(job.record)} failed: ${errorMessage(e)}; retrying on the next change`);
      }
    }
  }
}
