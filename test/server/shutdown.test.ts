/**
 * @module test/server/shutdown.test
 * Graceful shutdown: stop accepting, answer what is in flight, close. In
 * process with a test plugin that answers after 300 ms (so a query is in
 * flight when stop begins), over UDP and TCP; and as the real command, where
 * SIGTERM and SIGINT end the process with exit code 0 and free the port.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { createSocket } from 'node:dgram';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeMessage } from '../../src/dns/message.ts';
import { Type } from '../../src/dns/constants.ts';
import { dig } from '../support/harness.ts';
import { query, TcpClient } from './helpers/wire.ts';
import { eventually, startTestServer } from './helpers/server.ts';
import { CliServer } from './helpers/cli.ts';
import { UdpClient } from '../support/udp-client.ts';

const SLOW = '.:0 {\n bind 127.0.0.1\n slow 300\n}\n';

function refusesTcp(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ host: '127.0.0.1', port });
    s.once('connect', () => { s.destroy(); resolve(false); });
    s.once('error', () => resolve(true));
  });
}

test('UDP: a query in flight when stop begins is answered; a new one is not', async () => {
  const s = await startTestServer(SLOW);
  const c = await UdpClient.open(s.port);
  try {
    c.send(query('inflight.example.', Type.A, { id: 1 }));
    assert.ok(await eventually(() => s.app.server.stats.inflight === 1), 'the query is in flight');
    const stopped = s.stop(3000);
    c.send(query('late.example.', Type.A, { id: 2 }));
    const r = await c.next(3000);
    assert.ok(r, 'the in-flight query is answered');
    const m = decodeMessage(r);
    assert.equal(m.id, 1);
    assert.equal(m.answer.length, 1);
    await stopped;
    assert.equal(await c.next(200), null, 'the query sent after stop began got nothing');
    assert.equal(s.app.server.stats.inflight, 0);
  } finally {
    await c.close();
    await s.stop();
  }
});

test('TCP: in-flight replies are written, then the connection closes; new connections are refused', async () => {
  const s = await startTestServer(SLOW);
  const c = await TcpClient.connect(s.port);
  try {
    c.send(query('a.example.', Type.A, { id: 11 }), query('b.example.', Type.A, { id: 12 }));
    assert.ok(await eventually(() => s.app.server.stats.inflight === 2), 'both queries are in flight');
    const stopped = s.stop(3000);
    assert.ok(await refusesTcp(s.port), 'no new connections once stop began');
    const ids = [(await c.next(3000))?.readUInt16BE(0), (await c.next(3000))?.readUInt16BE(0)];
    assert.deepEqual(ids.sort(), [11, 12]);
    assert.ok(await c.waitClosed(3000), 'the server closed the connection after its last reply');
    await stopped;
  } finally {
    c.close();
    await s.stop();
  }
});

test('an idle TCP connection is closed at stop at once', async () => {
  const s = await startTestServer('.:0 {\n bind 127.0.0.1\n whoami\n}\n', { tcp: { idleTimeoutMs: 60_000, maxConnections: 10 } });
  const c = await TcpClient.connect(s.port);
  try {
    c.send(query('x.example.', Type.A, { id: 3 }));
    assert.ok(await c.next(2000));
    await s.stop(5000);
    assert.ok(await c.waitClosed(1000));
  } finally {
    c.close();
  }
});

test('a grace period shorter than the work in flight ends the stop anyway', async () => {
  const s = await startTestServer('.:0 {\n bind 127.0.0.1\n slow 5000\n}\n');
  const c = await TcpClient.connect(s.port);
  try {
    c.send(query('forever.example.', Type.A, { id: 21 }));
    assert.ok(await eventually(() => s.app.server.stats.inflight === 1));
    await s.stop(200);
    assert.ok(await c.waitClosed(1000), 'connections are dropped at the end of the grace period');
  } finally {
    c.close();
  }
});

for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  test(`the command exits 0 on ${signal}, after answering, and frees its port`, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'clusterdns-stop-'));
    const path = join(dir, 'Corefile');
    writeFileSync(path, '.:0 {\n  bind 127.0.0.1\n  whoami\n}\n');
    const s = new CliServer(['-conf', path]);
    try {
      const [port] = await s.ports();
      assert.equal((await dig(port!, 'before.stop')).status, 'NOERROR');
      s.child.kill(signal);
      assert.deepEqual(await s.waitExit(10_000), { code: 0, signal: null }, s.stderr);
      assert.match(s.stdout, new RegExp(`\\[INFO\\] received ${signal}, shutting down`));
      const u = createSocket('udp4');
      const free = await new Promise<boolean>((r) => { u.once('error', () => r(false)); u.bind(port, '127.0.0.1', () => r(true)); });
      await new Promise<void>((r) => u.close(() => r()));
      assert.ok(free, 'the UDP port can be bound again');
    } finally {
      await s.kill();
      rmSync(dir, { recursive: true, force: true });
    }
  });
}
