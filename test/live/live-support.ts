/**
 * @module test/live/live-support
 * What the live-cluster tests share: a FakeApiServer (HTTPS with the test
 * PKI and a bearer token by default) plus a clusterdns App whose kubernetes
 * block reaches it through a kubeconfig file; polling `dig` until an answer
 * holds (bounded); an App started in the background (to look at it while
 * its startup still waits for the API); an HTTP server that accepts and
 * never answers; and reading metrics off the prometheus plugin.
 */
import { readFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { App } from '../../src/app/app.ts';
import { memoryLogger } from '../../src/log/logger.ts';
import { scrape, type MetricFamilies } from '../ops/ops-support.ts';
import { FakeApiServer, type KubeObject } from '../support/fake-apiserver.ts';
import { dig, startServer, type DigResult, type TestServer } from '../support/harness.ts';
import { makeTempDir, removeDir, writeKubeconfig } from '../support/kubeconfig.ts';
import { delay } from '../support/wait-until.ts';

export const FIXTURES = fileURLToPath(new URL('../support/fixtures/', import.meta.url));
export const fixture = (name: string): Buffer => readFileSync(path.join(FIXTURES, name));
export const TOKEN = 'live-test-token';

/** A test object from the k8s-objects / fake-objects builders, as the fake API server takes it. */
export const kube = (o: object): KubeObject => o as KubeObject;

export interface LiveOptions {
  /** Lines inside the kubernetes block besides the connection (e.g. "pods verified"). */
  readonly options?: readonly string[];
  /** Other directives of the server block (e.g. "whoami", "prometheus 127.0.0.1:0"). */
  readonly extra?: readonly string[];
  /** Plain HTTP without a token, reached with `endpoint URL` instead of a kubeconfig. */
  readonly plainEndpoint?: boolean;
  /** Objects to create before the server starts. */
  readonly objects?: readonly object[];
}

export interface LiveCluster {
  readonly api: FakeApiServer;
  readonly server: TestServer;
  readonly port: number;
  readonly logs: string[];
  readonly dir: string;
  stop(): Promise<void>;
}

export function liveCorefile(connection: string, o: Pick<LiveOptions, 'options' | 'extra'> = {}): string {
  const opts = (o.options ?? []).map((l) => `    ${l}\n`).join('');
  const extra = (o.extra ?? []).map((l) => `  ${l}\n`).join('');
  return `.:0 {\n  bind 127.0.0.1\n${extra}  kubernetes cluster.local in-addr.arpa ip6.arpa {\n    ${connection}\n${opts}  }\n}\n`;
}

/** An HTTPS + token fake API server (plain HTTP when asked). */
export async function startApi(plain = false): Promise<FakeApiServer> {
  const api = plain ? new FakeApiServer() : new FakeApiServer({ token: TOKEN, tls: { cert: fixture('server.crt'), key: fixture('server.key') } });
  await api.start();
  return api;
}

/** A kubeconfig for `api` in `dir` (token user, CA of the test PKI). */
export async function kubeconfigFor(api: FakeApiServer, dir: string): Promise<string> {
  const plain = api.url.startsWith('http:');
  return writeKubeconfig(dir, plain ? { server: api.url } : { server: api.url, token: TOKEN, caFile: path.join(FIXTURES, 'ca.crt') });
}

/** Fake API server + clusterdns pointed at it; the server has synced when this resolves. */
export async function startLive(o: LiveOptions = {}): Promise<LiveCluster> {
  const api = await startApi(o.plainEndpoint ?? false);
  const dir = await makeTempDir('clusterdns-live-');
  for (const obj of o.objects ?? []) api.create(kube(obj));
  let server: TestServer;
  try {
    const connection = o.plainEndpoint ? `endpoint ${api.url}` : `kubeconfig ${await kubeconfigFor(api, dir)}`;
    // Synced before it serves (the kubeconfig's credentials come from a helper process first), however loaded the machine.
    const options = o.options?.some((l) => l.startsWith('startup_timeout')) ? o.options : [...(o.options ?? []), 'startup_timeout 60s'];
    server = await startServer(liveCorefile(connection, { ...o, options }));
  } catch (e) {
    await api.stop();
    await removeDir(dir);
    throw e;
  }
  return {
    api, server, port: server.port, logs: server.logs, dir,
    async stop() {
      await server.stop();
      await api.stop();
      await removeDir(dir);
    },
  };
}

/** dig (UDP) until `ok` holds; returns the last answer or throws with it after `timeoutMs`. */
export async function digUntil(port: number, args: readonly string[], ok: (r: DigResult) => boolean, timeoutMs = 10_000): Promise<DigResult> {
  const deadline = Date.now() + timeoutMs;
  let last: DigResult | null = null;
  for (let i = 0; i < 1000; i++) {
    last = await dig(port, ...args);
    if (ok(last)) return last;
    if (Date.now() >= deadline) break;
    await delay(10);
  }
  throw new Error(`dig ${args.join(' ')}: condition not met within ${timeoutMs} ms; last answer:\n${last?.raw ?? '(none)'}`);
}

/** The answer's data, sorted (A addresses, SRV "prio weight port target", PTR targets). */
export function answers(r: DigResult): string[] {
  return r.answer.map((a) => a.data).sort();
}

/** An App started without waiting for its startup (which may be waiting for the API). */
export interface BackgroundApp {
  readonly app: App;
  readonly logs: string[];
  /** Resolves when start() has returned (rejects if it failed). */
  readonly started: Promise<void>;
  stop(): Promise<void>;
}

export function startInBackground(corefile: string): BackgroundApp {
  const logger = memoryLogger();
  const app = new App({
    corefilePath: 'Corefile', corefileText: corefile, logger, env: process.env, tcp: { idleTimeoutMs: 2000, maxConnections: 50 },
  });
  const started = app.start();
  started.catch(() => {}); // observed by the test through `started`
  return {
    app, logs: logger.lines, started,
    async stop() {
      await started.catch(() => {});
      await app.stop(1000);
    },
  };
}

/** An HTTP server that takes connections and requests and never answers (an API server that hangs). */
export async function silentServer(): Promise<{ url: string; requests: () => number; close: () => Promise<void> }> {
  let requests = 0;
  const sockets = new Set<Socket>();
  const server = http.createServer(() => { requests++; });
  server.on('connection', (s: Socket) => { sockets.add(s); s.on('close', () => sockets.delete(s)); });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests: () => requests,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

/** Scrape the prometheus plugin mounted on 127.0.0.1:0. */
export function scrapeApp(app: App): Promise<MetricFamilies> {
  const port = app.services.http.port('127.0.0.1:0');
  if (port === undefined) throw new Error('no HTTP listener on 127.0.0.1:0');
  return scrape(port);
}
