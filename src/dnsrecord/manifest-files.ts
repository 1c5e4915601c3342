/**
 * @module dnsrecord/manifest-files
 * DNSRecords from manifest files and folders, through the kubernetes
 * plugin's manifest reader and watcher (cluster/manifests): the same file
 * finding, YAML/JSON splitting, `List` expansion, change watching and
 * "keep the last read when a path disappears" behaviour. Only the
 * conversion is ours: DNSRecord objects and the seed's `kind: DNS` JSON form;
 * every other kind in the files is left to the kubernetes plugin silently.
 */
import type { Logger } from '../log/logger.ts';
import { ManifestSource } from '../cluster/manifests/manifest-source.ts';
import { readManifestObjects, type ManifestContent, type ManifestListing } from '../cluster/manifests/read-manifests.ts';
import { convertDnsRecord, dnsRecordKey, isDnsRecordObject, describeDnsRecord, type DnsRecord } from './record.ts';
import type { DnsRecordKind } from './record-set.ts';

/** Reads the DNSRecords of a listing; invalid ones become "FILE: DNSRecord NS/NAME: what" warnings, as YAML errors do. */
export async function readDnsRecordManifests(listing: ManifestListing): Promise<ManifestContent<DnsRecord>> {
  const warnings: string[] = [];
  const byKey = new Map<string, DnsRecord>();
  for (const { file, body } of await readManifestObjects(listing, warnings)) {
    if (!isDnsRecordObject(body)) continue;
    const c = convertDnsRecord(body, file);
    if (c.error !== undefined) { warnings.push(`${file}: ${c.error}`); continue; }
    const earlier = byKey.get(dnsRecordKey(c.record));
    if (earlier !== undefined) warnings.push(`${file}: ${describeDnsRecord(c.record)}: also defined in ${earlier.origin}; using this one`);
    byKey.set(dnsRecordKey(c.record), c.record);
  }
  return { records: [...byKey.values()], warnings, fileCount: listing.files.length };
}

export interface DnsRecordManifestOptions {
  readonly paths: readonly string[];
  readonly logger: Logger;
  /** Poll interval for changes fs.watch misses (default 5000 ms). */
  readonly pollIntervalMs?: number;
}

/** A manifest source delivering DNSRecords (the kubernetes plugin's ManifestSource with our conversion). */
export function dnsRecordManifestSource(opts: DnsRecordManifestOptions): ManifestSource<DnsRecordKind, DnsRecord> {
  return new ManifestSource<DnsRecordKind, DnsRecord>({
    paths: opts.paths, kinds: ['DNSRecord'], logger: opts.logger, read: readDnsRecordManifests,
    ...(opts.pollIntervalMs !== undefined ? { pollIntervalMs: opts.pollIntervalMs } : {}),
  });
}
