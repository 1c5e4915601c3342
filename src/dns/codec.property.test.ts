/**
 * @module dns/codec.property.test
 * Property tests (fast-check) of the codec: for every record type the server
 * emits (A, AAAA, CNAME, PTR, NS, MX, SRV, TXT, SOA, HINFO), a reply written by
 * writeReply (names compressed) and read back by decodeMessage is the same
 * records: parse(write(x)) = x, for random names, TTLs and rdata, in all
 * three sections; our OPT record (payload size, DO, extended rcode, EDE
 * options) and replies cut to the client's size at a record boundary with
 * TC. A failing case is printed with its seed by fast-check;
 * it becomes a fixed regression case below when found.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { Class, Type } from './constants.ts';
import { decodeMessage, encodeQuery, type QueryOptions } from './message.ts';
import { edeOption, Reply } from './reply.ts';
import { DnsRequest, ParseOutcome, parseQuery, type ParsedQuestion, type Transport } from './request.ts';
import { writeErrorReply, writeReply } from './response.ts';
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
  fc.tuple(name, ttl, text, text).map(([n, t, cpu, os]) => rr(n, Type.HINFO, t, rdata.hinfo(cpu, os))),
);

function requestFor(qname: string, qtype: number, opts: QueryOptions = {}, transport: Transport = 'tcp'): DnsRequest {
  const raw = encodeQuery(qname, qtype, { id: 4242, ...opts });
  const q = parseQuery(raw) as ParsedQuestion;
  return new DnsRequest(raw, q, transport, '127.0.0.1', 5300, '127.0.0.1', 53, 0);
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

test('our OPT record: payload size, DO echoed, extended rcode and EDE options come back; none without EDNS', () => {
  const ede = fc.option(fc.tuple(u16, fc.string({ maxLength: 40 })).map(([code, why]) => edeOption(code, why)), { nil: null });
  fc.assert(fc.property(name, fc.option(fc.integer({ min: 0, max: 0xffff }), { nil: undefined }), fc.boolean(), fc.integer({ min: 0, max: 0xfff }), ede,
    (qname, udpSize, dnssecOk, rcode, options) => {
      const req = requestFor(qname, Type.A, udpSize === undefined ? {} : { udpSize, do: dnssecOk });
      const wire = writeReply(req, new Reply({ rcode, ednsOptions: options }), { maxUdpSize: 1232 });
      const m = decodeMessage(wire);
      if (udpSize === undefined) {
        assert.equal(m.edns, null);
        assert.equal(m.rcode, rcode & 0xf);
        return;
      }
      assert.deepEqual(m.edns, { udpSize: 1232, version: 0, do: dnssecOk });
      assert.equal(m.rcode, rcode);
      const optionBytes = options ?? new Uint8Array(0);
      assert.equal(wire.readUInt16BE(wire.length - optionBytes.length - 2), optionBytes.length);
      assert.deepEqual(wire.subarray(wire.length - optionBytes.length), Buffer.from(optionBytes));
    },
  ), { numRuns: 300, seed: 0x0e7d5 });
});

test('BADVERS (an extended rcode) is written in the OPT of the error reply', () => {
  fc.assert(fc.property(name, fc.integer({ min: 1, max: 255 }), (qname, version) => {
    const q = encodeQuery(qname, Type.A, { id: 7, udpSize: 4096 });
    q[q.length - 5] = version; // the OPT's EDNS version byte (its TTL field: extended rcode, version, flags)
    assert.equal(parseQuery(q), ParseOutcome.BADVERS);
    const m = decodeMessage(writeErrorReply(q, 16, true, 1232));
    assert.equal(m.rcode, 16);
    assert.deepEqual(m.question, [{ name: qname, type: Type.A, class: Class.IN }]);
    assert.notEqual(m.edns, null);
  }), { numRuns: 100, seed: 0xbad5 });
});

test('a reply too big for the client is cut at a record boundary: a prefix of the records, TC set, within the limit', () => {
  fc.assert(fc.property(name, fc.array(record, { minLength: 1, maxLength: 40 }), fc.option(fc.integer({ min: 512, max: 4096 }), { nil: undefined }),
    (qname, answer, udpSize) => {
      const req = requestFor(qname, Type.A, udpSize === undefined ? {} : { udpSize }, 'udp');
      const wire = writeReply(req, new Reply({ answer }), { maxUdpSize: 1232 });
      const limit = udpSize === undefined ? 512 : Math.min(udpSize, 1232);
      assert.ok(wire.length <= limit, `${wire.length} > ${limit}`);
      const m = decodeMessage(wire);
      assert.deepEqual(m.answer.map(same), answer.slice(0, m.answer.length).map(same));
      assert.equal((m.flags & 0x0200) !== 0, m.answer.length < answer.length, 'TC exactly when records were left out');
    },
  ), { numRuns: 300, seed: 0x7c7c });
});
