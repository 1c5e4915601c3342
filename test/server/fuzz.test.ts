/**
 * @module test/server/fuzz.test
 * Thousands of random mutations of valid queries (bit flips, byte writes,
 * cuts, insertions, odd header counts) over UDP, and a pipelined batch over
 * one TCP connection. The server must not crash, must count no panics, and
 * must answer a good query after each mutation; whatever it answers to a
 * mutant must itself be a well-formed response. Seeded, so a failure can be
 * replayed: the seed is in the test name.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { decodeMessage } from '../../src/dns/message.ts';
import { Rcode, Type } from '../../src/dns/constants.ts';
import { appendOpt, bytes, query, TcpClient } from './helpers/wire.ts';
import { startTestServer, type StartedServer } from './helpers/server.ts';
import { UdpClient } from '../support/udp-client.ts';
import { rng } from '../support/rng.ts';

const SEED = 0x5eed1234;
// A fixed count, not a time budget: the same mutants run on a fast or a loaded machine (speed is bench/'s).
const UDP_MUTATIONS = 1000;
const TCP_MUTATIONS = 500;

/** Valid starting points: plain, EDNS with a cookie option and DO, CH class, a compressed extra record. */
const seeds: Buffer[] = [
  query('www.example.org.', Type.A),
  appendOpt(query('_http._tcp.svc.cluster.local.', Type.SRV), { udpSize: 4096, do: true, rdata: bytes(0, 10, 0, 8, 1, 2, 3, 4, 5, 6, 7, 8) }),
  query('version.bind.', Type.TXT, { qclass: 3 }),
  (() => {
    const q = query('a.b.c.example.', Type.AAAA);
    const withAnswer = Buffer.concat([q, bytes(0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 5, 0, 4, 10, 0, 0, 1)]);
    withAnswer.writeUInt16BE(1, 6);
    return withAnswer;
  })(),
];

function mutate(rand: () => number): Buffer {
  const base = seeds[Math.floor(rand() * seeds.length)]!;
  let m = Buffer.from(base);
  const steps = 1 + Math.floor(rand() * 4);
  for (let s = 0; s < steps; s++) {
    const kind = Math.floor(rand() * 7);
    const at = Math.floor(rand() * Math.max(1, m.length));
    if (kind === 0 && m.length > 0) m[at] = m[at]! ^ (1 << Math.floor(rand() * 8));
    else if (kind === 1 && m.length > 0) m[at] = Math.floor(rand() * 256);
    else if (kind === 2) m = m.subarray(0, Math.floor(rand() * m.length));
    else if (kind === 3) m = Buffer.concat([m.subarray(0, at), Buffer.from([Math.floor(rand() * 256), 0xc0, Math.floor(rand() * 256)]), m.subarray(at)]);
    else if (kind === 4 && m.length >= 12) m.writeUInt16BE(Math.floor(rand() * 4), 4 + 2 * Math.floor(rand() * 4));
    else if (kind === 5 && m.length >= 4) m[2] = Math.floor(rand() * 256);
    else if (kind === 6) m = Buffer.concat([m, m.subarray(12, 12 + Math.floor(rand() * 20))]);
  }
  // Keep the mutant's ID out of the range the good queries use.
  if (m.length >= 2) m.writeUInt16BE(0xffff, 0);
  return m;
}

let server: StartedServer;

before(async () => {
  server = await startTestServer('.:0 {\n bind 127.0.0.1\n whoami\n}\n');
});
after(async () => {
  await server.stop();
});

test(`UDP: ${UDP_MUTATIONS} mutations (seed ${SEED.toString(16)}), a good query answered after each`, async () => {
  const rand = rng(SEED);
  const udp = await UdpClient.open(server.port);
  let done = 0;
  let replies = 0;
  try {
    for (let i = 0; i < UDP_MUTATIONS; i++) {
      const id = i % 60000;
      const mutant = mutate(rand);
      udp.send(mutant);
      udp.send(query('good.example.', Type.A, { id }));
      // Any reply to the mutant comes first and must itself be a well-formed response.
      let r = await udp.next(2000);
      if (r !== null && r.readUInt16BE(0) !== id) {
        const m = decodeMessage(r);
        assert.ok(m.flags & 0x8000, `mutation ${i}: the reply is a response`);
        replies++;
        r = await udp.next(2000);
      }
      assert.ok(r, `mutation ${i} (${mutant.toString('hex')}): the good query after it was answered`);
      assert.equal(r.readUInt16BE(0), id);
      assert.equal(decodeMessage(r).rcode, Rcode.NOERROR);
      done++;
    }
  } finally {
    await udp.close();
  }
  assert.equal(done, UDP_MUTATIONS, 'every mutation was followed by an answered good query');
  assert.ok(replies > 0 && replies < done, `some mutants were answered (FORMERR, NOTIMP, ...), some dropped: ${replies} of ${done}`);
  assert.equal(server.app.server.stats.panics, 0, 'no handler panicked');
});

test(`TCP: ${TCP_MUTATIONS} mutated frames pipelined on one connection, then a good query`, async () => {
  const rand = rng(SEED ^ 0xffff);
  const tcp = await TcpClient.connect(server.port);
  try {
    const mutants = Array.from({ length: TCP_MUTATIONS }, () => mutate(rand));
    tcp.send(...mutants, query('good.example.', Type.A, { id: 0x600d }));
    let found = false;
    for (let i = 0; i <= TCP_MUTATIONS && !found; i++) {
      const frame = await tcp.next(3000);
      assert.ok(frame, `a reply arrives (after ${i} so far)`);
      found = frame.readUInt16BE(0) === 0x600d;
    }
    assert.ok(found, 'the good query at the end of the batch was answered');
    assert.equal(tcp.closed, false);
  } finally {
    tcp.close();
  }
  const udp = await UdpClient.open(server.port);
  try {
    const r = await udp.exchange(query('after.example.', Type.A, { id: 7 }), 2000);
    assert.ok(r && decodeMessage(r).id === 7, 'UDP still answered after the TCP batch');
  } finally {
    await udp.close();
  }
});
