/**
 * @module cluster/manifests/manifest-source
 * A cluster-state source reading Kubernetes manifests from files and folders
 * (`manifests PATH...`): the whole set is read, converted and handed to the
 * store with one `replace`, so answers switch from the old files to the new
 * ones at once. Changes are noticed with fs.watch (debounced, so an editor's
 * write-rename-chmod sequence is one re-read) and, in case watching misses
 * something (network file systems, some container volume types), a slow poll
 * that compares file mtimes and sizes. Bad documents are logged and skipped,
 * never fatal; a path that disappears keeps the last data read. Each file
 * keeps its last good contribution (read-manifests.ts): a file that cannot
 * be read or parsed is one ERROR line `FILE:LINE: what; keeping …` and a
 * count in coredns_kubernetes_manifest_errors_total{file}, and its objects
 * stay served; readiness does not change.
 */
import { watch, type FSWatcher } from 'node:fs';
import { stat } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import type { Logger } from '../../log/logger.ts';
import type { ClusterKind, ClusterRecord, RecordSink } from '../types.ts';
import { listManifestFiles, readManifests, type ManifestContent, type ManifestListing } from './read-manifests.ts';
import { SerialRounds } from '../../util/serial-rounds.ts';

/** Re-reads in a row that found files changed under them before one is applied anyway. */
const MAX_UNSTABLE_READS = 3;

export const ALL_KINDS: readonly ClusterKind[] = ['Namespace', 'Service', 'EndpointSlice', 'Pod'];

/** Reads a listing; `previous` is what the last read returned as `files` (the reader's per-file state). */
export type ManifestReader<K extends string, R> = (listing: ManifestListing, kinds: readonly K[], previous: ReadonlyMap<string, unknown>) => Promise<ManifestContent<R>>;

export interface ManifestSourceOptions<K extends string = ClusterKind, R = ClusterRecord> {
  /** Absolute paths of files or folders. */
  readonly paths: readonly string[];
  /** Kinds to deliver (default all); others found in the files are ignored silently. */
  readonly kinds?: readonly K[];
  /** Reads the files into records (default: readManifests, the cluster kinds); other resources (DNSRecords) plug in here. */
  readonly read?: ManifestReader<K, R>;
  /** Told once per new failure of a file (the manifest_errors_total counter). */
  readonly onFileError?: (file: string) => void;
  /** Logger for warnings ("FILE: KIND NS/NAME: what is wrong"); normally the kubernetes plugin's. */
  readonly logger: Logger;
  /** Watch for changes (default true). */
  readonly watch?: boolean;
  /** Use fs.watch events when watching (default true); false leaves only the poll. */
  readonly fsWatch?: boolean;
  /** Quiet time after the last file event before re-reading (default 100 ms). */
  readonly debounceMs?: number;
  /** Poll interval for the mtime comparison; 0 disables (default 5000 ms). */
  readonly pollIntervalMs?: number;
}

export class ManifestSource<K extends string = ClusterKind, R = ClusterRecord> {
  readonly kinds: readonly K[];
  readonly #read: ManifestReader<K, R>;
  readonly #onFileError: ((file: string) => void) | null;
  #lastErrors = new Set<string>();
  #files: ReadonlyMap<string, unknown> = new Map();
  readonly #paths: readonly string[];
  readonly #logger: Logger;
  readonly #watch: boolean;
  readonly #fsWatch: boolean;
  readonly #debounceMs: number;
  readonly #pollMs: number;
  #sink: RecordSink<K, R> | null = null;
  #watchers: FSWatcher[] = [];
  #debounce: NodeJS.Timeout | null = null;
  #poll: NodeJS.Timeout | null = null;
  readonly #reads = new SerialRounds(() => this.#readOnce(), () => this.#stopped);
  #stopped = false;
  #signature = '';
  #lastWarnings = new Set<string>();
  #synced = false;
  #unstableReads = 0;
  #syncWaiters: (() => void)[] = [];
  /** Completed reads (first load included): lets tests wait for a re-read. */
  loads = 0;

  constructor(opts: ManifestSourceOptions<K, R>) {
    // Without `read` the kinds are cluster kinds (the defaults of the type parameters).
    this.kinds = opts.kinds ?? (ALL_KINDS as readonly string[] as readonly K[]);
    this.#read = opts.read ?? (readManifests as unknown as ManifestReader<K, R>);
    this.#onFileError = opts.onFileError ?? null;
    this.#paths = opts.paths;
    this.#logger = opts.logger;
    this.#watch = opts.watch ?? true;
    this.#fsWatch = opts.fsWatch ?? true;
    this.#debounceMs = opts.debounceMs ?? 100;
    this.#pollMs = opts.pollIntervalMs ?? 5000;
  }

  get synced(): boolean {
    return this.#synced;
  }

  start(sink: RecordSink<K, R>): void {
    if (this.#sink !== null) return;
    this.#sink = sink;
    void this.reload();
    if (this.#watch) {
      if (this.#fsWatch) this.#startWatching();
      if (this.#pollMs > 0) {
        this.#poll = setInterval(() => { void this.#pollOnce(); }, this.#pollMs);
        this.#poll.unref();
      }
    }
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    for (const w of this.#watchers) w.close();
    this.#watchers = [];
    if (this.#debounce !== null) clearTimeout(this.#debounce);
    if (this.#poll !== null) clearInterval(this.#poll);
    this.#debounce = this.#poll = null;
    await this.#reads.running?.catch(() => {});
    for (const w of this.#syncWaiters.splice(0)) w();
  }

  /** Resolves true once the first read was applied, false after `timeoutMs`. */
  waitForSync(timeoutMs: number): Promise<boolean> {
    if (this.#synced) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve(this.#synced), Math.max(0, timeoutMs));
      this.#syncWaiters.push(() => { clearTimeout(timer); resolve(this.#synced); });
    });
  }

  /** Re-read everything now (serialised: a call during a read schedules one more). */
  reload(): Promise<void> {
    return this.#reads.run();
  }

  async #readOnce(): Promise<void> {
    const sink = this.#sink;
    if (sink === null || this.#stopped) return;
    const listing = await listManifestFiles(this.#paths);
    if (listing.missing.length > 0 && this.#synced) {
      // Keep serving what was read (an unmounted volume is not "the cluster is empty").
      this.#report(listing.missing.map((p) => `${p}: no such file or directory; keeping the objects read before`));
      this.#signature = listing.signature;
      return;
    }
    const content = await this.#read(listing, this.kinds, this.#files);
    if (this.#stopped) return;
    // Files that changed while we read them would mix old and new objects: read again (a few times at most).
    const after = await listManifestFiles(this.#paths);
    if (after.signature !== listing.signature && this.#unstableReads < MAX_UNSTABLE_READS) {
      this.#unstableReads++;
      this.#reads.again();
      return;
    }
    this.#unstableReads = 0;
    const warnings = [...listing.missing.map((p) => `${p}: no such file or directory`), ...content.warnings];
    this.#report(warnings);
    this.#reportErrors(content.errors ?? []);
    this.#files = content.files ?? new Map();
    this.#signature = listing.signature;
    sink.replace(this.kinds, content.records);
    this.loads++;
    if (!this.#synced) {
      for (const k of this.kinds) sink.markSynced(k);
      this.#synced = true;
      for (const w of this.#syncWaiters.splice(0)) w();
      this.#logger.info(`manifests: ${content.records.length} objects from ${content.fileCount} files`);
    } else {
      this.#logger.info(`manifests: re-read ${content.records.length} objects from ${content.fileCount} files`);
    }
  }

  /** Logs warnings not already logged by the previous read, so an edit elsewhere does not repeat them. */
  #report(warnings: readonly string[]): void {
    const next = new Set(warnings);
    for (const w of next) if (!this.#lastWarnings.has(w)) this.#logger.warn(w);
    this.#lastWarnings = next;
  }

  /** One ERROR line and one count per new failure; a file failing the same way again is not repeated. */
  #reportErrors(errors: readonly { file: string; message: string }[]): void {
    const next = new Set<string>();
    for (const e of errors) {
      next.add(e.message);
      if (this.#lastErrors.has(e.message)) continue;
      this.#logger.error(e.message);
      this.#onFileError?.(e.file);
    }
    this.#lastErrors = next;
  }

  #changed(): void {
    if (this.#stopped) return;
    if (this.#debounce !== null) clearTimeout(this.#debounce);
    this.#debounce = setTimeout(() => {
      this.#debounce = null;
      void this.reload();
    }, this.#debounceMs);
    this.#debounce.unref();
  }

  async #pollOnce(): Promise<void> {
    if (this.#stopped || this.#reads.running !== null) return;
    const listing = await listManifestFiles(this.#paths);
    if (listing.signature !== this.#signature) this.#changed();
  }

  #startWatching(): void {
    for (const p of this.#paths) {
      void stat(p).then((st) => {
        if (this.#stopped) return;
        let w: FSWatcher;
        try {
          if (st.isDirectory()) {
            w = watch(p, { recursive: true, persistent: false }, () => this.#changed());
            // Node's recursive watch on Linux goes silent for a file replaced by rename (kubectl, editors):
            // a plain watch of the folder itself sees those.
            const top = watch(p, { persistent: false }, () => this.#changed());
            top.on('error', () => { top.close(); });
            this.#watchers.push(top);
          } else {
            // Watch the folder: editors and ConfigMap volumes replace files by rename, which ends a file watch.
            const name = basename(p);
            w = watch(dirname(p), { persistent: false }, (_event, file) => {
              if (file === null || file === name || file.startsWith('..')) this.#changed();
            });
          }
        } catch {
          return; // the poll covers what cannot be watched
        }
        w.on('error', () => { w.close(); });
        this.#watchers.push(w);
      }, () => {});
    }
  }
}
