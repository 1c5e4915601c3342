/**
 * @module server/udp-batch/batch-listener.test
 * The native UDP path on real sockets (the addon is built first when it is
 * not): a burst is read in batches and every query gets its own reply (ID
 * and question case echoed); a query that waits on I/O keeps its bytes while
 * later batches come in; IPv4 clients of an IPv6 socket (mapped) are plain
 * IPv4 and IPv6 ones work (every socket on loopback); an oversized datagram is dropped; bind errors are
 * node:dgram's; drain stops reading. The whole server suite also runs on
 * this path with CLUSTERDNS_UDP_BATCH=1 (see README.md).
 */
import assert from 'node:assert/strict';
import { createSocket, type Socket } from 'node:dgram';
import { existsSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { App } from '../../app/app.ts';
import { Class, Type } from '../../dns/constants.ts';
import { decodeMessage, encodeQuery } from '../../dns/message.ts';
import { memoryLogger } from '../../log/logger.ts';
import { ServeStats } from '../serve.ts';
import { testRegistry } from '../../../test/server/helpers/test-plugins.ts';
import { ADDON_PATH, loadUdpBatch, type UdpBatchAddon } from './addon.ts';
import { BatchUdpListener } from './batch-listener.ts';
import { buildUdpBatch } from './build.ts';

let addon: UdpBatchAddon;

before(() => {
  if (!existsSync(ADDON_PATH)) buildUdpBatch();
  const a = loadUdpBatch();
  assert.ok(a, 'the addon loads');
  addon = a;
});

async function startBatchServer(corefile: string): Promise<App> {
  const app = new App({
    corefilePath: 'Corefile', corefileText: corefile, logger: memoryLogger(), dnsPort: 0,
    registry: testRegistry(), udpBatch: true, tcp: { idleTimeoutMs: 2000, maxConnections: 50 },
  });
  await app.start();
  return app;
}

/** A client socket collecting every reply it gets. */
async function client(type: 'udp4' | 'udp6' = 'udp4'): Promise<{ socket: Socket; replies: Buffer[]; port: number }> {
  const socket = createSocket(type);
  const replies: Buffer[] = [];
  socket.on('message', (m) => replies.push(m));
  await new Promise<void>((r) => socket.bind(0, type === 'udp4' ? '127.0.0.1' : '::1', () => r()));
  return { socket, replies, port: socket.address().port };
}

async function until(cond: () => boolean, ms = 3000): Promise<boolean> {
  for (let i = 0; i < ms / 10 && !cond(); i++) await new Promise((r) => setTimeout(r, 10));
  return cond();
}

function close(s: Socket): Promise<void> {
  return new Promise((r) => s.close(() => r()));
}

describe('BatchUdpListener', () => {
  let app: App;
  let port: number;

  before(async () => {
    app = await startBatchServer('slow.example.:0 {\n bind 127.0.0.1\n slow 150\n}\n.:0 {\n bind 127.0.0.1\n whoami\n}\n');
    port = app.port();
  });
  after(async () => { await app.stop(500); });

  it('reads a burst in batches; every query gets its reply with its ID, question case and client port', async () => {
    const c = await client();
    try {
      const queries = Array.from({ length: 200 }, (_, i) => encodeQuery(`Q${i}.Example.ORG.`, Type.A, { id: i + 1 }));
      // Sent before the server can run: they wait in the socket together and are read in batches.
      for (const q of queries) c.socket.send(q, port, '127.0.0.1');
      assert.ok(await until(() => c.replies.length === 200), `${c.replies.length} of 200 replies`);
      const byId = new Map<number, Buffer>(c.replies.map((r) => [r.readUInt16BE(0), r]));
      queries.forEach((q, i) => {
        const r = byId.get(i + 1)!;
        assert.ok(r, `reply ${i + 1}`);
        assert.deepEqual(r.subarray(12, q.length), q.subarray(12), 'the question as asked, case and all');
        const srv = decodeMessage(r).additional.find((x) => x.type === Type.SRV)!;
        assert.equal(Buffer.from(srv.data).readUInt16BE(4), c.port);
      });
    } finally {
      await close(c.socket);
    }
  });

  it('a query waiting on I/O keeps its bytes while later batches reuse the input', async () => {
    const c = await client();
    try {
      const slowQuery = encodeQuery('Slow.EXAMPLE.', Type.A, { id: 7000 });
      const stats = app.server.stats;
      c.socket.send(slowQuery, port, '127.0.0.1');
      assert.ok(await until(() => stats.inflight === 1), 'the slow query was read and waits on I/O');
      // Each round answered before the next is sent: five later batches, read while the slow query may still wait.
      for (let round = 0; round < 5; round++) {
        for (let i = 0; i < 64; i++) c.socket.send(encodeQuery(`filler-${round}-${i}.example.org.`, Type.A, { id: 100 + round * 64 + i }), port, '127.0.0.1');
        assert.ok(await until(() => c.replies.filter((r) => r.readUInt16BE(0) !== 7000).length === 64 * (round + 1)), `round ${round} answered`);
      }
      assert.ok(await until(() => c.replies.some((r) => r.readUInt16BE(0) === 7000)), 'the slow reply');
      const reply = c.replies.find((r) => r.readUInt16BE(0) === 7000)!;
      assert.deepEqual(reply.subarray(12, slowQuery.length), slowQuery.subarray(12), 'the question as asked, case and all');
      assert.deepEqual([...decodeMessage(reply).answer[0]!.data], [192, 0, 2, 1]);
      assert.ok(await until(() => c.replies.length === 321), `${c.replies.length} of 321 replies`);
    } finally {
      await close(c.socket);
    }
  });

  it('drops a datagram larger than its slot (counted), and answers the next one', async () => {
    const c = await client();
    try {
      const stats = app.server.stats;
      const before = stats.dropped;
      const big = Buffer.concat([encodeQuery('big.example.org.', Type.A, { id: 1 }), Buffer.alloc(5000)]);
      c.socket.send(big, port, '127.0.0.1');
      c.socket.send(encodeQuery('small.example.org.', Type.A, { id: 2 }), port, '127.0.0.1');
      assert.ok(await until(() => c.replies.length === 1));
      assert.equal(c.replies[0]!.readUInt16BE(0), 2);
      assert.equal(stats.dropped, before + 1);
    } finally {
      await close(c.socket);
    }
  });
});

describe('BatchUdpListener sockets', () => {
  it('an IPv6 socket: an IPv4 client (IPv4-mapped) is plain IPv4 (whoami A), an IPv6 one is itself (whoami AAAA)', async () => {
    // Loopback only: the IPv4 client reaches an IPv6 socket bound to ::ffff:127.0.0.1 (the mapped
    // path a dual-stack socket takes), the IPv6 client one bound to ::1.
    const app = new App({ corefilePath: 'Corefile', corefileText: '.:0 {\n bind 127.0.0.1\n whoami\n}\n', logger: memoryLogger(), dnsPort: 0 });
    const routes = app.build(app.load()).listeners[0]!.routes;
    const mapped = new BatchUdpListener(addon, routes, new ServeStats());
    const v6only = new BatchUdpListener(addon, routes, new ServeStats());
    const mappedPort = await mapped.listen('::ffff:127.0.0.1', 0);
    const v6Port = await v6only.listen('::1', 0);
    const v4 = await client('udp4');
    const v6 = await client('udp6');
    try {
      v4.socket.send(encodeQuery('who.example.', Type.A, { id: 4 }), mappedPort, '127.0.0.1');
      v6.socket.send(encodeQuery('who.example.', Type.A, { id: 6 }), v6Port, '::1');
      assert.ok(await until(() => v4.replies.length === 1 && v6.replies.length === 1));
      const a = decodeMessage(v4.replies[0]!).additional.find((r) => r.type === Type.A)!;
      assert.deepEqual([...a.data], [127, 0, 0, 1]);
      const aaaa = decodeMessage(v6.replies[0]!).additional.find((r) => r.type === Type.AAAA)!;
      assert.deepEqual([...aaaa.data], [...Array(15).fill(0), 1]);
    } finally {
      await close(v4.socket);
      await close(v6.socket);
      await mapped.close();
      await v6only.close();
    }
  });

  it('a burst sent before the listener runs is read in batches of up to BATCH datagrams', async () => {
    const app = new App({ corefilePath: 'Corefile', corefileText: '.:0 {\n bind 127.0.0.1\n whoami\n}\n', logger: memoryLogger(), dnsPort: 0 });
    const routes = app.build(app.load()).listeners[0]!.routes;
    const listener = new BatchUdpListener(addon, routes, new ServeStats());
    const port = await listener.listen('127.0.0.1', 0);
    const c = await client();
    try {
      for (let i = 0; i < 200; i++) c.socket.send(encodeQuery(`b${i}.example.`, Type.A, { id: i }), port, '127.0.0.1');
      assert.ok(await until(() => c.replies.length === 200), `${c.replies.length} of 200 replies`);
      assert.equal(listener.datagrams, 200);
      assert.ok(listener.batches < 200 && listener.batches >= Math.ceil(200 / addon.BATCH), `${listener.batches} batches`);
    } finally {
      await close(c.socket);
      await listener.close();
    }
  });

  it('binding a port in use fails like node:dgram (EADDRINUSE); with reusePort on both, it is shared', async () => {
    const stats = new ServeStats();
    const a = new BatchUdpListener(addon, [], stats);
    const port = await a.listen('127.0.0.1', 0);
    const b = new BatchUdpListener(addon, [], stats);
    await assert.rejects(b.listen('127.0.0.1', port), (e: NodeJS.ErrnoException) => e.code === 'EADDRINUSE' && e.syscall === 'bind');
    await a.close();
    const c = new BatchUdpListener(addon, [], stats);
    const d = new BatchUdpListener(addon, [], stats);
    const shared = await c.listen('127.0.0.1', 0, true);
    assert.equal(await d.listen('127.0.0.1', shared, true), shared);
    await c.close();
    await d.close();
  });

  it('after drain nothing more is read, and a reply still owed goes out', async () => {
    const app = new App({ corefilePath: 'Corefile', corefileText: '.:0 {\n bind 127.0.0.1\n slow 100\n}\n', logger: memoryLogger(), dnsPort: 0, registry: testRegistry() });
    const routes = app.build(app.load()).listeners[0]!.routes;
    const stats = new ServeStats();
    const listener = new BatchUdpListener(addon, routes, stats);
    const port = await listener.listen('127.0.0.1', 0);
    const c = await client();
    try {
      c.socket.send(encodeQuery('owed.example.', Type.A, { id: 1 }), port, '127.0.0.1');
      assert.ok(await until(() => stats.inflight === 1), 'the slow query is being answered');
      listener.drain();
      c.socket.send(encodeQuery('late.example.', Type.TXT, { qclass: Class.IN, id: 2 }), port, '127.0.0.1');
      assert.ok(await until(() => c.replies.length >= 1), 'the owed reply');
      await listener.close();
      // Proof that the late query got no reply and never will: it was never read from the socket.
      assert.equal(listener.datagrams, 1, 'only the owed query was read');
      assert.deepEqual(c.replies.map((r) => r.readUInt16BE(0)), [1]);
    } finally {
      await close(c.socket);
    }
  });
});
