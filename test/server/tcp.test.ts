/**
 * @module test/server/tcp.test
 * DNS over TCP on real sockets (RFC 1035 4.2.2, RFC 7766): pipelined
 * queries in one write all answered (slow ones out of order), frames split
 * across writes, a partial frame on one connection not holding up another,
 * truncated and zero-length frames, idle and trickling connections closed,
 * the connection limit, and a client that reads slowly.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { decodeMessage } from '../../src/dns/message.ts';
import { Flag, Rcode, Type } from '../../src/dns/constants.ts';
import { runClient } from '../support/harness.ts';
import { query, TcpClient } from './helpers/wire.ts';
import { eventually, startTestServer, type StartedServer } from './helpers/server.ts';
import { UdpClient } from '../support/udp-client.ts';

let server: StartedServer;

before(async () => {
  server = await startTestServer([
    '.:0 {\n bind 127.0.0.1\n whoami\n}',
    'slow.example:0 {\n bind 127.0.0.1\n slow 300\n}',
    'many.example:0 {\n bind 127.0.0.1\n many_a 200\n}',
  ].join('\n'), { tcp: { idleTimeoutMs: 1000, maxConnections: 50 } });
});
after(async () => {
  await server.stop();
});

function idOf(frame: Buffer | null): number {
  assert.ok(frame, 'a reply frame');
  return frame.readUInt16BE(0);
}

async function udpAnswered(port: number): Promise<boolean> {
  const c = await UdpClient.open(port);
  try {
    const r = await c.exchange(query('udp.example.', Type.A, { id: 77 }), 2000);
    return r !== null && decodeMessage(r).rcode === Rcode.NOERROR;
  } finally {
    await c.close();
  }
}

test('ten queries in one write: ten replies, each matched by ID', async () => {
  const c = await TcpClient.connect(server.port);
  try {
    const ids = Array.from({ length: 10 }, (_, i) => 100 + i);
    c.send(...ids.map((id) => query(`q${id}.example.`, Type.A, { id })));
    const got: number[] = [];
    for (let i = 0; i < ids.length; i++) got.push(idOf(await c.next(2000)));
    assert.deepEqual(got, ids, 'synchronous answers come back in order');
    for (const id of ids) assert.ok(got.includes(id));
  } finally {
    c.close();
  }
});

test('a slow query pipelined first does not hold up the fast ones behind it (answered out of order)', async () => {
  const c = await TcpClient.connect(server.port);
  try {
    c.send(query('x.slow.example.', Type.A, { id: 1 }), query('a.example.', Type.A, { id: 2 }), query('b.example.', Type.A, { id: 3 }));
    assert.equal(idOf(await c.next(2000)), 2);
    assert.equal(idOf(await c.next(2000)), 3);
    const slow = await c.next(3000);
    assert.equal(idOf(slow), 1);
    assert.equal(decodeMessage(slow!).answer.length, 1);
  } finally {
    c.close();
  }
});

test('a query written one byte at a time is answered', async () => {
  const c = await TcpClient.connect(server.port);
  try {
    const frame = TcpClient.frames(query('bytewise.example.', Type.A, { id: 9 }));
    for (const b of frame) {
      c.writeRaw(Buffer.from([b]));
      await new Promise((r) => setImmediate(r));
    }
    assert.equal(idOf(await c.next(2000)), 9);
  } finally {
    c.close();
  }
});

test('two frames in one write where the second is split over two writes', async () => {
  const c = await TcpClient.connect(server.port);
  try {
    const both = TcpClient.frames(query('one.example.', Type.A, { id: 11 }), query('two.example.', Type.A, { id: 12 }));
    c.writeRaw(both.subarray(0, both.length - 5));
    assert.equal(idOf(await c.next(2000)), 11);
    c.writeRaw(both.subarray(both.length - 5));
    assert.equal(idOf(await c.next(2000)), 12);
  } finally {
    c.close();
  }
});

test('a partial frame on one connection does not delay another connection', async () => {
  const stuck = await TcpClient.connect(server.port);
  const other = await TcpClient.connect(server.port);
  try {
    const frame = TcpClient.frames(query('stuck.example.', Type.A, { id: 21 }));
    stuck.writeRaw(frame.subarray(0, 7));
    other.send(query('other.example.', Type.A, { id: 22 }));
    assert.equal(idOf(await other.next(2000)), 22, 'the other connection is answered while the first holds half a frame');
    assert.equal(await stuck.next(50), null, 'nothing for the half frame yet');
    stuck.writeRaw(frame.subarray(7));
    assert.equal(idOf(await stuck.next(2000)), 21, 'the first one is answered once its frame is complete');
  } finally {
    stuck.close();
    other.close();
  }
});

test('a length prefix larger than the data, then close: no reply, no harm', async () => {
  const c = await TcpClient.connect(server.port);
  const q = query('short.example.', Type.A, { id: 31 });
  const head = Buffer.alloc(2);
  head.writeUInt16BE(q.length + 100);
  c.writeRaw(Buffer.concat([head, q]));
  c.socket.end();
  assert.equal(await c.next(300), null);
  assert.ok(await c.waitClosed(3000), 'the server closes its side too');
  const d = await TcpClient.connect(server.port);
  try {
    d.send(query('after.example.', Type.A, { id: 32 }));
    assert.equal(idOf(await d.next(2000)), 32);
  } finally {
    d.close();
  }
  assert.ok(await udpAnswered(server.port));
});

test('zero-length frames and dropped frames (QR=1, short header) keep the connection usable', async () => {
  const c = await TcpClient.connect(server.port);
  try {
    const response = query('resp.example.', Type.A, { id: 41 });
    response.writeUInt16BE(Flag.QR, 2);
    c.writeRaw(Buffer.from([0, 0]));
    c.send(response, Buffer.from([1, 2, 3]), query('fine.example.', Type.A, { id: 42 }));
    assert.equal(idOf(await c.next(2000)), 42, 'only the good query is answered');
    assert.equal(c.closed, false);
  } finally {
    c.close();
  }
});

test('an idle connection is closed after the idle timeout', async () => {
  const c = await TcpClient.connect(server.port);
  c.send(query('idle.example.', Type.A, { id: 51 }));
  assert.equal(idOf(await c.next(2000)), 51);
  assert.ok(await c.waitClosed(4000), 'closed by the server within the bound');
});

test('a frame trickling in a byte at a time is cut off after the idle timeout', async () => {
  const c = await TcpClient.connect(server.port);
  try {
    c.writeRaw(Buffer.from([0x01, 0x00])); // a 256-octet frame that never completes
    let sent = 0;
    // One byte every 200 ms keeps the socket active; only the frame deadline can close it. At most 25 bytes (5 s).
    while (!c.closed && sent < 25) {
      await new Promise((r) => setTimeout(r, 200));
      if (!c.closed) c.writeRaw(Buffer.from([0x41]));
      sent++;
    }
    assert.ok(c.closed || await c.waitClosed(1000), `closed by the server (after ${sent} bytes)`);
  } finally {
    c.close();
  }
});

test('a client that does not read for a while still gets every reply', async () => {
  const c = await TcpClient.connect(server.port);
  try {
    c.socket.pause();
    const n = 400; // about 1.3 MB of replies: more than the socket buffers hold
    c.send(...Array.from({ length: n }, (_, i) => query('many.example.', Type.A, { id: i })));
    await new Promise((r) => setTimeout(r, 200));
    c.socket.resume();
    for (let i = 0; i < n; i++) {
      const m = decodeMessage((await c.next(3000))!);
      assert.equal(m.id, i);
      assert.equal(m.answer.length, 200);
    }
  } finally {
    c.close();
  }
});

test('300 idle connections against a limit of 200: extra ones refused, UDP and new TCP work after they go', async () => {
  const s = await startTestServer('.:0 {\n bind 127.0.0.1\n whoami\n}\n', { tcp: { idleTimeoutMs: 10_000, maxConnections: 200 } });
  const clients: TcpClient[] = [];
  try {
    for (let i = 0; i < 300; i++) clients.push(await TcpClient.connect(s.port));
    assert.ok(await eventually(() => clients.filter((c) => c.closed).length >= 100, 5000), 'the 100 over the limit are closed');
    assert.equal(s.app.server.tcpConnectionCount, 200);
    assert.ok(await udpAnswered(s.port), 'UDP is answered while TCP is full');
    const extra = await TcpClient.connect(s.port);
    extra.send(query('extra.example.', Type.A, { id: 61 }));
    assert.equal(await extra.next(1000), null, 'no answer on a connection over the limit');
    assert.ok(await extra.waitClosed(2000));
    for (const c of clients) c.close();
    assert.ok(await eventually(() => s.app.server.tcpConnectionCount === 0, 5000), 'the server saw them go');
    const fresh = await TcpClient.connect(s.port);
    try {
      fresh.send(query('fresh.example.', Type.A, { id: 62 }));
      assert.equal(idOf(await fresh.next(2000)), 62);
    } finally {
      fresh.close();
    }
    const k = JSON.parse(await runClient('kdig', s.port, ['+json', '+tcp', 'kdig.example.'])) as { RCODE: number };
    assert.equal(k.RCODE, 0, 'kdig over TCP works again');
  } finally {
    for (const c of clients) c.close();
    await s.stop();
  }
});
