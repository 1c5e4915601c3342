/**
 * @module cluster/api/kubeconfig-helper
 * A short-lived child process (started by cluster/api/kubeconfig.ts):
 * loads @kubernetes/client-node, resolves one kubeconfig's credentials for
 * its current (or the given) context, running exec and auth-provider
 * plugins as kubectl would, writes them to stdout as one JSON line
 * (KubeconfigCredentials) and exits. The server itself never loads the
 * library: it costs ~40 MiB RSS and seconds of CPU at the start, for work
 * that is done once (or once a minute for plugin-issued tokens).
 *
 *   node kubeconfig-helper.js FILE [CONTEXT]
 *
 * Errors go to stderr (one line) with exit code 1.
 */
import type https from 'node:https';
import { KubeConfig } from '@kubernetes/client-node';
import { loadKubeconfig, type KubeconfigCredentials } from './kubeconfig.ts';

async function resolve(file: string, context: string | undefined): Promise<KubeconfigCredentials> {
  const kc = loadKubeconfig(KubeConfig, file, context);
  const cluster = kc.getCurrentCluster()!;
  const user = kc.getCurrentUser();
  const o: https.RequestOptions = {};
  await kc.applyToHTTPSOptions(o);
  const pem = (v: unknown): string | undefined => (v === undefined || v === null ? undefined : Buffer.isBuffer(v) ? v.toString('utf8') : String(v));
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(o.headers ?? {})) if (typeof v === 'string') headers[k] = v;
  const ca = pem(o.ca);
  const cert = pem(o.cert);
  const key = pem(o.key);
  return {
    server: cluster.server,
    headers,
    ...(ca !== undefined ? { ca } : {}),
    ...(cert !== undefined ? { cert } : {}),
    ...(key !== undefined ? { key } : {}),
    ...(typeof o.auth === 'string' ? { auth: o.auth } : {}),
    ...(o.rejectUnauthorized === false ? { rejectUnauthorized: false } : {}),
    ...(typeof o.servername === 'string' ? { servername: o.servername } : {}),
    // Plugin-issued tokens expire: they are asked for again (kubeconfig.ts decides when).
    refresh: user !== null && (user.exec != null || user.authProvider != null),
    proxy: cluster.proxyUrl !== undefined && cluster.proxyUrl !== '',
  };
}

const [file, context] = process.argv.slice(2);
if (file === undefined || file === '') {
  process.stderr.write('usage: kubeconfig-helper FILE [CONTEXT]\n');
  process.exit(2);
}
try {
  process.stdout.write(`${JSON.stringify(await resolve(file, context))}\n`);
} catch (err) {
  process.stderr.write(`${(err as Error).message.split('\n')[0]}\n`);
  process.exitCode = 1;
}
