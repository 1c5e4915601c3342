/**
 * @module test/server/udp-reply-memory.test
 * The node:dgram listener writes its replies into one reused piece of memory
 * (dns/response.ts ReplyScratch) as long as dgram sends each at once; when
 * dgram keeps a reply's bytes to send later (its send queue is backed up),
 * the next reply goes into new memory, so the queued bytes stay as they were.
 * Real UDP on 127.0.0.1; the backed-up queue is simulated by making
 * getSendQueueCount() report one queued send (the kernel on loopback never
 * pushes back).
 */
import assert from 'node:assert/strict';
import { Socket } from 'node:dgram';
import { afterEach, describe, it, mock } from 'node:test';
import { Rcode, Type } from '../../src/dns/constants.ts';
import { decodeMessage } from '../../src/dns/message.ts';
import { ServeStats } from '../../src/server/serve.ts';
import { UdpListener } from '../../src/server/udp-listener.ts';
import { UdpClient } from '../support/udp-client.ts';
import { query } from './helpers/wire.ts';

/** Names of different lengths, so the replies differ in length and content. */
const NAMES = Array.from({ length: 40 }, (_, i) => `${'q'.repeat(1 + (i % 13))}${i}.example.`);

/** Sends every name to a listener without routes (each answered REFUSED) and checks each reply is its query's. */
async function exchangeAll(port: number): Promise<void> {
  const c = await UdpClient.open(port);
  try {
    for (let i = 0; i < NAMES.length; i++) {
      const r = await c.exchange(query(NAMES[i]!, Type.A, { id: 100 + i }), 2000);
      assert.ok(r, `a reply to ${NAMES[i]}`);
      const m = decodeMessage(r);
      assert.equal(m.id, 100 + i);
      assert.equal(m.rcode, Rcode.REFUSED);
      assert.equal(m.question[0]!.name, NAMES[i]);
    }
  } finally {
    await c.close();
  }
}

describe('node:dgram listener: reply memory', () => {
  afterEach(() => { mock.restoreAll(); });

  it('writes every reply into the same memory while dgram sends each at once', async () => {
    const l = new UdpListener([], new ServeStats());
    const port = await l.listen('127.0.0.1', 0);
    try {
      const scratch = l.scratch;
      await exchangeAll(port);
      assert.equal(l.scratch, scratch, 'no new memory taken');
    } finally {
      await l.close();
    }
  });

  it('leaves the bytes of a reply dgram still holds as they were: while its queue is backed up, each reply has its own', async () => {
    const l = new UdpListener([], new ServeStats());
    const port = await l.listen('127.0.0.1', 0);
    // What dgram was handed, and a copy of the bytes at that moment (what libuv would send later).
    const handed: { buf: Buffer; copy: Buffer; queued: boolean }[] = [];
    // The queue backs up at the first reply (sent from the scratch) and drains with the 20th.
    let queued = 0;
    const send = Socket.prototype.send;
    mock.method(Socket.prototype, 'send', function (this: Socket, ...args: Parameters<Socket['send']>) {
      const buf = args[0] as Buffer;
      const reply = buf.length >= 12 && (buf[2]! & 0x80) !== 0;
      const r = send.apply(this, args);
      if (reply) {
        queued = handed.length < 19 ? 1 : 0;
        handed.push({ buf, copy: Buffer.from(buf), queued: queued > 0 });
      }
      return r;
    });
    mock.method(Socket.prototype, 'getSendQueueCount', () => queued);
    try {
      queued = 1;
      const backedUp = l.scratch; // read through a local: an assertion on l.scratch would narrow the later reads
      assert.equal(backedUp, null, 'no scratch while dgram holds queued sends: a reply gets a buffer of its size');
      queued = 0;
      const first = l.scratch;
      assert.ok(first !== null);
      await exchangeAll(port);
      assert.equal(handed.length, NAMES.length);
      assert.equal(handed.filter((h) => h.queued).length, 19);
      // A queued reply's bytes are sent later: none may change; the others were sent when handed over.
      handed.forEach((h, i) => { if (h.queued) assert.deepEqual(h.buf, h.copy, `queued reply ${i} unchanged after the replies written after it`); });
      assert.ok(first.holds(handed[0]!.buf), 'the first reply was written in the scratch');
      for (let i = 1; i < 20; i++) assert.ok(!first.holds(handed[i]!.buf), `reply ${i}, written while the queue was backed up, has its own memory`);
      const now = l.scratch;
      assert.ok(now !== null && now !== first, 'new memory once the queue drained: the old scratch was still queued');
      assert.ok(now.holds(handed[20]!.buf), 'replies go back into the (new) scratch after the queue drained');
    } finally {
      await l.close();
    }
  });
});
