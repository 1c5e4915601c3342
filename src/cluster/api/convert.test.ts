/**
 * @module cluster/api/convert.test
 * Converters from Kubernetes JSON to slim records: field mapping,
 * canonical IPs, defaults, and errors for bad objects.
 */

import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  convertEndpointSlice, convertNamespace, convertObject, convertPod, convertService, describeObject, placeholderRecord,
  TRIGGER_TIME_ANNOTATION, triggerTimeOf,
} from './convert.ts';
import { recordKey } from '../types.ts';

test('namespace keeps name and string labels', () => {
  assert.deepEqual(convertNamespace({ metadata: { name: 'kube-system', labels: { a: 'b', n: 1 } } }), {
    record: { kind: 'Namespace', name: 'kube-system', labels: { a: 'b' } },
  });
  assert.match(convertNamespace({ metadata: {} }).error ?? '', /missing metadata.name/);
  assert.match(convertNamespace(null).error ?? '', /not a JSON object/);
});

test('ClusterIP service: canonical dual-stack IPs, ports lower-cased with tcp default', () => {
  const r = convertService({
    metadata: { name: 'web', namespace: 'prod', labels: { app: 'web' } },
    spec: {
      type: 'ClusterIP', clusterIP: '10.96.0.10', clusterIPs: ['10.96.0.10', 'FD00:0:0::A'],
      ports: [{ name: 'dns', port: 53, protocol: 'UDP' }, { port: 8080 }],
      publishNotReadyAddresses: true,
    },
  });
  assert.deepEqual(r.record, {
    kind: 'Service', namespace: 'prod', name: 'web', type: 'ClusterIP', clusterIPs: ['10.96.0.10', 'fd00::a'],
    headless: false, externalName: null,
    ports: [{ name: 'dns', port: 53, protocol: 'udp' }, { name: '', port: 8080, protocol: 'tcp' }],
    publishNotReadyAddresses: true, labels: { app: 'web' },
  });
  // clusterIP only (older objects), type defaults to ClusterIP.
  assert.deepEqual(convertService({ metadata: { name: 'a', namespace: 'x' }, spec: { clusterIP: '10.0.0.1' } }).record?.clusterIPs, ['10.0.0.1']);
});

test('headless, ExternalName and NodePort services', () => {
  const headless = convertService({ metadata: { name: 'h', namespace: 'x' }, spec: { clusterIP: 'None', clusterIPs: ['None'] } }).record;
  assert.equal(headless?.headless, true);
  assert.deepEqual(headless?.clusterIPs, []);
  const ext = convertService({ metadata: { name: 'e', namespace: 'x' }, spec: { type: 'ExternalName', externalName: 'Example.COM' } }).record;
  assert.equal(ext?.externalName, 'example.com.');
  assert.deepEqual(ext?.clusterIPs, []);
  assert.equal(ext?.headless, false);
  const ext2 = convertService({ metadata: { name: 'e', namespace: 'x' }, spec: { type: 'ExternalName', externalName: 'db.example.org.' } }).record;
  assert.equal(ext2?.externalName, 'db.example.org.');
  assert.equal(convertService({ metadata: { name: 'n', namespace: 'x' }, spec: { type: 'NodePort', clusterIP: '10.0.0.2' } }).record?.type, 'NodePort');
});

test('external IPs and load balancer ingress IPs are kept, canonical and once; hostnames and garbage skipped', () => {
  const r = convertService({
    metadata: { name: 'lb', namespace: 'x' },
    spec: { type: 'LoadBalancer', clusterIP: '10.0.0.9', externalIPs: ['192.0.2.10', 'not-an-ip'] },
    status: { loadBalancer: { ingress: [{ ip: '2001:DB8::1' }, { hostname: 'lb.example.com' }, { ip: '192.0.2.10' }] } },
  }).record;
  assert.deepEqual(r?.kind === 'Service' ? r.externalIPs : null, ['192.0.2.10', '2001:db8::1']);
  assert.deepEqual(r?.kind === 'Service' ? r.clusterIPs : null, ['10.0.0.9']);
  const plain = convertService({ metadata: { name: 'a', namespace: 'x' }, spec: { clusterIP: '10.0.0.1' } }).record;
  assert.equal(plain !== undefined && 'externalIPs' in plain, false, 'absent when none');
});

test('bad services are errors naming the object', () => {
  const bad = (spec: object, meta: object = { name: 'web', namespace: 'prod' }): string => convertService({ metadata: meta, spec }).error ?? '';
  assert.match(bad({ clusterIP: '10.0.0.256' }), /^Service prod\/web: invalid clusterIP "10.0.0.256"/);
  assert.match(bad({ clusterIPs: ['10.0.0.1', 'nope'] }), /invalid clusterIP "nope"/);
  assert.match(bad({ type: 'Weird' }), /unsupported service type/);
  assert.match(bad({ type: 'ExternalName' }), /invalid externalName/);
  assert.match(bad({ ports: [{ port: 0 }] }), /invalid port 0/);
  assert.match(bad({ ports: [{ port: 53, protocol: 'ICMP' }] }), /unsupported port protocol/);
  assert.match(bad({}, { name: 'web' }), /missing metadata.namespace/);
  assert.equal(convertService({ metadata: { name: 'web' }, spec: {} }, { defaultNamespace: 'default' }).record?.namespace, 'default');
});

test('endpoint slices: readiness defaults, serving/terminating, targetRef, canonical addresses', () => {
  const r = convertEndpointSlice({
    metadata: { name: 'web-abc', namespace: 'prod', labels: { 'kubernetes.io/service-name': 'web' } },
    addressType: 'IPv6',
    endpoints: [
      { addresses: ['FD00::0001'], hostname: 'web-0', nodeName: 'n1', zone: 'z1', targetRef: { kind: 'Pod', name: 'web-0' } },
      { addresses: ['fd00::2'], conditions: { ready: false, serving: true, terminating: true } },
      { addresses: ['fd00::3'], conditions: { ready: null } },
    ],
    ports: [{ name: 'http', port: 80, protocol: 'TCP' }, { name: 'all' }],
  });
  assert.ok(r.record);
  assert.equal(r.record.serviceName, 'web');
  assert.deepEqual(r.record.ports, [{ name: 'http', port: 80, protocol: 'tcp' }]);
  assert.deepEqual(r.record.endpoints[0], {
    addresses: ['fd00::1'], ready: true, serving: true, terminating: false, hostname: 'web-0', nodeName: 'n1', zone: 'z1',
    targetRef: { kind: 'Pod', name: 'web-0', namespace: 'prod' },
  });
  assert.deepEqual([r.record.endpoints[1]!.ready, r.record.endpoints[1]!.serving, r.record.endpoints[1]!.terminating], [false, true, true]);
  assert.equal(r.record.endpoints[2]!.ready, true);
  const noLabel = convertEndpointSlice({ metadata: { name: 's', namespace: 'x' }, addressType: 'FQDN', endpoints: [{ addresses: ['Host.Example.'] }] });
  assert.equal(noLabel.record?.serviceName, '');
  assert.deepEqual(noLabel.record?.endpoints[0]!.addresses, ['host.example.']);
  assert.deepEqual(convertEndpointSlice({ metadata: { name: 's', namespace: 'x' }, addressType: 'IPv4', endpoints: null }).record?.endpoints, []);
  assert.match(convertEndpointSlice({ metadata: { name: 's', namespace: 'x' }, addressType: 'IPv4', endpoints: [{ addresses: ['fd00::1'] }] }).error ?? '', /invalid IPv4 endpoint address/);
  assert.match(convertEndpointSlice({ metadata: { name: 's', namespace: 'x' }, addressType: 'Other' }).error ?? '', /unsupported addressType/);
});

test('pods: IPs, phase, deletion, hostname/subdomain', () => {
  const r = convertPod({
    metadata: { name: 'p', namespace: 'x', deletionTimestamp: '2024-01-01T00:00:00Z', labels: { a: 'b' } },
    spec: { hostname: 'h', subdomain: 'sub' },
    status: { phase: 'Running', podIP: '10.1.0.5', podIPs: [{ ip: '10.1.0.5' }, { ip: 'FD00::5' }] },
  });
  assert.deepEqual(r.record, {
    kind: 'Pod', namespace: 'x', name: 'p', ip: '10.1.0.5', ips: ['10.1.0.5', 'fd00::5'], phase: 'Running',
    deleting: true, hostname: 'h', subdomain: 'sub', labels: { a: 'b' },
  });
  const pending = convertPod({ metadata: { name: 'q', namespace: 'x' }, spec: {}, status: { phase: 'Pending' } }).record;
  assert.deepEqual([pending?.ip, pending?.ips, pending?.deleting, pending?.hostname], [null, [], false, null]);
  assert.deepEqual(convertPod({ metadata: { name: 'q', namespace: 'x' }, status: { podIP: '10.0.0.1' } }).record?.ips, ['10.0.0.1']);
  assert.match(convertPod({ metadata: { name: 'q', namespace: 'x' }, status: { podIP: '10.0.0.1/24' } }).error ?? '', /invalid podIP/);
});

test('convertObject dispatches; placeholders carry only the key', () => {
  assert.equal(convertObject('Namespace', { metadata: { name: 'n' } }).record?.kind, 'Namespace');
  assert.equal(convertObject('Pod', { metadata: { name: 'n', namespace: 'x' } }).record?.kind, 'Pod');
  for (const kind of ['Namespace', 'Service', 'EndpointSlice', 'Pod'] as const) {
    const p = placeholderRecord(kind, 'ns', 'name');
    assert.equal(p.kind, kind);
    assert.equal(recordKey(p), kind === 'Namespace' ? 'name' : 'ns/name');
  }
  assert.equal(describeObject('Service', { metadata: {} }), 'Service <no namespace>/<unnamed>');
});

test('EndpointSlice trigger-time annotation: kept as ms only when asked (live API), unreadable values ignored', () => {
  const slice = (annotations: Record<string, unknown>): unknown => ({
    metadata: { name: 's', namespace: 'n', labels: { 'kubernetes.io/service-name': 'svc' }, annotations },
    addressType: 'IPv4', endpoints: [],
  });
  const at = '2026-11-22T03:19:30.250Z';
  assert.equal(convertEndpointSlice(slice({ [TRIGGER_TIME_ANNOTATION]: at }), { triggerTime: true }).record?.triggerTime, Date.parse(at));
  assert.equal(convertEndpointSlice(slice({ [TRIGGER_TIME_ANNOTATION]: '2026-11-22T03:19:30Z' }), { triggerTime: true }).record?.triggerTime, 1795317570000);
  assert.equal(convertEndpointSlice(slice({}), { triggerTime: true }).record?.triggerTime, null);
  assert.equal('triggerTime' in (convertEndpointSlice(slice({ [TRIGGER_TIME_ANNOTATION]: at })).record ?? {}), false, 'manifests: not kept');
  for (const bad of ['yesterday', '', 12, '2026-13-45T99:99:99Z', '1795317570']) {
    assert.equal(triggerTimeOf({ annotations: { [TRIGGER_TIME_ANNOTATION]: bad } }), null, String(bad));
  }
  assert.equal(triggerTimeOf(undefined), null);
});
