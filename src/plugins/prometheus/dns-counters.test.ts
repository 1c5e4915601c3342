/**
 * @module plugins/prometheus/dns-counters.test
 * The typed-array counters on their own: bucket edges (le is inclusive),
 * the type label set, growth past the preallocated plugin slots, rcodes
 * beyond the slots, and the label values they turn into when scraped.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Registry } from 'prom-client';
import { Rcode, Type } from '../../dns/constants.ts';
import { Reply } from '../../dns/reply.ts';
import { DnsRequest, parseQuery, type ParsedQuestion } from '../../dns/request.ts';
import { encodeQuery } from '../../dns/message.ts';
import { bucketSlot, DnsCounters, DURATION_BUCKETS, SIZE_BUCKETS, TYPE_LABELS } from './dns-counters.ts';
import { rcodeLabel, registerDnsMetrics } from './dns-metrics.ts';
import { parseMetrics, samples, total } from '../../../test/ops/ops-support.ts';

function request(qtype: number, opts: { transport?: 'udp' | 'tcp'; remote?: string; zone?: string; server?: string } = {}): DnsRequest {
  const raw = encodeQuery('x.example.', qtype, { id: 1 });
  const req = new DnsRequest(raw, parseQuery(raw) as ParsedQuestion, opts.transport ?? 'udp', opts.remote ?? '10.0.0.1', 5300, '127.0.0.1', 53, performance.now());
  req.server = opts.server ?? 'dns://:53';
  req.zone = opts.zone ?? '.';
  return req;
}

test('bucket slots: upper bounds are inclusive, past the last is +Inf', () => {
  const sizes = Float64Array.from(SIZE_BUCKETS);
  assert.equal(bucketSlot(sizes, 0), 0);
  assert.equal(bucketSlot(sizes, 1), 1);
  assert.equal(bucketSlot(sizes, 100), 1);
  assert.equal(bucketSlot(sizes, 101), 2);
  assert.equal(bucketSlot(sizes, 512), 6);
  assert.equal(bucketSlot(sizes, 64000), 13);
  assert.equal(bucketSlot(sizes, 65535), 14);
  const durations = Float64Array.from(DURATION_BUCKETS);
  assert.equal(DURATION_BUCKETS.length, 16);
  assert.equal(DURATION_BUCKETS[15], 8.192);
  assert.equal(bucketSlot(durations, 0.0001), 0);
  assert.equal(bucketSlot(durations, 0.00025), 0);
  assert.equal(bucketSlot(durations, 0.0003), 1);
  assert.equal(bucketSlot(durations, 9), 16);
});

test('type labels are CoreDNS\'s monitored set plus "other"', () => {
  assert.deepEqual(TYPE_LABELS, ['A', 'AAAA', 'MX', 'SOA', 'CNAME', 'PTR', 'TXT', 'NS', 'SRV', 'DS', 'DNSKEY', 'RRSIG', 'NSEC', 'NSEC3', 'HTTPS', 'IXFR', 'AXFR', 'ANY', 'other']);
});

test('rcode labels as miekg/dns prints them', () => {
  assert.deepEqual([0, 2, 3, 5, 9, 16, 23, 12, 30].map(rcodeLabel), ['NOERROR', 'SERVFAIL', 'NXDOMAIN', 'REFUSED', 'NOTAUTH', 'BADSIG', 'BADCOOKIE', '12', '30']);
});

test('counts by type, proto and family; many plugins; large rcodes; per (server, zone)', async () => {
  const c = new DnsCounters();
  const registry = new Registry();
  registerDnsMetrics(registry, c);
  c.observe(request(Type.A), new Reply({ plugin: 'p0' }), 100);
  c.observe(request(Type.CAA, { transport: 'tcp', remote: '2001:db8::1' }), new Reply({ plugin: 'p0' }), 40);
  c.observe(request(Type.HTTPS, { zone: 'example.', server: 'dns://127.0.0.1:53' }), new Reply({ plugin: 'p1' }), 40);
  // More plugin names than the preallocated slots: the arrays grow and keep what was counted.
  for (let i = 0; i < 70; i++) c.observe(request(Type.AAAA), Reply.error(Rcode.NXDOMAIN, `p${i}`), 30);
  c.observe(request(Type.A), Reply.error(30, 'p5'), 30);
  const m = await parseMetrics(await registry.metrics());
  assert.equal(total(m, 'coredns_dns_requests_total'), 74);
  assert.equal(total(m, 'coredns_dns_requests_total', { zone: '.', proto: 'udp', family: '1', type: 'A' }), 2);
  assert.equal(total(m, 'coredns_dns_requests_total', { zone: '.', proto: 'tcp', family: '2', type: 'other' }), 1);
  assert.equal(total(m, 'coredns_dns_requests_total', { zone: 'example.', server: 'dns://127.0.0.1:53', type: 'HTTPS' }), 1);
  assert.equal(total(m, 'coredns_dns_responses_total', { rcode: 'NOERROR', plugin: 'p0' }), 2);
  assert.equal(total(m, 'coredns_dns_responses_total', { rcode: 'NXDOMAIN' }), 70);
  assert.equal(total(m, 'coredns_dns_responses_total', { rcode: 'NXDOMAIN', plugin: 'p69' }), 1);
  assert.equal(total(m, 'coredns_dns_responses_total', { rcode: '30', plugin: 'p5' }), 1);
  assert.equal(samples(m, 'coredns_dns_request_duration_seconds').length, 2, 'one histogram per (server, zone)');
  const [resp] = samples(m, 'coredns_dns_response_size_bytes', { zone: '.', proto: 'udp' });
  assert.equal(resp!.count, 72);
  assert.equal(resp!.sum, 100 + 71 * 30);
  assert.equal(resp!.buckets!['0'], 0);
  assert.equal(resp!.buckets!['100'], 72);
});
