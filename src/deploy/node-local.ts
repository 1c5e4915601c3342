/**
 * @module deploy/node-local
 * The NodeLocal DNSCache manifests with clusterdns as the node cache
 * (docs/node-local.md): the Corefile ConfigMap, the kube-dns-upstream and
 * metrics Services, and the ServiceAccount and DaemonSet whose init
 * container adds the dummy interface and the NOTRACK rules. Same shape and
 * addresses as kubernetes/dns nodelocaldns.yaml.
 */
import type { RenderOptions } from './render.ts';

export interface NodeLocalOptions {
  /** The link-local address every node cache answers on. */
  readonly localIp: string;
  /** The kube-dns ClusterIP, answered on the node too. */
  readonly clusterDnsIp: string;
  readonly domain: string;
  readonly namespace: string;
  readonly image: string;
}

export function nodeLocalOptions(o: RenderOptions, localIp = '169.254.20.10'): NodeLocalOptions {
  return { localIp, clusterDnsIp: o.clusterDnsIp, domain: o.domain, namespace: o.namespace, image: o.image };
}

const METRICS_PORT = 9253;
const HEALTH_PORT = 8080;
const labels = { 'k8s-app': 'node-local-dns' } as const;

/** The cache's Corefile: the cluster zone and the reverse zones go to the cluster DNS over TCP, the rest to the node's resolvers. */
export function nodeLocalCorefile(o: NodeLocalOptions): string {
  const bind = `bind ${o.localIp} ${o.clusterDnsIp}`;
  const toCluster = 'forward . {$KUBE_DNS_UPSTREAM_SERVICE_HOST} {\n        force_tcp\n    }';
  const block = (zone: string, cache: string, forward: string, extra = ''): string =>
    `${zone}:53 {\n    errors\n    ${cache}\n    reload\n    loop\n    ${bind}\n    ${forward}\n    prometheus :${METRICS_PORT}\n${extra}}\n`;
  return [
    block(o.domain, 'cache {\n        success 9984 30\n        denial 9984 5\n    }', toCluster, `    health ${o.localIp}:${HEALTH_PORT}\n`),
    block('in-addr.arpa', 'cache 30', toCluster),
    block('ip6.arpa', 'cache 30', toCluster),
    block('.', 'cache 30', 'forward . /etc/resolv.conf'),
  ].join('');
}

/** The init container's script: dummy interface with both addresses, NodeLocal DNSCache's conntrack-skipping rules, added only when missing. */
function setupScript(o: NodeLocalOptions): string {
  return `set -eu
LOCAL_IPS="${o.localIp} ${o.clusterDnsIp}"
HEALTH_PORT=${HEALTH_PORT}
C="NodeLocal DNS Cache: skip conntrack"
ip link add nodelocaldns type dummy 2>/dev/null || true
ip link set nodelocaldns up
ensure() { iptables -w -t "$1" -C "$2" \${3} -m comment --comment "$C" 2>/dev/null || iptables -w -t "$1" -I "$2" \${3} -m comment --comment "$C"; }
for ip in $LOCAL_IPS; do
  ip addr replace "$ip/32" dev nodelocaldns
  for p in udp tcp; do
    ensure raw PREROUTING "-d $ip -p $p --dport 53 -j NOTRACK"
    ensure raw OUTPUT "-s $ip -p $p --sport 53 -j NOTRACK"
    ensure raw OUTPUT "-d $ip -p $p --dport 53 -j NOTRACK"
    ensure filter INPUT "-d $ip -p $p --dport 53 -j ACCEPT"
    ensure filter OUTPUT "-s $ip -p $p --sport 53 -j ACCEPT"
  done
  ensure raw OUTPUT "-d $ip -p tcp --dport $HEALTH_PORT -j NOTRACK"
  ensure raw OUTPUT "-s $ip -p tcp --sport $HEALTH_PORT -j NOTRACK"
done
`;
}

export interface NodeLocalObjects {
  readonly configmap: Record<string, unknown>[];
  readonly services: Record<string, unknown>[];
  readonly daemonset: Record<string, unknown>[];
}

export function nodeLocalObjects(o: NodeLocalOptions): NodeLocalObjects {
  const meta = (name: string, extra: Record<string, unknown> = {}): Record<string, unknown> => ({ name, namespace: o.namespace, labels, ...extra });
  const scrape = { 'prometheus.io/port': String(METRICS_PORT), 'prometheus.io/scrape': 'true' };
  return {
    configmap: [{
      apiVersion: 'v1', kind: 'ConfigMap',
      metadata: meta('node-local-dns', { labels: { ...labels, 'addonmanager.kubernetes.io/mode': 'Reconcile' } }),
      data: { Corefile: nodeLocalCorefile(o) },
    }],
    services: [
      {
        // The cluster DNS pods again, under a second ClusterIP: the caches answer the kube-dns ClusterIP themselves.
        apiVersion: 'v1', kind: 'Service',
        metadata: meta('kube-dns-upstream', { labels: { 'k8s-app': 'kube-dns', 'kubernetes.io/name': 'KubeDNSUpstream' } }),
        spec: {
          ports: [
            { name: 'dns', port: 53, protocol: 'UDP', targetPort: 53 },
            { name: 'dns-tcp', port: 53, protocol: 'TCP', targetPort: 53 },
          ],
          selector: { 'k8s-app': 'kube-dns' },
        },
      },
      {
        apiVersion: 'v1', kind: 'Service', metadata: meta('node-local-dns', { annotations: scrape }),
        spec: { clusterIP: 'None', ports: [{ name: 'metrics', port: METRICS_PORT, targetPort: METRICS_PORT }], selector: labels },
      },
    ],
    daemonset: [
      { apiVersion: 'v1', kind: 'ServiceAccount', metadata: meta('node-local-dns') },
      {
        apiVersion: 'apps/v1', kind: 'DaemonSet', metadata: meta('node-local-dns'),
        spec: {
          updateStrategy: { rollingUpdate: { maxUnavailable: '10%' } },
          selector: { matchLabels: labels },
          template: {
            metadata: { labels, annotations: scrape },
            spec: {
              priorityClassName: 'system-node-critical',
              serviceAccountName: 'node-local-dns',
              hostNetwork: true,
              // The node's resolv.conf: the `.` block forwards to the node's resolvers.
              dnsPolicy: 'Default',
              tolerations: [
                { key: 'CriticalAddonsOnly', operator: 'Exists' },
                { effect: 'NoExecute', operator: 'Exists' },
                { effect: 'NoSchedule', operator: 'Exists' },
              ],
              initContainers: [{
                name: 'setup-network',
                image: 'registry.k8s.io/build-image/debian-iptables:bookworm-v1.0.0',
                command: ['/bin/sh', '-c', setupScript(o)],
                securityContext: { capabilities: { add: ['NET_ADMIN', 'NET_RAW'] } },
                volumeMounts: [{ name: 'xtables-lock', mountPath: '/run/xtables.lock' }],
              }],
              containers: [{
                name: 'node-cache',
                image: o.image,
                imagePullPolicy: 'IfNotPresent',
                args: ['-conf', '/etc/coredns/Corefile'],
                resources: { requests: { cpu: '25m', memory: '60Mi' }, limits: { memory: '200Mi' } },
                securityContext: {
                  allowPrivilegeEscalation: false,
                  readOnlyRootFilesystem: true,
                  // NET_BIND_SERVICE for port 53 as a non-root user, as CoreDNS's manifests grant it.
                  capabilities: { add: ['NET_ADMIN', 'NET_BIND_SERVICE'], drop: ['ALL'] },
                },
                ports: [
                  { containerPort: 53, name: 'dns', protocol: 'UDP' },
                  { containerPort: 53, name: 'dns-tcp', protocol: 'TCP' },
                  { containerPort: METRICS_PORT, name: 'metrics', protocol: 'TCP' },
                ],
                livenessProbe: {
                  httpGet: { host: o.localIp, path: '/health', port: HEALTH_PORT },
                  initialDelaySeconds: 60, timeoutSeconds: 5,
                },
                volumeMounts: [
                  { name: 'config-volume', mountPath: '/etc/coredns', readOnly: true },
                  { name: 'xtables-lock', mountPath: '/run/xtables.lock' },
                ],
              }],
              volumes: [
                { name: 'xtables-lock', hostPath: { path: '/run/xtables.lock', type: 'FileOrCreate' } },
                { name: 'config-volume', configMap: { name: 'node-local-dns', items: [{ key: 'Corefile', path: 'Corefile' }] } },
              ],
            },
          },
        },
      },
    ],
  };
}
