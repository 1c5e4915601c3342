/**
 * @module bench/dnsrecord-latency
 * How soon a DNSRecord change is answered: a record's gateway is updated N
 * times (default 50) on the API test server (real list/watch over HTTP),
 * and after each update the full chain is asked in-process until the A
 * answer holds the new address. Prints p50/p95/max in ms. The issue's
 * target: change -> answer within 100 ms.
 *
 *   node bench/dnsrecord-latency.ts [--updates N]
 */
import { performance } from 'node:perf_hooks';
import { bytesToIp } from '../src/dns/ip.ts';
import { FakeApiServer, type KubeObject } from '../test/support/fake-apiserver.ts';
import { inject, startServer } from '../test/support/harness.ts';

const at = process.argv.indexOf('--updates');
const updates = at > 0 ? Number(process.argv[at + 1]) : 50;

const api = new FakeApiServer();
await api.start();
const record = (gateway: string): KubeObject => ({
  apiVersion: 'clusterdns.io/v1alpha1', kind: 'DNSRecord', metadata: { name: 'a', namespace: 'web' },
  spec: { host: 'a.test', gateway, paths: [{ service: 's', port: 80 }] },
});
api.create(record('10.0.0.0'));
const dns = await startServer(`.:0 {\n    bind 127.0.0.1\n    dnsrecord a.test {\n        endpoint ${api.url}\n    }\n}\n`);
const samples: number[] = [];
for (let i = 1; i <= updates; i++) {
  const want = `10.0.${i >> 8}.${i & 255}`;
  const t0 = performance.now();
  api.update(record(want));
  // Bounded: 100,000 asks at most per update.
  for (let n = 0; n < 100_000; n++) {
    const r = await inject(dns.app, 'a.test', 'A');
    if (r.answer[0] !== undefined && bytesToIp(r.answer[0].data) === want) break;
    await new Promise((res) => setImmediate(res));
  }
  samples.push(performance.now() - t0);
}
samples.sort((a, b) => a - b);
const q = (p: number): string => samples[Math.min(samples.length - 1, Math.floor(p * samples.length))]!.toFixed(2);
console.log(`dnsrecord: API change -> answer over ${updates} updates: p50 ${q(0.5)} ms, p95 ${q(0.95)} ms, max ${q(1)} ms`);
await dns.stop();
await api.stop();
