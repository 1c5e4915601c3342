/**
 * @module plugins/kubernetes/source
 * The cluster-state source the options ask for: the manifest folder, or the
 * live API (kubeconfig > endpoint [+ tls] > in-cluster), and waiting for its
 * first sync (O17). The API source (and with it @kubernetes/client-node,
 * ~90 MB) is imported only here, when it is made, so a manifest-only server
 * never loads it.
 */
import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { KubernetesApiSource } from '../../cluster/api/source.ts';
import { ManifestSource } from '../../cluster/manifests/manifest-source.ts';
import type { ClusterStore } from '../../cluster/store.ts';
import type { ClusterKind, ClusterStateSource } from '../../cluster/types.ts';
import type { Logger } from '../../log/logger.ts';
import { reflectorEvents, restClientObserver, type ApiMetrics } from './api-metrics.ts';
import type { KubernetesOptions } from './options.ts';

/**
 * Where the in-cluster service-account token and CA are read from, when set
 * (default /var/run/secrets/kubernetes.io/serviceaccount): for tests and for
 * running outside a pod with a mounted token.
 */
export const SERVICE_ACCOUNT_DIR_ENV = 'CLUSTERDNS_SERVICEACCOUNT_DIR';

/**
 * `endpoint` + `tls` as a kubeconfig file (the API source reads TLS material
 * from kubeconfig): file paths only, no secrets, one file per distinct setting.
 */
function tlsKubeconfig(endpoint: string, tls: NonNullable<KubernetesOptions['tls']>): string {
  const text = [
    'apiVersion: v1', 'kind: Config', 'current-context: coredns',
    'clusters:', '- name: coredns', '  cluster:', `    server: ${JSON.stringify(endpoint)}`, `    certificate-authority: ${JSON.stringify(tls.ca)}`,
    'users:', '- name: coredns', '  user:', `    client-certificate: ${JSON.stringify(tls.cert)}`, `    client-key: ${JSON.stringify(tls.key)}`,
    'contexts:', '- name: coredns', '  context: {cluster: coredns, user: coredns}', '',
  ].join('\n');
  const file = join(tmpdir(), `clusterdns-kubeconfig-${createHash('sha256').update(text).digest('hex').slice(0, 16)}.yaml`);
  writeFileSync(file, text, { mode: 0o600 });
  return file;
}

export async function makeSource(o: KubernetesOptions, kinds: readonly ClusterKind[], log: Logger, metrics: () => ApiMetrics, onFileError: (file: string) => void): Promise<ClusterStateSource> {
  if (o.manifests !== null) return new ManifestSource({ paths: o.manifests, kinds, logger: log, onFileError });
  // Loaded here, not at the top: it pulls in @kubernetes/client-node.
  const { KubernetesApiSource: ApiSource } = await import('../../cluster/api/source.ts');
  const m = metrics();
  const common = {
    labels: o.labels?.text, watchPods: kinds.includes('Pod'), watchEndpoints: !o.noEndpoints, logger: log,
    limits: { qps: o.apiserverQps ?? 0, burst: o.apiserverBurst ?? 0, maxInflight: o.apiserverMaxInflight ?? 0 },
    clientObserver: (host: string) => restClientObserver(m, host),
    events: reflectorEvents(m, kinds),
  };
  let source: KubernetesApiSource;
  if (o.kubeconfig !== null) {
    source = new ApiSource({ ...common, kubeconfig: o.kubeconfig.file, context: o.kubeconfig.context ?? undefined });
  } else if (o.endpoint !== null && o.tls !== null && o.endpoint.startsWith('https:')) {
    source = new ApiSource({ ...common, kubeconfig: tlsKubeconfig(o.endpoint, o.tls) });
  } else if (o.endpoint !== null) {
    source = new ApiSource({ ...common, endpoint: o.endpoint });
  } else {
    // In-cluster; tls is ignored there, as in CoreDNS.
    const dir = process.env[SERVICE_ACCOUNT_DIR_ENV];
    source = new ApiSource({ ...common, serviceAccountDir: dir !== undefined && dir !== '' ? dir : undefined });
  }
  m.sources.add(source);
  return source;
}

/** What makes two sources the same (a worker pool runs equal ones once, in its primary): everything makeSource reads. */
export function sourceKey(o: KubernetesOptions, kinds: readonly ClusterKind[]): string {
  return JSON.stringify([
    o.manifests, o.endpoint, o.tls, o.kubeconfig, o.labels?.text ?? null, o.pods, o.noEndpoints, kinds,
    o.apiserverQps, o.apiserverBurst, o.apiserverMaxInflight,
  ]);
}

/** Waits for the first sync (O17): logs while waiting, warns and goes on after the timeout. */
export async function waitForSync(store: ClusterStore, kinds: readonly ClusterKind[], timeoutMs: number, log: Logger): Promise<void> {
  const start = Date.now();
  let nextLog = start + 500;
  const maxSteps = Math.ceil(timeoutMs / 100) + 2;
  for (let i = 0; i < maxSteps && !store.synced(kinds); i++) {
    const now = Date.now();
    if (now - start >= timeoutMs) break;
    if (now >= nextLog) {
      log.info('waiting for Kubernetes API before starting server');
      nextLog += 500;
    }
    await new Promise((r) => setTimeout(r, Math.min(100, Math.max(1, timeoutMs - (now - start)))));
  }
  if (!store.synced(kinds)) log.warn('starting server with unsynced Kubernetes API');
}

