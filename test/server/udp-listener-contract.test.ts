/**
 * @module test/server/udp-listener-contract.test
 * One contract for both UDP listeners, the node:dgram one and the native
 * batch one (src/server/udp-batch, recvmmsg/sendmmsg): the same server on
 * 127.0.0.1 must answer with the ID and question echoed, answer every query
 * of a burst exactly once, report the client's own address and port, survive
 * junk datagrams, count each query once in the request and duration metrics
 * (no duration longer than the time the queries were outstanding), ask for a
 * burst-sized receive buffer (said in the start-up lines), have its kernel
 * drops exported as coredns_udp_receive_drops_total, and free its port on stop. The batch addon is built first when it is not.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { Type } from '../../src/dns/constants.ts';
import { decodeMessage } from '../../src/dns/message.ts';
import { receiveBufferLines } from '../../src/app/run.ts';
import { UDP_RECV_BUFFER_BYTES } from '../../src/server/udp-listener.ts';
import { ADDON_PATH, loadUdpBatch } from '../../src/server/udp-batch/addon.ts';
import { buildUdpBatch } from '../../src/server/udp-batch/build.ts';
import { samples, scrape } from '../ops/ops-support.ts';
import { startServer, type TestServer } from '../support/harness.ts';
import { bindLoopbackUdp, UdpClient } from '../support/udp-client.ts';
import { query } from './helpers/wire.ts';

const COREFILE = '.:0 {\n  bind 127.0.0.1\n  prometheus 127.0.0.1:0\n  whoami\n}\n';
const BURST = 200;

function udpListenerContract(kind: 'dgram' | 'batch'): void {
  describe(`UDP listener contract: ${kind}`, () => {
    let srv: TestServer;
    let metricsPort: number;
    let sent = 0;

    before(async () => {
      if (kind === 'batch') {
        if (!existsSync(ADDON_PATH)) buildUdpBatch();
        assert.ok(loadUdpBatch(), 'the batch addon loads');
      }
      srv = await startServer(COREFILE, { udpBatch: kind === 'batch' });
      assert.equal(srv.app.server.udpPath, kind, 'the listener under test is the one serving');
      metricsPort = srv.app.services.http.port('127.0.0.1:0')!;
    });
    after(async () => { await srv.stop(); });

    it('answers with the ID and the question (case kept) echoed, and the client address and port', async () => {
      const c = await UdpClient.open(srv.port);
      try {
        const q = query('WhoAmI.Example.', Type.A, { id: 0x5151 });
        const r = await c.exchange(q, 2000);
        sent++;
        assert.ok(r, 'a reply');
        const m = decodeMessage(r);
        assert.equal(m.id, 0x5151);
        // The question section byte for byte (case kept): name, type, class after the 12-byte header.
        const qlen = 'WhoAmI.Example.'.length + 1 + 4;
        assert.deepEqual(r.subarray(12, 12 + qlen), q.subarray(12, 12 + qlen));
        const a = m.additional.find((x) => x.type === Type.A)!;
        assert.deepEqual([...a.data], [127, 0, 0, 1], 'the client is plain IPv4');
        const port = m.additional.find((x) => x.type === Type.SRV)!;
        assert.equal(Buffer.from(port.data).readUInt16BE(4), c.localPort, 'the client source port');
      } finally {
        await c.close();
      }
    });

    it(`answers every query of a ${BURST}-query burst exactly once`, async () => {
      const c = await UdpClient.open(srv.port);
      try {
        for (let i = 0; i < BURST; i++) c.send(query(`b${i}.example.`, Type.A, { id: i + 1 }));
        sent += BURST;
        const seen = new Map<number, number>();
        for (let i = 0; i < BURST; i++) {
          const r = await c.next(5000);
          assert.ok(r, `reply ${i} of ${BURST}`);
          const id = r.readUInt16BE(0);
          assert.equal(decodeMessage(r).question[0]!.name, `b${id - 1}.example.`, 'each reply answers its own query');
          seen.set(id, (seen.get(id) ?? 0) + 1);
        }
        assert.equal(seen.size, BURST);
        assert.ok([...seen.values()].every((n) => n === 1));
      } finally {
        await c.close();
      }
    });

    it('junk datagrams do not stop it: the next good query is answered', async () => {
      const c = await UdpClient.open(srv.port);
      try {
        for (const junk of [Buffer.alloc(0), Buffer.from([1, 2, 3]), Buffer.alloc(12, 0xff)]) c.send(junk);
        const r = await c.nextWithId(0x0bad, 0).catch(() => null);
        assert.equal(r, null);
        const good = await c.query('after-junk.example.', Type.A, { timeoutMs: 2000 });
        sent++;
        assert.equal(good.question[0]!.name, 'after-junk.example.');
      } finally {
        await c.close();
      }
    });

    it('counts each answered query once, with durations no longer than the queries were outstanding', async () => {
      // A fresh burst timed from the first send to the last reply: no query's duration can exceed that.
      const c = await UdpClient.open(srv.port);
      const before = await scrape(metricsPort);
      const countBefore = samples(before, 'coredns_dns_request_duration_seconds').reduce((n, s) => n + (s.count ?? 0), 0);
      const sumBefore = samples(before, 'coredns_dns_request_duration_seconds').reduce((n, s) => n + (s.sum ?? 0), 0);
      const start = performance.now();
      try {
        for (let i = 0; i < 50; i++) c.send(query(`d${i}.example.`, Type.A, { id: 1000 + i }));
        for (let i = 0; i < 50; i++) assert.ok(await c.next(5000), `reply ${i} of 50`);
      } finally {
        await c.close();
      }
      const outstanding = (performance.now() - start) / 1000;
      sent += 50;
      const m = await scrape(metricsPort);
      const requests = samples(m, 'coredns_dns_requests_total', { proto: 'udp' }).reduce((n, s) => n + (s.value ?? 0), 0);
      assert.ok(requests >= sent, `${requests} udp requests counted, ${sent} answered (junk may count as well)`);
      const d = samples(m, 'coredns_dns_request_duration_seconds');
      const count = d.reduce((n, s) => n + (s.count ?? 0), 0) - countBefore;
      const sum = d.reduce((n, s) => n + (s.sum ?? 0), 0) - sumBefore;
      assert.equal(count, 50, 'one duration per query');
      assert.ok(sum >= 0 && sum <= 50 * outstanding, `50 durations summing to ${sum} s within ${outstanding} s outstanding each at most`);
    });

    it('asks for a burst-sized receive buffer, says what it got at start, and exports its kernel drops', async () => {
      // Linux grants min(asked, net.core.rmem_max) and reports twice that (its bookkeeping share).
      const rmemMax = Number(readFileSync('/proc/sys/net/core/rmem_max', 'utf8'));
      const granted = Math.min(UDP_RECV_BUFFER_BYTES, rmemMax);
      const bound = srv.app.server.boundPorts().find((b) => b.port === srv.port)!;
      assert.equal(bound.recvBufferBytes, 2 * granted, 'the socket got the burst-sized buffer (as far as rmem_max lets it)');
      assert.deepEqual(receiveBufferLines(srv.app),
        [`UDP receive buffer of 127.0.0.1:${srv.port}: ${granted} bytes of ${UDP_RECV_BUFFER_BYTES} asked (net.core.rmem_max caps it)`]);
      const drops = samples(await scrape(metricsPort), 'coredns_udp_receive_drops_total', { listener: `127.0.0.1:${srv.port}` });
      assert.equal(drops.length, 1, 'the listening socket has its drop counter');
      assert.equal(drops[0]!.value, 0, 'nothing dropped by these bounded bursts');
    });

    it('frees its port on stop', async () => {
      const port = srv.port;
      await srv.stop();
      const s = await bindLoopbackUdp('127.0.0.1', port);
      await new Promise<void>((r) => { s.close(() => r()); });
    });
  });
}

udpListenerContract('dgram');
udpListenerContract('batch');
