/**
 * @module cluster/api/client
 * Minimal streaming GET client for the Kubernetes API. Connection settings
 * and credentials come from an ApiConnection (connection.ts: in-cluster
 * token + CA, a plain endpoint, or a kubeconfig through the library); requests
 * go through node:http / node:https so the response body can be consumed as
 * a stream (watches) and any request can be aborted. Every request passes
 * the optional client-side limiter (qps/burst/max-inflight) and is reported
 * to an optional observer (the coredns_kubernetes_rest_client_* metrics).
 */

import type http from 'node:http';
import type https from 'node:https';
import { http as nodeHttp, https as nodeHttps } from '../../util/node-http.ts';
import type { ApiConnection } from './connection.ts';
import type { RequestLimiter } from './request-limiter.ts';

const USER_AGENT = 'clusterdns';

/** A non-200 answer from the API server, with the Status fields when present. */
export class ApiError extends Error {
  readonly status: number;
  readonly reason: string;

  constructor(status: number, reason: string, message: string) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.reason = reason;
  }
}

export interface OpenOptions {
  readonly signal: AbortSignal;
  /** Abort when the connection carries no data for this long. */
  readonly idleTimeoutMs: number;
  /**
   * A long-running stream (a watch): it leaves the in-flight count and its
   * latency is taken when the response headers arrive. Otherwise (a list)
   * both last until the body has been read or dropped.
   */
  readonly stream?: boolean;
}

/** Sees every request, as client-go's metrics adapters do (CoreDNS's rest_client_* metrics). */
export interface RestClientObserver {
  /** A request ended: its HTTP status code ('<error>' when there was no response) and latency in seconds. */
  requestDone(code: string, seconds: number, stream: boolean): void;
  /** Seconds one request waited in the client-side limiter. */
  rateLimited(seconds: number): void;
}

export interface KubeApiClientOptions {
  readonly limiter?: RequestLimiter | null;
  readonly observer?: RestClientObserver | null;
}

/** What the reflector needs from a client: a GET returning the streaming 200 response. */
export interface ApiTransport {
  /** Resolves with the 200 response (body unread); rejects with ApiError for any other status. */
  open(pathAndQuery: string, options: OpenOptions): Promise<http.IncomingMessage>;
}

/** Reads a whole response body as UTF-8, destroying the stream beyond `maxBytes`. */
export async function readBody(res: http.IncomingMessage, maxBytes = 256 * 1024 * 1024): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of res) {
    const b = chunk as Buffer;
    size += b.length;
    if (size > maxBytes) {
      res.destroy();
      throw new Error(`response body larger than ${maxBytes} bytes`);
    }
    chunks.push(b);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** ApiError from a status code and a (possibly Status JSON) body. */
export function apiErrorFrom(status: number, body: string): ApiError {
  let reason = nodeHttp.STATUS_CODES[status] ?? 'Unknown';
  let message = body.trim().slice(0, 300);
  try {
    const s = JSON.parse(body) as { reason?: unknown; message?: unknown };
    if (typeof s.reason === 'string' && s.reason !== '') reason = s.reason;
    if (typeof s.message === 'string') message = s.message;
  } catch {
    // not JSON: keep the text
  }
  return new ApiError(status, reason, `HTTP ${status} ${reason}${message ? `: ${message}` : ''}`);
}

export class KubeApiClient implements ApiTransport {
  private readonly connection: ApiConnection;
  private readonly limiter: RequestLimiter | null;
  private readonly observer: RestClientObserver | null;

  constructor(connection: ApiConnection, options: KubeApiClientOptions = {}) {
    this.connection = connection;
    this.limiter = options.limiter ?? null;
    this.observer = options.observer ?? null;
  }

  /** host[:port] of the server URL (the `host` label of the client metrics). */
  get host(): string {
    return new URL(this.server).host;
  }

  /** Server URL of the connection. */
  get server(): string {
    return this.connection.server;
  }

  async open(pathAndQuery: string, options: OpenOptions): Promise<http.IncomingMessage> {
    const base = new URL(this.server);
    const url = new URL(base.pathname.replace(/\/+$/, '') + pathAndQuery, base);
    const opts: https.RequestOptions = { method: 'GET', headers: { Accept: 'application/json', 'User-Agent': USER_AGENT } };
    await this.connection.apply(opts);
    options.signal.throwIfAborted();
    const limiter = this.limiter;
    if (limiter !== null) {
      const waitedMs = await limiter.acquire(options.signal);
      this.observer?.rateLimited(waitedMs / 1000);
    }
    let held = limiter !== null;
    const start = performance.now();
    const stream = options.stream ?? false;
    const done = (code: string): void => {
      if (held) {
        held = false;
        limiter!.release();
      }
      // Requests cut short by our own stop() are not the API server's doing.
      if (!options.signal.aborted || code !== '<error>') this.observer?.requestDone(code, (performance.now() - start) / 1000, stream);
    };
    let res: http.IncomingMessage;
    try {
      res = await this.request(url, opts, options);
    } catch (err) {
      done(err instanceof ApiError ? String(err.status) : '<error>');
      throw err;
    }
    if (stream) done('200');
    else res.once('close', () => done('200'));
    return res;
  }

  /**
   * A merge patch of `pathAndQuery` (a status subresource: the DNSRecord
   * controller's conditions); resolves with the response body, rejects with
   * ApiError for a status other than 200.
   */
  async mergePatch(pathAndQuery: string, patch: unknown, signal: AbortSignal): Promise<string> {
    const base = new URL(this.server);
    const url = new URL(base.pathname.replace(/\/+$/, '') + pathAndQuery, base);
    const opts: https.RequestOptions = {
      method: 'PATCH', headers: { Accept: 'application/json', 'Content-Type': 'application/merge-patch+json', 'User-Agent': USER_AGENT },
    };
    await this.connection.apply(opts);
    const res = await this.request(url, opts, { signal, idleTimeoutMs: 30_000 }, JSON.stringify(patch));
    return readBody(res, 1024 * 1024);
  }

  /** One request; resolves with a 200 response (body unread), rejects with ApiError for any other status. */
  private request(url: URL, opts: https.RequestOptions, options: OpenOptions, body?: string): Promise<http.IncomingMessage> {
    const secure = url.protocol === 'https:';
    const mod = secure ? nodeHttps() : nodeHttp;
    return new Promise<http.IncomingMessage>((resolve, reject) => {
      const req = mod.request({
        ...opts,
        protocol: url.protocol,
        hostname: url.hostname.replace(/^\[(.*)\]$/, '$1'),
        port: url.port === '' ? (secure ? 443 : 80) : Number(url.port),
        path: url.pathname + url.search,
        signal: options.signal,
      });
      req.setTimeout(options.idleTimeoutMs, () => {
        // ETIMEDOUT: a silent server counts as unreachable (the reflector's shorter backoff cap).
        req.destroy(Object.assign(new Error(`no data from the API server for ${options.idleTimeoutMs} ms`), { code: 'ETIMEDOUT' }));
      });
      req.on('error', reject);
      req.on('response', (res) => {
        const status = res.statusCode ?? 0;
        if (status === 200) {
          resolve(res);
          return;
        }
        readBody(res, 1024 * 1024).then((body) => reject(apiErrorFrom(status, body)), reject);
      });
      req.end(body);
    });
  }
}
