/**
 * @module test/ops/lameduck-load.test
 * SIGTERM under load with `health { lameduck }` (issue 17 item 7): the real
 * CLI process serving the example cluster; after the signal, while the
 * lameduck lasts (its start and end are log lines), a client keeps rounds of
 * queries in flight and every one must be answered, right; the listeners
 * close only after `Lameduck over`, and the process exits 0. Absence of
 * failures is a count over answers, and that they all came inside the
 * lameduck is shown by the end line not having been logged yet.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Rcode, Type } from '../../src/dns/constants.ts';
import { CliProcess, httpGet } from './ops-support.ts';
import { freePort } from '../support/ports.ts';
import { UdpClient } from '../support/udp-client.ts';

const CLUSTER = resolve(import.meta.dirname, '..', '..', 'examples', 'cluster');
const ROUNDS = 40;
const PER_ROUND = 50;

test('SIGTERM under load with lameduck: every query sent during the lameduck is answered, then the process exits 0', { timeout: 60_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'clusterdns-lameduck-'));
  const file = join(dir, 'Corefile');
  const http = await freePort();
  writeFileSync(file, `.:0 {
  bind 127.0.0.1
  health 127.0.0.1:${http} {
    lameduck 5s
  }
  ready 127.0.0.1:${http}
  kubernetes cluster.local {
    manifests ${CLUSTER}
  }
  cache 30
}
`);
  const cli = new CliProcess(['-conf', file], dir);
  let client: UdpClient | null = null;
  try {
    const line = await cli.waitForLine(/^\.:\d+ on 127\.0\.0\.1$/);
    client = await UdpClient.open(Number(/:(\d+) on/.exec(line)![1]));
    const names = ['kubernetes.default.svc.cluster.local.', 'nginx.default.svc.cluster.local.', 'kube-dns.kube-system.svc.cluster.local.'];
    for (const n of names) assert.equal((await client.query(n, Type.A)).rcode, Rcode.NOERROR, n);

    cli.signal('SIGTERM');
    await cli.waitForLine(/^\[INFO\] plugin\/health: Going into lameduck mode for 5s$/);
    assert.equal((await httpGet(http, '/ready')).status, 503);
    const c = client;
    const outcomes = { answered: 0, wrong: 0, unanswered: 0 };
    for (let r = 0; r < ROUNDS; r++) {
      await Promise.all(Array.from({ length: PER_ROUND }, async (_, i) => {
        try {
          const m = await c.query(names[i % names.length]!, Type.A, { timeoutMs: 2000 });
          if (m.rcode === Rcode.NOERROR && m.answer.length > 0) outcomes.answered++;
          else outcomes.wrong++;
        } catch {
          outcomes.unanswered++;
        }
      }));
    }
    const endedEarly = cli.lines.some((l) => /Lameduck over/.test(l));
    assert.equal(endedEarly, false, 'the load finished inside the lameduck (else this run proves nothing about it)');
    assert.deepEqual(outcomes, { answered: ROUNDS * PER_ROUND, wrong: 0, unanswered: 0 });

    await cli.waitForLine(/^\[INFO\] plugin\/health: Lameduck over: closing the DNS listeners$/);
    assert.equal(await cli.exited, 0);
  } finally {
    await client?.close();
    await cli.kill();
    rmSync(dir, { recursive: true, force: true });
  }
});
