/**
 * @module metrics/udp-drops.test
 * Kernel drops on our own listening UDP sockets: a real socket on 127.0.0.1
 * with a small receive buffer that nobody reads overflows under a bounded
 * burst, and its drop count (from /proc/net/udp) is what we report; the
 * /proc table parser on fixed rows, IPv4 and IPv6, connected sockets and
 * other processes' sockets left out.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { bindLoopbackUdp } from '../../test/support/udp-client.ts';
import { ioUntil } from '../../test/support/wait-until.ts';
import { parseProcNetUdp, udpSocketDrops } from './udp-drops.ts';

const HEADER = '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops\n';

test('the /proc/net/udp parser: our listening sockets only, addresses and ports decoded', () => {
  const v4 = `${HEADER}  1: 0100007F:0035 00000000:0000 07 00000000:00000000 00:00000000 00000000  0  0 111 2 0000000000000000 17\n`
    + '  2: 0100007F:D431 0100007F:0035 01 00000000:00000000 00:00000000 00000000  0  0 222 2 0000000000000000 5\n'
    + '  3: 00000000:0035 00000000:0000 07 00000000:00000000 00:00000000 00000000  0  0 333 2 0000000000000000 9\n';
  assert.deepEqual(parseProcNetUdp(v4, new Set(['111', '222'])), [{ listener: '127.0.0.1:53', drops: 17 }], 'connected 222 and foreign 333 left out');
  const v6 = `${HEADER}  4: 00000000000000000000000001000000:0035 00000000000000000000000000000000:0000 07 00000000:00000000 00:00000000 00000000 0 0 444 2 0000000000000000 3\n`
    + '  5: 00000000000000000000000000000000:1035 00000000000000000000000000000000:0000 07 00000000:00000000 00:00000000 00000000 0 0 555 2 0000000000000000 0\n';
  assert.deepEqual(parseProcNetUdp(v6, new Set(['444', '555'])), [{ listener: '[::1]:53', drops: 3 }, { listener: '[::]:4149', drops: 0 }]);
});

test('a full receive buffer: the kernel drops, and the count is reported for that socket', async () => {
  const sink = await bindLoopbackUdp();
  const sender = await bindLoopbackUdp();
  try {
    sink.setRecvBufferSize(4096); // the kernel's floor is a few KiB: a bounded burst overflows it
    sink.on('message', () => { /* never reached while the burst is sent synchronously */ });
    const listener = `127.0.0.1:${sink.address().port}`;
    const before = udpSocketDrops().find((d) => d.listener === listener);
    assert.deepEqual(before, { listener, drops: 0 });
    const datagram = Buffer.alloc(512);
    let sent = 0;
    // Bounded: 500 datagrams, far more than 4 KiB holds; waits for every send to leave.
    await new Promise<void>((resolve) => { for (let i = 0; i < 500; i++) sender.send(datagram, sink.address().port, '127.0.0.1', () => { if (++sent === 500) resolve(); }); });
    assert.ok(await ioUntil(() => (udpSocketDrops().find((d) => d.listener === listener)?.drops ?? 0) > 0), 'drops counted');
    assert.equal(udpSocketDrops().some((d) => d.listener === `127.0.0.1:${sender.address().port}`), true, 'an unconnected socket of ours is listed too');
  } finally {
    sink.close();
    sender.close();
  }
});
