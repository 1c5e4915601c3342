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

  it('leaves the bytes of a reply dgram still holds as they were: the next reply goes elsewhere', async () => {
    const l = new UdpListener([], new ServeStats());
    const port = await l.listen('127.0.0.1', 0);
    // What dgram was handed, and a copy of the bytes at that moment (what libuv would send later).
    const handed: { buf: Buffer; copy: Buffer }[] = [];
    const send = Socket.prototype.send;
    mock.method(Socket.prototype, 'send', function (this: Socket, ...args: Parameters<Socket['send']>) {
      const buf = args[0] as Buffer;
      handed.push({ buf, copy: Buffer.from(buf) });
      return send.apply(this, args);
    });
    mock.method(Socket.prototype, 'getSendQueueCount', () => 1);
    try {
      const first = l.scratch;
      await exchangeAll(port);
      assert.notEqual(l.scratch, first, 'new memory after a send that was queued');
      const replies = handed.filter((h) => h.buf.length >= 12 && (h.buf[2]! & 0x80) !== 0);
      assert.equal(replies.length, NAMES.length);
      replies.forEach((h, i) => assert.deepEqual(h.buf, h.copy, `reply ${i} unchanged after the replies written after it`));
    } finally {
      await l.close();
    }
  });
});
