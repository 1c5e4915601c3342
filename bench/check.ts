/**
 * @module bench/check
 * Sanity check before timing a peer: a sample of each mix's queries (spread
 * over the file) is sent one by one, and each answer's rcode and whether it
 * carries records of the asked type are compared with what the Kubernetes
 * DNS spec gives for the generated cluster. Throughput of a server that
 * answers wrongly is not comparable, so mismatches are shown in the report.
 */

import { DnsClient } from './dns-wire.ts';
import type { Mix, ZoneData } from './cluster-gen.ts';

export interface SanityResult {
  readonly checked: number;
  readonly failed: number;
  /** Up to a few mismatches, for the report. */
  readonly examples: readonly string[];
}

export async function sanityCheck(port: number, zoneData: ZoneData, mixes: readonly Mix[]): Promise<SanityResult> {
  const client = new DnsClient(port);
  let checked = 0;
  let failed = 0;
  const examples: string[] = [];
  try {
    for (const mix of mixes) {
      for (const q of zoneData.mixes[mix].sample) {
        checked++;
        let a = await client.query(q.name, q.qtype, 1000);
        a ??= await client.query(q.name, q.qtype, 2000);
        const got = a === null ? 'timeout' : `${a.rcode}${a.matching > 0 ? '+answer' : ''}`;
        const want = `${q.rcode}${q.hasAnswer ? '+answer' : ''}`;
        if (got !== want) {
          failed++;
          if (examples.length < 4) examples.push(`${q.name} ${q.qtype}: got ${got}, want ${want}`);
        }
      }
    }
  } finally {
    client.close();
  }
  return { checked, failed, examples };
}
