/**
 * @module dns/codec.property.test
 * Property tests (fast-check) of the codec: for every record type the server
 * emits (A, AAAA, CNAME, PTR, NS, MX, SRV, TXT, SOA), a reply written by
 * writeReply (names compressed) and read back by decodeMessage is the same
 * records: parse(write(x)) = x, for random names, TTLs and rdata, in all
 * three sections. A failing case is printed with its seed by fast-check;
 * it becomes a fixed regression case below when found.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { Class, Type } from './constants.ts';
import { decodeMessage, encodeQuery } from './message.ts';
import { Reply } from './reply.ts';
import { DnsRequest, parseQuery, type ParsedQuestion } from './request.ts';
import { writeReply } from './response.ts';
import { rdata, rr, rrs, type RR } from './rr.ts';

const label = fc.stringMatching(/^[a-z0-9]([a-z0-9-]{0,14}[a-z0-9])?$/);
const name = fc.array(label, { minLength: 1, maxLength: 4 }).map((ls) => `${ls.join('.')}.`);
const ttl = fc.integer({ min: 0, max: 0x7fffffff });
const u16 = fc.integer({ min: 0, max: 0xffff });
const u32 = fc.integer({ min: 0, max: 0xffffffff });
const ipv4 = fc.ipV4();
const ipv6 = fc.ipV6();
const text = fc.string({ maxLength: 300 });

const record: fc.Arbitrary<RR> = fc.oneof(
  fc.tuple(name, ttl, ipv4).map(([n, t, ip]) => rrs.a(n, t, ip)),
  fc.tuple(name, ttl, ipv6).map(([n, t, ip]) => rrs.aaaa(n, t, ip)),
  fc.tuple(name, ttl, name).map(([n, t, to]) => rrs.cname(n, t, to)),
  fc.tuple(name, ttl, name).map(([n, t, to]) => rrs.ptr(n, t, to)),
  fc.tuple(name, ttl, name).map(([n, t, to]) => rrs.ns(n, t, to)),
  fc.tuple(name, ttl, u16, name).map(([n, t, p, to]) => rrs.mx(n, t, p, to)),
  fc.tuple(name, ttl, u16, u16, u16, name).map(([n, t, p, w, port, to]) => rrs.srv(n, t, p, w, port, to)),
  fc.tuple(name, ttl, fc.array(text, { minLength: 1, maxLength: 3 })).map(([n, t, xs]) => rrs.txt(n, t, ...xs)),
  fc.tuple(name, ttl, name, name, u32, u32, u32, u32, u32).map(([n, t, m, r, s, a, b, c, d]) => rr(n, Type.SOA, t, rdata.soa(m, r, s, a, b, c, d))),
);

function requestFor(qname: string, qtype: number): DnsRequest {
  const raw = encodeQuery(qname, qtype, { id: 4242 });
  const q = parseQuery(raw) as ParsedQuestion;
  return new DnsRequest(raw, q, 'tcp', '127.0.0.1', 5300, '127.0.0.1', 53, 0);
}

const same = (r: RR): unknown => ({ name: r.name, type: r.type, class: r.class, ttl: r.ttl, data: Buffer.from(r.data).toString('hex') });

test('parse(write(reply)) gives back every record of every emitted type, in all three sections', () => {
  fc.assert(fc.property(
    name, fc.array(record, { maxLength: 8 }), fc.array(record, { maxLength: 4 }), fc.array(record, { maxLength: 4 }),
    (qname, answer, authority, additional) => {
      const req = requestFor(qname, Type.A);
      const wire = writeReply(req, new Reply({ answer, authority, additional }), { maxUdpSize: 65535 });
      const m = decodeMessage(wire);
      assert.equal(m.id, 4242);
      assert.deepEqual(m.question, [{ name: qname, type: Type.A, class: Class.IN }]);
      assert.deepEqual(m.answer.map(same), answer.map(same));
      assert.deepEqual(m.authority.map(same), authority.map(same));
      assert.deepEqual(m.additional.map(same), additional.map(same));
    },
  ), { numRuns: 300, seed: 0x17c0dec });
});

test('a TXT string of any length and content comes back byte for byte (split at 255)', () => {
  fc.assert(fc.property(name, fc.string({ unit: 'binary', maxLength: 2000 }), (n, s) => {
    const r = rrs.txt(n, 60, s);
    const m = decodeMessage(writeReply(requestFor(n, Type.TXT), new Reply({ answer: [r] }), { maxUdpSize: 65535 }));
    const data = Buffer.from(m.answer[0]!.data);
    const parts: Buffer[] = [];
    for (let p = 0; p < data.length; p += 1 + data[p]!) parts.push(data.subarray(p + 1, p + 1 + data[p]!));
    assert.equal(Buffer.concat(parts).toString('utf8'), Buffer.from(s, 'utf8').toString('utf8'));
  }), { numRuns: 200, seed: 0x7e47 });
});
