/**
 * @module plugin/process-services.test
 * The process-wide HTTP listeners (one per address, routes stacked so a
 * reload mounts its route before the old one is removed, and a failed one
 * uncovers the old route again; concurrent first mounts share one listener)
 * and the lameduck requests (the longest live one wins).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { HttpListeners, Lameduck, type HttpRoute } from './process-services.ts';

function get(port: number, path: string): Promise<[number, string]> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, agent: false, timeout: 2000 }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => { body += c.toString(); });
      res.on('end', () => { resolve([res.statusCode ?? 0, body]); });
    });
    req.on('error', reject);
    req.end();
  });
}

const answering = (text: string): HttpRoute => (_req, res) => { res.end(text); };

test('routes stack per path: the newest answers, removing it uncovers the previous one', async () => {
  const http = new HttpListeners();
  try {
    const older = answering('old');
    const newer = answering('new');
    const port = await http.mount('127.0.0.1:0', '/metrics', older);
    assert.equal(await http.mount('127.0.0.1:0', '/metrics', newer), port, 'one listener per address');
    assert.deepEqual(await get(port, '/metrics'), [200, 'new']);
    await http.unmount('127.0.0.1:0', '/metrics', newer); // a failed reload takes its route back
    assert.deepEqual(await get(port, '/metrics'), [200, 'old']);
    await http.unmount('127.0.0.1:0', '/metrics', newer); // not mounted any more: nothing happens
    assert.deepEqual(await get(port, '/metrics'), [200, 'old']);
    assert.deepEqual(await get(port, '/health'), [404, '404 page not found\n']);
    await http.unmount('127.0.0.1:0', '/metrics', older);
    await assert.rejects(get(port, '/metrics'), /ECONNREFUSED/, 'closed when nothing is mounted');
    assert.equal(http.port('127.0.0.1:0'), undefined);
  } finally {
    await http.closeAll();
  }
});

test('mounts on a new address at the same time share one listener', async () => {
  const http = new HttpListeners();
  try {
    const ports = await Promise.all([
      http.mount('127.0.0.1:0', '/health', answering('OK')),
      http.mount('127.0.0.1:0', '/ready', answering('ready')),
      http.mount('127.0.0.1:0', '/metrics', answering('m')),
    ]);
    assert.equal(new Set(ports).size, 1);
    assert.deepEqual(await get(ports[0]!, '/ready'), [200, 'ready']);
  } finally {
    await http.closeAll();
  }
});

test('lameduck: the longest live request wins; removed ones do not count', () => {
  const l = new Lameduck();
  assert.equal(l.longest(), null);
  const a = { ms: 5000 };
  const b = { ms: 2000 };
  l.add(b);
  l.add(a);
  assert.equal(l.longest(), a);
  l.delete(a);
  assert.equal(l.longest(), b);
  l.delete(b);
  assert.equal(l.longest(), null);
});
