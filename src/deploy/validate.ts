/**
 * @module deploy/validate
 * Checks rendered manifests before anyone applies them: the kinds a cluster
 * DNS needs, the Service's fixed IP and ports, probes that point at the
 * health and ready plugins, RBAC limited to list/watch, and a Corefile that
 * this build of clusterdns accepts (parsed and set up, nothing started).
 */
import { isIP } from 'node:net';
import { parseCorefile } from '../corefile/parser.ts';
import { buildConfig } from '../config/build.ts';
import { createLogger } from '../log/logger.ts';
import { ProcessServices } from '../plugin/process-services.ts';
import { builtinRegistry } from '../plugins/index.ts';
import { errorMessage } from '../errors/to-error.ts';

type Obj = Record<string, unknown>;

function get(o: unknown, path: string): unknown {
  let cur: unknown = o;
  for (const k of path.split('.')) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string, unknown>)[k];
  }
  return cur;
}

/** Problems found, one line each; empty when the manifests are good. */
export function validateManifests(objects: readonly Obj[]): string[] {
  const problems: string[] = [];
  const byKind = (kind: string): Obj[] => objects.filter((o) => o.kind === kind);
  for (const kind of ['ServiceAccount', 'ClusterRole', 'ClusterRoleBinding', 'ConfigMap', 'Deployment', 'Service']) {
    if (byKind(kind).length !== 1) problems.push(`expected exactly one ${kind}, found ${byKind(kind).length}`);
  }
  const svc = byKind('Service')[0];
  if (svc) {
    const ip = get(svc, 'spec.clusterIP');
    if (typeof ip !== 'string' || !isIP(ip)) problems.push(`Service clusterIP '${String(ip)}' is not an IP address`);
    const ports = (get(svc, 'spec.ports') as Obj[] | undefined) ?? [];
    for (const [port, proto] of [[53, 'UDP'], [53, 'TCP'], [9153, 'TCP']] as const) {
      if (!ports.some((p) => p.port === port && p.protocol === proto)) problems.push(`Service lacks port ${port}/${proto}`);
    }
    if (get(svc, 'metadata.name') !== 'kube-dns') problems.push('the Service must be named kube-dns (kubelet and tools expect it)');
  }
  const dep = byKind('Deployment')[0];
  const container = (get(dep, 'spec.template.spec.containers') as Obj[] | undefined)?.[0];
  if (dep) {
    const replicas = get(dep, 'spec.replicas');
    if (typeof replicas !== 'number' || !Number.isInteger(replicas) || replicas < 1) problems.push('Deployment must run at least 1 replica');
    if (!get(dep, 'spec.template.spec.affinity.podAntiAffinity')) problems.push('Deployment lacks pod anti-affinity');
    if (!container) problems.push('Deployment has no container');
    else {
      if (get(container, 'livenessProbe.httpGet.path') !== '/health') problems.push('liveness probe must GET /health');
      if (get(container, 'readinessProbe.httpGet.path') !== '/ready') problems.push('readiness probe must GET /ready');
      if (!get(container, 'resources.requests.memory') || !get(container, 'resources.requests.cpu')) problems.push('container lacks resource requests');
    }
    const selector = get(dep, 'spec.selector.matchLabels') as Obj | undefined;
    const svcSelector = get(svc, 'spec.selector') as Obj | undefined;
    if (svcSelector && selector && JSON.stringify(svcSelector) !== JSON.stringify(selector)) problems.push('Service selector does not select the Deployment pods');
  }
  const role = byKind('ClusterRole')[0];
  for (const rule of (get(role, 'rules') as Obj[] | undefined) ?? []) {
    const verbs = (rule.verbs as string[] | undefined) ?? [];
    const extra = verbs.filter((v) => v !== 'list' && v !== 'watch');
    if (extra.length > 0) problems.push(`ClusterRole grants more than list/watch: ${extra.join(', ')}`);
  }
  const corefile = get(byKind('ConfigMap')[0], 'data.Corefile');
  if (typeof corefile !== 'string') problems.push('ConfigMap has no Corefile');
  else {
    try {
      const blocks = parseCorefile(corefile, 'ConfigMap/Corefile', { env: {} });
      const gen = buildConfig(blocks, {
        registry: builtinRegistry(), services: new ProcessServices({ logger: createLogger({ quiet: true, write: () => {} }) }),
        dnsPort: 53, configPath: '/etc/coredns/Corefile',
      });
      if (!gen.blocks.some((b) => b.port === 53)) problems.push('Corefile: no server block on port 53, where the kube-dns Service sends queries');
      const used = new Set(blocks.flatMap((b) => b.directives.map((d) => d.name)));
      if (!used.has('health')) problems.push('Corefile: no health plugin, but the liveness probe GETs /health on :8080');
      if (!used.has('ready')) problems.push('Corefile: no ready plugin, but the readiness probe GETs /ready on :8181');
    } catch (e) {
      problems.push(`Corefile: ${errorMessage(e)}`);
    }
  }
  return problems;
}
