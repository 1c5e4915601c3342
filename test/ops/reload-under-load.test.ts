/**
 * @module test/ops/reload-under-load.test
 * Zero-downtime reload: 2000 queries over about 3 s from raw UDP clients
 * while the Corefile changes under `reload 2s 1s`. Every query is answered,
 * the answers switch from the old to the new configuration within the run,
 * the UDP port stays, and a TCP connection opened before the reload is
 * still served after it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Class, Rcode, Type } from '../../src/dns/constants.ts';
import { decodeMessage, encodeQuery, type DecodedMessage } from '../../src/dns/message.ts';
import { startServer } from '../support/harness.ts';
import { delay, waitUntil } from '../support/wait-until.ts';
import { UdpClient } from '../support/udp-client.ts';
import { errorMessage } from '../../src/errors/to-error.ts';

const corefile = (version: string): string => `.:0 {
  bind 127.0.0.1
  reload 2s 1s
  chaos ${version}
}
`;

function versionOf(m: DecodedMessage): string {
  assert.equal(m.rcode, Rcode.NOERROR);
  assert.equal(m.answer.length, 1);
  return Buffer.from(m.answer[0]!.data.subarray(1)).toString();
}

/** One query on an open TCP connection (length-prefixed), with a timeout. */
function tcpQuery(socket: Socket, id: number): Promise<DecodedMessage> {
  return new Promise((resolve, reject) => {
    const q = encodeQuery('version.bind.', Type.TXT, { qclass: Class.CH, id });
    let buf = Buffer.alloc(0);
    const timer = setTimeout(() => { socket.off('data', onData); reject(new Error('no TCP reply')); }, 2000);
    const onData = (chunk: Buffer): void => {
      buf = Buffer.concat([buf, chunk]);
      if (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
        clearTimeout(timer);
        socket.off('data', onData);
        resolve(decodeMessage(buf.subarray(2, 2 + buf.readUInt16BE(0))));
      }
    };
    socket.on('data', onData);
    const head = Buffer.alloc(2);
    head.writeUInt16BE(q.length);
    socket.write(Buffer.concat([head, q]));
  });
}

test('2000 queries over 3 s through a Corefile change: none lost, behaviour switches, listeners stay', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'clusterdns-load-'));
  const file = join(dir, 'Corefile');
  writeFileSync(file, corefile('old'));
  const srv = await startServer('', { path: file });
  const clients = await Promise.all(Array.from({ length: 4 }, () => UdpClient.open(srv.port)));
  const tcp = connect(srv.port, '127.0.0.1');
  try {
    await new Promise<void>((r, j) => { tcp.once('connect', () => r()); tcp.once('error', j); });
    assert.equal(versionOf(await tcpQuery(tcp, 1)), 'old');
    const udpPort = srv.app.port();

    const perClient = 500;
    const spacingMs = 6; // 4 clients x 500 queries, one every 6 ms each: about 3 s
    const answers: string[][] = clients.map(() => []);
    const failures: string[] = [];
    const start = Date.now();
    const load = clients.map(async (c, ci) => {
      // Paced (a steady load for the reload to land in), bounded by count and time.
      for (let i = 0; i < perClient; i++) {
        try {
          answers[ci]!.push(versionOf(await c.query('version.bind.', Type.TXT, { qclass: Class.CH, timeoutMs: 1000 })));
        } catch (e) {
          failures.push(errorMessage(e));
        }
        const wait = start + (i + 1) * spacingMs - Date.now();
        if (wait > 0) await delay(wait);
        if (Date.now() - start > 15_000) break; // bound, whatever happens
      }
    });
    // The TCP connection stays busy (the test server closes connections idle for 2 s) on one socket throughout.
    const tcpAnswers: string[] = [];
    const tcpLoad = (async () => {
      for (let i = 0; i < 20 && Date.now() - start < 3500; i++) {
        tcpAnswers.push(versionOf(await tcpQuery(tcp, 10 + i)));
        await delay(250);
      }
    })();
    // The Corefile changes once every client (and the TCP connection) has been answered by the old one.
    await waitUntil(() => answers.every((a) => a.length >= 10) && tcpAnswers.length >= 1, { timeoutMs: 10_000, message: 'load under way' });
    writeFileSync(file, corefile('new'));
    await Promise.all([...load, tcpLoad]);

    assert.deepEqual(failures, []);
    const all = answers.flat();
    assert.equal(all.length, 2000);
    assert.ok(all.includes('old') && all.includes('new'), 'the change took effect during the run');
    for (const a of answers) {
      // Per client, in order: old ... old new ... new (one switch, never back).
      const firstNew = a.indexOf('new');
      assert.ok(firstNew > 0 && a.slice(firstNew).every((v) => v === 'new'), 'switched once');
    }
    assert.equal(srv.app.port(), udpPort, 'same UDP port');
    assert.equal(versionOf(await tcpQuery(tcp, 2)), 'new', 'the TCP connection opened before the reload is served by the new configuration');
    assert.equal(tcpAnswers[0], 'old');
    assert.ok(tcpAnswers.includes('new'), `one TCP connection saw both: ${tcpAnswers.join(',')}`);
    assert.deepEqual(srv.logs.filter((l) => l.startsWith('[ERROR]')), []);
  } finally {
    tcp.destroy();
    await Promise.all(clients.map((c) => c.close()));
    await srv.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});
