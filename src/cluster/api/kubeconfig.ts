/**
 * @module cluster/api/kubeconfig
 * The `kubeconfig FILE [CONTEXT]` connection without @kubernetes/client-node
 * in the server: the server URL is read here (current-context → context →
 * cluster), so configuration errors still fail the start or the reload; the
 * credentials (CA, client certificate and key, bearer token, exec and
 * auth-provider plugins) come from kubeconfig-helper, a child process that
 * loads the library, prints them and exits. The library costs ~40 MiB RSS
 * and seconds of CPU to load, for what is done once; plugin-issued tokens
 * expire, so for those the helper runs again once TOKEN_REREAD_MS has passed
 * (at the next request), keeping the last credentials if that run fails.
 * A cluster behind `proxy-url` needs the library's proxy agents in the
 * process: only then is the library loaded here.
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type https from 'node:https';
import { fileURLToPath } from 'node:url';
import type { KubeConfig } from '@kubernetes/client-node';
import { TOKEN_REREAD_MS, type ApiConnection } from './connection.ts';
/** An exec plugin that hangs fails the attempt after this long (the request is retried with backoff). */
const HELPER_TIMEOUT_MS = 60_000;

const EXT = import.meta.url.endsWith('.ts') ? '.ts' : '.js';
const HELPER = fileURLToPath(new URL(`./kubeconfig-helper${EXT}`, import.meta.url));

/** What kubeconfig-helper prints: TLS and auth settings of https.RequestOptions, as JSON. */
export interface KubeconfigCredentials {
  readonly server: string;
  readonly headers: Readonly<Record<string, string>>;
  /** PEM text. */
  readonly ca?: string;
  readonly cert?: string;
  readonly key?: string;
  /** user:password (basic auth). */
  readonly auth?: string;
  readonly rejectUnauthorized?: false;
  readonly servername?: string;
  /** The token came from an exec or auth-provider plugin: ask again after TOKEN_REREAD_MS. */
  readonly refresh: boolean;
  /** The cluster has a proxy-url. */
  readonly proxy: boolean;
}

type Named<T> = { name?: unknown } & T;

/** The server URL of `context` (default: current-context) in a kubeconfig file; throws on what the library would reject. */
export function kubeconfigServer(file: string, context: string | undefined): string {
  // `yaml` is loaded only here (a kubeconfig is YAML or JSON).
  const { parse } = createRequire(import.meta.url)('yaml') as typeof import('yaml');
  const doc = (parse(readFileSync(file, 'utf8')) ?? {}) as {
    'current-context'?: unknown;
    contexts?: Named<{ context?: { cluster?: unknown } }>[];
    clusters?: Named<{ cluster?: { server?: unknown } }>[];
  };
  const wanted = context !== undefined && context !== '' ? context : doc['current-context'];
  const ctx = Array.isArray(doc.contexts) ? doc.contexts.find((c) => c?.name === wanted) : undefined;
  if (context !== undefined && context !== '' && ctx === undefined) throw new Error(`kubeconfig ${file}: context "${context}" not found`);
  const clusterName = ctx?.context?.cluster;
  const cluster = Array.isArray(doc.clusters) ? doc.clusters.find((c) => c?.name === clusterName) : undefined;
  const server = cluster?.cluster?.server;
  if (typeof server !== 'string' || server === '') throw new Error(`kubeconfig ${file}: no cluster for the current context`);
  return server;
}

/** Runs kubeconfig-helper; rejects with its one-line error. */
export function runKubeconfigHelper(file: string, context: string | undefined): Promise<KubeconfigCredentials> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [HELPER, file, context ?? ''], { env: process.env, timeout: HELPER_TIMEOUT_MS, maxBuffer: 4 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (err !== null) {
        const why = stderr.trim().split('\n')[0] || (err.killed ? `no answer in ${HELPER_TIMEOUT_MS / 1000} s` : err.message);
        reject(new Error(`kubeconfig ${file}: credentials: ${why}`));
        return;
      }
      try {
        resolve(JSON.parse(stdout) as KubeconfigCredentials);
      } catch {
        reject(new Error(`kubeconfig ${file}: credentials: the helper printed no JSON`));
      }
    });
  });
}

function applyCredentials(o: https.RequestOptions, c: KubeconfigCredentials): void {
  if (c.ca !== undefined) o.ca = c.ca;
  if (c.cert !== undefined) o.cert = c.cert;
  if (c.key !== undefined) o.key = c.key;
  if (c.auth !== undefined) o.auth = c.auth;
  if (c.rejectUnauthorized === false) o.rejectUnauthorized = false;
  if (c.servername !== undefined) o.servername = c.servername;
  o.headers = { ...o.headers, ...c.headers };
}

/** A KubeConfig of `file` at `context` (the library's class is passed in: it is not imported here). */
export function loadKubeconfig(Kc: typeof KubeConfig, file: string, context: string | undefined): KubeConfig {
  const kc = new Kc();
  kc.loadFromFile(file);
  if (context !== undefined && context !== '') {
    if (kc.getContextObject(context) === null) throw new Error(`kubeconfig ${file}: context "${context}" not found`);
    kc.setCurrentContext(context);
  }
  const cluster = kc.getCurrentCluster();
  if (cluster === null) throw new Error(`kubeconfig ${file}: no cluster for the current context`);
  if (cluster.server.startsWith('http:') && !cluster.skipTLSVerify) {
    // Plain HTTP (e.g. kubectl proxy) has no TLS to verify, but the library refuses http: without this flag.
    kc.clusters = kc.clusters.map((c) => (c === cluster ? { ...c, skipTLSVerify: true } : c));
  }
  return kc;
}

/** The library in this process (proxy-url only): its agent does the proxying. */
function libraryApply(file: string, context: string | undefined): (o: https.RequestOptions) => Promise<void> {
  const { KubeConfig: Kc } = createRequire(import.meta.url)('@kubernetes/client-node') as typeof import('@kubernetes/client-node');
  const kc = loadKubeconfig(Kc, file, context);
  return (o) => kc.applyToHTTPSOptions(o);
}

/** Throws on configuration errors (unreadable file, unknown context, no cluster); credential errors fail requests (retried). */
export function kubeconfigConnection(file: string, context: string | undefined, now: () => number): ApiConnection {
  const server = kubeconfigServer(file, context);
  let creds: KubeconfigCredentials | null = null;
  let fetchedAt = -Infinity;
  let running: Promise<KubeconfigCredentials> | null = null;
  let library: ((o: https.RequestOptions) => Promise<void>) | null = null;
  return {
    server,
    mode: 'kubeconfig',
    apply: async (o) => {
      if (library !== null) return library(o);
      if (creds === null || (creds.refresh && now() - fetchedAt >= TOKEN_REREAD_MS)) {
        // Requests at the same moment share one helper run.
        running ??= runKubeconfigHelper(file, context).finally(() => { running = null; });
        try {
          creds = await running;
        } catch (err) {
          // Until a run succeeds there is nothing to send; after that the last credentials stay until the next try.
          if (creds === null) throw err;
        }
        fetchedAt = now();
        if (creds.proxy) {
          library = libraryApply(file, context);
          return library(o);
        }
      }
      applyCredentials(o, creds);
    },
  };
}
