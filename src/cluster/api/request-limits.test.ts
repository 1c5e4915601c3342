/**
 * @module cluster/api/request-limits.test
 * apiserver_qps / apiserver_burst / apiserver_max_inflight through the real
 * source and client, counted at the server: request starts stay within
 * BURST + QPS x elapsed, a server that never answers receives no more than
 * MAX requests at once, open watches do not hold in-flight slots, and the
 * client observer sees every request with its status code.
 */
import { mock, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { FakeApiServer } from '../../../test/support/fake-apiserver.ts';
import { namespaceObject, serviceObject } from '../../../test/support/fake-objects.ts';
import { RecordingLogger } from '../../../test/support/recording-logger.ts';
import { RecordingSink } from '../../../test/support/recording-sink.ts';
import { ioUntil, waitUntil } from '../../../test/support/wait-until.ts';
import type { RestClientObserver } from './client.ts';
import { KubernetesApiSource } from './source.ts';

const ALL_KINDS = { watchPods: true, watchEndpoints: true } as const;

class CountingObserver implements RestClientObserver {
  readonly codes: string[] = [];
  readonly limiterWaits: number[] = [];
  hosts = new Set<string>();
  requestDone(code: string): void {
    this.codes.push(code);
  }
  rateLimited(seconds: number): void {
    this.limiterWaits.push(seconds);
  }
}

/** An HTTP server that takes requests and never answers them (an API server stuck behind a load balancer). */
async function silentServer(): Promise<{ url: string; received: () => number; close: () => Promise<void> }> {
  let received = 0;
  const sockets = new Set<Socket>();
  const server = http.createServer(() => { received++; });
  server.on('connection', (s: Socket) => { sockets.add(s); s.on('close', () => sockets.delete(s)); });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    received: () => received,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

test('apiserver_qps + apiserver_burst: request starts (list pages, watch starts) stay within BURST + QPS x elapsed', async (t) => {
  const server = new FakeApiServer();
  const { url } = await server.start();
  server.create(namespaceObject('default'));
  for (let i = 0; i < 8; i++) server.create(serviceObject('default', `s${i}`, `10.0.0.${i + 1}`));
  const observer = new CountingObserver();
  const qps = 20;
  const burst = 2;
  mock.timers.enable({ apis: ['setTimeout', 'Date'], now: 0 });
  t.after(() => { mock.timers.reset(); });
  const source = new KubernetesApiSource({
    endpoint: url, ...ALL_KINDS, logger: new RecordingLogger(), pageSize: 1,
    limits: { qps, burst, maxInflight: 0 },
    clientObserver: (host) => { observer.hosts.add(host); return observer; },
  });
  try {
    source.start(new RecordingSink());
    // 8 service pages + 3 other lists + 4 watch starts = 15 requests. The limiter's clock moves only
    // by tick (10 ms steps); at each step at most BURST + QPS x elapsed requests have started.
    let elapsedMs = 0;
    while (server.openWatches < 4 && elapsedMs < 5000) {
      // Whatever the current tokens allow reaches the server (or all 15 are in) before time moves on.
      const allowed = Math.min(15, burst + Math.floor((qps * elapsedMs) / 1000));
      assert.ok(await ioUntil(() => server.requestLog.length >= allowed), `${server.requestLog.length} of ${allowed} requests at ${elapsedMs} ms`);
      assert.ok(server.requestLog.length <= allowed, `${server.requestLog.length} requests at ${elapsedMs} ms, only ${allowed} allowed`);
      mock.timers.tick(10);
      elapsedMs += 10;
    }
    assert.ok(await ioUntil(() => server.openWatches === 4 && server.requestLog.length === 15), `${server.openWatches} watches, ${server.requestLog.length} requests`);
    assert.ok(elapsedMs >= ((15 - burst) / qps) * 1000, `15 requests in ${elapsedMs} ms of the limiter's clock`);
    assert.equal(observer.limiterWaits.length, 15, 'every request passed the limiter');
    assert.ok(observer.limiterWaits.some((s) => s > 0), 'requests beyond the burst waited for a token');
    assert.deepEqual([...observer.hosts], [new URL(url).host]);
    // The server counts a watch open before its response headers reach the client (the 14 !== 15 flake):
    // wait for the client's own report of the last one.
    assert.ok(await ioUntil(() => observer.codes.length === 15), `${observer.codes.length} of 15 requests reported done`);
    assert.ok(observer.codes.every((c) => c === '200'));
  } finally {
    await source.stop();
    await server.stop();
  }
});

test('apiserver_max_inflight: a server that never answers gets at most MAX requests at once', async () => {
  for (const [maxInflight, expected] of [[1, 1], [3, 3], [0, 4]] as const) {
    const silent = await silentServer();
    const source = new KubernetesApiSource({
      endpoint: silent.url, ...ALL_KINDS, logger: new RecordingLogger(), limits: { qps: 0, burst: 0, maxInflight },
    });
    try {
      source.start(new RecordingSink());
      // The source starts four lists at once; beyond the cap they wait in the limiter, so the server
      // has all it will ever get while they wait (no reply comes to free a slot).
      const limiter = source.limiter;
      if (maxInflight === 0) assert.equal(limiter, null, 'no cap, no limiter');
      await waitUntil(() => silent.received() >= expected && (limiter === null || limiter.waiting === 4 - expected), { timeoutMs: 5000 });
      assert.equal(silent.received(), expected, `max_inflight ${maxInflight}`);
      if (limiter !== null) {
        assert.equal(limiter.inflight, expected);
        assert.equal(limiter.peakInflight, expected);
      }
    } finally {
      await source.stop();
      await silent.close();
    }
  }
});

test('open watches hold no in-flight slot: max_inflight 1 still syncs and watches all four kinds', async () => {
  const server = new FakeApiServer();
  const { url } = await server.start();
  server.create(namespaceObject('default'));
  server.failNext('/api/v1/services', 500, 2);
  const observer = new CountingObserver();
  const source = new KubernetesApiSource({
    endpoint: url, ...ALL_KINDS, logger: new RecordingLogger(), backoff: { initialMs: 2, maxMs: 20 },
    limits: { qps: 0, burst: 0, maxInflight: 1 }, clientObserver: () => observer,
  });
  try {
    source.start(new RecordingSink());
    assert.equal(await source.waitForSync(3000), true);
    await waitUntil(() => server.openWatches === 4, { timeoutMs: 3000 });
    // The server counts a watch open before its headers reach the client, and the slot is released on the
    // headers: wait for the client's side (the same race as the 14 !== 15 flake above).
    await waitUntil(() => source.limiter?.inflight === 0, { timeoutMs: 3000, message: 'watch streams released their slots' });
    assert.equal(source.limiter?.peakInflight, 1);
    assert.deepEqual(observer.codes.filter((c) => c !== '200'), ['500', '500']);
    // Later changes still flow through the open watches.
    server.create(namespaceObject('later'));
    await waitUntil(() => source.status().find((s) => s.kind === 'Namespace')!.events >= 1);
  } finally {
    await source.stop();
    await server.stop();
  }
});
