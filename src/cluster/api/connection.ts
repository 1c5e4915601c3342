/**
 * @module cluster/api/connection
 * Where the API server is and how to authenticate to it, chosen as CoreDNS
 * (client-go) does: a kubeconfig file (optionally a context) if given, else
 * an explicit endpoint URL (no credentials), else in-cluster config
 * (KUBERNETES_SERVICE_HOST/PORT, the service-account token and CA).
 *
 * Endpoint and in-cluster need nothing but node:https, so they are done here
 * without @kubernetes/client-node (the library costs ~40 MiB RSS to load):
 * in-cluster trusts only the service-account CA and sends the token file's
 * content as a bearer token, re-reading the file at most once a minute so a
 * rotated (projected) token is picked up, as client-go's in-cluster config
 * does. A kubeconfig's credentials (exec/OIDC plugins, client certificates)
 * come from the library in a short-lived child process (kubeconfig.ts).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type https from 'node:https';
import { joinHostPort } from '../../dns/ip.ts';
import { kubeconfigConnection } from './kubeconfig.ts';

export const DEFAULT_SERVICE_ACCOUNT_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';
/** client-go re-reads the in-cluster token file this often (rotated projected tokens); plugin tokens of a kubeconfig are asked for again as often. */
export const TOKEN_REREAD_MS = 60_000;

export interface ConnectionOptions {
  /** Path of a kubeconfig file; takes precedence over everything else. */
  readonly kubeconfig?: string | undefined;
  /** Context in the kubeconfig (default: its current-context). */
  readonly context?: string | undefined;
  /** API server URL used without credentials when no kubeconfig is given. */
  readonly endpoint?: string | undefined;
  /** In-cluster service-account directory holding `token` and `ca.crt`. */
  readonly serviceAccountDir?: string | undefined;
  /** Environment used for in-cluster discovery (default process.env). */
  readonly env?: Readonly<Record<string, string | undefined>> | undefined;
}

/** An API server and the credentials for it. */
export interface ApiConnection {
  /** Server URL (scheme, host, port and an optional path prefix). */
  readonly server: string;
  /** How it was configured: 'kubeconfig', 'endpoint' or 'in-cluster'. */
  readonly mode: 'kubeconfig' | 'endpoint' | 'in-cluster';
  /** Adds credentials and TLS settings to a request's options (may refresh them first). */
  apply(opts: https.RequestOptions): Promise<void>;
}

/** Throws on configuration errors (unreadable kubeconfig, unknown context, bad URL, not in a cluster). */
export function resolveConnection(opts: ConnectionOptions, now: () => number = () => Date.now()): ApiConnection {
  if (opts.kubeconfig !== undefined && opts.kubeconfig !== '') return kubeconfigConnection(opts.kubeconfig, opts.context, now);
  if (opts.endpoint !== undefined && opts.endpoint !== '') return endpointConnection(opts.endpoint);
  return inClusterConnection(opts, now);
}

function endpointConnection(endpoint: string): ApiConnection {
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch {
    throw new Error(`invalid endpoint URL ${JSON.stringify(endpoint)}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error(`endpoint ${endpoint}: scheme must be http or https`);
  return { server: endpoint.replace(/\/+$/, ''), mode: 'endpoint', apply: async () => {} };
}

function inClusterConnection(opts: ConnectionOptions, now: () => number): ApiConnection {
  const env = opts.env ?? process.env;
  const host = env.KUBERNETES_SERVICE_HOST;
  const port = env.KUBERNETES_SERVICE_PORT;
  if (!host || !port) {
    throw new Error('not running in a cluster (KUBERNETES_SERVICE_HOST/KUBERNETES_SERVICE_PORT unset); set kubeconfig or endpoint');
  }
  const dir = opts.serviceAccountDir ?? DEFAULT_SERVICE_ACCOUNT_DIR;
  const tokenFile = path.join(dir, 'token');
  const caFile = path.join(dir, 'ca.crt');
  let token = '';
  let tokenReadAt = -Infinity;
  let ca: Buffer | null = null;
  return {
    server: `https://${joinHostPort(host, port)}`,
    mode: 'in-cluster',
    apply: async (o) => {
      // Read lazily: a missing file is a connection error (retried), not a start failure, as in client-go.
      ca ??= readFileSync(caFile);
      if (now() - tokenReadAt >= TOKEN_REREAD_MS) {
        token = readFileSync(tokenFile, 'utf8').trim();
        tokenReadAt = now();
      }
      o.ca = ca;
      o.rejectUnauthorized = true;
      o.headers = { ...o.headers, Authorization: `Bearer ${token}` };
    },
  };
}
