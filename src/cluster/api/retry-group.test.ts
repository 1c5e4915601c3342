/**
 * @module cluster/api/retry-group.test
 * How fast a returning API server is picked up (the soak saw names created
 * during an outage appear ~30 s after it ended): an unreachable server is
 * retried at most unreachableMaxMs apart, and when one reflector of the
 * server reconnects the others retry at once. Time is node:test's mock
 * timers; the transport is a scripted one (no sockets, so no real timers).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type http from 'node:http';
import { PassThrough, Readable } from 'node:stream';
import { RecordingLogger } from '../../../test/support/recording-logger.ts';
import { RecordingSink } from '../../../test/support/recording-sink.ts';
import { ApiError, type ApiTransport, type OpenOptions } from './client.ts';
import { backoffDelay, isUnreachable, Reflector } from './reflector.ts';
import { RetryGroup } from './retry-group.ts';

test('backoff: an unreachable server is retried at most unreachableMaxMs apart; an answering one keeps maxMs', () => {
  const b = { initialMs: 250, maxMs: 30_000, jitter: 0 };
  assert.equal(backoffDelay(20, b, () => 0, true), 5_000);
  assert.equal(backoffDelay(20, b, () => 0, false), 30_000);
  assert.equal(backoffDelay(20, { ...b, unreachableMaxMs: 2_000 }, () => 0, true), 2_000);
  assert.equal(backoffDelay(20, { ...b, maxMs: 1_000 }, () => 0, true), 1_000, 'never above maxMs');
  assert.equal(backoffDelay(1, b, () => 0, true), 500, 'grows as before below the cap');
  assert.equal(isUnreachable(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' })), true);
  assert.equal(isUnreachable(new ApiError(503, 'ServiceUnavailable', 'down')), false);
  assert.equal(isUnreachable(new Error('list response without items')), false);
});

/** A scripted API server: refuses connections while `down`, else serves an empty list and a watch that stays open. */
class ScriptedServer implements ApiTransport {
  down = true;
  readonly opened: string[] = [];
  async open(path: string, options: OpenOptions): Promise<http.IncomingMessage> {
    this.opened.push(path);
    if (this.down) throw Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:6443'), { code: 'ECONNREFUSED' });
    if (!path.includes('watch=true')) {
      return Readable.from([Buffer.from(JSON.stringify({ metadata: { resourceVersion: '7' }, items: [] }))]) as unknown as http.IncomingMessage;
    }
    const stream = new PassThrough();
    options.signal?.addEventListener('abort', () => stream.destroy());
    return stream as unknown as http.IncomingMessage;
  }
  count(prefix: string): number {
    return this.opened.filter((p) => p.startsWith(prefix)).length;
  }
}

/** Lets the reflectors' promise chains run (no timer is due). */
async function settle(): Promise<void> {
  for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
}

test('after an outage the first reflector to reach the server makes the others retry at once', async (t) => {
  t.mock.timers.enable({ apis: ['setTimeout', 'Date'] });
  const server = new ScriptedServer();
  const group = new RetryGroup();
  const sink = new RecordingSink();
  const make = (kind: 'Namespace' | 'Service', random: () => number): Reflector => new Reflector({
    transport: server, resource: { kind, path: kind === 'Namespace' ? '/api/v1/namespaces' : '/api/v1/services' }, sink,
    logger: new RecordingLogger(), backoff: { initialMs: 250, maxMs: 30_000, jitter: 0.5 }, retryGroup: group, random,
  });
  // Service waits the full delay (5 s at the cap), Namespace half of it (the jitter takes the rest).
  const namespaces = make('Namespace', () => 1);
  const services = make('Service', () => 0);
  namespaces.start();
  services.start();
  try {
    // A 60 s outage: with the 30 s cap the retries would be 30 s apart by now.
    for (let ms = 0; ms < 60_000; ms += 250) { t.mock.timers.tick(250); await settle(); }
    const before = server.count('/api/v1/namespaces');
    for (let ms = 0; ms < 10_000; ms += 250) { t.mock.timers.tick(250); await settle(); }
    assert.ok(server.count('/api/v1/namespaces') - before >= 2, 'an unreachable server is tried at least every 5 s');

    // The server comes back just after a failed Service attempt: its own next one is 5 s away.
    const failedServices = server.count('/api/v1/services');
    for (let i = 0; i < 40 && server.count('/api/v1/services') === failedServices; i++) { t.mock.timers.tick(250); await settle(); }
    server.down = false;
    const servicesBefore = server.count('/api/v1/services');
    // Within 2.5 s Namespace retries and lists; Service, whose own backoff is not over, follows at once.
    let ticks = 0;
    while (!namespaces.synced && ticks++ < 20) { t.mock.timers.tick(250); await settle(); }
    assert.equal(namespaces.synced, true, 'picked up within its 2.5 s backoff');
    assert.ok(ticks <= 10);
    await settle();
    assert.equal(services.synced, true, 'the other kind retried as soon as one reconnected');
    assert.ok(server.count('/api/v1/services') > servicesBefore);
  } finally {
    const stopped = Promise.all([namespaces.stop(), services.stop()]);
    t.mock.timers.tick(60_000);
    await stopped;
  }
});
