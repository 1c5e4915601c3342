/**
 * @module cluster/etcd/prefix-watcher
 * Keeps a consumer's copy of one etcd key prefix current: a paginated list
 * pinned to one revision (`onSnapshot`), then a watch from the next revision
 * (`onPut` / `onDelete`). When the connection drops or the watch is
 * cancelled it retries with exponential backoff, logging one line per
 * attempt, and resumes the watch from the revision held; only when that
 * revision was compacted, or etcd's history is another one (cluster ID,
 * revision behind), it hands over a fresh snapshot instead. Nothing the
 * consumer holds is dropped while etcd is unreachable. Leases: each leased key's lease end is looked up
 * (LeaseTimeToLive) and kept; `expireLeases()` (every second, and callable
 * with an injected clock in tests) deletes keys whose lease has ended, also
 * while etcd is down, re-asking etcd first when it is reachable (a lease
 * may have been kept alive). The watcher keeps no values, only which key
 * is on which lease, so the consumer's records are the only copy.
 *
 * Used by the etcd plugin; reusable by any other etcd-backed source:
 *
 *   const w = new PrefixWatcher({ connection, prefix: '/skydns/', log }, {
 *     onSnapshot(kvs, rev) { ... }, onPut(kv, rev) { ... }, onDelete(key, rev, why) { ... } });
 *   w.start(); ... await w.stop();
 */
import type { Etcd3, IKeyValue, IWatchResponse, Watcher } from 'etcd3';
import type { Logger } from '../../log/logger.ts';
import { connectEtcd, isAuthError, type EtcdConnection } from './connection.ts';

/** One key as etcd holds it. */
export interface EtcdKv {
  readonly key: string;
  readonly value: Buffer;
  readonly modRevision: number;
  /** Lease ID in decimal ('0': no lease). */
  readonly lease: string;
}

export type DeleteReason = 'deleted' | 'lease-expired';

export interface PrefixEvents {
  /** The whole prefix as of `revision` (first list and every relist): replaces everything delivered before. */
  onSnapshot(kvs: readonly EtcdKv[], revision: number): void;
  /** A key was created or changed. */
  onPut(kv: EtcdKv, revision: number): void;
  /** A key was deleted in etcd, or its lease ended (`revision` is then the last one seen). */
  onDelete(key: string, revision: number, reason: DeleteReason): void;
}

/**
 * Why a full list was made: the first one ('start', retried until it
 * succeeds), the revision to resume from was compacted away ('compacted'),
 * or etcd's history is not the one listed before: another cluster ID, or a
 * revision behind the one held, as after a restore from backup ('reset').
 */
export type ListReason = 'start' | 'compacted' | 'reset';

/** A watch that cannot be resumed from the revision held: the loop lists again at once. */
class RelistNeeded extends Error {
  readonly reason: ListReason;
  constructor(reason: ListReason, message: string) { super(message); this.reason = reason; }
}

function relistReason(e: Error): ListReason | null {
  if (e instanceof RelistNeeded) return e.reason;
  return /compacted/i.test(e.message) ? 'compacted' : null;
}

export interface BackoffOptions {
  /** First retry delay (default 250 ms). */
  readonly initialMs: number;
  /** Longest delay (default 10 s). */
  readonly maxMs: number;
}

export interface PrefixWatcherOptions {
  readonly connection: EtcdConnection;
  /** Key prefix to list and watch, e.g. "/skydns/". */
  readonly prefix: string;
  /** Where the state changes are logged (one line per failed attempt, one when back). */
  readonly log: Logger;
  /** Milliseconds now (lease ends); default Date.now. */
  readonly clock?: (() => number) | undefined;
  readonly backoff?: BackoffOptions | undefined;
  /** Lease check period (default 1000 ms; 0: only when expireLeases() is called). */
  readonly leaseCheckMs?: number | undefined;
  /** Keys per list page (default 5000). */
  readonly pageSize?: number | undefined;
}

/** The end of a prefix range: the prefix with its last byte incremented (etcd's WithPrefix). */
export function prefixRangeEnd(prefix: Buffer): Buffer {
  const end = Buffer.from(prefix);
  for (let i = end.length - 1; i >= 0; i--) {
    if (end[i]! < 0xff) { end[i]!++; return end.subarray(0, i + 1); }
  }
  return Buffer.from([0]);
}

function toKv(kv: IKeyValue): EtcdKv {
  return { key: kv.key.toString('utf8'), value: kv.value, modRevision: Number(kv.mod_revision), lease: kv.lease || '0' };
}

export class PrefixWatcher {
  readonly #opts: PrefixWatcherOptions;
  readonly #events: PrefixEvents;
  readonly #now: () => number;
  readonly #prefix: Buffer;
  #client: Etcd3 | null = null;
  #watcher: Watcher | null = null;
  #stopped = true;
  #running: Promise<void> | null = null;
  #wake: (() => void) | null = null;
  #leaseTimer: NodeJS.Timeout | null = null;
  /** Lease ID -> its keys; lease ID -> when it ends (clock ms), once known. */
  readonly #leaseKeys = new Map<string, Set<string>>();
  readonly #keyLease = new Map<string, string>();
  readonly #leaseEnd = new Map<string, number>();
  #synced = false;
  #revision = 0;
  #lastSync = 0;
  #lastError: Error | null = null;
  #failures = 0;
  /** The watch of this attempt is established (a create response came). */
  #connected = false;
  /** etcd's cluster ID as of the last list ('' before). */
  #clusterId = '';
  /** Completed lists (first and relists). */
  lists = 0;
  /** Completed lists by why they were made. */
  readonly listsFor: Record<ListReason, number> = { start: 0, compacted: 0, reset: 0 };
  /** Watches resumed after a disconnect from the revision held, without a list. */
  resumes = 0;
  /** Failed attempts since start() (each logged once). */
  failedAttempts = 0;

  constructor(opts: PrefixWatcherOptions, events: PrefixEvents) {
    this.#opts = opts;
    this.#events = events;
    this.#now = opts.clock ?? Date.now;
    this.#prefix = Buffer.from(opts.prefix, 'utf8');
  }

  /** Listed and watching now. */
  get synced(): boolean { return this.#synced; }
  /** Revision of the state delivered so far (0 before the first list). */
  get revision(): number { return this.#revision; }
  /** Clock ms of the last list or watch event, or of the watch (re)connecting; 0 never. */
  get lastSyncMs(): number { return this.#lastSync; }
  /** Why the last attempt failed (null after a success). */
  get lastError(): Error | null { return this.#lastError; }
  /** Whether any list has completed since start(). */
  get everSynced(): boolean { return this.lists > 0; }

  /** Whether a key is on a lease (its end may not be known yet). */
  hasLease(key: string): boolean {
    return this.#keyLease.has(key);
  }

  /** When the lease of a key ends (clock ms), or null (no lease, or not known yet). */
  leaseEndOf(key: string): number | null {
    const l = this.#keyLease.get(key);
    return l === undefined ? null : this.#leaseEnd.get(l) ?? null;
  }

  start(): void {
    if (!this.#stopped) return;
    this.#stopped = false;
    this.#running = this.#loop();
    const every = this.#opts.leaseCheckMs ?? 1000;
    if (every > 0) {
      this.#leaseTimer = setInterval(() => { void this.expireLeases(); }, every);
      this.#leaseTimer.unref();
    }
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#leaseTimer) clearInterval(this.#leaseTimer);
    this.#leaseTimer = null;
    this.#wake?.();
    const w = this.#watcher;
    this.#watcher = null;
    if (w) await w.cancel().catch(() => undefined);
    this.#client?.close();
    this.#client = null;
    await this.#running;
    this.#synced = false;
  }

  async #loop(): Promise<void> {
    const initial = this.#opts.backoff?.initialMs ?? 250;
    const max = this.#opts.backoff?.maxMs ?? 10_000;
    let delay = initial;
    /** Why the next attempt lists; null: resume the watch from the revision held. */
    let listFor: ListReason | null = 'start';
    while (!this.#stopped) {
      this.#connected = false;
      try {
        this.#client ??= await connectEtcd(this.#opts.connection);
        const revision = listFor === null ? this.#revision : await this.#list(this.#client, listFor);
        if (listFor !== null) delay = initial;
        await this.#watch(this.#client, revision, listFor === null);
      } catch (e) {
        if (this.#stopped) break;
        this.#synced = false;
        let err = e as Error;
        // etcd cancels a watch whose start revision was compacted with only compact_revision set
        // (etcd3 passes on "Watcher canceled: " and no reason): ask etcd whether that is the case.
        if (/^Watcher canceled/.test(err.message) && this.#client && this.lists > 0) err = await this.#whyCanceled(this.#client, err);
        if (this.#stopped) break;
        const relist = relistReason(err);
        if (relist) {
          // Not an outage: the revision held is gone (or etcd's history went back); list again at once.
          this.#opts.log.info(`watch of ${this.#opts.prefix} from revision ${this.#revision + 1} restarts from a fresh list: ${err.message}`);
          listFor = relist;
          continue;
        }
        this.#lastError = err;
        this.#failures++;
        this.failedAttempts++;
        this.#opts.log.warn(this.#describe(err, delay));
        // A client that failed auth or connect may hold a bad token or channel: start clean.
        this.#client?.close();
        this.#client = null;
        // With a state held, the next attempt resumes the watch after it; otherwise the first list is retried.
        if (this.lists > 0) listFor = null;
      }
      if (this.#stopped) break;
      if (this.#connected) delay = initial;
      await this.#sleep(delay);
      delay = Math.min(delay * 2, max);
    }
  }

  /** The cancel as a compaction when the revision held can no longer be read, else as it came. */
  async #whyCanceled(client: Etcd3, err: Error): Promise<Error> {
    try {
      await client.kv.range({ key: this.#prefix, range_end: prefixRangeEnd(this.#prefix), revision: String(this.#revision), count_only: true });
      return err;
    } catch (probe) {
      const m = (probe as Error).message;
      return /compacted/i.test(m) ? new RelistNeeded('compacted', `${err.message}revision ${this.#revision} compacted`) : err;
    }
  }

  #describe(e: Error, delay: number): string {
    const where = this.#opts.connection.endpoints.join(',');
    const held = this.lists > 0 ? `serving the last known state (revision ${this.#revision})` : 'no data yet';
    const what = isAuthError(e)
      ? `authentication failed for user '${this.#opts.connection.username ?? ''}' at ${where}: ${e.message}`
      : `etcd ${where} unreachable: ${e.message}`;
    return `${what}; ${held}; retrying in ${delay} ms`;
  }

  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(() => { this.#wake = null; resolve(); }, ms);
      this.#wake = () => { clearTimeout(t); this.#wake = null; resolve(); };
    });
  }

  /** Lists the prefix page by page at one revision, resolves leases, hands over the snapshot; returns the revision. */
  async #list(client: Etcd3, reason: ListReason): Promise<number> {
    const end = prefixRangeEnd(this.#prefix);
    const limit = this.#opts.pageSize ?? 5000;
    const kvs: EtcdKv[] = [];
    let key = this.#prefix;
    let revision = 0;
    let clusterId = '';
    for (let page = 0; ; page++) {
      const res = await client.kv.range(revision ? { key, range_end: end, limit, revision } : { key, range_end: end, limit });
      if (page === 0) { revision = Number(res.header.revision); clusterId = res.header.cluster_id; }
      for (const kv of res.kvs) kvs.push(toKv(kv));
      const last = res.kvs[res.kvs.length - 1];
      if (!res.more || !last) break;
      key = Buffer.concat([last.key, Buffer.from([0])]);
    }
    this.#leaseKeys.clear();
    this.#keyLease.clear();
    for (const kv of kvs) this.#trackLease(kv.key, kv.lease);
    const known = new Map(this.#leaseEnd);
    this.#leaseEnd.clear();
    await this.#lookupLeases(client, [...this.#leaseKeys.keys()], known);
    if (this.#stopped) return revision;
    this.#revision = revision;
    this.#clusterId = clusterId;
    this.#lastSync = this.#now();
    this.#lastError = null;
    this.lists++;
    this.listsFor[reason]++;
    if (this.#failures > 0) this.#opts.log.info(`etcd reachable again: ${kvs.length} keys under ${this.#opts.prefix} at revision ${revision}`);
    this.#failures = 0;
    this.#events.onSnapshot(kvs, revision);
    return revision;
  }

  /**
   * Watches from revision+1 until the watch breaks (rejects) or stop()
   * (resolves). A resumed watch first checks that etcd's history is still
   * the one held (same cluster, not behind it).
   */
  #watch(client: Etcd3, revision: number, resumed: boolean): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const w = client.watch().prefix(this.#prefix).startRevision(String(revision + 1)).watcher();
      this.#watcher = w;
      let done = false;
      const finish = (err: Error | null): void => {
        if (done) return;
        done = true;
        if (this.#watcher === w) this.#watcher = null;
        void w.cancel().catch(() => undefined);
        if (err && !this.#stopped) reject(err); else resolve();
      };
      w.on('connected', (res: IWatchResponse) => {
        if (resumed) {
          const at = Number(res.header.revision);
          if (res.header.cluster_id !== this.#clusterId) { finish(new RelistNeeded('reset', `etcd cluster ID is ${res.header.cluster_id}, was ${this.#clusterId}`)); return; }
          if (at < revision) { finish(new RelistNeeded('reset', `etcd is at revision ${at}, behind the ${revision} held`)); return; }
          this.resumes++;
          if (this.#failures > 0) this.#opts.log.info(`etcd reachable again: watch of ${this.#opts.prefix} resumed after revision ${revision}`);
          this.#failures = 0;
          this.#lastError = null;
        }
        this.#connected = true;
        this.#synced = true;
        this.#lastSync = this.#now();
      });
      w.on('put', (raw) => this.#put(client, toKv(raw)));
      w.on('delete', (raw) => this.#delete(raw.key.toString('utf8'), Number(raw.mod_revision), 'deleted'));
      w.on('disconnected', (e) => finish(e instanceof Error ? e : new Error(String(e))));
      w.on('error', (e) => finish(e instanceof Error ? e : new Error(String(e))));
      w.on('end', () => finish(this.#stopped ? null : new Error('watch ended')));
      if (this.#stopped) finish(null);
    });
  }

  #put(client: Etcd3, kv: EtcdKv): void {
    if (kv.modRevision > this.#revision) this.#revision = kv.modRevision;
    this.#lastSync = this.#now();
    const isNewLease = kv.lease !== '0' && !this.#leaseKeys.has(kv.lease);
    this.#trackLease(kv.key, kv.lease);
    this.#events.onPut(kv, kv.modRevision);
    if (isNewLease) void this.#lookupLeases(client, [kv.lease], new Map());
  }

  #delete(key: string, revision: number, reason: DeleteReason): void {
    if (revision > this.#revision) this.#revision = revision;
    if (reason === 'deleted') this.#lastSync = this.#now();
    this.#trackLease(key, '0');
    this.#events.onDelete(key, revision, reason);
  }

  #trackLease(key: string, lease: string): void {
    const old = this.#keyLease.get(key);
    if (old === lease) return;
    if (old !== undefined) {
      const s = this.#leaseKeys.get(old);
      s?.delete(key);
      if (s && s.size === 0) { this.#leaseKeys.delete(old); this.#leaseEnd.delete(old); }
      this.#keyLease.delete(key);
    }
    if (lease === '0') return;
    this.#keyLease.set(key, lease);
    let s = this.#leaseKeys.get(lease);
    if (!s) this.#leaseKeys.set(lease, (s = new Set()));
    s.add(key);
  }

  /** Asks etcd how long each lease has left; on failure keeps the end known before (if any). */
  async #lookupLeases(client: Etcd3, leases: readonly string[], known: ReadonlyMap<string, number>): Promise<void> {
    const now = this.#now();
    const batch = 64;
    for (let i = 0; i < leases.length; i += batch) {
      await Promise.all(leases.slice(i, i + batch).map(async (id) => {
        try {
          const r = await client.leaseClient.leaseTimeToLive({ ID: id });
          const ttl = Number(r.TTL);
          this.#leaseEnd.set(id, now + Math.max(0, ttl) * 1000);
        } catch {
          const before = known.get(id);
          if (before !== undefined) this.#leaseEnd.set(id, before);
        }
      }));
    }
  }

  /**
   * Deletes (onDelete, 'lease-expired') every key whose lease has ended by
   * the clock. While watching, etcd is asked first and a lease it still
   * holds gets its new end. Returns how many keys were deleted.
   */
  async expireLeases(): Promise<number> {
    const now = this.#now();
    const due: string[] = [];
    for (const [id, end] of this.#leaseEnd) if (end <= now) due.push(id);
    if (due.length === 0) return 0;
    const client = this.#client;
    if (this.#synced && client) {
      for (const id of due) {
        try {
          const ttl = Number((await client.leaseClient.leaseTimeToLive({ ID: id })).TTL);
          if (ttl > 0) this.#leaseEnd.set(id, this.#now() + ttl * 1000);
        } catch { /* unreachable now: the local end stands */ }
      }
    }
    let n = 0;
    for (const id of due) {
      const end = this.#leaseEnd.get(id);
      if (end === undefined || end > now) continue;
      for (const key of [...(this.#leaseKeys.get(id) ?? [])]) {
        this.#delete(key, this.#revision, 'lease-expired');
        n++;
      }
      this.#leaseEnd.delete(id);
    }
    return n;
  }
}
