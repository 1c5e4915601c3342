/**
 * @module cluster/api/reflector
 * Keeps one Kubernetes resource kind mirrored into a ClusterStateSink:
 * paginated list -> replace + markSynced -> watch from the list's
 * resourceVersion (bookmarks on) -> apply each event. A watch that ends is
 * resumed from the last resourceVersion seen; 410 Expired (HTTP or ERROR
 * event) triggers a full relist replaced atomically; any other failure is
 * retried forever with capped exponential backoff and jitter, logging at most
 * one error line per log interval (shared by the reflectors of a source).
 * Objects are converted to slim records as they arrive; whole API objects are
 * never retained. Nothing here ever throws out of the loop or exits: an
 * unreachable API server means serving the last state and retrying.
 */

import type { ClusterKind, ClusterRecord, RecordSink } from '../types.ts';
import { ApiError, readBody } from './client.ts';
import type { ApiTransport } from './client.ts';
import { compactRecord, StringPool } from '../compact-record.ts';
import { convertObject, objectMeta, placeholderRecord } from './convert.ts';
import { ErrorLogGate } from './error-log-gate.ts';
import type { RetryGroup } from './retry-group.ts';
import { errorMessage } from '../../errors/to-error.ts';

export interface Logger {
  warn(msg: string): void;
  error(msg: string): void;
  info(msg: string): void;
}

export interface BackoffOptions {
  /** First retry delay (default 250 ms). */
  readonly initialMs?: number;
  /** Largest delay (default 30 000 ms). */
  readonly maxMs?: number;
  /**
   * Largest delay while the API server gives no HTTP answer at all (refused,
   * reset, timed out; default 5 000 ms, at most maxMs): such an attempt costs
   * the server nothing, and a returning server is picked up within this.
   * Errors the server answers (5xx, 429, 403) keep maxMs.
   */
  readonly unreachableMaxMs?: number;
  /** Growth per failed attempt (default 2). */
  readonly factor?: number;
  /** Fraction 0..1 of each delay removed at random (default 0.5). */
  readonly jitter?: number;
}

/**
 * Delay before retry number `attempt` (0-based): min(max, initial*factor^attempt) minus jitter;
 * the max is unreachableMaxMs when the server gave no answer (`unreachable`).
 */
export function backoffDelay(attempt: number, backoff: BackoffOptions = {}, random: () => number = Math.random, unreachable = false): number {
  const initial = backoff.initialMs ?? 250;
  const cap = backoff.maxMs ?? 30_000;
  const max = unreachable ? Math.min(cap, backoff.unreachableMaxMs ?? 5_000) : cap;
  const jitter = Math.min(1, Math.max(0, backoff.jitter ?? 0.5));
  const raw = Math.min(max, initial * (backoff.factor ?? 2) ** Math.min(attempt, 64));
  return Math.max(0, Math.round(raw * (1 - jitter * random())));
}

/** Socket-level failures: the API server gave no HTTP answer (down, restarting, unreachable). */
const UNREACHABLE_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN', 'ECONNABORTED']);

/** Whether `err` is a failure to reach the server at all, rather than an answer from it (an HTTP error, a malformed body). */
export function isUnreachable(err: unknown): boolean {
  const code = typeof err === 'object' && err !== null ? (err as { code?: unknown }).code : undefined;
  return typeof code === 'string' && UNREACHABLE_CODES.has(code);
}

export interface ResourceSpec<K extends string = ClusterKind> {
  readonly kind: K;
  /** Cluster-wide list path, e.g. /api/v1/services. */
  readonly path: string;
  readonly labelSelector?: string | undefined;
  readonly fieldSelector?: string;
}

/**
 * How a reflector turns API objects into records. The cluster kinds use the
 * converters of convert.ts; other resources (DNSRecords) bring their own.
 */
export interface RecordCodec<R> {
  convert(o: unknown): { readonly record: R; readonly error?: undefined } | { readonly error: string; readonly record?: undefined };
  /** A record carrying only a key, to delete an object whose new version cannot be converted. */
  placeholder(namespace: string, name: string): R;
}

export interface ReflectorOptions<K extends string = ClusterKind, R extends { readonly kind: string } = ClusterRecord> {
  readonly transport: ApiTransport;
  /** The API server URL, named in error lines. */
  readonly server?: string;
  readonly resource: ResourceSpec<K>;
  readonly sink: RecordSink<K, R>;
  /** Converter for the resource's objects (default: the cluster kinds' converters). */
  readonly codec?: RecordCodec<R>;
  readonly logger: Logger;
  /** Items per list page (default 500). */
  readonly pageSize?: number | undefined;
  /** Server-side watch timeout (default 300 s); the stream is then resumed. */
  readonly watchTimeoutSeconds?: number | undefined;
  /** Idle timeout of one list request (default 60 s). */
  readonly listTimeoutMs?: number;
  /** A watch silent for watchTimeoutSeconds plus this is presumed dead (default 30 s). */
  readonly watchIdleGraceMs?: number;
  readonly backoff?: BackoffOptions | undefined;
  /** At most one error line per this period (default: backoff.maxMs). */
  readonly errorLogIntervalMs?: number;
  /** Shared with other reflectors so that an outage logs one line per period in all (default: a gate of its own). */
  readonly errorLog?: ErrorLogGate;
  /** The reflectors of the same server: one that reconnects makes the others retry at once (retry-group.ts). */
  readonly retryGroup?: RetryGroup;
  /** Told about relists and reconnects as they happen (metrics counters). */
  readonly events?: ReflectorEvents<K> | undefined;
  readonly random?: () => number;
}

export interface ReflectorEvents<K extends string = ClusterKind> {
  /** A full list replaced the kind after the first one (410 Expired). */
  relisted(kind: K): void;
  /** A retry after an error or a dropped stream is about to wait its backoff. */
  reconnecting(kind: K): void;
}

export interface ReflectorStatus<K extends string = ClusterKind> {
  readonly kind: K;
  /** The first full list has been delivered. */
  readonly synced: boolean;
  /** The last request to the API server succeeded (a watch is open or being opened). */
  readonly connected: boolean;
  readonly lastError: string | null;
  /** Epoch ms of the first failure since the API server last answered (null while connected). */
  readonly disconnectedSince: number | null;
  /** Epoch ms of the last error, the last completed list. */
  readonly lastErrorTime: number | null;
  readonly lastSyncTime: number | null;
  /** Last resourceVersion seen (list, event or bookmark). */
  readonly resourceVersion: string | null;
  /** Completed full lists; relists are those after the first (410 Expired). */
  readonly lists: number;
  readonly relists: number;
  readonly watches: number;
  /** Retries after an error or a dropped stream. */
  readonly reconnects: number;
  readonly errors: number;
  readonly events: number;
  readonly bookmarks: number;
  /** Objects that failed conversion and were skipped. */
  readonly skipped: number;
}

type WatchOutcome = 'expired' | 'ended' | 'short';

const MAX_LINE_CHARS = 64 * 1024 * 1024;
const MAX_PAGES = 100_000;
const HEALTHY_WATCH_MS = 500;
/** List items converted between two turns of the event loop (a page of 500 took 5-10 ms in one go). */
const LIST_SLICE_ITEMS = 100;
/** Live objects: keep the EndpointSlice trigger time (DNS programming latency). */
const CONVERT = { triggerTime: true } as const;

function messageOf(err: unknown): string {
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code;
    const cause = err.cause instanceof Error ? ` (${err.cause.message})` : '';
    return `${typeof code === 'string' && !err.message.includes(code) ? `${code}: ` : ''}${err.message}${cause}`;
  }
  return String(err);
}

/**
 * The cluster kinds' converters, as a codec. Records share their repeated
 * strings at once (compactRecord), so a list of 100k objects held until its
 * last page arrives is not 100k copies of each namespace and label.
 */
function clusterCodec(kind: ClusterKind): RecordCodec<ClusterRecord> {
  const pool = new StringPool();
  return {
    convert: (o) => {
      const r = convertObject(kind, o, CONVERT);
      return r.error === undefined ? { record: compactRecord(pool, r.record) } : r;
    },
    placeholder: (namespace, name) => placeholderRecord(kind, namespace, name),
  };
}

export class Reflector<K extends string = ClusterKind, R extends { readonly kind: string } = ClusterRecord> {
  /** Resolves when the first list has been delivered (never rejects). */
  readonly whenSynced: Promise<void>;
  private readonly opts: ReflectorOptions<K, R>;
  private readonly kind: K;
  private readonly codec: RecordCodec<R>;
  private readonly abort = new AbortController();
  private resolveSynced: () => void = () => {};
  private loop: Promise<void> | null = null;
  private stopped = false;
  private wake: (() => void) | null = null;
  private readonly errorLog: ErrorLogGate;
  private attempt = 0;
  /** Sleeping out a backoff after a failure (what a retry group may cut short). */
  private backingOff = false;
  private leaveGroup: () => void = () => {};
  private failuresSinceSuccess = 0;
  private reportedSinceSuccess = false;
  private lastSkipLog: number | null = null;
  private phase: 'list' | 'watch' = 'list';
  private rv: string | null = null;
  private s = {
    synced: false, connected: false, lastError: null as string | null, lastErrorTime: null as number | null,
    disconnectedSince: null as number | null, lastSyncTime: null as number | null, lists: 0, relists: 0, watches: 0, reconnects: 0, errors: 0,
    events: 0, bookmarks: 0, skipped: 0,
  };

  constructor(opts: ReflectorOptions<K, R>) {
    this.opts = opts;
    this.kind = opts.resource.kind;
    // Without a codec the kind is a cluster kind (the defaults of the type parameters).
    this.codec = opts.codec ?? (clusterCodec(opts.resource.kind as string as ClusterKind) as unknown as RecordCodec<R>);
    this.errorLog = opts.errorLog ?? new ErrorLogGate(opts.errorLogIntervalMs ?? opts.backoff?.maxMs ?? 30_000);
    this.whenSynced = new Promise((resolve) => {
      this.resolveSynced = resolve;
    });
  }

  get synced(): boolean {
    return this.s.synced;
  }

  get connected(): boolean {
    return this.s.connected;
  }

  get lastError(): string | null {
    return this.s.lastError;
  }

  get lastSyncTime(): number | null {
    return this.s.lastSyncTime;
  }

  status(): ReflectorStatus<K> {
    return { kind: this.kind, resourceVersion: this.rv, ...this.s };
  }

  /** Starts the list/watch loop (idempotent). */
  start(): void {
    if (this.loop !== null || this.stopped) return;
    this.leaveGroup = this.opts.retryGroup?.join(this.retryNow) ?? (() => {});
    this.loop = this.run();
  }

  /** Stops the loop, aborting any request in flight. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.abort.abort();
    this.wake?.();
    await this.loop;
  }

  /** Logs without ever throwing into the loop. */
  private log(level: 'info' | 'warn' | 'error', msg: string): void {
    try {
      this.opts.logger[level](msg);
    } catch {
      // a failing logger must not stop the reflector
    }
  }

  private get prefix(): string {
    return `kubernetes ${this.kind}`;
  }

  private async run(): Promise<void> {
    let needList = true;
    let expiredInARow = 0;
    while (!this.stopped) {
      try {
        if (needList) {
          await this.list();
          needList = false;
        }
        const outcome = await this.watch();
        if (outcome === 'expired') {
          needList = true;
          expiredInARow++;
          this.log('info', `${this.prefix}: watch from resourceVersion ${this.rv} expired (410), relisting`);
          if (expiredInARow > 1) await this.sleep(this.nextDelay());
          continue;
        }
        expiredInARow = 0;
        if (outcome === 'short') {
          this.reconnecting();
          await this.sleep(this.nextDelay());
        }
      } catch (err) {
        if (this.stopped) break;
        this.failed(err);
        this.reconnecting();
        this.backingOff = true;
        await this.sleep(this.nextDelay(isUnreachable(err)));
        this.backingOff = false;
      }
    }
    this.s.connected = false;
    this.leaveGroup();
  }

  /** Another reflector of the server reached it: a backoff after a failure ends now, and starts over. */
  private readonly retryNow = (): void => {
    if (!this.backingOff) return;
    this.attempt = 0;
    this.wake?.();
  };

  private reconnecting(): void {
    this.s.reconnects++;
    this.notify('reconnecting');
  }

  private notify(event: keyof ReflectorEvents): void {
    try {
      this.opts.events?.[event](this.kind);
    } catch {
      // metrics must not stop the reflector
    }
  }

  /** `unreachable`: the failure got no HTTP answer (see BackoffOptions.unreachableMaxMs). */
  private nextDelay(unreachable = false): number {
    return backoffDelay(this.attempt++, this.opts.backoff, this.opts.random, unreachable);
  }

  private sleep(ms: number): Promise<void> {
    if (this.stopped) return Promise.resolve();
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.wake = null;
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.wake = done;
    });
  }

  private query(extra: Record<string, string>): string {
    const q = new URLSearchParams(extra);
    const { labelSelector, fieldSelector } = this.opts.resource;
    if (labelSelector) q.set('labelSelector', labelSelector);
    if (fieldSelector) q.set('fieldSelector', fieldSelector);
    return `${this.opts.resource.path}?${q.toString()}`;
  }

  private failed(err: unknown): void {
    const now = Date.now();
    const msg = messageOf(err);
    this.s.errors++;
    this.s.connected = false;
    this.s.lastError = `${this.phase}: ${msg}`;
    this.s.lastErrorTime = now;
    this.s.disconnectedSince ??= now;
    this.failuresSinceSuccess++;
    const held = this.errorLog.admit(now);
    if (held === null) return;
    const extra = held > 0 ? ` (${held} failures suppressed since the last report)` : '';
    const serving = this.s.synced ? 'serving the last known state, ' : '';
    const from = this.opts.server !== undefined ? ` from ${this.opts.server}` : '';
    this.log('error', `${this.prefix}: ${this.phase}${from} failed: ${msg}; ${serving}retrying with backoff${extra}`);
    this.reportedSinceSuccess = true;
  }

  /** A request succeeded: connected again (reported once if the outage was). */
  private markConnected(): void {
    this.s.connected = true;
    this.s.disconnectedSince = null;
    if (this.failuresSinceSuccess > 0 && this.reportedSinceSuccess) {
      this.log('info', `${this.prefix}: connection restored after ${this.failuresSinceSuccess} failed attempts`);
    }
    if (this.failuresSinceSuccess > 0) this.opts.retryGroup?.reconnected(this.retryNow);
    this.failuresSinceSuccess = 0;
    this.reportedSinceSuccess = false;
  }

  private skip(error: string, inList: boolean): void {
    this.s.skipped++;
    if (inList) return;
    const now = Date.now();
    const interval = this.opts.errorLogIntervalMs ?? this.opts.backoff?.maxMs ?? 30_000;
    if (this.lastSkipLog !== null && now - this.lastSkipLog < interval) return;
    this.lastSkipLog = now;
    this.log('warn', `${this.prefix}: ignoring invalid object: ${error}`);
  }

  private async list(): Promise<void> {
    this.phase = 'list';
    const pageSize = this.opts.pageSize ?? 500;
    const records: R[] = [];
    let cont = '';
    let rv = '';
    let restarts = 0;
    let skipped = 0;
    let firstSkip = '';
    // The next page is asked for as soon as this one is parsed, and read while this one is converted: the
    // API server's work and the round trip overlap ours (at 100,000 services the server sat idle a quarter of
    // the first list waiting for sequential pages). At most one page body waits, as text.
    const fetchPage = (token: string): Promise<string> => {
      const params: Record<string, string> = { limit: String(pageSize) };
      if (token !== '') params.continue = token;
      const text = this.opts.transport.open(this.query(params), {
        signal: this.abort.signal,
        idleTimeoutMs: this.opts.listTimeoutMs ?? 60_000,
      }).then((res) => readBody(res));
      text.catch(() => {}); // its failure is handled where it is awaited (a list stopped before that drops it)
      return text;
    };
    let next = fetchPage('');
    for (let page = 0; page < MAX_PAGES; page++) {
      let body: { metadata?: { resourceVersion?: unknown; continue?: unknown }; items?: unknown };
      try {
        body = JSON.parse(await next) as typeof body;
      } catch (err) {
        // The continue token outlived etcd compaction: start the list over (client-go does the same).
        if (cont !== '' && err instanceof ApiError && err.status === 410 && restarts < 3) {
          restarts++;
          cont = '';
          records.length = 0;
          skipped = 0;
          this.log('info', `${this.prefix}: list continue token expired, restarting the list`);
          next = fetchPage('');
          continue;
        }
        throw err;
      }
      this.markConnected();
      if (!Array.isArray(body.items)) throw new Error('list response without items');
      const items: unknown[] = body.items;
      const metadata = body.metadata;
      rv = typeof metadata?.resourceVersion === 'string' ? metadata.resourceVersion : '';
      cont = typeof metadata?.continue === 'string' ? metadata.continue : '';
      if (cont !== '') next = fetchPage(cont);
      for (let i = 0; i < items.length; i++) {
        // Bounded work, then the event loop: queries keep being read while 10,000 objects are converted.
        if (i > 0 && i % LIST_SLICE_ITEMS === 0) await this.yieldToLoop();
        const r = this.codec.convert(items[i]);
        if (r.record !== undefined) {
          // An object the sink holds unchanged (most of a relist) is kept as the held one: the fresh copy is garbage at once.
          const sink = this.opts.sink;
          const held = sink.held?.(r.record);
          if (held !== r.record || sink.held === undefined) {
            records.push(held ?? r.record);
          } else {
            // A new or changed one goes in now, a slice at a time, and the list keeps the stored copy, so the final
            // replace has only deletions left to make: one replace of 10,000 new objects (a first list) held the
            // loop for 60-170 ms. It only adds and updates, as watch events do; a list that fails half way removes nothing.
            sink.apply({ type: 'ADDED', object: r.record });
            records.push(sink.held(r.record));
          }
        } else {
          // A generic codec's result does not narrow on `record`: the error is there all the same.
          const error = r.error ?? 'unconvertible object';
          skipped++;
          if (firstSkip === '') firstSkip = error;
          this.skip(error, true);
        }
      }
      if (cont === '') break;
    }
    if (cont !== '') throw new Error(`list did not finish within ${MAX_PAGES} pages`);
    if (rv === '') throw new Error('list response without metadata.resourceVersion');
    this.opts.sink.replace([this.kind], records);
    if (!this.s.synced) {
      this.opts.sink.markSynced(this.kind);
      this.s.synced = true;
      this.resolveSynced();
    }
    this.rv = rv;
    this.s.lastSyncTime = Date.now();
    if (this.s.lists++ > 0) {
      this.s.relists++;
      this.notify('relisted');
    }
    this.attempt = 0;
    if (skipped > 0) this.log('warn', `${this.prefix}: list skipped ${skipped} invalid objects, first: ${firstSkip}`);
  }

  /** Lets pending I/O (the DNS listeners) run; throws once stopped, ending the list. */
  private async yieldToLoop(): Promise<void> {
    await new Promise<void>((resolve) => setImmediate(resolve));
    if (this.stopped) throw new Error('stopped');
  }

  private async watch(): Promise<WatchOutcome> {
    this.phase = 'watch';
    const timeout = Math.max(1, Math.round(this.opts.watchTimeoutSeconds ?? 300));
    const started = Date.now();
    let received = 0;
    this.s.watches++;
    const path = this.query({
      watch: 'true', resourceVersion: this.rv ?? '', allowWatchBookmarks: 'true', timeoutSeconds: String(timeout),
    });
    let res;
    try {
      res = await this.opts.transport.open(path, {
        signal: this.abort.signal,
        idleTimeoutMs: timeout * 1000 + (this.opts.watchIdleGraceMs ?? 30_000),
        stream: true,
      });
    } catch (err) {
      if (err instanceof ApiError && err.status === 410) return 'expired';
      throw err;
    }
    this.markConnected();
    res.setEncoding('utf8');
    let buf = '';
    try {
      for await (const chunk of res as AsyncIterable<string>) {
        buf += chunk;
        if (!buf.includes('\n')) {
          if (buf.length > MAX_LINE_CHARS) throw new Error(`watch event longer than ${MAX_LINE_CHARS} characters`);
          continue;
        }
        const lines = buf.split('\n');
        buf = lines.pop() ?? '';
        for (const line of lines) {
          if (line.trim() === '') continue;
          received++;
          if (this.handleLine(line) === 'expired') {
            res.destroy();
            return 'expired';
          }
        }
      }
      if (buf.trim() !== '' && res.complete) {
        received++;
        if (this.handleLine(buf) === 'expired') return 'expired';
      }
    } finally {
      if (received > 0 || Date.now() - started >= HEALTHY_WATCH_MS) this.attempt = 0;
    }
    if (!res.complete) throw new Error('watch stream closed before its end');
    return received === 0 && Date.now() - started < HEALTHY_WATCH_MS ? 'short' : 'ended';
  }

  /** Applies one watch event line; 'expired' for a 410 ERROR event; throws on anything malformed. */
  private handleLine(line: string): 'expired' | 'ok' {
    let ev: { type?: unknown; object?: unknown };
    try {
      ev = JSON.parse(line) as typeof ev;
    } catch (err) {
      throw new Error(`malformed watch event (${errorMessage(err)}): ${line.slice(0, 80)}`);
    }
    const type = ev.type;
    if (type === 'ADDED' || type === 'MODIFIED' || type === 'DELETED') {
      const r = this.codec.convert(ev.object);
      const meta = objectMeta(ev.object);
      if (r.record !== undefined) {
        this.opts.sink.apply({ type, object: r.record });
      } else {
        this.skip(r.error ?? 'unconvertible object', false);
        // A version we cannot use replaces one we may hold: drop the old one.
        if (type !== 'ADDED' && meta.name !== '') {
          this.opts.sink.apply({ type: 'DELETED', object: this.codec.placeholder(meta.namespace, meta.name) });
        }
      }
      if (meta.resourceVersion !== null) this.rv = meta.resourceVersion;
      this.s.events++;
      return 'ok';
    }
    if (type === 'BOOKMARK') {
      const rv = objectMeta(ev.object).resourceVersion;
      if (rv !== null) this.rv = rv;
      this.s.bookmarks++;
      return 'ok';
    }
    if (type === 'ERROR') {
      const st = (typeof ev.object === 'object' && ev.object !== null ? ev.object : {}) as Record<string, unknown>;
      const code = typeof st.code === 'number' ? st.code : 0;
      if (code === 410) return 'expired';
      const reason = typeof st.reason === 'string' ? st.reason : 'Unknown';
      throw new ApiError(code, reason, `watch ERROR event ${code} ${reason}: ${typeof st.message === 'string' ? st.message : ''}`);
    }
    throw new Error(`unexpected watch event type ${JSON.stringify(type)}`);
  }
}
