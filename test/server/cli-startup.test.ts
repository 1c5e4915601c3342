/**
 * @module test/server/cli-startup.test
 * Start-up as a user meets it, through the real command: `npm start` (the
 * demo) on another port and with another Corefile, stopped by a signal to
 * npm; -quiet; the start-up lines of two blocks on one port; a directory
 * given as -conf; an empty Corefile and a block without plugins warn.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { dig } from '../support/harness.ts';
import { CliServer, runCli } from './helpers/cli.ts';
import { freePort } from '../support/ports.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
let dir: string;

before(() => { dir = mkdtempSync(join(tmpdir(), 'clusterdns-startup-')); });
after(() => { rmSync(dir, { recursive: true, force: true }); });

function corefile(name: string, text: string): string {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
}

/** True when 127.0.0.1:port can be bound for UDP now, i.e. no server holds it. */
function udpPortFree(port: number): Promise<boolean> {
  const s = createSocket('udp4');
  return new Promise((r) => {
    s.once('error', () => { s.close(); r(false); });
    s.bind(port, '127.0.0.1', () => { s.close(() => r(true)); });
  });
}

/** `npm start -- ARGS`, output collected; resolves `exited` when npm ends. */
function npmStart(args: readonly string[]) {
  const child = spawn('npm', ['start', '--', ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, CLUSTERDNS_DEBUG: '' } });
  const out = { text: '' };
  child.stdout.on('data', (d: Buffer) => { out.text += d.toString(); });
  child.stderr.on('data', (d: Buffer) => { out.text += d.toString(); });
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  /** Cleanup after a failed assertion: SIGTERM (npm passes it on to the server), SIGKILL if npm is still there after 10 s. */
  const stop = async (): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([exited, new Promise((r) => { timer = setTimeout(r, 10_000); })]);
    clearTimeout(timer);
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  };
  return { child, out, exited, stop };
}

async function waitFor(check: () => boolean | Promise<boolean>, tries = 100): Promise<boolean> {
  for (let i = 0; i < tries; i++) {
    if (await check()) return true;
    await new Promise((r) => setTimeout(r, 100));
  }
  return false;
}

test('npm start -- -dns.port N serves the demo on N, and SIGTERM to npm stops the server', async () => {
  const port = await freePort();
  const npm = npmStart(['-dns.port', String(port)]);
  try {
    assert.ok(await waitFor(() => npm.out.text.includes('Serving the demo cluster')), npm.out.text);
    assert.match(npm.out.text, new RegExp(`^\\.:${port} on 127\\.0\\.0\\.1$`, 'm'));
    const r = await dig(port, 'nginx.default.svc.cluster.local');
    assert.equal(r.status, 'NOERROR');
    assert.deepEqual(r.answer.map((a) => a.data), ['10.96.100.10']);
    npm.child.kill('SIGTERM');
    await npm.exited;
    // The server process was npm's child: once npm is gone the port must be free, not held by an orphan.
    assert.ok(await waitFor(() => udpPortFree(port), 50), `port ${port} still bound after npm exited`);
  } finally {
    await npm.stop();
  }
});

test('npm start -- -conf FILE -quiet serves that Corefile instead, with no start-up output', async () => {
  const port = await freePort();
  const path = corefile('demo-conf', `.:${port} {\n  bind 127.0.0.1\n  whoami\n}\n`);
  const npm = npmStart(['-conf', path, '-quiet']);
  try {
    assert.ok(await waitFor(async () => (await dig(port, 'own.test')).status === 'NOERROR'), npm.out.text);
    assert.doesNotMatch(npm.out.text, /Serving the demo|^clusterdns-\d|\[INFO\]/m);
    npm.child.kill('SIGINT');
    await npm.exited;
    assert.ok(await waitFor(() => udpPortFree(port), 50), `port ${port} still bound after npm exited`);
  } finally {
    await npm.stop();
  }
});

test('two server blocks on one port: the start-up lines name both zones', async () => {
  const port = await freePort();
  const path = corefile('two', `a.test:${port} {\n  bind 127.0.0.1\n  whoami\n}\nb.test:${port} {\n  bind 127.0.0.1\n  whoami\n}\n`);
  const s = new CliServer(['-conf', path]);
  try {
    assert.deepEqual(await s.ports(), [port, port]);
    assert.match(s.stdout, new RegExp(`^a\\.test\\.:${port} on 127\\.0\\.0\\.1\\nb\\.test\\.:${port} on 127\\.0\\.0\\.1\\nclusterdns-`, 'm'));
  } finally {
    await s.kill();
  }
});

test('-conf naming a directory fails with the path in the message', async () => {
  const r = await runCli(['-conf', dir]);
  assert.equal(r.code, 1);
  assert.equal(r.stderr, `clusterdns: Corefile ${dir}: is a directory, not a file\n`);
});

test('an empty Corefile and a block without plugins start, with a warning naming the place', async () => {
  const empty = corefile('empty', '# nothing here\n');
  const s = new CliServer(['-conf', empty]);
  try {
    assert.deepEqual(await s.ports(), []);
    assert.match(s.stdout, new RegExp(`^\\[WARNING\\] ${empty}: the Corefile has no server blocks: no DNS is served$`, 'm'));
  } finally {
    await s.kill();
  }
  const bare = corefile('bare', 'example.org:0 {\n}\n');
  const b = new CliServer(['-conf', bare]);
  try {
    await b.ports();
    assert.match(b.stdout, new RegExp(`^\\[WARNING\\] ${bare}:1: server block example.org:0 has no plugins: every query to it is answered with an error$`, 'm'));
  } finally {
    await b.kill();
  }
});
