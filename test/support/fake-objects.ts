/**
 * @module test/support/fake-objects
 * Builders of minimal Kubernetes object JSON (Namespace, Service,
 * EndpointSlice, Pod) for FakeApiServer and converter tests.
 */

import type { KubeObject } from './fake-apiserver.ts';

type Extra = Record<string, unknown>;

export function namespaceObject(name: string, labels: Record<string, string> = {}): KubeObject {
  return { apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels } };
}

export function serviceObject(namespace: string, name: string, clusterIP: string, opts: { labels?: Record<string, string>; spec?: Extra } = {}): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name, namespace, labels: opts.labels ?? {} },
    spec: { type: 'ClusterIP', clusterIP, clusterIPs: clusterIP === 'None' ? ['None'] : [clusterIP], ports: [{ name: 'http', port: 80, protocol: 'TCP' }], ...opts.spec },
  };
}

export function endpointSliceObject(namespace: string, name: string, service: string, addresses: string[], opts: { labels?: Record<string, string>; ready?: boolean } = {}): KubeObject {
  return {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: { name, namespace, labels: { 'kubernetes.io/service-name': service, ...opts.labels } },
    addressType: 'IPv4',
    endpoints: addresses.map((a) => ({ addresses: [a], conditions: { ready: opts.ready ?? true } })),
    ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
  };
}

export function podObject(namespace: string, name: string, ip: string, opts: { labels?: Record<string, string>; phase?: string } = {}): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace, labels: opts.labels ?? {} },
    spec: { containers: [{ name: 'c', image: 'busybox' }] },
    status: { phase: opts.phase ?? 'Running', podIP: ip, podIPs: [{ ip }] },
  };
}
