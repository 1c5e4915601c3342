/**
 * @module test/server/malformed.test
 * Malformed and unusual queries over real UDP and TCP sockets: what gets no
 * reply (unreadable header, responses), FORMERR (broken names, bad counts,
 * broken or doubled OPT), NOTIMP (unknown opcode), BADVERS (EDNS version 1);
 * error replies carry our OPT when the query had one readable OPT.
 * After every case the same socket still gets an answer to a good query, so
 * a case that killed or wedged the server fails right there.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { decodeMessage, type DecodedMessage } from '../../src/dns/message.ts';
import { Flag, Rcode, Type } from '../../src/dns/constants.ts';
import { appendOpt, bytes, message, query, TcpClient, withHeader } from './helpers/wire.ts';
import { startTestServer, type StartedServer } from './helpers/server.ts';
import { serveQuery, type Responder } from '../../src/server/serve.ts';
import { thrownDuring } from '../support/thrown-count.ts';
import { UdpClient } from '../support/udp-client.ts';

let server: StartedServer;
let udp: UdpClient;

before(async () => {
  server = await startTestServer('.:0 {\n bind 127.0.0.1\n whoami\n}\n');
  udp = await UdpClient.open(server.port);
});
after(async () => {
  await udp.close();
  await server.stop();
});

const GOOD_ID = 0x600d;
const good = query('good.example.', Type.A, { id: GOOD_ID });

/** Question "example." A IN, as bytes after the header. */
const exampleQuestion = bytes(7, 'example', 0, 0, 1, 0, 1);

/** The name "a" x n labels of 63 octets, then root. */
function longName(labels: number, lastLen = 63): Buffer {
  const parts: (number | string)[] = [];
  for (let i = 0; i < labels - 1; i++) parts.push(63, 'a'.repeat(63));
  parts.push(lastLen, 'b'.repeat(lastLen), 0);
  return bytes(...parts);
}

interface Expect { rcode: number; opt?: boolean; question?: boolean; opcode?: number }
interface Case { name: string; msg: Buffer; expect: Expect | 'none' }

const cases: Case[] = [
  ...Array.from({ length: 12 }, (_, n): Case => ({ name: `header of ${n} bytes`, msg: good.subarray(0, n), expect: 'none' })),
  { name: 'response (QR=1)', msg: withHeader(good, { flags: Flag.QR | Flag.RD }), expect: 'none' },
  { name: 'response with an unknown opcode', msg: withHeader(good, { flags: Flag.QR | (9 << 11) }), expect: 'none' },
  { name: 'compression pointer to itself (loop)', msg: message({}, bytes(0xc0, 12, 0, 1, 0, 1)), expect: { rcode: Rcode.FORMERR, question: false } },
  { name: 'label then pointer back to the start (loop)', msg: message({}, bytes(1, 'a', 0xc0, 12, 0, 1, 0, 1)), expect: { rcode: Rcode.FORMERR, question: false } },
  { name: 'forward pointer', msg: message({}, bytes(0xc0, 18, 0, 1, 0, 1, 1, 'a', 0)), expect: { rcode: Rcode.FORMERR, question: false } },
  { name: 'out-of-bounds pointer', msg: message({}, bytes(0xc3, 0xff, 0, 1, 0, 1)), expect: { rcode: Rcode.FORMERR, question: false } },
  { name: 'pointer into the header', msg: message({}, bytes(0xc0, 4, 0, 1, 0, 1)), expect: { rcode: Rcode.FORMERR, question: false } },
  { name: 'truncated pointer', msg: message({}, bytes(1, 'a', 0xc0)), expect: { rcode: Rcode.FORMERR, question: false } },
  { name: 'label of 64 octets', msg: message({}, bytes(64, 'x'.repeat(64), 0, 0, 1, 0, 1)), expect: { rcode: Rcode.FORMERR, question: false } },
  { name: 'extended label type 0x40', msg: message({}, bytes(0x41, 'x', 0, 0, 1, 0, 1)), expect: { rcode: Rcode.FORMERR, question: false } },
  { name: 'name of 256 octets', msg: message({}, bytes(longName(4, 62), 0, 1, 0, 1)), expect: { rcode: Rcode.FORMERR, question: false } },
  { name: 'name of 321 octets', msg: message({}, bytes(longName(5), 0, 1, 0, 1)), expect: { rcode: Rcode.FORMERR, question: false } },
  { name: 'label running past the end', msg: message({}, bytes(20, 'abc')), expect: { rcode: Rcode.FORMERR, question: false } },
  { name: 'question without type and class', msg: message({}, bytes(7, 'example', 0, 0, 1)), expect: { rcode: Rcode.FORMERR, question: false } },
  { name: 'qdcount 0', msg: message({ qd: 0 }, new Uint8Array(0)), expect: { rcode: Rcode.FORMERR, question: false } },
  { name: 'qdcount 2', msg: message({ qd: 2 }, bytes(exampleQuestion, exampleQuestion)), expect: { rcode: Rcode.FORMERR, question: false } },
  { name: 'arcount 1 without a record', msg: withHeader(good, { ar: 1 }), expect: { rcode: Rcode.FORMERR, question: true } },
  { name: 'ancount 1 with a record running past the end', msg: bytes(withHeader(good, { an: 1 }), 0, 0, 1, 0, 1, 0, 0, 0, 5, 0, 9, 1, 2), expect: { rcode: Rcode.FORMERR, question: true } },
  { name: 'OPT rdata running past the end', msg: (() => { const m = appendOpt(good); m.writeUInt16BE(50, m.length - 2); return m; })(), expect: { rcode: Rcode.FORMERR, question: true, opt: false } },
  { name: 'two OPT records', msg: appendOpt(appendOpt(good)), expect: { rcode: Rcode.FORMERR, question: true, opt: false } },
  { name: 'OPT not owned by the root', msg: appendOpt(good, { owner: bytes(1, 'a', 0) }), expect: { rcode: Rcode.FORMERR, question: true, opt: false } },
  { name: 'opcode IQUERY (1)', msg: withHeader(good, { flags: (1 << 11) | Flag.RD }), expect: { rcode: Rcode.NOTIMP, question: true, opcode: 1 } },
  { name: 'opcode STATUS (2)', msg: withHeader(good, { flags: 2 << 11 }), expect: { rcode: Rcode.NOTIMP, question: true, opcode: 2 } },
  { name: 'unassigned opcode 3', msg: withHeader(good, { flags: 3 << 11 }), expect: { rcode: Rcode.NOTIMP, question: true, opcode: 3 } },
  { name: 'opcode UPDATE (5)', msg: withHeader(good, { flags: 5 << 11 }), expect: { rcode: Rcode.NOTIMP, question: true, opcode: 5 } },
  { name: 'opcode 15', msg: withHeader(good, { flags: 15 << 11 }), expect: { rcode: Rcode.NOTIMP, question: true, opcode: 15, opt: false } },
  { name: 'unknown opcode with EDNS: our OPT comes back', msg: withHeader(appendOpt(good), { flags: 3 << 11 }), expect: { rcode: Rcode.NOTIMP, question: true, opcode: 3, opt: true } },
  { name: 'qdcount 0 with EDNS: FORMERR with our OPT', msg: appendOpt(message({ qd: 0 }, new Uint8Array(0))), expect: { rcode: Rcode.FORMERR, question: false, opt: true } },
  { name: 'qdcount 2 with EDNS: FORMERR with our OPT', msg: appendOpt(message({ qd: 2 }, bytes(exampleQuestion, exampleQuestion))), expect: { rcode: Rcode.FORMERR, question: false, opt: true } },
  { name: 'unknown opcode with qdcount 0', msg: message({ qd: 0, flags: 3 << 11 }, new Uint8Array(0)), expect: { rcode: Rcode.NOTIMP, question: false, opcode: 3 } },
  { name: 'EDNS version 1', msg: appendOpt(good, { version: 1 }), expect: { rcode: Rcode.BADVERS, opt: true, question: true } },
  { name: 'EDNS version 255 with DO', msg: appendOpt(good, { version: 255, do: true }), expect: { rcode: Rcode.BADVERS, opt: true, question: true } },
];

/** Valid edge cases that must be answered normally. */
const answered: Case[] = [
  { name: 'label of exactly 63 octets', msg: message({}, bytes(63, 'x'.repeat(63), 0, 0, 1, 0, 1)), expect: { rcode: Rcode.NOERROR, question: true } },
  { name: 'name of exactly 255 octets', msg: message({}, bytes(longName(4, 61), 0, 1, 0, 1)), expect: { rcode: Rcode.NOERROR, question: true } },
  { name: 'root name', msg: message({}, bytes(0, 0, 1, 0, 1)), expect: { rcode: Rcode.NOERROR, question: true } },
  { name: 'OPT with an option (cookie) in its rdata', msg: appendOpt(good, { rdata: bytes(0, 10, 0, 8, 1, 2, 3, 4, 5, 6, 7, 8) }), expect: { rcode: Rcode.NOERROR, opt: true, question: true } },
  { name: 'answer and authority records before the OPT', msg: appendOpt(bytes(withHeader(good, { an: 1, ns: 1 }), 0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 5, 0, 4, 1, 2, 3, 4, 0, 0, 1, 0, 1, 0, 0, 0, 5, 0, 4, 1, 2, 3, 4)), expect: { rcode: Rcode.NOERROR, opt: true, question: true } },
  { name: 'query with CD and AD bits', msg: withHeader(good, { flags: Flag.RD | Flag.CD | Flag.AD }), expect: { rcode: Rcode.NOERROR, question: true } },
];

function checkReply(c: Case, reply: Buffer | null): void {
  const expect = c.expect as Expect;
  assert.ok(reply, `${c.name}: expected a reply`);
  const m: DecodedMessage = decodeMessage(reply);
  assert.equal(m.id, c.msg.readUInt16BE(0), 'ID echoed');
  assert.ok(m.flags & Flag.QR, 'QR set');
  assert.equal(m.rcode, expect.rcode, `${c.name}: rcode`);
  assert.equal((m.flags >> 11) & 0xf, expect.opcode ?? 0, 'opcode echoed');
  assert.equal(m.question.length, expect.question ? 1 : 0, 'question echoed when readable');
  if (expect.opt !== undefined) assert.equal(m.edns !== null, expect.opt, 'OPT present');
  if (expect.rcode === Rcode.BADVERS) assert.equal(m.edns?.version, 0, 'our OPT says version 0');
}

async function goodStillAnswered(ask: (msg: Buffer) => Promise<Buffer | null>): Promise<void> {
  const r = await ask(good);
  assert.ok(r, 'a good query is still answered');
  const m = decodeMessage(r);
  assert.equal(m.id, GOOD_ID);
  assert.equal(m.rcode, Rcode.NOERROR);
}

for (const c of [...cases, ...answered]) {
  test(`UDP: ${c.name}`, async () => {
    if (c.expect === 'none') {
      // Sent right behind it, the good query's reply must be the very next datagram.
      udp.send(c.msg);
      udp.send(good);
      const next = await udp.next(2000);
      assert.ok(next, 'the good query is answered');
      assert.equal(next.readUInt16BE(0), GOOD_ID, 'no reply to the bad packet came first');
      return;
    }
    checkReply(c, await udp.exchange(c.msg, 2000));
    await goodStillAnswered((m) => udp.exchange(m, 2000));
  });
}

test('TCP: every case on one connection, in order, then a good query', async () => {
  const tcp = await TcpClient.connect(server.port);
  try {
    for (const c of [...cases, ...answered]) {
      if (c.msg.length === 0) continue; // a zero-length frame is no message at all (see tcp.test.ts)
      if (c.expect === 'none') {
        tcp.send(c.msg, good);
        const next = await tcp.next(2000);
        assert.ok(next, `${c.name}: the good query is answered`);
        assert.equal(next.readUInt16BE(0), GOOD_ID, `${c.name}: no reply to the bad frame came first`);
        continue;
      }
      tcp.send(c.msg);
      checkReply(c, await tcp.next(2000));
      tcp.send(good);
      const r = await tcp.next(2000);
      assert.ok(r && r.readUInt16BE(0) === GOOD_ID, `${c.name}: good query answered after it`);
    }
    assert.equal(tcp.closed, false, 'the connection survived every case');
  } finally {
    tcp.close();
  }
});

test('the server counted the dropped packets', () => {
  assert.ok(server.app.server.stats.dropped >= 12, `dropped ${server.app.server.stats.dropped}`);
  assert.equal(server.app.server.stats.panics, 0);
});

test('every malformed case is rejected by return codes: not one exception is thrown on the way', () => {
  // An exception per bad packet costs 10-30 times a good query: a cheap way to burn our CPU from outside.
  const routes = server.app.server.generation!.listeners[0]!.routes;
  const replies: Buffer[] = [];
  const out: Responder = { send: (buf) => { replies.push(buf); } };
  const answerable = cases.filter((c) => c.expect !== 'none');
  // Self-check: the counter does count a caught exception.
  assert.equal(thrownDuring(() => { try { throw new Error('self-check'); } catch { /* counted */ } }), 1);
  const thrown = thrownDuring(() => {
    for (const c of cases) serveQuery(c.msg, 'udp', '127.0.0.1', 1, '127.0.0.1', 53, routes, out, server.app.server.stats);
  });
  assert.equal(thrown, 0);
  assert.equal(replies.length, answerable.length);
  answerable.forEach((c, i) => checkReply(c, replies[i]!));
});
