/**
 * @module test/support/http-backends
 * Real HTTP on loopback for gateway tests: backends on 127.0.0.x addresses
 * (free ports) whose pages name the backend and the path they got, and one
 * GET like `curl -H Host:`
 * from 127.0.0.1, on a fresh connection each time (as curl does), with a
 * timeout.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Backend {
  readonly name: string;
  readonly address: string;
  readonly port: number;
  /** Requests served. */
  readonly hits: number;
  close(): Promise<void>;
}

/** A backend on `address` (a 127.0.0.0/8 address) answering "NAME PATH" for every request. */
export async function startBackend(name: string, address: string): Promise<Backend> {
  let hits = 0;
  const server = http.createServer((req, res) => {
    hits++;
    const body = `${name} ${req.url ?? ''} host=${req.headers.host ?? ''} xff=${req.headers['x-forwarded-for'] ?? ''}\n`;
    res.writeHead(200, { 'Content-Type': 'text/plain', 'Content-Length': Buffer.byteLength(body) });
    res.end(body);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, address, () => resolve());
  });
  return {
    name, address, port: (server.address() as AddressInfo).port,
    get hits() { return hits; },
    close: () => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }),
  };
}

export interface HttpResult {
  readonly status: number;
  readonly body: string;
}

/** GET http://ADDRESS:PORT/PATH with a Host header, from 127.0.0.1; rejects on a connection error or after timeoutMs. */
export function httpGet(address: string, port: number, host: string, path: string, timeoutMs = 3000): Promise<HttpResult> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: address, port, path, method: 'GET', headers: { Host: host }, localAddress: '127.0.0.1', agent: false, timeout: timeoutMs }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => { body += c; });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${host}${path}: no answer in ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end();
  });
}

/** Repeats `probe` until it returns true, at most `tries` times `intervalMs` apart; false when it never did. */
export async function pollUntil(probe: () => Promise<boolean>, tries = 100, intervalMs = 25): Promise<boolean> {
  for (let i = 0; i < tries; i++) {
    if (await probe().catch(() => false)) return true;
    await new Promise((r) => setTimeout(r, intervalMs));
  }
  return false;
}
