/**
 * @module test/ops/cli-signals.test
 * The real CLI process and its signals: SIGUSR1 reloads at once (a bad
 * Corefile is logged with FILE:LINE, counted in coredns_reload_failed_total
 * and keeps the old configuration); SIGTERM with `health { lameduck }` keeps
 * /health 200 and DNS answering while /ready says 503, then exits 0; and
 * `-log.format json` makes every log line, query log included, a JSON object.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Class, Type } from '../../src/dns/constants.ts';
import { CliProcess, httpGet, scrape, total } from './ops-support.ts';
import { freePort } from '../support/ports.ts';
import { UdpClient } from '../support/udp-client.ts';

function corefile(httpPort: number, version: string, extra = ''): string {
  return `.:0 {
  bind 127.0.0.1
  prometheus 127.0.0.1:${httpPort}
  health 127.0.0.1:${httpPort} {
    lameduck 2s
  }
  ready 127.0.0.1:${httpPort}
${extra}  chaos ${version}
}
`;
}

/** The DNS port from the startup line ".:PORT on 127.0.0.1", as text or as the msg of a JSON line. */
async function dnsPort(cli: CliProcess): Promise<number> {
  const line = await cli.waitForLine(/^\.:\d+ on 127\.0\.0\.1$|"msg":"\.:\d+ on 127\.0\.0\.1"/);
  return Number(/:(\d+) on/.exec(line)![1]);
}

async function version(client: UdpClient): Promise<string> {
  const m = await client.query('version.bind.', Type.TXT, { qclass: Class.CH });
  return Buffer.from(m.answer[0]!.data.subarray(1)).toString();
}

test('SIGUSR1 reloads now; a bad Corefile is logged, counted and changes nothing; SIGTERM goes lameduck and exits 0', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'clusterdns-cli-'));
  const file = join(dir, 'Corefile');
  const http = await freePort();
  writeFileSync(file, corefile(http, 'one'));
  const cli = new CliProcess(['-conf', file], dir);
  let client: UdpClient | null = null;
  try {
    client = await UdpClient.open(await dnsPort(cli));
    assert.equal(await version(client), 'one');

    writeFileSync(file, corefile(http, 'two'));
    cli.signal('SIGUSR1');
    await cli.waitForLine(/^\[INFO\] plugin\/reload: SIGUSR1: running configuration SHA512 = [0-9a-f]{128}$/);
    assert.equal(await version(client), 'two');

    writeFileSync(file, corefile(http, 'three', '  nonsense here\n'));
    cli.signal('SIGUSR1');
    const error = await cli.waitForLine(/^\[ERROR\] plugin\/reload:/);
    assert.equal(error, `[ERROR] plugin/reload: SIGUSR1: reload failed, keeping the running configuration: ${file}:8: unknown directive 'nonsense'`);
    assert.equal(await version(client), 'two');
    assert.equal(total(await scrape(http), 'coredns_reload_failed_total'), 1);
    assert.equal((await httpGet(http, '/ready')).status, 200);

    cli.signal('SIGTERM');
    await cli.waitForLine(/^\[INFO\] plugin\/health: Going into lameduck mode for 2s$/);
    assert.deepEqual(await httpGet(http, '/health').then((a) => [a.status, a.body]), [200, 'OK']);
    assert.deepEqual(await httpGet(http, '/ready').then((a) => [a.status, a.body]), [503, 'Shutting down']);
    assert.equal(await version(client), 'two', 'DNS answers during lameduck');
    const code = await Promise.race([cli.exited, new Promise((r) => setTimeout(() => r('still running'), 10_000).unref())]);
    assert.equal(code, 0);
  } finally {
    await client?.close();
    await cli.kill();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('-log.format json: startup, plugin and query-log lines are JSON objects', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'clusterdns-json-'));
  const file = join(dir, 'Corefile');
  writeFileSync(file, '.:0 {\n  bind 127.0.0.1\n  reload 2s 1s\n  log\n  chaos json-test\n}\n');
  const cli = new CliProcess(['-conf', file, '-log.format', 'json'], dir);
  let client: UdpClient | null = null;
  try {
    client = await UdpClient.open(await dnsPort(cli));
    assert.equal(await version(client), 'json-test');
    const queryLine = await cli.waitForLine(/"name":"version\.bind\."/);
    const q = JSON.parse(queryLine) as Record<string, unknown>;
    assert.deepEqual(Object.keys(q).sort(), [
      'bufsize', 'class', 'do', 'duration', 'id', 'level', 'name', 'plugin', 'port', 'proto', 'rcode', 'remote', 'rflags', 'rsize', 'size', 'time', 'type',
    ]);
    assert.equal(q.plugin, 'log');
    assert.equal(q.level, 30);
    assert.equal(q.remote, '127.0.0.1');
    assert.equal(q.type, 'TXT');
    assert.equal(q.class, 'CH');
    assert.equal(q.proto, 'udp');
    assert.equal(q.rcode, 'NOERROR');
    assert.equal(q.do, false);
    assert.equal(typeof q.port, 'number');
    assert.equal(typeof q.duration, 'number');
    assert.equal(q.size, 30);
    const reloadLine = await cli.waitForLine(/Running configuration SHA512/);
    const r = JSON.parse(reloadLine) as Record<string, unknown>;
    assert.equal(r.plugin, 'reload');
    assert.match(String(r.msg), /^Running configuration SHA512 = [0-9a-f]{128}$/);
    // Every line is JSON, the start-up lines (zones, version) included; durations are whole nanoseconds in seconds.
    for (const line of cli.lines) assert.doesNotThrow(() => JSON.parse(line), line);
    assert.ok(cli.lines.some((l) => (JSON.parse(l) as { msg?: string }).msg?.startsWith('clusterdns-')), cli.lines.join('\n'));
    assert.equal(Number((q.duration as number).toFixed(9)), q.duration);
  } finally {
    await client?.close();
    await cli.kill();
    rmSync(dir, { recursive: true, force: true });
  }
});
