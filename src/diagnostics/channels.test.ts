/**
 * @module diagnostics/channels.test
 * A subscriber sees each event of a real server: sync when the kubernetes
 * plugin's manifests are listed, query for a dig over UDP, reload for a
 * changed Corefile (and failed for a bad one, the old one still serving).
 * With no subscriber, nothing is published (hasSubscribers is false).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import diagnostics from 'node:diagnostics_channel';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { dig, startServer } from '../../test/support/harness.ts';
import { queryChannel, reloadChannel, syncChannel, type QueryMessage, type ReloadMessage, type SyncMessage } from './channels.ts';

const CLUSTER = fileURLToPath(new URL('../../examples/cluster', import.meta.url));

function corefile(ttl: number): string {
  return `.:0 {\n  bind 127.0.0.1\n  kubernetes cluster.local {\n    manifests ${CLUSTER}\n    ttl ${ttl}\n  }\n}\n`;
}

test('query, reload and sync events reach a subscriber', async () => {
  const syncs: SyncMessage[] = [];
  const queries: QueryMessage[] = [];
  const reloads: ReloadMessage[] = [];
  const onSync = (m: unknown): void => { syncs.push(m as SyncMessage); };
  const onQuery = (m: unknown): void => { queries.push(m as QueryMessage); };
  const onReload = (m: unknown): void => { reloads.push(m as ReloadMessage); };
  diagnostics.subscribe('clusterdns:sync', onSync);
  diagnostics.subscribe('clusterdns:query', onQuery);
  diagnostics.subscribe('clusterdns:reload', onReload);
  const dir = mkdtempSync(join(tmpdir(), 'clusterdns-diag-'));
  const path = join(dir, 'Corefile');
  writeFileSync(path, corefile(5));
  const srv = await startServer('', { path });
  try {
    const services = syncs.find((s) => s.kind === 'Service');
    assert.ok(services, JSON.stringify(syncs));
    assert.ok(services.objects > 0, 'the demo manifests hold services');

    const r = await dig(srv.port, 'nginx.default.svc.cluster.local');
    assert.equal(r.status, 'NOERROR');
    const q = queries.find((m) => m.request.qname === 'nginx.default.svc.cluster.local.');
    assert.ok(q, `a query event for the dig: ${queries.map((m) => m.request.qname).join(', ')}`);
    assert.equal(q.request.transport, 'udp');
    assert.equal(q.reply.rcode, 0);
    assert.ok(q.size > 12);

    writeFileSync(path, corefile(7));
    assert.equal(await srv.app.reloadWatcher.check(), 'reloaded');
    assert.deepEqual(reloads.map((m) => m.outcome), ['reloaded']);
    assert.equal(reloads[0]!.hash, srv.app.configHash);

    writeFileSync(path, '.:0 {\n  bind 127.0.0.1\n  kubernetes cluster.local {\n    ttl many\n  }\n}\n');
    assert.equal(await srv.app.reloadWatcher.reloadNow('SIGUSR1'), 'failed');
    // A Corefile that does not set up is a failed reload; one that does not parse never gets as far as a reload attempt.
    assert.deepEqual(reloads.map((m) => m.outcome), ['reloaded', 'failed']);
    assert.match(reloads[1]!.error!.message, /ttl/);
    assert.equal(reloads[1]!.hash, reloads[0]!.hash, 'the old configuration still serves');
  } finally {
    diagnostics.unsubscribe('clusterdns:sync', onSync);
    diagnostics.unsubscribe('clusterdns:query', onQuery);
    diagnostics.unsubscribe('clusterdns:reload', onReload);
    await srv.stop();
    rmSync(dir, { recursive: true, force: true });
  }
  // Zero cost when nobody listens: publishers check this before building a message.
  assert.equal(queryChannel.hasSubscribers, false);
  assert.equal(reloadChannel.hasSubscribers, false);
  assert.equal(syncChannel.hasSubscribers, false);
});
