/**
 * @module test/server/edns-truncation.test
 * EDNS(0) and truncation on real sockets, with a test-only plugin answering
 * 200 A records (16 octets each, owner compressed): over UDP the reply is
 * cut at a record boundary with TC=1 to the requester's size (512 without
 * EDNS, at least 512 with it, at most our bufsize: 1232 by default), our OPT
 * advertises our size; over TCP the same query gets all 200. dig and kdig
 * see TC and retry over TCP on their own.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { decodeMessage, type DecodedMessage } from '../../src/dns/message.ts';
import { Flag, Rcode, Type } from '../../src/dns/constants.ts';
import { dig, runClient } from '../support/harness.ts';
import { appendOpt, query, TcpClient } from './helpers/wire.ts';
import { startTestServer, type StartedServer } from './helpers/server.ts';
import { manyAddress } from './helpers/test-plugins.ts';
import { UdpClient } from '../support/udp-client.ts';

const COUNT = 200;
const NAME = 'many.example.';
/** Header 12 + question (name 14 + type/class 4). */
const QUESTION_END = 12 + 14 + 4;
const RECORD = 16;
const OPT = 11;

let plain: StartedServer;
let big: StartedServer;
let udp: UdpClient;
let udpBig: UdpClient;

before(async () => {
  plain = await startTestServer(`.:0 {\n bind 127.0.0.1\n many_a ${COUNT}\n}\n`);
  big = await startTestServer(`.:0 {\n bind 127.0.0.1\n bufsize 4096\n many_a ${COUNT}\n}\n`);
  udp = await UdpClient.open(plain.port);
  udpBig = await UdpClient.open(big.port);
});
after(async () => {
  await udp.close();
  await udpBig.close();
  await plain.stop();
  await big.stop();
});

/** Decoding proves the cut is clean: every record present is whole. */
function decoded(r: Buffer | null): DecodedMessage {
  assert.ok(r, 'a reply');
  return decodeMessage(r);
}

/** The records are the first ones the plugin made, in order. */
function assertPrefix(m: DecodedMessage, n: number): void {
  assert.equal(m.answer.length, n);
  m.answer.forEach((rr, i) => {
    assert.equal(rr.name, NAME);
    assert.deepEqual([...rr.data], manyAddress(i).split('.').map(Number));
  });
}

const udpCases: { name: string; msg: Buffer; limit: number; server: 'plain' | 'big'; opt: number | null }[] = [
  { name: 'no EDNS: 512', msg: query(NAME), limit: 512, server: 'plain', opt: null },
  { name: 'EDNS 4096 against our default 1232: 1232', msg: query(NAME, Type.A, { udpSize: 4096 }), limit: 1232, server: 'plain', opt: 1232 },
  { name: 'EDNS 1232: 1232', msg: query(NAME, Type.A, { udpSize: 1232 }), limit: 1232, server: 'plain', opt: 1232 },
  { name: 'EDNS 600: 600', msg: query(NAME, Type.A, { udpSize: 600 }), limit: 600, server: 'plain', opt: 1232 },
  { name: 'EDNS 100 is treated as 512', msg: query(NAME, Type.A, { udpSize: 100 }), limit: 512, server: 'plain', opt: 1232 },
  { name: 'EDNS 0 is treated as 512', msg: appendOpt(query(NAME), { udpSize: 0 }), limit: 512, server: 'plain', opt: 1232 },
  { name: 'bufsize 4096, EDNS 2000: 2000', msg: query(NAME, Type.A, { udpSize: 2000 }), limit: 2000, server: 'big', opt: 4096 },
  { name: 'bufsize 4096, no EDNS: still 512', msg: query(NAME), limit: 512, server: 'big', opt: null },
];

for (const c of udpCases) {
  test(`UDP truncation, ${c.name}`, async () => {
    const m = decoded(await (c.server === 'plain' ? udp : udpBig).exchange(c.msg));
    const optLen = c.opt === null ? 0 : OPT;
    const fit = Math.floor((c.limit - QUESTION_END - optLen) / RECORD);
    assert.ok(m.flags & Flag.TC, 'TC set');
    assert.equal(m.rcode, Rcode.NOERROR);
    assertPrefix(m, fit);
    assert.ok(QUESTION_END + fit * RECORD + optLen <= c.limit);
    if (c.opt === null) assert.equal(m.edns, null, 'no OPT without EDNS');
    else assert.equal(m.edns?.udpSize, c.opt, 'our OPT advertises our size');
  });
}

test('UDP: bufsize 4096 and EDNS 4096 get all 200 records (3230 octets) without TC', async () => {
  const r = await udpBig.exchange(query(NAME, Type.A, { udpSize: 4096 }));
  const m = decoded(r);
  assert.equal(m.flags & Flag.TC, 0);
  assertPrefix(m, COUNT);
  assert.equal(r!.length, QUESTION_END + COUNT * RECORD + OPT);
});

test('TCP: the same queries get the whole answer, no TC', async () => {
  const tcp = await TcpClient.connect(plain.port);
  try {
    tcp.send(query(NAME), query(NAME, Type.A, { udpSize: 4096, id: 2 }));
    for (const edns of [false, true]) {
      const m = decoded(await tcp.next(2000));
      assert.equal(m.flags & Flag.TC, 0);
      assertPrefix(m, COUNT);
      assert.equal(m.edns !== null, edns);
    }
  } finally {
    tcp.close();
  }
});

test('an answer that just fits is not truncated', async () => {
  const small = await startTestServer(`.:0 {\n bind 127.0.0.1\n many_a 30\n}\n`);
  const c = await UdpClient.open(small.port);
  try {
    // 30 + 30*16 = 510 <= 512
    const r = await c.exchange(query(NAME));
    const m = decoded(r);
    assert.equal(m.flags & Flag.TC, 0);
    assertPrefix(m, 30);
    assert.equal(r!.length, 510);
  } finally {
    await c.close();
    await small.stop();
  }
});

test('dig: TC over UDP with +ignore; retried over TCP by itself without it', async () => {
  const truncated = await dig(plain.port, '+ignore', '+bufsize=4096', NAME, 'A');
  assert.ok(truncated.flags.includes('tc'), truncated.raw);
  assert.equal(truncated.answer.length, Math.floor((1232 - QUESTION_END - OPT) / RECORD));
  const retried = await dig(plain.port, NAME, 'A');
  assert.match(retried.raw, /Truncated, retrying in TCP mode/);
  assert.equal(retried.answer.length, COUNT);
  assert.ok(!retried.flags.includes('tc'));
  assert.match(retried.raw, /\(TCP\)/);
});

interface KdigJson { TC: number; ANCOUNT: number; answerRRs?: unknown[]; additionalRRs?: { TYPEname: string; CLASS: number }[] }

test('kdig: TC over UDP with +ignore, the OPT says 1232; full answer over TCP', async () => {
  const t = JSON.parse(await runClient('kdig', plain.port, ['+json', '+ignore', '+bufsize=4096', NAME, 'A'])) as KdigJson;
  assert.equal(t.TC, 1);
  assert.equal(t.ANCOUNT, Math.floor((1232 - QUESTION_END - OPT) / RECORD));
  assert.equal(t.additionalRRs?.find((r) => r.TYPEname === 'OPT')?.CLASS, 1232);
  const full = JSON.parse(await runClient('kdig', plain.port, ['+json', '+tcp', NAME, 'A'])) as KdigJson;
  assert.equal(full.TC, 0);
  assert.equal(full.ANCOUNT, COUNT);
  const big4096 = JSON.parse(await runClient('kdig', big.port, ['+json', '+bufsize=4096', NAME, 'A'])) as KdigJson;
  assert.equal(big4096.TC, 0, 'bufsize 4096 lets 3230 octets through UDP');
  assert.equal(big4096.ANCOUNT, COUNT);
});

test('EDNS: OPT echoed with our size and the DO bit; none without EDNS', async () => {
  const s = await startTestServer('.:0 {\n bind 127.0.0.1\n whoami\n}\n');
  const c = await UdpClient.open(s.port);
  try {
    const withDo = decoded(await c.exchange(query('x.example.', Type.A, { udpSize: 4096, do: true })));
    assert.deepEqual(withDo.edns, { udpSize: 1232, version: 0, do: true });
    const noDo = decoded(await c.exchange(query('x.example.', Type.A, { udpSize: 512 })));
    assert.deepEqual(noDo.edns, { udpSize: 1232, version: 0, do: false });
    const none = decoded(await c.exchange(query('x.example.')));
    assert.equal(none.edns, null);
    const k = JSON.parse(await runClient('kdig', s.port, ['+json', '+dnssec', 'x.example.'])) as { additionalRRs: { TYPEname: string; CLASS: number; TTL: number }[] };
    const opt = k.additionalRRs.find((r) => r.TYPEname === 'OPT');
    assert.equal(opt?.CLASS, 1232);
    assert.equal(opt?.TTL, 0x8000, 'DO echoed (flags in the TTL field)');
  } finally {
    await c.close();
    await s.stop();
  }
});
