/**
 * @module test/server/panics.test
 * A plugin that throws (or whose promise rejects) is never silent: SERVFAIL
 * to the client, one ERROR line naming the plugin and the query, with or
 * without `errors` in the block, counted in coredns_panics_total; the log is
 * rate-limited per plugin (one line per second, then a count of the rest);
 * a reply observer that throws does not keep the others from the reply.
 */
import { mock, test } from 'node:test';
import assert from 'node:assert/strict';
import { Type } from '../../src/dns/constants.ts';
import { encodeQuery } from '../../src/dns/message.ts';
import { parseQuery, DnsRequest, type ParsedQuestion } from '../../src/dns/request.ts';
import { memoryLogger } from '../../src/log/logger.ts';
import { PanicLog } from '../../src/server/panic.ts';
import { dig } from '../support/harness.ts';
import { scrape, total } from '../ops/ops-support.ts';
import { startTestServer } from './helpers/server.ts';

const panicLines = (logs: readonly string[]): string[] => logs.filter((l) => l.includes('panic'));

test('a throwing handler without errors: SERVFAIL, an ERROR line with plugin and query, coredns_panics_total', async () => {
  const s = await startTestServer('.:0 {\n bind 127.0.0.1\n prometheus 127.0.0.1:0\n fail_with throw boom\n}\n');
  try {
    assert.equal((await dig(s.port, 'x.example', 'A')).status, 'SERVFAIL');
    assert.deepEqual(panicLines(s.logs), ['[ERROR] plugin/fail_with: panic serving "x.example. A" for 127.0.0.1: boom']);
    const metrics = await scrape(s.app.services.http.port('127.0.0.1:0')!);
    assert.equal(total(metrics, 'coredns_panics_total'), 1);
    // The server keeps serving, and TCP is reported the same way.
    assert.equal((await dig(s.port, '+tcp', 'y.example', 'AAAA')).status, 'SERVFAIL');
    assert.equal(s.app.server.stats.panics, 2);
  } finally {
    await s.stop();
  }
});

test('a rejected promise is reported under the plugin that returned it', async () => {
  const s = await startTestServer('.:0 {\n bind 127.0.0.1\n fail_with reject gone\n}\n');
  try {
    assert.equal((await dig(s.port, 'z.example', 'TXT')).status, 'SERVFAIL');
    assert.deepEqual(panicLines(s.logs), ['[ERROR] plugin/fail_with: panic serving "z.example. TXT" for 127.0.0.1: gone']);
    assert.equal(s.app.server.stats.panics, 1);
  } finally {
    await s.stop();
  }
});

test('with errors in the block: errors prints its line, and the panic is still logged and counted once', async () => {
  const s = await startTestServer('.:0 {\n bind 127.0.0.1\n errors\n log\n fail_with throw boom\n}\n');
  try {
    assert.equal((await dig(s.port, 'x.example', 'A')).status, 'SERVFAIL');
    assert.ok(s.logs.includes('[ERROR] plugin/errors: 2 x.example. A: boom'), s.logs.join('\n'));
    assert.deepEqual(panicLines(s.logs), ['[ERROR] plugin/fail_with: panic serving "x.example. A" for 127.0.0.1: boom']);
    assert.equal(s.app.server.stats.panics, 1);
  } finally {
    await s.stop();
  }
});

test('a plain error reply (no throw) is not a panic', async () => {
  const s = await startTestServer('.:0 {\n bind 127.0.0.1\n errors\n fail_with reply refused\n}\n');
  try {
    assert.equal((await dig(s.port, 'x.example', 'A')).status, 'SERVFAIL');
    assert.deepEqual(panicLines(s.logs), []);
    assert.equal(s.app.server.stats.panics, 0);
  } finally {
    await s.stop();
  }
});

test('one throwing reply observer does not keep the query log (the next observer) from the reply', async () => {
  const s = await startTestServer('.:0 {\n bind 127.0.0.1\n throwing_observer oops\n log\n whoami\n}\n');
  try {
    assert.equal((await dig(s.port, 'w.example', 'A')).status, 'NOERROR');
    assert.equal(s.logs.filter((l) => l.includes('"A IN w.example. udp')).length, 1, s.logs.join('\n'));
    assert.deepEqual(panicLines(s.logs), ['[ERROR] plugin/throwing_observer: panic serving "w.example. A" for 127.0.0.1: oops']);
    assert.equal(s.app.server.stats.panics, 1);
  } finally {
    await s.stop();
  }
});

test('the panic log: at most one line per second per plugin, then the count of the rest', () => {
  mock.timers.enable({ apis: ['setTimeout', 'Date'], now: 1_000_000 });
  try {
    const logger = memoryLogger();
    const log = new PanicLog(logger, Date.now);
    const raw = encodeQuery('a.example.', Type.A);
    const req = new DnsRequest(raw, parseQuery(raw) as ParsedQuestion, 'udp', '10.0.0.7', 1, '127.0.0.1', 53, 0);
    for (let i = 0; i < 50; i++) log.report('kubernetes', req, new Error(`e${i}`));
    log.report('cache', req, new Error('other'));
    assert.deepEqual(logger.lines, [
      '[ERROR] plugin/kubernetes: panic serving "a.example. A" for 10.0.0.7: e0',
      '[ERROR] plugin/cache: panic serving "a.example. A" for 10.0.0.7: other',
    ]);
    mock.timers.tick(999);
    assert.equal(logger.lines.length, 2, 'nothing more inside the second');
    mock.timers.tick(1);
    assert.equal(logger.lines[2], '[ERROR] plugin/kubernetes: 49 more panics in the last 1s');
    // Right after a summary line the next panic waits for the next second too.
    log.report('kubernetes', req, new Error('late'));
    assert.equal(logger.lines.length, 3);
    mock.timers.tick(1000);
    assert.equal(logger.lines[3], '[ERROR] plugin/kubernetes: 1 more panic in the last 1s');
    // A quiet second later, the next one is printed in full at once.
    mock.timers.tick(5000);
    log.report('kubernetes', req, new Error('again'));
    assert.equal(logger.lines[4], '[ERROR] plugin/kubernetes: panic serving "a.example. A" for 10.0.0.7: again');
    assert.equal(logger.lines.length, 5);
  } finally {
    mock.timers.reset();
  }
});

test('stopping the server prints the count still pending', async () => {
  const s = await startTestServer('.:0 {\n bind 127.0.0.1\n fail_with throw boom\n}\n');
  for (let i = 0; i < 3; i++) assert.equal((await dig(s.port, `n${i}.example`, 'A')).status, 'SERVFAIL');
  await s.stop();
  assert.deepEqual(panicLines(s.logs), [
    '[ERROR] plugin/fail_with: panic serving "n0.example. A" for 127.0.0.1: boom',
    '[ERROR] plugin/fail_with: 2 more panics in the last 1s',
  ]);
  assert.equal(s.app.server.stats.panics, 3);
});
