/**
 * @module test/gateway/gateway-cli.test
 * `clusterdns gateway` flags and the two modes besides --run-nginx: `--once`
 * (render, validate with the real nginx -t, print, exit; a rejected record
 * makes the exit code 1 and is named), and an nginx that something else
 * runs: the controller writes --nginx-conf and reloads it through
 * --nginx-main's pid file, and an edit is routed.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { memoryLogger } from '../../src/log/logger.ts';
import { gatewayCommand, parseGatewayArgs, startGateway, type RunningGateway } from '../../src/gateway/cli.ts';
import { DEFAULT_NGINX_BIN, mainConfig } from '../../src/gateway/nginx.ts';
import { freePort } from '../support/ports.ts';
import { httpGet, pollUntil, startBackend, type Backend } from '../support/http-backends.ts';
import { waitUntil } from '../support/wait-until.ts';

let dir: string;
let b1: Backend, b2: Backend;

function record(paths: { path?: string; backend: Backend }[]): string {
  return JSON.stringify({
    apiVersion: 'clusterdns.io/v1alpha1', kind: 'DNSRecord', metadata: { name: 'node1', namespace: 'web' },
    spec: { host: 'node1.com', paths: paths.map((p) => ({ ...(p.path !== undefined ? { path: p.path } : {}), service: 'svc', address: p.backend.address, port: p.backend.port })) },
  });
}

function put(file: string, text: string): void {
  writeFileSync(`${file}.tmp`, text);
  renameSync(`${file}.tmp`, file);
}

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'gateway-cli-'));
  [b1, b2] = await Promise.all([startBackend('backend1', '127.0.0.2'), startBackend('backend2', '127.0.0.3')]);
});

after(async () => {
  await Promise.all([b1, b2].map((b) => b?.close()));
  rmSync(dir, { recursive: true, force: true });
});

test('flags: one source, a listen address or a gateway, IP:PORT only', () => {
  assert.deepEqual(parseGatewayArgs(['--manifests', '/x', '--gateway', '10.0.0.5']).listen, ['10.0.0.5:80']);
  assert.deepEqual(parseGatewayArgs(['--etcd', 'http://127.0.0.1:2379', '--gateway', 'fd00::5']).listen, ['[fd00::5]:80']);
  assert.throws(() => parseGatewayArgs(['--manifests', '/x']), /give --listen ADDR:PORT or --gateway ADDRESS/);
  assert.throws(() => parseGatewayArgs(['--manifests', '/x', '--etcd', 'http://127.0.0.1:2379', '--gateway', '10.0.0.5']), /give one source/);
  assert.throws(() => parseGatewayArgs(['--listen', 'localhost:80']), /is not IP:PORT/);
  assert.throws(() => parseGatewayArgs(['--listen', '127.0.0.1:80', '--frobnicate']), /unknown flag '--frobnicate'/);
});

test('--once prints the validated configuration; a record nginx rejects makes it exit 1, named', async () => {
  const records = join(dir, 'once');
  mkdirSync(records);
  put(join(records, 'node1.json'), record([{ backend: b1 }]));
  let out = '';
  let err = '';
  const log = memoryLogger();
  const args = ['--manifests', records, '--listen', '127.0.0.1:18080', '--once'];
  assert.equal(await gatewayCommand(args, (s) => { out += s; }, (s) => { err += s; }, log), 0, err + log.lines.join('\n'));
  assert.match(out, /server_name node1\.com;[\s\S]*location \/svc\/ \{\n        proxy_pass http:\/\/127\.0\.0\.2:\d+\/;/);
  put(join(records, 'node1.json'), record([{ path: '/a/', backend: b1 }, { path: '/a/', backend: b2 }]));
  out = '';
  assert.equal(await gatewayCommand(args, (s) => { out += s; }, (s) => { err += s; }, log), 1);
  assert.ok(log.lines.some((l) => /nginx rejected DNSRecord web\/node1 .*duplicate location "\/a\/"/.test(l)), log.lines.join('\n'));
  assert.ok(!out.includes('node1.com'), 'the rejected record was printed');
});

test('an nginx run by something else: the file is written and that nginx reloaded', async (t) => {
  const records = join(dir, 'external');
  mkdirSync(records);
  put(join(records, 'node1.json'), record([{ backend: b1 }]));
  const prefix = mkdtempSync(join(tmpdir(), 'gateway-external-nginx-'));
  mkdirSync(join(prefix, 'tmp'));
  const servers = join(prefix, 'servers.conf');
  const main = join(prefix, 'nginx.conf');
  writeFileSync(main, mainConfig(prefix, servers));
  const port = await freePort();
  const log = memoryLogger();
  const args = parseGatewayArgs(['--manifests', records, '--listen', `127.0.0.1:${port}`, '--nginx-conf', servers, '--nginx-main', main, '--access-log-dir', prefix]);
  // The first apply writes the file; reloading an nginx that is not up yet fails and is logged.
  const started = await startGateway(args, log.plugin('gateway'), () => {});
  assert.notEqual(typeof started, 'number', log.lines.join('\n'));
  const gw = started as RunningGateway;
  const nginx: ChildProcess = spawn(DEFAULT_NGINX_BIN, ['-p', prefix, '-c', main, '-g', 'daemon off;'], { stdio: 'ignore' });
  t.after(async () => {
    await gw.stop();
    const exited = new Promise((r) => nginx.once('exit', r));
    nginx.kill('SIGQUIT');
    await exited;
    rmSync(prefix, { recursive: true, force: true });
  });
  assert.ok(await pollUntil(async () => (await httpGet('127.0.0.1', port, 'node1.com', '/svc/x')).body.startsWith('backend1 /x'), 200));
  put(join(records, 'node1.json'), record([{ backend: b2 }]));
  assert.ok(await pollUntil(async () => (await httpGet('127.0.0.1', port, 'node1.com', '/svc/y')).body.startsWith('backend2 /y'), 200), log.lines.join('\n'));
  // nginx may answer from its new workers before `nginx -s reload` has exited and the controller logged it.
  await waitUntil(() => log.lines.some((l) => l.includes('nginx configuration applied: 1 hosts, nginx reloaded')), { timeoutMs: 5000 });
});
