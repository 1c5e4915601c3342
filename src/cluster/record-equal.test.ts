/**
 * @module cluster/record-equal.test
 * Structural equality of slim records: equal copies are equal, and each
 * field that DNS reads makes a difference.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { sameRecord } from './record-equal.ts';
import type { ClusterRecord, EndpointSliceRecord, PodRecord, ServiceRecord } from './types.ts';

const service: ServiceRecord = {
  kind: 'Service', namespace: 'a', name: 'web', type: 'ClusterIP', clusterIPs: ['10.0.0.1'], headless: false, externalName: null,
  ports: [{ name: 'http', port: 80, protocol: 'tcp' }], publishNotReadyAddresses: false, labels: { app: 'web' },
};
const slice: EndpointSliceRecord = {
  kind: 'EndpointSlice', namespace: 'a', name: 'web-1', serviceName: 'web', addressType: 'IPv4', labels: {}, ports: [],
  endpoints: [{ addresses: ['10.1.0.1'], ready: true, serving: true, terminating: false, hostname: null, nodeName: 'n', zone: null, targetRef: { kind: 'Pod', name: 'p', namespace: 'a' } }],
};
const pod: PodRecord = {
  kind: 'Pod', namespace: 'a', name: 'p', ip: '10.1.0.1', ips: ['10.1.0.1'], phase: 'Running', deleting: false, hostname: null, subdomain: null, labels: {},
};

function copy<T>(x: T): T {
  return structuredClone(x);
}

describe('sameRecord', () => {
  it('equal copies are the same; triggerTime unset equals null', () => {
    for (const r of [service, slice, pod, { kind: 'Namespace', name: 'a', labels: { x: 'y' } } as ClusterRecord]) assert.equal(sameRecord(r, copy(r)), true);
    assert.equal(sameRecord(slice, { ...copy(slice), triggerTime: null }), true);
  });

  it('every field counts', () => {
    const changed: ClusterRecord[] = [
      { ...service, clusterIPs: ['10.0.0.2'] }, { ...service, ports: [{ name: 'http', port: 81, protocol: 'tcp' }] },
      { ...service, labels: { app: 'web', x: '' } }, { ...service, labels: {} }, { ...service, headless: true },
      { ...service, type: 'NodePort' }, { ...service, publishNotReadyAddresses: true }, { ...service, namespace: 'b' },
      { ...slice, endpoints: [{ ...slice.endpoints[0]!, ready: false }] },
      { ...slice, endpoints: [{ ...slice.endpoints[0]!, addresses: ['10.1.0.2'] }] },
      { ...slice, endpoints: [{ ...slice.endpoints[0]!, targetRef: null }] },
      { ...slice, endpoints: [{ ...slice.endpoints[0]!, zone: 'z' }] },
      { ...slice, endpoints: [] }, { ...slice, serviceName: 'db' }, { ...slice, triggerTime: 5 },
      { ...pod, ip: '10.1.0.2' }, { ...pod, phase: 'Succeeded' }, { ...pod, deleting: true }, { ...pod, ips: [] },
    ];
    for (const c of changed) {
      const base = c.kind === 'Service' ? service : c.kind === 'EndpointSlice' ? slice : pod;
      assert.equal(sameRecord(base, c), false, JSON.stringify(c));
    }
  });
});
