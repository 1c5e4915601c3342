/**
 * @module cluster/manifests/read-manifests
 * Reading a set of manifest files and folders into slim cluster records:
 * finding the files (*.yaml, *.yml, *.json, recursively, skipping hidden and
 * `..data`-style entries of ConfigMap volumes), splitting multi-document
 * YAML, expanding `List` kinds, converting Namespace / Service /
 * EndpointSlice / Pod (and legacy v1 Endpoints) with the API converters, and
 * collecting a warning for everything that had to be skipped. Nothing here
 * touches the store: the source hands the result to `replace` in one go.
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { convertObject, describeObject, SERVICE_NAME_LABEL } from '../api/convert.ts';
import type { ClusterKind, ClusterRecord, EndpointSliceRecord, NamespaceRecord } from '../types.ts';
import { recordKey } from '../types.ts';
import { endpointsToSlices } from './legacy-endpoints.ts';

/** Namespace used for namespaced objects written without one, as kubectl does. */
export const DEFAULT_NAMESPACE = 'default';
/** The label the API server puts on every Namespace; manifests get it too so selectors behave the same. */
export const NAMESPACE_NAME_LABEL = 'kubernetes.io/metadata.name';

const EXTENSIONS = ['.yaml', '.yml', '.json'];

type Json = Record<string, unknown>;

function isObj(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

const EXPECTED_API: Readonly<Record<string, readonly string[]>> = {
  Namespace: ['v1'],
  Service: ['v1'],
  Pod: ['v1'],
  Endpoints: ['v1'],
  EndpointSlice: ['discovery.k8s.io/v1'],
};

/** Kinds another reader of the same folders takes (the dnsrecord plugin's DNSRecord and seed DNS forms): skipped without a warning. */
const OTHER_READERS_KINDS = new Set(['DNSRecord', 'DNS']);

export interface ManifestFile {
  readonly path: string;
  readonly mtimeMs: number;
  readonly size: number;
}

export interface ManifestListing {
  readonly files: readonly ManifestFile[];
  /** Configured paths that do not exist (or cannot be read). */
  readonly missing: readonly string[];
  /** Changes whenever a file is added, removed or modified. */
  readonly signature: string;
}

function isManifestName(name: string): boolean {
  if (name.startsWith('.')) return false; // hidden files, editor swap files, ConfigMap ..data links
  const lower = name.toLowerCase();
  return EXTENSIONS.some((e) => lower.endsWith(e));
}

async function walk(dir: string, out: ManifestFile[], depth: number): Promise<void> {
  if (depth > 32) return; // symlink loops
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch {
    return;
  }
  for (const e of entries) {
    if (e.name.startsWith('.')) continue;
    const full = join(dir, e.name);
    let st;
    try {
      st = await stat(full); // follows symlinks (ConfigMap volumes link every file)
    } catch {
      continue;
    }
    if (st.isDirectory()) await walk(full, out, depth + 1);
    else if (st.isFile() && isManifestName(e.name)) out.push({ path: full, mtimeMs: st.mtimeMs, size: st.size });
  }
}

/** The manifest files under `paths` (a file path is taken whatever its extension), sorted. */
export async function listManifestFiles(paths: readonly string[]): Promise<ManifestListing> {
  const files: ManifestFile[] = [];
  const missing: string[] = [];
  for (const p of paths) {
    let st;
    try {
      st = await stat(p);
    } catch {
      missing.push(p);
      continue;
    }
    if (st.isDirectory()) await walk(p, files, 0);
    else files.push({ path: p, mtimeMs: st.mtimeMs, size: st.size });
  }
  const seen = new Set<string>();
  const unique = files.filter((f) => (seen.has(f.path) ? false : (seen.add(f.path), true)));
  unique.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  const signature = unique.map((f) => `${f.path}\0${f.mtimeMs}\0${f.size}`).join('\n') + `\nmissing:${missing.join(',')}`;
  return { files: unique, missing, signature };
}

/** One Kubernetes object found in a file. */
export interface FoundObject {
  readonly file: string;
  readonly body: Json;
}

/** Splits a file into Kubernetes objects; YAML errors become "FILE:LINE: message" warnings. */
export function objectsOfText(text: string, file: string, warnings: string[]): FoundObject[] {
  const out: FoundObject[] = [];
  const docs = parseAllDocuments(text, { prettyErrors: true, uniqueKeys: true });
  for (const doc of docs) {
    if (doc.errors.length > 0) {
      const e = doc.errors[0]!;
      const line = e.linePos?.[0]?.line ?? 1;
      const message = e.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '');
      warnings.push(`${file}:${line}: ${message}`);
      continue;
    }
    let value: unknown;
    try {
      value = doc.toJS({ maxAliasCount: 100 });
    } catch (err) {
      warnings.push(`${file}: ${(err as Error).message}`);
      continue;
    }
    if (value === null || value === undefined) continue; // empty document
    if (!isObj(value)) {
      warnings.push(`${file}: document is not a Kubernetes object`);
      continue;
    }
    if (typeof value.kind === 'string' && value.kind.endsWith('List') && Array.isArray(value.items)) {
      for (const item of value.items) {
        if (isObj(item)) out.push({ file, body: item });
        else warnings.push(`${file}: ${value.kind} item is not a Kubernetes object`);
      }
      continue;
    }
    out.push({ file, body: value });
  }
  return out;
}

export interface ManifestContent<R = ClusterRecord> {
  readonly records: readonly R[];
  readonly warnings: readonly string[];
  readonly fileCount: number;
}

/**
 * Converts found objects to records: checks kind and apiVersion, converts,
 * mirrors legacy Endpoints for services that have no EndpointSlice, drops
 * duplicates (the later file wins) and declares the namespaces objects live in.
 */
export function recordsOfObjects(objects: readonly FoundObject[], kinds: readonly ClusterKind[], warnings: string[]): ClusterRecord[] {
  const wanted = new Set<string>(kinds);
  const byKey = new Map<string, { record: ClusterRecord; file: string }>();
  const mirrored: { record: EndpointSliceRecord; file: string }[] = [];
  const usedNamespaces = new Set<string>();

  const add = (record: ClusterRecord, file: string): void => {
    const key = `${record.kind}\0${recordKey(record)}`;
    const earlier = byKey.get(key);
    if (earlier !== undefined) {
      warnings.push(`${file}: ${describeRecord(record)}: also defined in ${earlier.file}; using this one`);
    }
    byKey.set(key, { record, file });
  };

  for (const { file, body } of objects) {
    const kind = typeof body.kind === 'string' ? body.kind : '';
    if (kind === '') {
      warnings.push(`${file}: ${describeUnknown('object', body)}: missing kind`);
      continue;
    }
    const expected = EXPECTED_API[kind];
    if (expected === undefined) {
      if (OTHER_READERS_KINDS.has(kind)) continue;
      warnings.push(`${file}: ${describeUnknown(kind, body)}: unsupported kind (want Namespace, Service, EndpointSlice, Endpoints or Pod)`);
      continue;
    }
    if (body.apiVersion !== undefined && !expected.includes(body.apiVersion as string)) {
      warnings.push(`${file}: ${describeUnknown(kind, body)}: unsupported apiVersion ${JSON.stringify(body.apiVersion)} (want ${expected.join(' or ')})`);
      continue;
    }
    if (kind === 'Endpoints') {
      if (!wanted.has('EndpointSlice')) continue;
      const r = endpointsToSlices(body, DEFAULT_NAMESPACE);
      if ('error' in r) {
        warnings.push(`${file}: ${describeUnknown(kind, body)}: ${r.error}`);
        continue;
      }
      for (const s of r.slices) {
        const c = convertObject('EndpointSlice', s, { defaultNamespace: DEFAULT_NAMESPACE });
        if (c.error !== undefined) warnings.push(`${file}: ${describeUnknown(kind, body)}: ${c.error.replace(/^EndpointSlice [^:]*: /, '')}`);
        else mirrored.push({ record: c.record as EndpointSliceRecord, file });
      }
      continue;
    }
    const c = convertObject(kind as ClusterKind, body, { defaultNamespace: DEFAULT_NAMESPACE });
    if (c.error !== undefined) {
      warnings.push(`${file}: ${c.error}`);
      continue;
    }
    if (c.record.kind !== 'Namespace') usedNamespaces.add(c.record.namespace);
    if (c.record.kind === 'EndpointSlice' && c.record.serviceName === '') {
      warnings.push(`${file}: ${describeRecord(c.record)}: missing label ${SERVICE_NAME_LABEL}, the slice belongs to no Service`);
    }
    if (!wanted.has(c.record.kind)) continue;
    add(c.record, file);
  }

  // Legacy Endpoints count only for services without a real EndpointSlice (as the mirroring controller).
  const hasSlices = new Set<string>();
  for (const { record } of byKey.values()) {
    if (record.kind === 'EndpointSlice') hasSlices.add(`${record.namespace}/${record.serviceName}`);
  }
  for (const m of mirrored) {
    if (hasSlices.has(`${m.record.namespace}/${m.record.serviceName}`)) continue;
    usedNamespaces.add(m.record.namespace);
    add(m.record, m.file);
  }

  const records: ClusterRecord[] = [];
  const declared = new Set<string>();
  for (const { record } of byKey.values()) {
    if (record.kind === 'Namespace') {
      declared.add(record.name);
      records.push(withNameLabel(record));
    } else {
      records.push(record);
    }
  }
  if (wanted.has('Namespace')) {
    for (const ns of [...usedNamespaces].sort()) {
      if (!declared.has(ns)) records.push({ kind: 'Namespace', name: ns, labels: { [NAMESPACE_NAME_LABEL]: ns } });
    }
  }
  return records;
}

function withNameLabel(ns: NamespaceRecord): NamespaceRecord {
  if (ns.labels[NAMESPACE_NAME_LABEL] === ns.name) return ns;
  return { kind: 'Namespace', name: ns.name, labels: { ...ns.labels, [NAMESPACE_NAME_LABEL]: ns.name } };
}

function describeRecord(r: ClusterRecord): string {
  return r.kind === 'Namespace' ? `Namespace ${r.name}` : `${r.kind} ${r.namespace}/${r.name}`;
}

function describeUnknown(kind: string, body: Json): string {
  if (kind === 'Namespace') return describeObject('Namespace', body);
  const meta = isObj(body.metadata) ? body.metadata : {};
  const ns = typeof meta.namespace === 'string' && meta.namespace !== '' ? meta.namespace : DEFAULT_NAMESPACE;
  const name = typeof meta.name === 'string' && meta.name !== '' ? meta.name : '<unnamed>';
  return `${kind} ${ns}/${name}`;
}

/** Reads every file of a listing and converts what it holds. */
export async function readManifests(listing: ManifestListing, kinds: readonly ClusterKind[]): Promise<ManifestContent> {
  const warnings: string[] = [];
  const objects = await readManifestObjects(listing, warnings);
  const records = recordsOfObjects(objects, kinds, warnings);
  return { records, warnings, fileCount: listing.files.length };
}

/** Every object of every file of a listing, unconverted (other readers, e.g. DNSRecords, convert their kinds). */
export async function readManifestObjects(listing: ManifestListing, warnings: string[]): Promise<FoundObject[]> {
  const objects: FoundObject[] = [];
  for (const f of listing.files) {
    let text: string;
    try {
      text = await readFile(f.path, 'utf8');
    } catch (e) {
      warnings.push(`${f.path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
      continue;
    }
    objects.push(...objectsOfText(text, f.path, warnings));
  }
  return objects;
}
