/**
 * @module test/support/k8s-objects
 * Kubernetes object builders for cluster DNS tests, and one rich test
 * cluster covering every spec item: ClusterIP (v4, v6, dual-stack, named and
 * unnamed ports), headless services with hostnames, not-ready, unset-ready
 * and duplicated endpoints, port-less slices, publishNotReadyAddresses,
 * ExternalName targets (out of zone, in zone, IP literal, self loop), an
 * address selected by two services, and pods in every phase.
 */
type Json = Record<string, unknown>;

export interface PortSpec { name?: string; port: number; protocol?: string }
export interface EndpointSpec {
  ip: string | string[];
  hostname?: string;
  ready?: boolean | null;
  zone?: string;
  pod?: string;
}

export function ns(name: string, labels: Record<string, string> = {}): Json {
  return { apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels } };
}

export function svc(namespace: string, name: string, clusterIPs: string[] | 'None', ports: PortSpec[] = [], extra: Json = {}): Json {
  const spec: Json = clusterIPs === 'None'
    ? { clusterIP: 'None', clusterIPs: ['None'] }
    : { clusterIP: clusterIPs[0], clusterIPs };
  return {
    apiVersion: 'v1', kind: 'Service', metadata: { name, namespace, labels: (extra.labels as Json) ?? {} },
    spec: { ...spec, ports: ports.map((p) => ({ protocol: 'TCP', ...p })), ...(extra.spec as Json ?? {}) },
  };
}

export function externalName(namespace: string, name: string, target: string): Json {
  return { apiVersion: 'v1', kind: 'Service', metadata: { name, namespace }, spec: { type: 'ExternalName', externalName: target } };
}

export function slice(namespace: string, name: string, service: string, endpoints: EndpointSpec[], ports: PortSpec[] = [], opts: { family?: 'IPv4' | 'IPv6'; labels?: Record<string, string> } = {}): Json {
  const family = opts.family ?? (endpoints.some((e) => String(e.ip).includes(':')) ? 'IPv6' : 'IPv4');
  return {
    apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice',
    metadata: { name, namespace, labels: { 'kubernetes.io/service-name': service, ...opts.labels } },
    addressType: family,
    endpoints: endpoints.map((e) => {
      const out: Json = { addresses: Array.isArray(e.ip) ? e.ip : [e.ip] };
      if (e.ready !== null) out.conditions = { ready: e.ready ?? true };
      if (e.hostname !== undefined) out.hostname = e.hostname;
      if (e.zone !== undefined) out.zone = e.zone;
      if (e.pod !== undefined) out.targetRef = { kind: 'Pod', name: e.pod, namespace };
      return out;
    }),
    ports: ports.map((p) => ({ protocol: 'TCP', ...p })),
  };
}

export function pod(namespace: string, name: string, ips: string[], opts: { phase?: string; deleting?: boolean; hostname?: string; subdomain?: string } = {}): Json {
  const meta: Json = { name, namespace };
  if (opts.deleting) meta.deletionTimestamp = '2026-01-01T00:00:00Z';
  return {
    apiVersion: 'v1', kind: 'Pod', metadata: meta,
    spec: { hostname: opts.hostname, subdomain: opts.subdomain, containers: [{ name: 'c', image: 'x' }] },
    status: { phase: opts.phase ?? 'Running', podIP: ips[0], podIPs: ips.map((ip) => ({ ip })) },
  };
}

/** The cluster most spec tables run against. */
export function testCluster(): Json[] {
  return [
    ns('default'), ns('shared', { team: 'platform' }), ns('empty-ns'), ns('kube-system'),
    // ClusterIP, named + unnamed port, endpoints ready / not ready / ready unset.
    svc('default', 'nginx', ['10.96.0.20'], [{ name: 'http', port: 80 }, { port: 8443 }, { name: 'dns', port: 53, protocol: 'UDP' }]),
    slice('default', 'nginx-a', 'nginx', [
      { ip: '10.1.0.1', pod: 'nginx-0' }, { ip: '10.1.0.2', hostname: 'web-two' }, { ip: '10.1.0.3', ready: false }, { ip: '10.1.0.4', ready: null },
    ], [{ name: 'http', port: 8080 }]),
    svc('default', 'dual', ['10.96.0.30', 'fd00::30'], [{ name: 'http', port: 80 }]),
    svc('default', 'v6only', ['fd00::40'], [{ name: 'http', port: 80 }]),
    slice('default', 'v6only-a', 'v6only', [{ ip: 'fd00::1:5' }, { ip: 'fd00::' }], [{ name: 'http', port: 8080 }]),
    svc('default', 'noslices', ['10.96.0.60'], [{ name: 'http', port: 80 }]),
    // Headless: hostnames, one without, a dual-stack endpoint, a duplicate address in a second slice.
    svc('shared', 'redis-ha', 'None', [{ name: 'redis', port: 6379 }, { name: 'sentinel', port: 26379 }]),
    slice('shared', 'redis-ha-v4', 'redis-ha', [
      { ip: '10.2.0.10', hostname: 'redis-ha-server-0', zone: 'zone-a' },
      { ip: '10.2.0.11', hostname: 'redis-ha-server-1', zone: 'zone-b' },
      { ip: '10.2.0.12', zone: 'zone-b' },
      { ip: '10.2.0.13', hostname: 'redis-ha-server-3', ready: false },
    ], [{ name: 'redis', port: 6379 }, { name: 'sentinel', port: 26379 }]),
    slice('shared', 'redis-ha-v4-skew', 'redis-ha', [{ ip: '10.2.0.11', hostname: 'redis-ha-server-1', zone: 'zone-b' }],
      [{ name: 'redis', port: 6379 }, { name: 'sentinel', port: 26379 }]),
    slice('shared', 'redis-ha-v6', 'redis-ha', [{ ip: 'fd00::2:10', hostname: 'redis-ha-server-0', zone: 'zone-a' }],
      [{ name: 'redis', port: 6379 }, { name: 'sentinel', port: 26379 }]),
    svc('shared', 'empty-headless', 'None', [{ name: 'http', port: 80 }]),
    slice('shared', 'empty-headless-a', 'empty-headless', [{ ip: '10.2.3.1', ready: false }], [{ name: 'http', port: 80 }]),
    svc('shared', 'noports', 'None'),
    slice('shared', 'noports-a', 'noports', [{ ip: '10.2.1.1' }]),
    svc('shared', 'tolerant', 'None', [{ name: 'http', port: 80 }], { spec: { publishNotReadyAddresses: true } }),
    slice('shared', 'tolerant-a', 'tolerant', [{ ip: '10.2.2.1', ready: false }], [{ name: 'http', port: 80 }]),
    // A ClusterIP service selecting redis-ha-server-1 too: its address gets two PTRs (C16).
    svc('shared', 'announce-1', ['10.96.0.51'], [{ name: 'redis', port: 6379 }]),
    slice('shared', 'announce-1-a', 'announce-1', [{ ip: '10.2.0.11' }], [{ name: 'redis', port: 6379 }]),
    // Headless with many endpoints: SRV weight floor(100/n).
    svc('shared', 'many', 'None', [{ name: 'http', port: 80 }]),
    slice('shared', 'many-a', 'many', Array.from({ length: 3 }, (_, i) => ({ ip: `10.2.4.${i + 1}` })), [{ name: 'http', port: 80 }]),
    // ExternalName.
    externalName('default', 'ext', 'example.org'),
    externalName('default', 'ext-in', 'nginx.default.svc.cluster.local'),
    externalName('default', 'ext-chain', 'ext-in.default.svc.cluster.local.'),
    externalName('default', 'ext-ip', '1.2.3.4'),
    externalName('default', 'ext-loop', 'ext-loop.default.svc.cluster.local'),
    externalName('default', 'ext-missing', 'nothing.default.svc.cluster.local'),
    // The server's own Service (C5) is set up by the NS tests separately.
    pod('default', 'nginx-0', ['10.1.0.1']),
    pod('default', 'done', ['10.1.0.9'], { phase: 'Succeeded' }),
    pod('default', 'leaving', ['10.1.0.8'], { deleting: true }),
    pod('default', 'pending', ['10.1.0.7'], { phase: 'Pending' }),
    pod('shared', 'redis-ha-server-0', ['10.2.0.10', 'fd00::2:10'], { hostname: 'redis-ha-server-0', subdomain: 'redis-ha' }),
  ];
}
