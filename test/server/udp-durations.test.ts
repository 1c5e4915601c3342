/**
 * @module test/server/udp-durations.test
 * Both UDP listeners (node:dgram and the recvmmsg/sendmmsg batch path) give
 * each query a start time from the clock, so the duration the query log
 * prints ({duration}) and the request-duration histogram are the query's
 * own. Checked against bounds read from the same clock around the exchange:
 * every duration lies between zero and the time from the first send to the
 * last reply (no threshold on how fast anything is). The batch path once
 * took the slot offset in its input buffer for the start time.
 * Also: the path is chosen at start, with the start-up line saying which.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { before, test } from 'node:test';
import { Type } from '../../src/dns/constants.ts';
import { ADDON_PATH, BATCH_ENV, loadUdpBatch, udpPathChoice } from '../../src/server/udp-batch/addon.ts';
import { buildUdpBatch } from '../../src/server/udp-batch/build.ts';
import { samples, scrape } from '../ops/ops-support.ts';
import { startTestServer } from './helpers/server.ts';
import { query } from './helpers/wire.ts';
import { UdpClient } from '../support/udp-client.ts';

const QUERIES = 32;

before(() => {
  if (!existsSync(ADDON_PATH)) buildUdpBatch();
  assert.ok(loadUdpBatch(), 'the addon loads');
});

/** Starts a server with the UDP path forced by the environment (the choice is made when the first listener opens). */
async function startOn(path: 'dgram' | 'batch'): Promise<Awaited<ReturnType<typeof startTestServer>>> {
  const saved = process.env[BATCH_ENV];
  process.env[BATCH_ENV] = path === 'batch' ? '' : '0';
  try {
    return await startTestServer('.:0 {\n bind 127.0.0.1\n prometheus 127.0.0.1:0\n log\n whoami\n}\n');
  } finally {
    if (saved === undefined) delete process.env[BATCH_ENV];
    else process.env[BATCH_ENV] = saved;
  }
}

for (const path of ['dgram', 'batch'] as const) {
  test(`${path}: query-log durations and the duration histogram lie within the exchange`, async () => {
    const s = await startOn(path);
    const client = await UdpClient.open(s.port);
    try {
      assert.equal(s.app.server.udpPath, path);
      const t0 = performance.now();
      // A burst: on the batch path several queries share one recvmmsg, so datagrams at slot offsets > 0 are covered.
      for (let i = 0; i < QUERIES; i++) client.send(query(`q${i}.example.`, Type.A, { id: i + 1 }));
      for (let i = 0; i < QUERIES; i++) assert.ok(await client.next(3000), `reply ${i + 1} of ${QUERIES}`);
      const windowSeconds = (performance.now() - t0) / 1000;
      const durations = s.logs.filter((l) => l.includes(' "A IN q')).map((l) => Number(/ ([\d.]+)s$/.exec(l)![1]));
      assert.equal(durations.length, QUERIES);
      for (const d of durations) {
        assert.ok(d >= 0 && d <= windowSeconds, `duration ${d}s outside [0, ${windowSeconds}s]`);
      }
      const metrics = await scrape(s.app.services.http.port('127.0.0.1:0')!);
      const histogram = samples(metrics, 'coredns_dns_request_duration_seconds');
      assert.equal(histogram.reduce((n, h) => n + (h.count ?? 0), 0), QUERIES);
      const sum = histogram.reduce((n, h) => n + (h.sum ?? 0), 0);
      assert.ok(sum >= 0 && sum <= QUERIES * windowSeconds, `histogram sum ${sum}s outside [0, ${QUERIES * windowSeconds}s]`);
    } finally {
      await client.close();
      await s.stop();
    }
  });
}

test('the UDP path is chosen at start, with the line that says so', async () => {
  const s = await startOn('batch');
  try {
    assert.match(s.app.server.udpPathMessage, /^UDP on batched I\/O \(recvmmsg\/sendmmsg, up to \d+ datagrams a call\)$/);
  } finally {
    await s.stop();
  }
  const d = await startOn('dgram');
  try {
    assert.equal(d.app.server.udpPathMessage, `UDP on node:dgram (${BATCH_ENV}=0)`);
  } finally {
    await d.stop();
  }
});

test('without a usable addon the server falls back to node:dgram and says why; elsewhere than Linux too', () => {
  const missing = udpPathChoice({}, 'linux', () => null);
  assert.equal(missing.addon, null);
  assert.match(missing.message, /^UDP on node:dgram \(batched I\/O unavailable: /);
  assert.deepEqual(udpPathChoice({}, 'darwin', () => { throw new Error('not loaded off Linux'); }),
    { addon: null, message: 'UDP on node:dgram (batched I/O needs Linux, this is darwin)' });
  assert.notEqual(udpPathChoice({}, 'linux').addon, null, 'on Linux with the addon built, batches are the default');
});
