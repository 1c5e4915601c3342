/**
 * @module cluster/api/request-limits.test
 * apiserver_qps / apiserver_burst / apiserver_max_inflight through the real
 * source and client, counted at the server: request starts stay within
 * BURST + QPS x elapsed, a server that never answers receives no more than
 * MAX requests at once, open watches do not hold in-flight slots, and the
 * client observer sees every request with its status code.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { FakeApiServer } from '../../../test/support/fake-apiserver.ts';
import { namespaceObject, serviceObject } from '../../../test/support/fake-objects.ts';
import { RecordingLogger } from '../../../test/support/recording-logger.ts';
import { RecordingSink } from '../../../test/support/recording-sink.ts';
import { delay, waitUntil } from '../../../test/support/wait-until.ts';
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

test('apiserver_qps + apiserver_burst: request starts (list pages, watch starts) stay within BURST + QPS x elapsed', async () => {
  const server = new FakeApiServer();
  const { url } = await server.start();
  server.create(namespaceObject('default'));
  for (let i = 0; i < 8; i++) server.create(serviceObject('default', `s${i}`, `10.0.0.${i + 1}`));
  const observer = new CountingObserver();
  const qps = 20;
  const burst = 2;
  const source = new KubernetesApiSource({
    endpoint: url, ...ALL_KINDS, logger: new RecordingLogger(), pageSize: 1,
    limits: { qps, burst, maxInflight: 0 },
    clientObserver: (host) => { observer.hosts.add(host); return observer; },
  });
  const start = Date.now();
  try {
    source.start(new RecordingSink());
    // 8 service pages + 3 other lists + 4 watch starts = 15 requests; sample the count as they come.
    for (let i = 0; i < 250 && server.openWatches < 4; i++) {
      const elapsed = (Date.now() - start) / 1000;
      const seen = server.requestLog.length;
      assert.ok(seen <= burst + qps * elapsed + 1, `${seen} requests after ${elapsed.toFixed(3)} s`);
      await delay(20);
    }
    assert.equal(server.openWatches, 4);
    assert.equal(server.requestLog.length, 15);
    const elapsed = (Date.now() - start) / 1000;
    assert.ok(elapsed >= (15 - burst - 1) / qps, `15 requests took only ${elapsed} s`);
    assert.equal(observer.limiterWaits.length, 15, 'every request passed the limiter');
    assert.ok(observer.limiterWaits.filter((s) => s > 0.02).length >= 10, 'most waited for a token');
    assert.deepEqual([...observer.hosts], [new URL(url).host]);
    assert.equal(observer.codes.length, 15);
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
      await waitUntil(() => silent.received() >= expected, { timeoutMs: 2000 });
      await delay(150); // time for any request beyond the cap to arrive
      assert.equal(silent.received(), expected, `max_inflight ${maxInflight}`);
      assert.equal(source.limiter?.peakInflight ?? expected, expected);
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
    assert.equal(source.limiter?.peakInflight, 1);
    assert.equal(source.limiter?.inflight, 0, 'watch streams released their slots');
    assert.deepEqual(observer.codes.filter((c) => c !== '200'), ['500', '500']);
    // Later changes still flow through the open watches.
    server.create(namespaceObject('later'));
    await waitUntil(() => source.status().find((s) => s.kind === 'Namespace')!.events >= 1);
  } finally {
    await source.stop();
    await server.stop();
  }
});
