/**
 * @module dns/reply-slim.test
 * Slim replies (Reply.slim: the sections kept only as packed bytes, as the
 * kubernetes index keeps its answers): they write exactly the bytes the full
 * reply writes, truncated at the same record ends, aged the same; their
 * sections read back equal to the records they were made of; and the
 * readers on the query path (counts, answer types, TTL checks, the cache's
 * classification, loadbalance) leave them undecoded, while loadbalance still
 * rotates one with several addresses.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Flag, Rcode, Type } from './constants.ts';
import { decodeMessage } from './message.ts';
import { Reply, unpackSections } from './reply.ts';
import { DnsRequest } from './request.ts';
import { writeReply } from './response.ts';
import { rrs, type RR } from './rr.ts';
import { classify, minimalTtl } from '../plugins/cache/classify.ts';
import { LoadBalance } from '../plugins/loadbalance/loadbalance.ts';

const Q = 'web.ns.svc.cluster.local.';

function srvSections(n: number): { answer: RR[]; additional: RR[] } {
  const answer: RR[] = [], additional: RR[] = [];
  for (let i = 0; i < n; i++) {
    const target = `ep-${i}.web.ns.svc.cluster.local.`;
    answer.push(rrs.srv(`_http._tcp.${Q}`, 5, 0, 10, 8080 + i, target));
    additional.push(rrs.a(target, 7, `10.1.${i >> 8}.${i & 255}`));
  }
  return { answer, additional };
}

/** The same reply twice: one keeping its records, one slim. */
function pair(qname: string, answer: RR[], additional: RR[] = []): [Reply, Reply] {
  const full = new Reply({ authoritative: true, answer, additional, plugin: 'kubernetes', kept: true }).prepack(qname);
  const slim = new Reply({ authoritative: true, answer, additional, plugin: 'kubernetes', kept: true }).slim(qname);
  return [full, slim];
}

function written(r: Reply, qname: string, transport: 'udp' | 'tcp', maxUdpSize = 1232, spelled = qname): Buffer {
  const req = DnsRequest.synthetic(spelled, Type.SRV, null, transport);
  return Buffer.from(writeReply(req, r, { maxUdpSize }));
}

test('a slim reply writes the very bytes of the full one (A, PTR, SRV with additional records, any case of the name)', () => {
  const cases: [string, RR[], RR[]][] = [
    [Q, [rrs.a(Q, 5, '10.96.0.1')], []],
    ['1.0.96.10.in-addr.arpa.', [rrs.ptr('1.0.96.10.in-addr.arpa.', 5, Q)], []],
    [`_http._tcp.${Q}`, ...Object.values(srvSections(3)) as [RR[], RR[]]],
  ];
  for (const [qname, answer, additional] of cases) {
    const [full, slim] = pair(qname, answer, additional);
    assert.equal(slim.holdsRecords, false);
    assert.deepEqual(written(slim, qname, 'tcp'), written(full, qname, 'tcp'));
    assert.deepEqual(written(slim, qname, 'udp', 1232, qname.toUpperCase()), written(full, qname, 'udp', 1232, qname.toUpperCase()));
    assert.equal(slim.holdsRecords, false, 'writing needs no records');
  }
});

test('truncation cuts a slim reply at the same record ends, with TC', () => {
  const { answer, additional } = srvSections(40);
  const qname = `_http._tcp.${Q}`;
  const [full, slim] = pair(qname, answer, additional);
  const out = written(slim, qname, 'udp', 512);
  assert.deepEqual(out, written(full, qname, 'udp', 512));
  assert.ok(out.length <= 512);
  assert.ok((out.readUInt16BE(2) & Flag.TC) !== 0, 'TC set');
  const m = decodeMessage(out);
  assert.ok(m.answer.length > 0 && m.answer.length < 40, `whole records only: ${m.answer.length}`);
  const hex = (rs: readonly RR[]) => rs.map((r) => Buffer.from(r.data).toString('hex'));
  assert.deepEqual(hex(m.answer), hex(answer.slice(0, m.answer.length)));
});

test('a slim reply ages its TTLs as the full one does, and stays slim', () => {
  const { answer, additional } = srvSections(2);
  const qname = `_http._tcp.${Q}`;
  const [full, slim] = pair(qname, answer, additional);
  const aged = slim.aged(3);
  assert.equal(aged.holdsRecords, false);
  const out = written(aged, qname, 'tcp');
  assert.deepEqual(out, written(full.aged(3), qname, 'tcp'));
  assert.deepEqual(decodeMessage(out).answer.map((r) => r.ttl), [2, 2]);
  assert.deepEqual(decodeMessage(out).additional.map((r) => r.ttl), [4, 4]);
  assert.equal(slim.withError(new Error('x')).holdsRecords, false);
  assert.equal(slim.with({ plugin: 'other' }).holdsRecords, false);
});

test('the sections of a slim reply read back equal, decoded once', () => {
  const { answer, additional } = srvSections(3);
  const qname = `_http._tcp.${Q}`;
  const [full, slim] = pair(qname, answer, additional);
  assert.deepEqual(unpackSections(full.packedFor(qname)), [answer, [], additional]);
  assert.equal(slim.answerCount, 3);
  assert.equal(slim.additionalCount, 3);
  assert.equal(slim.answerType(0), Type.SRV);
  assert.deepEqual(slim.peekSections(), [answer, [], additional]);
  assert.equal(slim.holdsRecords, false, 'peeking keeps nothing');
  assert.deepEqual(slim.answer, answer);
  assert.equal(slim.holdsRecords, true);
  assert.equal(slim.answer, slim.answer, 'the same array on every read');
  assert.deepEqual(slim.additional, additional);
  assert.deepEqual(slim.authority, []);
  assert.deepEqual(written(slim, qname, 'tcp'), written(full, qname, 'tcp'));
});

test('the cache classifies a slim reply and checks its TTLs without decoding it', () => {
  const { answer, additional } = srvSections(2);
  const qname = `_http._tcp.${Q}`;
  const [full, slim] = pair(qname, answer, additional);
  assert.equal(classify(slim), classify(full));
  assert.equal(minimalTtl(slim, classify(slim)), 5);
  assert.equal(minimalTtl(slim, classify(slim)), minimalTtl(full, classify(full)));
  for (const ttl of [5, 7]) assert.equal(slim.allTtlsAre(ttl), full.allTtlsAre(ttl));
  const [, uniform] = pair(Q, [rrs.a(Q, 5, '10.96.0.1'), rrs.a(Q, 5, '10.96.0.2')]);
  assert.equal(uniform.allTtlsAre(5), true);
  assert.equal(uniform.allTtlsAre(30), false);
  assert.equal(slim.holdsRecords, false);
  assert.equal(uniform.holdsRecords, false);
});

test('only a positive answer without authority records becomes slim', () => {
  const soa = rrs.a('cluster.local.', 5, '10.0.0.1');
  const neg = new Reply({ rcode: Rcode.NXDOMAIN, authority: [soa] }).slim(Q);
  assert.equal(neg.holdsRecords, true);
  const withNs = new Reply({ answer: [rrs.a(Q, 5, '10.0.0.1')], authority: [soa] }).slim(Q);
  assert.equal(withNs.holdsRecords, true);
});

test('loadbalance passes a slim single-address reply undecoded and still rotates one with several addresses', () => {
  const lb = new LoadBalance();
  lb.pick = (span) => span >> 1;
  const [, one] = pair(Q, [rrs.a(Q, 5, '10.96.0.1')]);
  assert.equal(lb.balance(one, Q), one);
  assert.equal(one.holdsRecords, false);
  const addrs = ['10.1.0.1', '10.1.0.2', '10.1.0.3', '10.1.0.4'];
  const [full, slim] = pair(Q, addrs.map((ip) => rrs.a(Q, 5, ip)));
  const a = lb.balance(slim, Q), b = lb.balance(full, Q);
  assert.notEqual(a, slim);
  const ips = (r: Reply) => decodeMessage(written(r, Q, 'tcp')).answer.map((x) => [...x.data].join('.'));
  assert.deepEqual(ips(a), ['10.1.0.3', '10.1.0.4', '10.1.0.1', '10.1.0.2']);
  assert.deepEqual(ips(a), ips(b));
  assert.equal(lb.balance(slim, Q), a, 'the rotation is kept, keyed by the packed bytes');
  assert.equal(slim.holdsRecords, false, 'rotating decodes nothing onto the kept reply');
  assert.equal(a.holdsRecords, false, 'the rotated variant is slim too');
});
