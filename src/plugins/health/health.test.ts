/**
 * @module plugins/health/health.test
 * The health plugin: option parser; /health 200 "OK"; the once-a-second
 * self-probe and its metrics (and a failing probe); lameduck keeps DNS and
 * /health answering after stop begins, and a reload never goes lameduck;
 * health, ready and metrics share one listener when they name one address.
 */
import { test } from 'node:test';
import { setupError } from '../../../test/support/setup-error.ts';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Class, Type } from '../../dns/constants.ts';
import { memoryLogger } from '../../log/logger.ts';
import { ProcessServices } from '../../plugin/process-services.ts';
import { startServer } from '../../../test/support/harness.ts';
import { waitUntil } from '../../../test/support/wait-until.ts';
import { bucketsOf, httpGet, samples, scrape, total } from '../../../test/ops/ops-support.ts';
import { goDuration, HealthProbe, healthMetrics, probeUrl } from './health.ts';
import { UdpClient } from '../../../test/support/udp-client.ts';

test('health options: valid and invalid snippets', () => {
  for (const c of ['. {\n  health\n}', '. {\n  health :8080\n}', '. {\n  health 127.0.0.1:8080 {\n    lameduck 5s\n  }\n}', '. {\n  health {\n    lameduck 1m30s\n  }\n}']) {
    assert.equal(setupError(c), '', c);
  }
  const invalid: [string, string][] = [
    ['. {\n  health 8080\n}', "Corefile:2: plugin/health: '8080' is not an address with a port (HOST:PORT or :PORT)"],
    ['. {\n  health :1 :2\n}', "Corefile:2: plugin/health: 'health' takes 0 to 1 arguments, got 2"],
    ['. {\n  health {\n    lameduck\n  }\n}', "Corefile:3: plugin/health: 'lameduck' takes 1 argument, got 0"],
    ['. {\n  health {\n    lameduck soon\n  }\n}', "Corefile:3: plugin/health: lameduck 'soon' is not a duration (like 5s, 1m, 250ms)"],
    ['. {\n  health {\n    monitor continuously\n  }\n}', "Corefile:3: plugin/health: unknown property 'monitor'"],
  ];
  for (const [c, want] of invalid) assert.equal(setupError(c), want, c);
});

test('goDuration and probeUrl', () => {
  assert.deepEqual([500, 1000, 5000, 1500, 90_000, 3_600_000].map(goDuration), ['500ms', '1s', '5s', '1.5s', '1m30s', '1h0m0s']);
  assert.equal(probeUrl(':8080', 8080), 'http://127.0.0.1:8080/health');
  assert.equal(probeUrl('[::]:8080', 8080), 'http://[::1]:8080/health');
  assert.equal(probeUrl('localhost:0', 4321), 'http://localhost:4321/health');
});

test('/health answers 200 "OK"; the self-probe fills its histogram; metrics, health and ready share one listener', async () => {
  const srv = await startServer('.:0 {\n  bind 127.0.0.1\n  health 127.0.0.1:0\n  ready 127.0.0.1:0\n  prometheus 127.0.0.1:0\n  whoami\n}\n');
  try {
    const port = srv.app.services.http.port('127.0.0.1:0')!;
    assert.deepEqual(await httpGet(port, '/health').then((a) => [a.status, a.body]), [200, 'OK']);
    assert.equal((await httpGet(port, '/ready')).status, 200);
    assert.equal((await httpGet(port, '/nothing')).status, 404);
    let probes = 0;
    for (let i = 0; i < 40 && probes === 0; i++) {
      probes = total(await scrape(port), 'coredns_health_request_duration_seconds');
      if (probes === 0) await new Promise((r) => setTimeout(r, 100));
    }
    assert.ok(probes >= 1, 'the self-probe ran within 4 s');
    const m = await scrape(port);
    assert.deepEqual(bucketsOf(samples(m, 'coredns_health_request_duration_seconds')[0]!).bounds, ['0.00025', '0.0025', '0.025', '0.25', '2.5', '+Inf']);
    assert.equal(total(m, 'coredns_health_request_failures_total'), 0);
  } finally {
    await srv.stop();
  }
});

test('a failing probe counts a failure and warns', async () => {
  const closed = createServer();
  await new Promise<void>((r) => { closed.listen(0, '127.0.0.1', () => r()); });
  const port = (closed.address() as { port: number }).port;
  await new Promise<void>((r) => { closed.close(() => r()); });
  const logger = memoryLogger();
  const services = new ProcessServices({ logger });
  const metrics = healthMetrics(services);
  const probe = new HealthProbe(`http://127.0.0.1:${port}/health`, metrics, logger.plugin('health'));
  probe.probe();
  await waitUntil(() => logger.lines.length > 0, { message: 'the probe failed and logged' });
  probe.stop();
  assert.equal((await metrics.failures.get()).values[0]!.value, 1);
  assert.equal(logger.lines[0], `[WARNING] plugin/health: Local health request to "http://127.0.0.1:${port}/health" failed: connect ECONNREFUSED 127.0.0.1:${port}`);
});

test('lameduck: after stop begins DNS and /health keep answering for the duration, then everything closes', async () => {
  const srv = await startServer('.:0 {\n  bind 127.0.0.1\n  health 127.0.0.1:0 {\n    lameduck 1s\n  }\n  chaos lameduck-test\n}\n');
  const port = srv.app.services.http.port('127.0.0.1:0')!;
  const client = await UdpClient.open(srv.port);
  try {
    const stopping = srv.stop();
    try {
      assert.ok(srv.logs.includes('[INFO] plugin/health: Going into lameduck mode for 1s'), srv.logs.join('\n'));
      assert.deepEqual(await httpGet(port, '/health').then((a) => [a.status, a.body]), [200, 'OK']);
      const m = await client.query('version.bind.', Type.TXT, { qclass: Class.CH });
      assert.equal(m.answer.length, 1, 'DNS still answers during lameduck');
    } finally {
      await stopping;
    }
    await assert.rejects(httpGet(port, '/health'), /ECONNREFUSED/);
    await assert.rejects(client.query('version.bind.', Type.TXT, { qclass: Class.CH, timeoutMs: 300 }), /no reply/);
  } finally {
    await client.close();
  }
});

test('a reload never goes lameduck, and dropping health closes its listener', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'clusterdns-health-'));
  try {
    const file = join(dir, 'Corefile');
    writeFileSync(file, '.:0 {\n  bind 127.0.0.1\n  health 127.0.0.1:0 {\n    lameduck 30s\n  }\n  chaos one\n}\n');
    const srv = await startServer('', { path: file });
    try {
      const port = srv.app.services.http.port('127.0.0.1:0')!;
      writeFileSync(file, '.:0 {\n  bind 127.0.0.1\n  health 127.0.0.1:0 {\n    lameduck 30s\n  }\n  chaos two\n}\n');
      const outcome = await Promise.race([srv.app.reload(), new Promise((r) => setTimeout(() => r('lameduck'), 10_000).unref())]);
      assert.equal(outcome, true);
      assert.equal(srv.logs.some((l) => l.includes('lameduck mode')), false);
      assert.equal((await httpGet(port, '/health')).status, 200, 'the same listener');
      writeFileSync(file, '.:0 {\n  bind 127.0.0.1\n  chaos three\n}\n');
      assert.equal(await srv.app.reload(), true);
      await assert.rejects(httpGet(port, '/health'), /ECONNREFUSED/);
      assert.equal(srv.app.services.lameduck.longest(), null, 'no lameduck without health');
    } finally {
      await srv.stop();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
