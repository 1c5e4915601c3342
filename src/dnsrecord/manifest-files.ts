/**
 * @module dnsrecord/manifest-files
 * DNSRecords from manifest files and folders, through the kubernetes
 * plugin's manifest reader and watcher (cluster/manifests): the same file
 * finding, YAML/JSON splitting, `List` expansion, change watching, "keep the
 * last read when a path disappears" and the same last-good rule per file
 * (readFilesKeepingLastGood): a file that cannot be read or parsed keeps the
 * records it last gave, a record that fails validation keeps its previous
 * version, only a deleted file takes its records away. Only the conversion
 * is ours: DNSRecord objects and the seed's `kind: DNS` JSON form; every
 * other kind in the files is left to the kubernetes plugin silently.
 */
import type { Logger } from '../log/logger.ts';
import { ManifestSource } from '../cluster/manifests/manifest-source.ts';
import { objectsOf, readFilesKeepingLastGood, type FileParser, type FileStamp, type ManifestContent, type ManifestListing, ManifestSyntaxError } from '../cluster/manifests/read-manifests.ts';
import { convertDnsRecord, dnsRecordKey, isDnsRecordObject, describeDnsRecord, DEFAULT_NAMESPACE, SEED_KIND, type DnsRecord } from './record.ts';
import type { DnsRecordKind } from './record-set.ts';

/** The records one file gave the last time it was read, each with its document's line. */
export interface DnsRecordFile extends FileStamp {
  readonly records: readonly { readonly record: DnsRecord; readonly line: number }[];
}

/** "namespace/name" of a raw DNSRecord (either form), to find its previous version; null without a name. */
function rawKey(body: Record<string, unknown>): string | null {
  const meta = typeof body.metadata === 'object' && body.metadata !== null ? body.metadata as Record<string, unknown> : {};
  const name = body.kind === SEED_KIND ? body.name : meta.name;
  if (typeof name !== 'string' || name === '') return null;
  const ns = typeof meta.namespace === 'string' && meta.namespace !== '' ? meta.namespace : DEFAULT_NAMESPACE;
  return `${ns}/${name}`;
}

const dnsRecordFiles: FileParser<DnsRecordFile> = {
  parse(text, f, previous) {
    const warnings: string[] = [];
    const records: { record: DnsRecord; line: number }[] = [];
    const before = new Map((previous?.records ?? []).map((r) => [dnsRecordKey(r.record), r]));
    let syntax: ManifestSyntaxError | null = null;
    for (const o of objectsOf(text, f.path, warnings)) {
      if (o instanceof ManifestSyntaxError) { syntax ??= o; continue; }
      if (!isDnsRecordObject(o.body)) continue;
      const c = convertDnsRecord(o.body, f.path);
      if (c.error === undefined) { records.push({ record: c.record, line: o.line }); continue; }
      const key = rawKey(o.body);
      const old = key === null ? undefined : before.get(key);
      warnings.push(`${f.path}:${o.line}: ${c.error}${old !== undefined ? '; keeping its previous version' : ''}`);
      if (old !== undefined) records.push(old);
    }
    return { parsed: { mtimeMs: f.mtimeMs, size: f.size, ino: f.ino, ctimeMs: f.ctimeMs, warnings, records }, syntax };
  },
  count: (f) => f.records.length,
};

/** Reads the DNSRecords of a listing, given what each file gave at the previous read. */
export async function readDnsRecordManifests(listing: ManifestListing, _kinds: readonly DnsRecordKind[] = ['DNSRecord'], previous: ReadonlyMap<string, unknown> = new Map()): Promise<ManifestContent<DnsRecord> & { files: ReadonlyMap<string, DnsRecordFile> }> {
  const { files, errors } = await readFilesKeepingLastGood(listing, previous, dnsRecordFiles);
  const warnings: string[] = [];
  const byKey = new Map<string, { record: DnsRecord; line: number }>();
  for (const fo of files.values()) {
    warnings.push(...fo.warnings);
    for (const r of fo.records) {
      const earlier = byKey.get(dnsRecordKey(r.record));
      if (earlier !== undefined) warnings.push(`${r.record.origin}:${r.line}: ${describeDnsRecord(r.record)}: also defined in ${earlier.record.origin}:${earlier.line}; using this one`);
      byKey.set(dnsRecordKey(r.record), r);
    }
  }
  return { records: [...byKey.values()].map((r) => r.record), warnings, errors, fileCount: listing.files.length, files };
}

export interface DnsRecordManifestOptions {
  readonly paths: readonly string[];
  readonly logger: Logger;
  /** Poll interval for changes fs.watch misses (default 5000 ms). */
  readonly pollIntervalMs?: number;
  /** Told once per new failure of a file (coredns_dnsrecord_manifest_errors_total, the gateway's count). */
  readonly onFileError?: (file: string) => void;
}

/** A manifest source delivering DNSRecords (the kubernetes plugin's ManifestSource with our conversion). */
export function dnsRecordManifestSource(opts: DnsRecordManifestOptions): ManifestSource<DnsRecordKind, DnsRecord> {
  return new ManifestSource<DnsRecordKind, DnsRecord>({
    paths: opts.paths, kinds: ['DNSRecord'], logger: opts.logger, read: readDnsRecordManifests,
    ...(opts.pollIntervalMs !== undefined ? { pollIntervalMs: opts.pollIntervalMs } : {}),
    ...(opts.onFileError !== undefined ? { onFileError: opts.onFileError } : {}),
  });
}
