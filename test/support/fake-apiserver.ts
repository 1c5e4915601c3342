/**
 * @module test/support/fake-apiserver
 * A small in-process Kubernetes API server for tests. It speaks the real
 * list/watch protocol (paginated JSON lists, chunked newline-delimited watch
 * events, bookmarks, 410 Expired after compaction) for core/v1 namespaces,
 * services and pods, discovery.k8s.io/v1 endpointslices and the
 * clusterdns.io/v1alpha1 dnsrecords custom resource, so clients built
 * on @kubernetes/client-node configuration can be tested end to end.
 * Test hooks: create/update/delete objects, bookmark(), compact(rv),
 * failNext(prefix, status), kill() (drop every socket like a crash), restart().
 * Writes: PATCH of a status subresource (merge patch), as controllers do.
 */

import http from 'node:http';
import https from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { parseFieldSelector, parseLabelSelector } from './fake-apiserver-selectors.ts';
import type { Matcher } from './fake-apiserver-selectors.ts';

export interface KubeObjectMeta {
  name: string;
  namespace?: string;
  resourceVersion?: string;
  labels?: Record<string, string>;
  [key: string]: unknown;
}

export interface KubeObject {
  apiVersion?: string;
  kind: string;
  metadata: KubeObjectMeta;
  [key: string]: unknown;
}

export type FakeKind = 'Namespace' | 'Service' | 'Pod' | 'EndpointSlice' | 'DNSRecord';

export interface FakeApiServerOptions {
  /** Serve HTTPS with this certificate; `ca` + `requestCert` ask clients for a certificate. */
  tls?: { cert: string | Buffer; key: string | Buffer; ca?: string | Buffer; requestCert?: boolean };
  /** When set, every request must carry `Authorization: Bearer <token>` (else 401). */
  token?: string;
}

export interface RequestLogEntry {
  readonly method: string;
  readonly path: string;
  readonly query: Readonly<Record<string, string>>;
  readonly watch: boolean;
  readonly authorization: string | null;
  /** CN of the client certificate, when one was presented over TLS. */
  readonly clientCertCN: string | null;
}

interface ResourceInfo {
  readonly resource: string;
  readonly kind: FakeKind;
  readonly listKind: string;
  readonly apiVersion: string;
  readonly namespaced: boolean;
  readonly base: string;
}

const RESOURCES: readonly ResourceInfo[] = [
  { resource: 'namespaces', kind: 'Namespace', listKind: 'NamespaceList', apiVersion: 'v1', namespaced: false, base: '/api/v1' },
  { resource: 'services', kind: 'Service', listKind: 'ServiceList', apiVersion: 'v1', namespaced: true, base: '/api/v1' },
  { resource: 'pods', kind: 'Pod', listKind: 'PodList', apiVersion: 'v1', namespaced: true, base: '/api/v1' },
  {
    resource: 'endpointslices', kind: 'EndpointSlice', listKind: 'EndpointSliceList',
    apiVersion: 'discovery.k8s.io/v1', namespaced: true, base: '/apis/discovery.k8s.io/v1',
  },
  {
    resource: 'dnsrecords', kind: 'DNSRecord', listKind: 'DNSRecordList',
    apiVersion: 'clusterdns.io/v1alpha1', namespaced: true, base: '/apis/clusterdns.io/v1alpha1',
  },
];
/** Every API base path served (core, then the groups). */
const BASES: readonly string[] = [...new Set(RESOURCES.map((r) => r.base))];

type EventType = 'ADDED' | 'MODIFIED' | 'DELETED';

interface HistoryEvent {
  readonly rv: number;
  readonly info: ResourceInfo;
  readonly type: EventType;
  readonly object: KubeObject;
  readonly previous: KubeObject | null;
}

interface OpenWatch {
  readonly info: ResourceInfo;
  readonly namespace: string | null;
  readonly match: Matcher;
  readonly bookmarks: boolean;
  readonly res: http.ServerResponse;
}

interface Snapshot {
  readonly rv: number;
  readonly items: readonly KubeObject[];
}

const REASONS: Record<number, string> = {
  400: 'BadRequest', 401: 'Unauthorized', 403: 'Forbidden', 404: 'NotFound', 409: 'AlreadyExists',
  410: 'Expired', 429: 'TooManyRequests', 500: 'InternalError', 503: 'ServiceUnavailable',
};

function statusObject(code: number, message: string, reason = REASONS[code] ?? 'Unknown'): Record<string, unknown> {
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, code };
}

function infoForKind(kind: string): ResourceInfo {
  const info = RESOURCES.find((r) => r.kind === kind);
  if (info === undefined) throw new Error(`fake apiserver: unsupported kind ${kind}`);
  return info;
}

function keyOf(info: ResourceInfo, namespace: string, name: string): string {
  return info.namespaced ? `${namespace}/${name}` : name;
}

export class FakeApiServer {
  /** Requests received, by URL path. */
  readonly requests = new Map<string, number>();
  /** Every request received, in order. */
  readonly requestLog: RequestLogEntry[] = [];
  /** Status subresource patches applied. */
  statusPatches = 0;
  private readonly options: FakeApiServerOptions;
  private readonly store = new Map<string, Map<string, KubeObject>>();
  private readonly history: HistoryEvent[] = [];
  private readonly watches = new Set<OpenWatch>();
  private readonly sockets = new Set<Socket>();
  private readonly snapshots = new Map<number, Snapshot>();
  private readonly failures: { prefix: string; status: number; remaining: number }[] = [];
  private server: http.Server | null = null;
  private port = 0;
  private rv = 1000;
  private compactedRV = 0;
  private nextSnapshotId = 1;
  private nextUid = 1;

  constructor(options: FakeApiServerOptions = {}) {
    this.options = options;
    for (const r of RESOURCES) this.store.set(r.resource, new Map());
  }

  /** Base URL (http://127.0.0.1:port or https://...). */
  get url(): string {
    return `${this.options.tls ? 'https' : 'http'}://127.0.0.1:${this.port}`;
  }

  /** The current (latest) resourceVersion. */
  get resourceVersion(): number {
    return this.rv;
  }

  get openWatches(): number {
    return this.watches.size;
  }

  async start(): Promise<{ url: string }> {
    await this.listen(0);
    return { url: this.url };
  }

  /** Listen again on the same port after stop() or kill(). */
  async restart(): Promise<void> {
    if (this.server !== null) await this.kill();
    await this.listen(this.port);
  }

  /** Graceful stop: end every watch and close the listener. */
  async stop(): Promise<void> {
    const server = this.server;
    if (server === null) return;
    this.server = null;
    for (const w of this.watches) w.res.end();
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeAllConnections();
    for (const s of this.sockets) s.destroy();
    await closed;
  }

  /** Crash: destroy every open socket at once and stop listening. */
  async kill(): Promise<void> {
    const server = this.server;
    if (server === null) return;
    this.server = null;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    for (const s of this.sockets) s.destroy();
    await closed;
  }

  /** Adds an object (kind from obj.kind); bumps the RV and emits ADDED. Returns the stored copy. */
  create(obj: KubeObject): KubeObject {
    const info = infoForKind(obj.kind);
    const ns = this.namespaceFor(info, obj);
    const map = this.store.get(info.resource)!;
    const key = keyOf(info, ns, obj.metadata.name);
    if (map.has(key)) throw new Error(`fake apiserver: ${obj.kind} ${key} already exists`);
    return this.write(info, key, obj, 'ADDED', null);
  }

  /** Replaces an existing object; bumps the RV and emits MODIFIED. */
  update(obj: KubeObject): KubeObject {
    const info = infoForKind(obj.kind);
    const key = keyOf(info, this.namespaceFor(info, obj), obj.metadata.name);
    const previous = this.store.get(info.resource)!.get(key);
    if (previous === undefined) throw new Error(`fake apiserver: ${obj.kind} ${key} not found`);
    return this.write(info, key, obj, 'MODIFIED', previous);
  }

  /** create() or update(), whichever applies. */
  upsert(obj: KubeObject): KubeObject {
    const info = infoForKind(obj.kind);
    const key = keyOf(info, this.namespaceFor(info, obj), obj.metadata.name);
    return this.store.get(info.resource)!.has(key) ? this.update(obj) : this.create(obj);
  }

  /** Deletes an object (namespace ignored for Namespace); bumps the RV and emits DELETED. False when absent. */
  delete(kind: FakeKind, namespace: string, name: string): boolean {
    const info = infoForKind(kind);
    const map = this.store.get(info.resource)!;
    const key = keyOf(info, namespace, name);
    const previous = map.get(key);
    if (previous === undefined) return false;
    map.delete(key);
    const rv = ++this.rv;
    const object = structuredClone(previous);
    object.metadata.resourceVersion = String(rv);
    this.record({ rv, info, type: 'DELETED', object, previous });
    return true;
  }

  get(kind: FakeKind, namespace: string, name: string): KubeObject | undefined {
    const info = infoForKind(kind);
    return this.store.get(info.resource)!.get(keyOf(info, namespace, name));
  }

  /** Sends a BOOKMARK with the current RV to every watch that allowed bookmarks. */
  bookmark(): void {
    for (const w of this.watches) {
      if (!w.bookmarks) continue;
      const object = { kind: w.info.kind, apiVersion: w.info.apiVersion, metadata: { resourceVersion: String(this.rv) } };
      w.res.write(`${JSON.stringify({ type: 'BOOKMARK', object })}\n`);
    }
  }

  /** Writes raw text to every open watch of `kind` (to test malformed streams). */
  sendRaw(kind: FakeKind, text: string): void {
    for (const w of this.watches) if (w.info.kind === kind) w.res.write(text);
  }

  /** Forgets history up to `rv` (default: now): lists and watches from an older RV get 410 Expired. */
  compact(rv: number = this.rv): void {
    this.compactedRV = rv;
    // One splice, not a shift per event: compacting 100k events must not take seconds (bench/start-memory.ts).
    let n = 0;
    while (n < this.history.length && this.history[n]!.rv <= rv) n++;
    this.history.splice(0, n);
    for (const [id, snap] of this.snapshots) if (snap.rv < rv) this.snapshots.delete(id);
  }

  /** The next `count` requests whose path starts with `prefix` fail with `status` (a Status body). */
  failNext(prefix: string, status: number, count = 1): void {
    this.failures.push({ prefix, status, remaining: count });
  }

  /** Number of requests whose path starts with `prefix` (watch-only when `watch` is set). */
  requestCount(prefix: string, watch?: boolean): number {
    return this.requestLog.filter((r) => r.path.startsWith(prefix) && (watch === undefined || r.watch === watch)).length;
  }

  private async listen(port: number): Promise<void> {
    const handler = (req: http.IncomingMessage, res: http.ServerResponse): void => {
      try {
        this.handle(req, res);
      } catch (err) {
        if (!res.headersSent) this.sendJSON(res, 500, statusObject(500, String(err)));
        else res.destroy();
      }
    };
    const tls = this.options.tls;
    const server = tls
      ? https.createServer({ cert: tls.cert, key: tls.key, ca: tls.ca, requestCert: tls.requestCert ?? false, rejectUnauthorized: false }, handler)
      : http.createServer(handler);
    server.on('connection', (s: Socket) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
    this.port = (server.address() as AddressInfo).port;
    this.server = server;
  }

  private namespaceFor(info: ResourceInfo, obj: KubeObject): string {
    return info.namespaced ? (obj.metadata.namespace ?? 'default') : '';
  }

  private write(info: ResourceInfo, key: string, obj: KubeObject, type: EventType, previous: KubeObject | null): KubeObject {
    const rv = ++this.rv;
    const stored = structuredClone(obj);
    stored.apiVersion ??= info.apiVersion;
    stored.metadata.resourceVersion = String(rv);
    if (info.namespaced) stored.metadata.namespace = this.namespaceFor(info, obj);
    stored.metadata.uid ??= previous?.metadata.uid ?? `uid-${this.nextUid++}`;
    this.store.get(info.resource)!.set(key, stored);
    this.record({ rv, info, type, object: stored, previous });
    return stored;
  }

  private record(ev: HistoryEvent): void {
    this.history.push(ev);
    for (const w of this.watches) {
      if (w.info !== ev.info) continue;
      const out = this.translate(w, ev);
      if (out !== null) w.res.write(`${JSON.stringify(out)}\n`);
    }
  }

  /** The event a watch sees (selector transitions become ADDED/DELETED), or null. */
  private translate(w: OpenWatch, ev: HistoryEvent): { type: EventType; object: KubeObject } | null {
    const passes = (o: KubeObject | null): boolean =>
      o !== null && (w.namespace === null || o.metadata.namespace === w.namespace) && w.match(o);
    const cur = passes(ev.object);
    if (ev.type !== 'MODIFIED') return cur ? { type: ev.type, object: ev.object } : null;
    const old = passes(ev.previous);
    if (old && cur) return { type: 'MODIFIED', object: ev.object };
    if (cur) return { type: 'ADDED', object: ev.object };
    if (!old) return null;
    const object = structuredClone(ev.previous!);
    object.metadata.resourceVersion = String(ev.rv);
    return { type: 'DELETED', object };
  }

  private sendJSON(res: http.ServerResponse, code: number, body: unknown): void {
    const text = JSON.stringify(body);
    res.writeHead(code, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
    res.end(text);
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://fake');
    const path = url.pathname;
    const q = url.searchParams;
    const watch = q.get('watch') === 'true' || q.get('watch') === '1';
    const peer = (req.socket as Partial<TLSSocket>).getPeerCertificate?.();
    const cn = peer?.subject?.CN;
    this.requests.set(path, (this.requests.get(path) ?? 0) + 1);
    this.requestLog.push({
      method: req.method ?? 'GET', path, query: Object.fromEntries(q), watch,
      authorization: req.headers.authorization ?? null,
      clientCertCN: typeof cn === 'string' ? cn : null,
    });
    if (this.options.token !== undefined && req.headers.authorization !== `Bearer ${this.options.token}`) {
      return this.sendJSON(res, 401, statusObject(401, 'Unauthorized'));
    }
    const failure = this.failures.find((f) => path.startsWith(f.prefix));
    if (failure !== undefined) {
      if (--failure.remaining <= 0) this.failures.splice(this.failures.indexOf(failure), 1);
      return this.sendJSON(res, failure.status, statusObject(failure.status, `injected failure ${failure.status}`));
    }
    if (req.method === 'PATCH' && path.endsWith('/status')) return this.handleStatusPatch(req, res, path);
    if (req.method !== 'GET') return this.sendJSON(res, 405, statusObject(405, 'method not allowed', 'MethodNotAllowed'));
    if (path === '/version') {
      return this.sendJSON(res, 200, { major: '1', minor: '31', gitVersion: 'v1.31.0-fake', platform: 'linux/amd64' });
    }
    if (path === '/api') return this.sendJSON(res, 200, { kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [] });
    if (path === '/apis') {
      const groups = BASES.filter((b) => b.startsWith('/apis/')).map((b) => {
        const [name, v] = b.slice('/apis/'.length).split('/') as [string, string];
        const version = { groupVersion: `${name}/${v}`, version: v };
        return { name, versions: [version], preferredVersion: version };
      });
      return this.sendJSON(res, 200, { kind: 'APIGroupList', apiVersion: 'v1', groups });
    }
    for (const base of BASES) {
      if (path !== base && !path.startsWith(`${base}/`)) continue;
      const parts = path.slice(base.length).split('/').filter((p) => p !== '');
      const find = (resource: string | undefined): ResourceInfo | undefined =>
        RESOURCES.find((r) => r.base === base && r.resource === resource);
      if (parts.length === 0) {
        const resources = RESOURCES.filter((r) => r.base === base).map((r) => ({ name: r.resource, kind: r.kind, namespaced: r.namespaced, verbs: ['get', 'list', 'watch'] }));
        return this.sendJSON(res, 200, { kind: 'APIResourceList', groupVersion: base.replace(/^\/apis?\//, ''), resources });
      }
      let info: ResourceInfo | undefined;
      let ns: string | null = null;
      let name: string | null = null;
      if (parts[0] === 'namespaces' && parts.length >= 3) {
        info = find(parts[2]);
        ns = parts[1] ?? null;
        name = parts[3] ?? null;
        if (parts.length > 4 || (info !== undefined && !info.namespaced)) info = undefined;
      } else if (parts.length <= 2) {
        info = find(parts[0]);
        name = parts[1] ?? null;
        if (name !== null && info?.namespaced) info = undefined;
      }
      if (info === undefined) break;
      if (name !== null) {
        const obj = this.store.get(info.resource)!.get(keyOf(info, ns ?? '', name));
        if (obj === undefined) return this.sendJSON(res, 404, statusObject(404, `${info.resource} "${name}" not found`));
        return this.sendJSON(res, 200, { ...obj, kind: info.kind });
      }
      let match: Matcher;
      try {
        const ls = q.get('labelSelector');
        const fs = q.get('fieldSelector');
        const lm = ls ? parseLabelSelector(ls) : () => true;
        const fm = fs ? parseFieldSelector(fs) : () => true;
        match = (o) => lm(o) && fm(o);
      } catch (err) {
        return this.sendJSON(res, 400, statusObject(400, (err as Error).message));
      }
      const rvParam = q.get('resourceVersion') ?? '';
      if (rvParam !== '' && !/^\d+$/.test(rvParam)) return this.sendJSON(res, 400, statusObject(400, `invalid resourceVersion ${rvParam}`));
      return watch ? this.handleWatch(info, ns, match, q, res) : this.handleList(info, ns, match, q, res);
    }
    this.sendJSON(res, 404, statusObject(404, `the server could not find the requested resource (${path})`));
  }

  /** PATCH .../namespaces/NS/RESOURCE/NAME/status with a merge patch of `status` (what a controller writes). */
  private handleStatusPatch(req: http.IncomingMessage, res: http.ServerResponse, path: string): void {
    const m = /^(.*)\/namespaces\/([^/]+)\/([^/]+)\/([^/]+)\/status$/.exec(path);
    const info = m === null ? undefined : RESOURCES.find((r) => r.base === m[1] && r.resource === m[3] && r.namespaced);
    if (m === null || info === undefined) return this.sendJSON(res, 404, statusObject(404, `no status subresource at ${path}`));
    const key = keyOf(info, m[2]!, m[4]!);
    let text = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => { text += c; });
    req.on('end', () => {
      const previous = this.store.get(info.resource)!.get(key);
      if (previous === undefined) return this.sendJSON(res, 404, statusObject(404, `${info.resource} "${m[4]}" not found`));
      let patch: { status?: Record<string, unknown> };
      try {
        patch = JSON.parse(text) as typeof patch;
      } catch {
        return this.sendJSON(res, 400, statusObject(400, 'patch is not JSON'));
      }
      const next = structuredClone(previous);
      next.status = { ...(previous.status as Record<string, unknown> | undefined), ...patch.status };
      this.statusPatches++;
      this.sendJSON(res, 200, this.write(info, key, next, 'MODIFIED', previous));
    });
  }

  private matching(info: ResourceInfo, ns: string | null, match: Matcher): KubeObject[] {
    const all = [...this.store.get(info.resource)!.entries()].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
    return all.map((e) => e[1]).filter((o) => (ns === null || o.metadata.namespace === ns) && match(o));
  }

  private tooOld(rvParam: string): boolean {
    return rvParam !== '' && rvParam !== '0' && Number(rvParam) < this.compactedRV;
  }

  private handleList(info: ResourceInfo, ns: string | null, match: Matcher, q: URLSearchParams, res: http.ServerResponse): void {
    const rvParam = q.get('resourceVersion') ?? '';
    if (this.tooOld(rvParam)) {
      return this.sendJSON(res, 410, statusObject(410, `too old resource version: ${rvParam} (${this.compactedRV})`));
    }
    const limit = Math.max(0, Number(q.get('limit') ?? 0) || 0);
    const token = q.get('continue') ?? '';
    let snapId = 0;
    let offset = 0;
    let snap: Snapshot;
    if (token !== '') {
      try {
        const parsed = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as { id: number; offset: number };
        snapId = parsed.id;
        offset = parsed.offset;
      } catch {
        return this.sendJSON(res, 400, statusObject(400, 'invalid continue token'));
      }
      const found = this.snapshots.get(snapId);
      if (found === undefined) {
        return this.sendJSON(res, 410, statusObject(410, 'The provided continue parameter is too old to display a consistent list result.'));
      }
      snap = found;
    } else {
      snap = { rv: this.rv, items: this.matching(info, ns, match) };
    }
    const page = limit > 0 ? snap.items.slice(offset, offset + limit) : snap.items.slice(offset);
    const next = offset + page.length;
    const metadata: Record<string, unknown> = { resourceVersion: String(snap.rv) };
    if (limit > 0 && next < snap.items.length) {
      if (snapId === 0) {
        snapId = this.nextSnapshotId++;
        this.snapshots.set(snapId, snap);
      }
      metadata.continue = Buffer.from(JSON.stringify({ id: snapId, offset: next })).toString('base64url');
      metadata.remainingItemCount = snap.items.length - next;
    }
    this.sendJSON(res, 200, { kind: info.listKind, apiVersion: info.apiVersion, metadata, items: page });
  }

  private handleWatch(info: ResourceInfo, ns: string | null, match: Matcher, q: URLSearchParams, res: http.ServerResponse): void {
    const rvParam = q.get('resourceVersion') ?? '';
    res.writeHead(200, { 'Content-Type': 'application/json', 'Transfer-Encoding': 'chunked' });
    res.flushHeaders();
    if (this.tooOld(rvParam)) {
      const object = statusObject(410, `too old resource version: ${rvParam} (${this.compactedRV})`, 'Expired');
      res.end(`${JSON.stringify({ type: 'ERROR', object })}\n`);
      return;
    }
    const bookmarks = q.get('allowWatchBookmarks') === 'true' || q.get('allowWatchBookmarks') === '1';
    const w: OpenWatch = { info, namespace: ns, match, bookmarks, res };
    if (rvParam === '' || rvParam === '0') {
      for (const object of this.matching(info, ns, match)) res.write(`${JSON.stringify({ type: 'ADDED', object })}\n`);
    } else {
      const since = Number(rvParam);
      for (const ev of this.history) {
        if (ev.rv <= since || ev.info !== info) continue;
        const out = this.translate(w, ev);
        if (out !== null) res.write(`${JSON.stringify(out)}\n`);
      }
    }
    this.watches.add(w);
    const timeout = Number(q.get('timeoutSeconds') ?? 0);
    const timer = timeout > 0 ? setTimeout(() => res.end(), timeout * 1000) : null;
    const done = (): void => {
      if (timer !== null) clearTimeout(timer);
      this.watches.delete(w);
    };
    res.on('finish', done);
    res.on('close', done);
  }
}
