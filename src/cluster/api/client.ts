/**
 * @module cluster/api/client
 * Minimal streaming GET client for the Kubernetes API. Connection settings
 * and credentials come from a @kubernetes/client-node KubeConfig through
 * `applyToHTTPSOptions` (bearer token, token file, exec/OIDC plugins, basic
 * auth, CA, client certificate and key, skip-verify, proxy agents); requests
 * go through node:http / node:https so the response body can be consumed as
 * a stream (watches) and any request can be aborted.
 */

import http from 'node:http';
import https from 'node:https';
import type { KubeConfig } from '@kubernetes/client-node';

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
  let reason = http.STATUS_CODES[status] ?? 'Unknown';
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
  private readonly kc: KubeConfig;

  constructor(kc: KubeConfig) {
    this.kc = kc;
  }

  /** Server URL of the current context. */
  get server(): string {
    const cluster = this.kc.getCurrentCluster();
    if (cluster === null) throw new Error('kubeconfig: no current cluster');
    return cluster.server;
  }

  async open(pathAndQuery: string, options: OpenOptions): Promise<http.IncomingMessage> {
    const base = new URL(this.server);
    const url = new URL(base.pathname.replace(/\/+$/, '') + pathAndQuery, base);
    const opts: https.RequestOptions = { method: 'GET', headers: { Accept: 'application/json', 'User-Agent': USER_AGENT } };
    // Reads token/CA/cert files and runs auth plugins on each call, so rotated tokens are picked up.
    await this.kc.applyToHTTPSOptions(opts);
    options.signal.throwIfAborted();
    const secure = url.protocol === 'https:';
    const mod = secure ? https : http;
    return await new Promise<http.IncomingMessage>((resolve, reject) => {
      const req = mod.request({
        ...opts,
        protocol: url.protocol,
        hostname: url.hostname.replace(/^\[(.*)\]$/, '$1'),
        port: url.port === '' ? (secure ? 443 : 80) : Number(url.port),
        path: url.pathname + url.search,
        signal: options.signal,
      });
      req.setTimeout(options.idleTimeoutMs, () => {
        req.destroy(new Error(`no data from the API server for ${options.idleTimeoutMs} ms`));
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
      req.end();
    });
  }
}
