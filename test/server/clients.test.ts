/**
 * @module test/server/clients.test
 * The protocol points real clients can exercise, with dig and kdig: NOTIMP
 * for an unknown opcode, FORMERR for a header without a question, BADVERS
 * for EDNS version 1 (and dig's retry with version 0), a buffer size below
 * 512 treated as 512, several queries on one TCP connection, and every
 * configured port serving UDP and TCP.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { dig, parseDig, runClient } from '../support/harness.ts';
import { startTestServer, type StartedServer } from './helpers/server.ts';
import { freePort } from '../support/ports.ts';


let server: StartedServer;
before(async () => {
  server = await startTestServer('.:0 {\n bind 127.0.0.1\n whoami\n}\nmany.test:0 {\n bind 127.0.0.1\n many_a 100\n}\n');
});
after(async () => {
  await server.stop();
});

interface KdigMsg { RCODE: number; TC: number; Opcode: number; ANCOUNT: number; msgLength: number; additionalRRs?: { NAME: string; TYPEname: string; CLASS: number; TTL: number; rdataSRV?: string }[] }

/** kdig +json output; several queries print one JSON document each. */
async function kdig(...args: string[]): Promise<KdigMsg[]> {
  const out = await runClient('kdig', server.port, ['+json', ...args]);
  return out.trim().split(/\n(?=\{)/).map((doc) => JSON.parse(doc) as KdigMsg);
}

test('dig +opcode=3: NOTIMP, opcode echoed, with our OPT', async () => {
  const r = await dig(server.port, '+opcode=3', 'x.test');
  assert.equal(r.status, 'NOTIMP');
  assert.match(r.raw, /opcode: RESERVED3/);
  assert.match(r.raw, /EDNS: version: 0, flags:; udp: 1232/);
  assert.doesNotMatch(r.raw, /retry with '\+noedns'/, 'no EDNS complaint from dig');
});

test('dig +header-only (no question): FORMERR', async () => {
  const r = await dig(server.port, '+header-only');
  assert.equal(r.status, 'FORMERR');
  assert.match(r.raw, /QUERY: 0, ANSWER: 0/);
});

test('EDNS version 1: BADVERS (kdig shows it in the OPT); dig retries with version 0 and gets an answer', async () => {
  const [k] = await kdig('+edns=1', 'x.test');
  assert.equal(k!.RCODE, 0, 'the lower 4 bits');
  const opt = k!.additionalRRs!.find((r) => r.TYPEname === 'OPT')!;
  assert.equal(opt.TTL >>> 24, 1, 'extended rcode 1: 16 = BADVERS');
  assert.equal((opt.TTL >>> 16) & 0xff, 0, 'our version is 0');
  const direct = await dig(server.port, '+edns=1', '+noednsnegotiation', 'x.test');
  assert.equal(direct.status, 'BADVERS');
  const negotiated = await dig(server.port, '+edns=1', 'x.test');
  assert.match(negotiated.raw, /BADVERS, retrying with EDNS version 0/);
  assert.equal(negotiated.status, 'NOERROR');
});

test('an EDNS size below 512 is treated as 512 (dig and kdig)', async () => {
  const d = await dig(server.port, '+bufsize=100', '+ignore', 'x.many.test');
  assert.ok(d.flags.includes('tc'));
  // 12 + 15 (name) + 4 + 11 (OPT) = 42; (512 - 42) / 16 = 29 records.
  assert.equal(d.answer.length, 29);
  const [k] = await kdig('+bufsize=100', '+ignore', 'x.many.test');
  assert.equal(k!.TC, 1);
  assert.equal(k!.ANCOUNT, 29);
  assert.ok(k!.msgLength <= 512 && k!.msgLength > 100);
});

test('several queries on one TCP connection (kdig and dig +keepopen): all answered from one client port', async () => {
  const docs = await kdig('+tcp', '+keepopen', 'a.test', 'b.test', 'c.test');
  assert.equal(docs.length, 3);
  const ports = docs.map((d) => d.additionalRRs!.find((r) => r.TYPEname === 'SRV')!.rdataSRV!.split(' ')[2]);
  assert.equal(new Set(ports).size, 1, `one connection: ${ports.join(' ')}`);
  const out = await runClient('dig', server.port, ['+tcp', '+keepopen', 'd.test', 'e.test', 'f.test']);
  const answers = out.split(';; Got answer:').slice(1).map(parseDig);
  assert.equal(answers.length, 3);
  assert.ok(answers.every((a) => a.status === 'NOERROR'));
  assert.equal(new Set(answers.map((a) => a.additional[1]!.data)).size, 1);
});

test('every configured port serves UDP and TCP', async () => {
  const [p1, p2] = [await freePort(), await freePort()];
  const s = await startTestServer(`one.test:${p1} {\n bind 127.0.0.1\n whoami\n}\ntwo.test:${p2} {\n bind 127.0.0.1\n many_a 1\n}\n`);
  try {
    assert.deepEqual(s.app.server.boundPorts().map((b) => b.port).sort(), [p1, p2].sort());
    for (const [port, name, answers] of [[p1, 'x.one.test', 0], [p2, 'x.two.test', 1]] as const) {
      for (const transport of ['+notcp', '+tcp']) {
        const r = await dig(port, transport, name);
        assert.equal(r.status, 'NOERROR', `${port} ${transport}`);
        assert.equal(r.answer.length, answers);
      }
      const [k] = JSON.parse(`[${await runClient('kdig', port, ['+json', '+tcp', name])}]`) as KdigMsg[];
      assert.equal(k!.RCODE, 0);
    }
    assert.equal((await dig(p1, 'x.two.test')).status, 'REFUSED', 'each port serves its own blocks');
  } finally {
    await s.stop();
  }
});
