/**
 * @module test/bench/fake-api-process.test
 * The control channel of bench/fake-api-process.ts, which the soak
 * (bench/soak.ts) drives its chaos through: the process is spawned for real,
 * commands go to its stdin, and what they did is checked over HTTP list and
 * watch: create/delete show in lists, `drop` ends open watches and serves
 * again, `relist` makes an old resourceVersion 410, `down`/`up` refuse and
 * then accept connections, a bad command gets an error line.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import http from 'node:http';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { serviceObject } from '../support/fake-objects.ts';

const PROCESS = path.resolve(import.meta.dirname, '..', '..', 'bench', 'fake-api-process.ts');

function getJson(url: string): Promise<{ status: number; body: unknown }> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { agent: false, timeout: 5000 }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => { text += c; });
      res.on('end', () => { resolve({ status: res.statusCode ?? 0, body: text.trim() === '' ? null : JSON.parse(text.trim().split('\n')[0]!) }); });
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
  });
}

async function serviceNames(url: string, ns: string): Promise<string[]> {
  const r = await getJson(`${url}/api/v1/namespaces/${ns}/services`);
  return (r.body as { items: { metadata: { name: string } }[] }).items.map((i) => i.metadata.name);
}

test('fake-api-process control channel: create, delete, drop, relist (410), down/up, bad command', { timeout: 60_000 }, async () => {
  const child = spawn(process.execPath, [PROCESS, '--services', '20'], { stdio: ['pipe', 'pipe', 'inherit'] });
  const lines: Record<string, unknown>[] = [];
  const waiters: (() => void)[] = [];
  createInterface({ input: child.stdout! }).on('line', (l) => { lines.push(JSON.parse(l) as Record<string, unknown>); for (const w of waiters.splice(0)) w(); });
  const exited = new Promise<number | null>((r) => child.once('exit', (c) => r(c)));
  /** The next reply line (bounded: the test's own timeout). */
  const reply = async (): Promise<Record<string, unknown>> => {
    while (lines.length === 0) await new Promise<void>((r) => waiters.push(r));
    return lines.shift()!;
  };
  const send = async (cmd: string): Promise<Record<string, unknown>> => { child.stdin!.write(`${cmd}\n`); return reply(); };
  try {
    const { url } = await reply() as { url: string };
    assert.match(url, /^http:\/\/127\.0\.0\.1:\d+$/);

    const created = await send(`create ${JSON.stringify(serviceObject('default', 'soak-a', '10.99.0.1'))}`);
    assert.equal(created.done, 'create');
    assert.ok((await serviceNames(url, 'default')).includes('soak-a'));
    const rvAfterCreate = Number(created.rv);

    assert.deepEqual({ ...(await send('delete Service default soak-a')), rv: 0 }, { done: 'delete', rv: 0, deleted: true });
    assert.ok(!(await serviceNames(url, 'default')).includes('soak-a'));
    assert.equal((await send('delete Service default soak-a')).deleted, false);

    // drop: an open watch ends, the server answers again with history kept (the old rv still replays).
    const watchEnded = new Promise<void>((resolve, reject) => {
      http.get(`${url}/api/v1/services?watch=1&resourceVersion=${rvAfterCreate}`, { agent: false }, (res) => {
        res.resume();
        res.once('close', () => resolve());
      }).on('error', () => resolve()).on('timeout', () => reject(new Error('timeout')));
    });
    await new Promise((r) => setImmediate(r));
    assert.equal((await send('drop')).done, 'drop');
    await watchEnded;
    const replay = await getJson(`${url}/api/v1/services?watch=1&resourceVersion=${rvAfterCreate}&timeoutSeconds=1`);
    assert.equal((replay.body as { type: string }).type, 'DELETED');

    // relist: history compacted past every client's rv, so the old one is 410 Expired.
    assert.deepEqual(await send('relist'), { relist: true });
    const expired = await getJson(`${url}/api/v1/services?watch=1&resourceVersion=${rvAfterCreate}`);
    assert.deepEqual([(expired.body as { type: string }).type, (expired.body as { object: { code: number } }).object.code], ['ERROR', 410]);

    // down: connections refused, the store still takes changes; up: served again on the same port.
    assert.equal((await send('down')).done, 'down');
    await assert.rejects(getJson(`${url}/api/v1/services`), /ECONNREFUSED/);
    await send(`create ${JSON.stringify(serviceObject('default', 'while-down', '10.99.0.2'))}`);
    assert.equal((await send('up')).done, 'up');
    assert.ok((await serviceNames(url, 'default')).includes('while-down'));

    assert.match(String((await send('explode now')).error), /unknown command 'explode'/);
    assert.match(String((await send('create {not json')).error), /^create: /);
  } finally {
    child.stdin!.end();
    assert.equal(await exited, 0);
  }
});
