/**
 * @module plugins/dnsrecord/gateway-service.test
 * A DNSRecord whose gateway is a Service reference, from the API test
 * server (real list/watch): the host answers with the Service's
 * load-balancer ingress IPs when it has any (A and AAAA by family), else
 * with its ClusterIP, never with spec.externalIPs; a load balancer assigned
 * or released later (a status change only) is answered after the watch
 * event.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { FakeApiServer, type KubeObject } from '../../../test/support/fake-apiserver.ts';
import { serviceObject } from '../../../test/support/fake-objects.ts';
import { dig, startServer, type TestServer } from '../../../test/support/harness.ts';

let api: FakeApiServer;
let dns: TestServer;

function gatewayService(ingress: readonly Record<string, string>[] | null): KubeObject {
  const o = serviceObject('edge', 'gw', '10.96.0.50', { spec: { type: 'LoadBalancer', externalIPs: ['198.51.100.7'] } });
  return ingress === null ? o : { ...o, status: { loadBalancer: { ingress } } };
}

/** The answer data for host/type, polled (bounded) until it equals `want`. */
async function answersBecome(type: 'A' | 'AAAA', want: readonly string[]): Promise<void> {
  let seen: string[] = [];
  for (let i = 0; i < 100; i++) {
    seen = (await dig(dns.port, 'shop.test', type)).answer.map((a) => a.data);
    if (JSON.stringify(seen) === JSON.stringify(want)) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.fail(`shop.test ${type}: ${JSON.stringify(seen)}, want ${JSON.stringify(want)}`);
}

before(async () => {
  api = new FakeApiServer();
  await api.start();
  api.create(gatewayService(null));
  api.create({
    apiVersion: 'clusterdns.io/v1alpha1', kind: 'DNSRecord', metadata: { name: 'shop', namespace: 'web', creationTimestamp: '2026-01-01T00:00:00Z' },
    spec: { host: 'shop.test', gateway: { service: 'gw', namespace: 'edge' }, paths: [{ service: 'service1', port: 8010, address: '10.1.1.10' }] },
  });
  dns = await startServer(`.:0 {\n    bind 127.0.0.1\n    dnsrecord shop.test {\n        endpoint ${api.url}\n        gateway 192.0.2.1\n    }\n}\n`);
});

after(async () => {
  await dns?.stop();
  await api?.stop();
});

test('no load balancer yet: the ClusterIP, not spec.externalIPs', async () => {
  await answersBecome('A', ['10.96.0.50']);
});

test('a load balancer assigned later: its ingress IPs (hostnames skipped), by family; released: the ClusterIP again', async () => {
  api.update(gatewayService([{ ip: '203.0.113.10' }, { hostname: 'lb.example.net' }, { ip: '2001:DB8::10' }]));
  await answersBecome('A', ['203.0.113.10']);
  await answersBecome('AAAA', ['2001:db8::10']);
  api.update(gatewayService([]));
  await answersBecome('A', ['10.96.0.50']);
  const v6 = await dig(dns.port, 'shop.test', 'AAAA');
  assert.equal(v6.status, 'NOERROR');
  assert.deepEqual(v6.answer, [], 'the ClusterIP is IPv4 only: NODATA');
});
