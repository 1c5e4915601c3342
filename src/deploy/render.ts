/**
 * @module deploy/render
 * The Kubernetes manifests that run clusterdns as the cluster DNS, the
 * equivalent of CoreDNS's deployment (coredns/deployment deploy.sh): a
 * ServiceAccount, a ClusterRole with list/watch on exactly what the Corefile
 * needs (deploy/rbac.ts, from the parsed Corefile), its binding, the Corefile
 * ConfigMap (generated, or the operator's own), a 2-replica Deployment with
 * anti-affinity, health and ready probes, and the `kube-dns` Service.
 */
import { stringify } from 'yaml';
import { parseCorefile } from '../corefile/parser.ts';
import { VERSION } from '../version.ts';
import { rbacRules } from './rbac.ts';

export interface RenderOptions {
  /** -i: the cluster DNS Service IP (kubelet --cluster-dns). */
  readonly clusterDnsIp: string;
  /** -d: the cluster domain. */
  readonly domain: string;
  /** -r: reverse zones served by the kubernetes plugin (CIDRs or zones); default in-addr.arpa ip6.arpa. */
  readonly reverseZones: readonly string[];
  /** -s: leave out `forward . /etc/resolv.conf`. */
  readonly skipUpstream: boolean;
  readonly namespace: string;
  readonly image: string;
  readonly replicas: number;
}

export const DEFAULT_RENDER: RenderOptions = {
  clusterDnsIp: '10.96.0.10',
  domain: 'cluster.local',
  reverseZones: ['in-addr.arpa', 'ip6.arpa'],
  skipUpstream: false,
  namespace: 'kube-system',
  image: `ghcr.io/clusterdns/clusterdns:${VERSION}`,
  replicas: 2,
};

/** The Corefile shipped in the ConfigMap: kubeadm's default, so a migration changes nothing. */
export function renderCorefile(o: RenderOptions): string {
  const zones = [o.domain, ...o.reverseZones].join(' ');
  const fallthrough = o.reverseZones.length > 0 ? `\n       fallthrough ${o.reverseZones.join(' ')}` : '';
  const upstream = o.skipUpstream ? '' : '\n    forward . /etc/resolv.conf {\n       max_concurrent 1000\n    }';
  return `.:53 {
    errors
    health {
       lameduck 5s
    }
    ready
    kubernetes ${zones} {
       pods insecure${fallthrough}
       ttl 30
    }
    prometheus :9153${upstream}
    cache 30
    loop
    reload
    loadbalance
}
`;
}

const labels = { 'k8s-app': 'kube-dns' } as const;

/** Where the Corefile of the manifests comes from: the operator's file (--corefile), or generated from the options. */
export interface CorefileSource {
  readonly path: string;
  readonly text: string;
}

/**
 * The manifests. The Corefile is parsed with the real parser first (throws
 * CorefileError `FILE:LINE: what`), and the ClusterRole grants what it uses.
 */
export function renderObjects(o: RenderOptions, corefile?: CorefileSource): Record<string, unknown>[] {
  const source = corefile ?? { path: 'generated Corefile', text: renderCorefile(o) };
  // Variables ({$NAME}) are the pod's, unknown here: parse them as empty.
  const rules = rbacRules(parseCorefile(source.text, source.path, { env: {} }));
  const meta = (name: string, extra: Record<string, unknown> = {}): Record<string, unknown> =>
    ({ name, namespace: o.namespace, labels: { ...labels, 'app.kubernetes.io/name': 'clusterdns' }, ...extra });
  return [
    { apiVersion: 'v1', kind: 'ServiceAccount', metadata: meta('clusterdns') },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole',
      metadata: { name: 'system:clusterdns', labels: { 'kubernetes.io/bootstrapping': 'rbac-defaults' } }, rules,
    },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRoleBinding',
      metadata: { name: 'system:clusterdns', labels: { 'kubernetes.io/bootstrapping': 'rbac-defaults' } },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'system:clusterdns' },
      subjects: [{ kind: 'ServiceAccount', name: 'clusterdns', namespace: o.namespace }],
    },
    { apiVersion: 'v1', kind: 'ConfigMap', metadata: meta('clusterdns'), data: { Corefile: source.text } },
    {
      apiVersion: 'apps/v1', kind: 'Deployment', metadata: meta('clusterdns'),
      spec: {
        replicas: o.replicas,
        strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 1 } },
        selector: { matchLabels: labels },
        template: {
          metadata: { labels: { ...labels, 'app.kubernetes.io/name': 'clusterdns' } },
          spec: {
            priorityClassName: 'system-cluster-critical',
            serviceAccountName: 'clusterdns',
            tolerations: [{ key: 'CriticalAddonsOnly', operator: 'Exists' }, { key: 'node-role.kubernetes.io/control-plane', effect: 'NoSchedule' }],
            nodeSelector: { 'kubernetes.io/os': 'linux' },
            affinity: {
              podAntiAffinity: {
                preferredDuringSchedulingIgnoredDuringExecution: [{
                  weight: 100,
                  podAffinityTerm: { labelSelector: { matchExpressions: [{ key: 'k8s-app', operator: 'In', values: ['kube-dns'] }] }, topologyKey: 'kubernetes.io/hostname' },
                }],
              },
            },
            containers: [{
              name: 'clusterdns',
              image: o.image,
              imagePullPolicy: 'IfNotPresent',
              args: ['-conf', '/etc/coredns/Corefile'],
              resources: { limits: { memory: '320Mi' }, requests: { cpu: '100m', memory: '128Mi' } },
              volumeMounts: [{ name: 'config-volume', mountPath: '/etc/coredns', readOnly: true }],
              ports: [
                { containerPort: 53, name: 'dns', protocol: 'UDP' },
                { containerPort: 53, name: 'dns-tcp', protocol: 'TCP' },
                { containerPort: 9153, name: 'metrics', protocol: 'TCP' },
              ],
              securityContext: {
                allowPrivilegeEscalation: false,
                capabilities: { add: ['NET_BIND_SERVICE'], drop: ['ALL'] },
                readOnlyRootFilesystem: true,
              },
              livenessProbe: {
                httpGet: { path: '/health', port: 8080, scheme: 'HTTP' },
                initialDelaySeconds: 60, timeoutSeconds: 5, successThreshold: 1, failureThreshold: 5,
              },
              readinessProbe: { httpGet: { path: '/ready', port: 8181, scheme: 'HTTP' } },
            }],
            dnsPolicy: 'Default',
            volumes: [{ name: 'config-volume', configMap: { name: 'clusterdns', items: [{ key: 'Corefile', path: 'Corefile' }] } }],
          },
        },
      },
    },
    {
      apiVersion: 'v1', kind: 'Service',
      metadata: meta('kube-dns', {
        labels: { ...labels, 'kubernetes.io/cluster-service': 'true', 'kubernetes.io/name': 'CoreDNS' },
        annotations: { 'prometheus.io/port': '9153', 'prometheus.io/scrape': 'true' },
      }),
      spec: {
        selector: labels,
        clusterIP: o.clusterDnsIp,
        ports: [
          { name: 'dns', port: 53, protocol: 'UDP' },
          { name: 'dns-tcp', port: 53, protocol: 'TCP' },
          { name: 'metrics', port: 9153, protocol: 'TCP' },
        ],
      },
    },
  ];
}

/** All objects as one multi-document YAML stream. */
export function renderYaml(objects: readonly Record<string, unknown>[]): string {
  return objects.map((o) => stringify(o, { lineWidth: 0 })).join('---\n');
}
