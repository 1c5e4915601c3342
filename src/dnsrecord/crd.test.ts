/**
 * @module dnsrecord/crd.test
 * deploy/dnsrecord/: the CRD's structural schema checks what the code checks
 * (same patterns, port range, required fields), its example record converts,
 * and the RBAC grants read access to DNSRecords, Services and EndpointSlices.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { parseAllDocuments } from 'yaml';
import { convertDnsRecord, HOST_MAX_LENGTH, HOST_PATTERN, PATH_PATTERN } from './record.ts';

type Json = Record<string, any>; // YAML test data, read loosely
const deploy = (f: string): Json[] => parseAllDocuments(readFileSync(new URL(`../../deploy/dnsrecord/${f}`, import.meta.url), 'utf8')).map((d) => d.toJS() as Json);

test('the CRD: dnsrecords.clusterdns.io, namespaced, v1alpha1, the same validation as the code', () => {
  const [crd] = deploy('crd.yaml');
  assert.equal(crd!.metadata.name, 'dnsrecords.clusterdns.io');
  assert.equal(crd!.spec.scope, 'Namespaced');
  const v = crd!.spec.versions[0];
  assert.equal(v.name, 'v1alpha1');
  const spec = v.schema.openAPIV3Schema.properties.spec;
  assert.deepEqual(spec.required, ['host', 'paths']);
  assert.equal(new RegExp(spec.properties.host.pattern).source, HOST_PATTERN.source);
  assert.equal(spec.properties.host.maxLength, HOST_MAX_LENGTH);
  const item = spec.properties.paths.items;
  assert.equal(new RegExp(item.properties.path.pattern).source, PATH_PATTERN.source);
  assert.deepEqual([item.properties.port.minimum, item.properties.port.maximum], [1, 65535]);
  assert.deepEqual(item.required, ['service', 'port']);
  // Structural: every property has a type.
  const untyped: string[] = [];
  const walk = (s: Json, at: string): void => {
    if (s.type === undefined) untyped.push(at);
    for (const [k, p] of Object.entries(s.properties ?? {})) walk(p as Json, `${at}.${k}`);
    if (s.items !== undefined) walk(s.items as Json, `${at}[]`);
  };
  walk(v.schema.openAPIV3Schema, 'schema');
  assert.deepEqual(untyped, []);
});

test('the example record converts; RBAC reads DNSRecords, Services and EndpointSlices', () => {
  const [example] = deploy('example.yaml');
  const r = convertDnsRecord(example, 'example.yaml');
  assert.equal(r.error, undefined);
  assert.deepEqual(r.record!.paths.map((p) => p.path), ['/service1/', '/service2/', '/static/']);
  const role = deploy('rbac.yaml').find((d) => d.kind === 'ClusterRole' && d.metadata.name === 'clusterdns:dnsrecord-reader')!;
  const status = deploy('rbac.yaml').find((d) => d.kind === 'ClusterRole' && d.metadata.name === 'clusterdns:dnsrecord-status')!;
  assert.deepEqual(status.rules, [{ apiGroups: ['clusterdns.io'], resources: ['dnsrecords/status'], verbs: ['patch'] }]);
  const granted = role.rules.flatMap((rule: Json) => rule.resources.map((res: string) => `${rule.apiGroups[0]}/${res}:${rule.verbs.join(',')}`));
  assert.deepEqual(granted, ['clusterdns.io/dnsrecords:get,list,watch', '/services:get,list,watch', 'discovery.k8s.io/endpointslices:get,list,watch']);
  const kinds = deploy('gateway.yaml').map((d) => d.kind);
  assert.deepEqual(kinds, ['Deployment', 'Service']);
});
