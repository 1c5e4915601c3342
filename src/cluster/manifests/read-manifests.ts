/**
 * @module cluster/manifests/read-manifests
 * Reading a set of manifest files and folders into slim cluster records:
 * finding the files (*.yaml, *.yml, *.json, recursively, skipping hidden and
 * `..data`-style entries of ConfigMap volumes), reading multi-document YAML
 * one document at a time (Parser → Composer: each document becomes a plain
 * object, is converted to a slim record at once and dropped, so a large file
 * is never one big tree; JSON goes straight through JSON.parse), expanding
 * `List` kinds, converting Namespace / Service / EndpointSlice / Pod (and
 * legacy v1 Endpoints) with the API converters, and collecting a
 * `FILE:LINE: what` warning for everything that had to be skipped.
 *
 * Last good state per file: what each file contributed is kept
 * (FileObjects). A file that cannot be read or parsed, or that is empty
 * while it held objects (an editor's save in progress), keeps contributing
 * what it did before; a document that fails validation keeps its previous
 * version; a file whose stat stamp (mtime, size, inode, ctime) did not change is not parsed again.
 * Only a deleted file takes its objects away. That rule is
 * readFilesKeepingLastGood, shared with the DNSRecord reader (which brings
 * its own conversion through objectsOf). Nothing here touches the store:
 * the source hands the result to `replace` in one go.
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import { compactRecord, StringPool } from '../compact-record.ts';
import { fastDocument, NOT_HANDLED, splitDocuments } from './fast-yaml.ts';
import { convertObject, describeObject, SERVICE_NAME_LABEL } from '../api/convert.ts';
import type { ClusterKind, ClusterRecord, EndpointSliceRecord, NamespaceRecord } from '../types.ts';
import { recordKey } from '../types.ts';
import { endpointsToSlices } from './legacy-endpoints.ts';
import { errorMessage } from '../../errors/to-error.ts';

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

/**
 * When a file was last written, as stat says. The inode and ctime are part of it: a file replaced
 * by rename (ConfigMap volumes, editors) with the same size inside one coarse mtime tick would
 * otherwise look unchanged and never be read again.
 */
export interface Stamp {
  readonly mtimeMs: number;
  readonly size: number;
  readonly ino: number;
  readonly ctimeMs: number;
}

export function sameStamp(a: Stamp, b: Stamp): boolean {
  return a.mtimeMs === b.mtimeMs && a.size === b.size && a.ino === b.ino && a.ctimeMs === b.ctimeMs;
}

function stampOf(st: Stamp): Stamp {
  return { mtimeMs: st.mtimeMs, size: st.size, ino: st.ino, ctimeMs: st.ctimeMs };
}

export interface ManifestFile extends Stamp {
  readonly path: string;
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
    else if (st.isFile() && isManifestName(e.name)) out.push({ path: full, ...stampOf(st) });
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
    else files.push({ path: p, ...stampOf(st) });
  }
  const seen = new Set<string>();
  const unique = files.filter((f) => (seen.has(f.path) ? false : (seen.add(f.path), true)));
  unique.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  const signature = unique.map((f) => `${f.path}\0${f.mtimeMs}\0${f.size}\0${f.ino}\0${f.ctimeMs}`).join('\n') + `\nmissing:${missing.join(',')}`;
  return { files: unique, missing, signature };
}

/** One converted object, with where it came from. */
interface FoundRecord {
  readonly record: ClusterRecord;
  readonly file: string;
  readonly line: number;
}

/** What one file contributed the last time it was read successfully. */
export interface FileObjects extends Stamp {
  readonly records: readonly FoundRecord[];
  /** v1 Endpoints mirrored as slices (count only for services without a real slice). */
  readonly mirrored: readonly FoundRecord[];
  /** Warnings about single documents (logged again only when they change). */
  readonly warnings: readonly string[];
}

/** A file that could not be used this time; its previous objects stay. */
export interface FileError {
  readonly file: string;
  /** `FILE:LINE: what`, plus what was kept. */
  readonly message: string;
}

const keyOf = (r: ClusterRecord): string => `${r.kind}\0${recordKey(r)}`;

/** Kind and identity of a raw object, for "keep its previous version" (null when it has none). */
function rawKey(body: Json): string | null {
  const kind = typeof body.kind === 'string' ? body.kind : '';
  const meta = isObj(body.metadata) ? body.metadata : {};
  const name = typeof meta.name === 'string' ? meta.name : '';
  if (kind === '' || name === '') return null;
  if (kind === 'Namespace') return `Namespace\0${name}`;
  const ns = typeof meta.namespace === 'string' && meta.namespace !== '' ? meta.namespace : DEFAULT_NAMESPACE;
  return `${kind}\0${ns}/${name}`;
}

/**
 * The documents of a file as plain objects with their first line; a
 * document that does not parse is yielded as a ManifestSyntaxError.
 */
function* documentsOf(text: string, file: string): Generator<{ value: unknown; line: number } | ManifestSyntaxError> {
  const trimmed = text.trimStart();
  const json = file.toLowerCase().endsWith('.json');
  if (json || trimmed.startsWith('{') || trimmed.startsWith('[')) {
    // Fast path: JSON (also YAML that happens to be JSON); flow-style YAML that is not JSON falls through.
    try {
      yield { value: JSON.parse(text) as unknown, line: 1 };
      return;
    } catch (e) {
      if (json) {
        const m = /position (\d+)/.exec(errorMessage(e));
        const line = m ? text.slice(0, Number(m[1])).split('\n').length : 1;
        yield new ManifestSyntaxError(line, errorMessage(e).split('\n')[0]!);
        return;
      }
    }
  }
  const docs = splitDocuments(text);
  if (docs === null) {
    yield* composed(text, 0);
    return;
  }
  for (const d of docs) {
    const v = fastDocument(d.text);
    if (v === NOT_HANDLED) yield* composed(d.text, d.start - 1);
    else if (v !== undefined) yield { value: JSON.parse(JSON.stringify(v)) as unknown, line: d.line };
  }
}

type YamlModule = typeof import('yaml');
let yamlModule: YamlModule | null = null;

/** The full YAML parser, loaded the first time a document needs it (~15 MB RSS; the fast reader covers most manifests). */
function yaml(): YamlModule {
  yamlModule ??= createRequire(import.meta.url)('yaml') as YamlModule;
  return yamlModule;
}

/** Documents through the full YAML parser (lines shifted by `lineOffset`). */
function* composed(text: string, lineOffset: number): Generator<{ value: unknown; line: number } | ManifestSyntaxError> {
  const { Composer, LineCounter, Parser } = yaml();
  const lines = new LineCounter();
  const composer = new Composer({ uniqueKeys: true });
  for (const doc of composer.compose(new Parser(lines.addNewLine).parse(text))) {
    const line = lines.linePos(doc.range[0]).line + lineOffset;
    const err = doc.errors[0];
    if (err !== undefined) {
      yield new ManifestSyntaxError(lines.linePos(err.pos[0]).line + lineOffset, err.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, ''));
      continue;
    }
    let value: unknown;
    try {
      value = doc.toJS({ maxAliasCount: 100 });
    } catch (e) {
      yield new ManifestSyntaxError(line, errorMessage(e));
      continue;
    }
    // Through JSON once: strings sliced out of a large file would keep the whole text alive.
    yield { value: value === undefined ? null : JSON.parse(JSON.stringify(value)) as unknown, line };
  }
}

/** A document of a file that does not parse, at its line. */
export class ManifestSyntaxError extends Error {
  readonly line: number;
  constructor(line: number, message: string) {
    super(message);
    this.line = line;
  }
}

/**
 * Converts one file's text. `syntax` is the file's first syntax error (the
 * caller keeps the file's previous objects instead, if it has any; else the
 * documents that did parse are used).
 */
export function parseManifestFile(text: string, file: string, stamp: Stamp, previous: FileObjects | undefined, pool: StringPool): FileObjects & { syntax: ManifestSyntaxError | null } {
  let syntax: ManifestSyntaxError | null = null;
  const records: FoundRecord[] = [];
  const mirrored: FoundRecord[] = [];
  const warnings: string[] = [];
  const before = new Map<string, FoundRecord>();
  for (const r of previous?.records ?? []) before.set(keyOf(r.record), r);
  const take = (body: Json, line: number): void => {
    const where = `${file}:${line}`;
    const r = convertBody(body, where, warnings, pool);
    if (r === null) {
      const k = rawKey(body);
      const old = k === null ? undefined : before.get(k);
      if (old !== undefined) {
        warnings.push(`${where}: ${describeUnknown(String(body.kind), body)}: keeping its previous version`);
        records.push(old);
      }
      return;
    }
    for (const rec of r.records) records.push({ record: rec, file, line });
    for (const rec of r.mirrored) mirrored.push({ record: rec, file, line });
  };
  for (const o of objectsOf(text, file, warnings)) {
    if (o instanceof ManifestSyntaxError) syntax ??= o;
    else take(o.body, o.line);
  }
  return { ...stampOf(stamp), records, mirrored, warnings, syntax };
}

/**
 * The Kubernetes objects of a file's text with their document's first line
 * (`List` kinds expanded); a document that does not parse is yielded as a
 * ManifestSyntaxError, one that is not an object becomes a warning. Every
 * reader of manifest files (cluster kinds, DNSRecords) goes through this.
 */
export function* objectsOf(text: string, file: string, warnings: string[]): Generator<{ body: Json; line: number } | ManifestSyntaxError> {
  for (const doc of documentsOf(text, file)) {
    if (doc instanceof ManifestSyntaxError) {
      yield doc;
      continue;
    }
    const { value, line } = doc;
    if (value === null) continue; // empty document
    if (!isObj(value)) {
      warnings.push(`${file}:${line}: document is not a Kubernetes object`);
      continue;
    }
    if (typeof value.kind === 'string' && value.kind.endsWith('List') && Array.isArray(value.items)) {
      for (const item of value.items) {
        if (isObj(item)) yield { body: item, line };
        else warnings.push(`${file}:${line}: ${value.kind} item is not a Kubernetes object`);
      }
      continue;
    }
    yield { body: value, line };
  }
}

/** One object to records (null: skipped, with a warning). */
function convertBody(body: Json, where: string, warnings: string[], pool: StringPool): { records: ClusterRecord[]; mirrored: EndpointSliceRecord[] } | null {
  const kind = typeof body.kind === 'string' ? body.kind : '';
  if (kind === '') {
    warnings.push(`${where}: ${describeUnknown('object', body)}: missing kind`);
    return null;
  }
  const expected = EXPECTED_API[kind];
  if (expected === undefined) {
    if (OTHER_READERS_KINDS.has(kind)) return { records: [], mirrored: [] };
    warnings.push(`${where}: ${describeUnknown(kind, body)}: unsupported kind (want Namespace, Service, EndpointSlice, Endpoints or Pod)`);
    return null;
  }
  if (body.apiVersion !== undefined && !expected.includes(body.apiVersion as string)) {
    warnings.push(`${where}: ${describeUnknown(kind, body)}: unsupported apiVersion ${JSON.stringify(body.apiVersion)} (want ${expected.join(' or ')})`);
    return null;
  }
  if (kind === 'Endpoints') {
    const r = endpointsToSlices(body, DEFAULT_NAMESPACE);
    if ('error' in r) {
      warnings.push(`${where}: ${describeUnknown(kind, body)}: ${r.error}`);
      return null;
    }
    const mirrored: EndpointSliceRecord[] = [];
    for (const s of r.slices) {
      const c = convertObject('EndpointSlice', s, { defaultNamespace: DEFAULT_NAMESPACE });
      if (c.error !== undefined) warnings.push(`${where}: ${describeUnknown(kind, body)}: ${c.error.replace(/^EndpointSlice [^:]*: /, '')}`);
      else mirrored.push(compactRecord(pool, c.record) as EndpointSliceRecord);
    }
    return { records: [], mirrored };
  }
  const c = convertObject(kind as ClusterKind, body, { defaultNamespace: DEFAULT_NAMESPACE });
  if (c.error !== undefined) {
    warnings.push(`${where}: ${c.error}`);
    return null;
  }
  if (c.record.kind === 'EndpointSlice' && c.record.serviceName === '') {
    warnings.push(`${where}: ${describeRecord(c.record)}: missing label ${SERVICE_NAME_LABEL}, the slice belongs to no Service`);
  }
  return { records: [compactRecord(pool, c.record)], mirrored: [] };
}

export interface ManifestContent<R = ClusterRecord> {
  readonly records: readonly R[];
  /** Per-document warnings of every file. */
  readonly warnings: readonly string[];
  /** Files that could not be used this time (their previous objects were kept). */
  readonly errors?: readonly FileError[];
  readonly fileCount: number;
  /** What each file contributes now (reader-specific): the source passes it to the next read. */
  readonly files?: ReadonlyMap<string, unknown>;
}

/**
 * Combines the files' objects: drops kinds not wanted, mirrors legacy
 * Endpoints for services that have no EndpointSlice, drops duplicates (the
 * later file wins) and declares the namespaces objects live in.
 */
function combine(files: readonly FileObjects[], kinds: readonly ClusterKind[], warnings: string[]): ClusterRecord[] {
  const wanted = new Set<string>(kinds);
  const byKey = new Map<string, FoundRecord>();
  const usedNamespaces = new Set<string>();
  const add = (f: FoundRecord): void => {
    const key = keyOf(f.record);
    const earlier = byKey.get(key);
    if (earlier !== undefined) {
      warnings.push(`${f.file}:${f.line}: ${describeRecord(f.record)}: also defined in ${earlier.file}:${earlier.line}; using this one`);
    }
    byKey.set(key, f);
  };
  for (const file of files) {
    for (const f of file.records) {
      if (f.record.kind !== 'Namespace') usedNamespaces.add(f.record.namespace);
      if (wanted.has(f.record.kind)) add(f);
    }
  }
  // Legacy Endpoints count only for services without a real EndpointSlice (as the mirroring controller).
  if (wanted.has('EndpointSlice')) {
    const hasSlices = new Set<string>();
    for (const { record } of byKey.values()) {
      if (record.kind === 'EndpointSlice') hasSlices.add(`${record.namespace}/${record.serviceName}`);
    }
    for (const file of files) {
      for (const m of file.mirrored) {
        const r = m.record as EndpointSliceRecord;
        if (hasSlices.has(`${r.namespace}/${r.serviceName}`)) continue;
        usedNamespaces.add(r.namespace);
        add(m);
      }
    }
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

/** What any reader keeps per file: the stamp it was read at, and its per-document warnings. */
export interface FileStamp extends Stamp {
  readonly warnings: readonly string[];
}

/** How one reader turns a file's text into its contribution (`previous`: what the file gave last time, for "keep its previous version"). */
export interface FileParser<F extends FileStamp> {
  parse(text: string, file: ManifestFile, previous: F | undefined): { readonly parsed: F; readonly syntax: ManifestSyntaxError | null };
  /** How many objects a contribution holds (an empty file only replaces a contribution of none). */
  count(f: F): number;
}

/**
 * The last-good rule for every reader of manifest files, in one place: each
 * file of a listing is parsed unless its mtime and size did not change; a
 * file that cannot be read, does not parse, or is empty while it held
 * objects keeps its previous contribution and yields one `FILE:LINE: what;
 * keeping …` error; on a first read the documents that parse are used. A
 * file missing from the listing (deleted) is simply not carried over.
 */
export async function readFilesKeepingLastGood<F extends FileStamp>(listing: ManifestListing, previous: ReadonlyMap<string, unknown>, parser: FileParser<F>): Promise<{ files: Map<string, F>; errors: FileError[] }> {
  const errors: FileError[] = [];
  const files = new Map<string, F>();
  const kept = (prev: F | undefined): string =>
    prev === undefined ? 'nothing read from it yet' : `keeping the ${parser.count(prev)} objects read from it before`;
  for (const f of listing.files) {
    const prev = previous.get(f.path) as F | undefined;
    if (prev !== undefined && sameStamp(prev, f)) {
      files.set(f.path, prev);
      continue;
    }
    let text: string;
    try {
      text = await readFile(f.path, 'utf8');
    } catch (e) {
      errors.push({ file: f.path, message: `${f.path}:1: cannot read: ${(e as NodeJS.ErrnoException).code ?? errorMessage(e)}; ${kept(prev)}` });
      if (prev !== undefined) files.set(f.path, prev);
      continue;
    }
    if (text.trim() === '' && prev !== undefined && parser.count(prev) > 0) {
      // An editor truncates before it writes: an empty file is not "delete these" (deleting the file is).
      errors.push({ file: f.path, message: `${f.path}:1: file is empty; ${kept(prev)} (delete the file to remove them)` });
      files.set(f.path, prev);
      continue;
    }
    const { parsed, syntax } = parser.parse(text, f, prev);
    if (syntax === null) {
      files.set(f.path, parsed);
    } else if (prev !== undefined) {
      errors.push({ file: f.path, message: `${f.path}:${syntax.line}: ${syntax.message}; ${kept(prev)}` });
      files.set(f.path, prev);
    } else {
      // Nothing earlier to keep: serve the documents that did parse.
      errors.push({ file: f.path, message: `${f.path}:${syntax.line}: ${syntax.message}; using the ${parser.count(parsed)} objects of the documents that parse` });
      files.set(f.path, parsed);
    }
  }
  return { files, errors };
}

/**
 * Reads every file of a listing and converts what it holds, given what each
 * file contributed at the previous read (`previous`, empty at the start).
 */
export async function readManifests(listing: ManifestListing, kinds: readonly ClusterKind[], previous: ReadonlyMap<string, unknown> = new Map()): Promise<ManifestContent & { files: ReadonlyMap<string, FileObjects> }> {
  const pool = new StringPool();
  const { files, errors } = await readFilesKeepingLastGood<FileObjects>(listing, previous, {
    parse: (text, f, prev) => {
      const { syntax, ...parsed } = parseManifestFile(text, f.path, f, prev, pool);
      return { parsed, syntax };
    },
    count: (fo) => fo.records.length + fo.mirrored.length,
  });
  const warnings: string[] = [];
  for (const fo of files.values()) warnings.push(...fo.warnings);
  const records = combine([...files.values()], kinds, warnings);
  return { records, warnings, errors, fileCount: listing.files.length, files };
}
