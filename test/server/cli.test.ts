/**
 * @module test/server/cli.test
 * The clusterdns command as CoreDNS users call it: -version, -plugins,
 * -conf (and --conf, -conf=), ./Corefile when there is no -conf, the
 * built-in whoami+log default, `serve`, -dns.port, -quiet, flag errors, a bad
 * Corefile (exit 1, `FILE:LINE: what` on stderr), and the bin refusing an old
 * Node. Servers run as real child processes answering dig and kdig.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dig, parseDig, runClient } from '../support/harness.ts';
import { BIN, CliServer, MAIN, runCli } from './helpers/cli.ts';
import { freePort } from '../support/ports.ts';

let dir: string;

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'clusterdns-cli-'));
});
after(() => {
  rmSync(dir, { recursive: true, force: true });
});

function corefile(name: string, text: string): string {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
}

/** Start, wait for the banner, run `check` against the first port, stop with SIGTERM and expect exit 0. */
async function withServer(args: readonly string[], cwd: string | undefined, check: (port: number, s: CliServer) => Promise<void>): Promise<void> {
  const s = new CliServer(args, cwd);
  try {
    const [port] = await s.ports();
    assert.ok(port, `a port in the banner: ${s.stdout}`);
    await check(port, s);
    s.child.kill('SIGTERM');
    const exit = await s.waitExit(10_000);
    assert.deepEqual(exit, { code: 0, signal: null }, s.stderr);
  } finally {
    await s.kill();
  }
}

test('-version prints the version and the CoreDNS version it follows', async () => {
  const r = await runCli(['-version']);
  assert.equal(r.code, 0);
  assert.match(r.stdout, /^clusterdns-\d+\.\d+\.\d+ \(CoreDNS-1\.\d+\.\d+ compatible\)\n/);
  assert.match(r.stdout, new RegExp(`${process.platform}/${process.arch}, node v24`));
});

test('-plugins lists the built-in plugins in CoreDNS\'s format', async () => {
  const r = await runCli(['-plugins']);
  assert.equal(r.code, 0);
  assert.match(r.stdout, /^Server types:\n {2}dns\n/);
  for (const p of ['bind', 'bufsize', 'chaos', 'errors', 'log', 'whoami']) assert.match(r.stdout, new RegExp(`^ {2}dns\\.${p}$`, 'm'));
});

test('-h prints usage and exits 0; an unknown flag or extra argument exits 2', async () => {
  const h = await runCli(['-h']);
  assert.equal(h.code, 0);
  assert.match(h.stderr, /^Usage: clusterdns/m);
  const bad = await runCli(['-nosuchflag']);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /^flag provided but not defined: -nosuchflag$/m);
  const extra = await runCli(['-conf', 'x', 'stray']);
  assert.equal(extra.code, 2);
  assert.match(extra.stderr, /unexpected argument 'stray'/);
  const port = await runCli(['-dns.port', 'seventy']);
  assert.equal(port.code, 2);
  assert.match(port.stderr, /invalid value "seventy" for flag -dns.port/);
});

test('a bad Corefile: exit 1 and FILE:LINE: what is wrong on stderr', async () => {
  const path = corefile('bad-arg', '.:0 {\n  bind 127.0.0.1\n  bufsize many\n}\n');
  const r = await runCli(['-conf', path]);
  assert.equal(r.code, 1);
  assert.equal(r.stderr, `${path}:3: plugin/bufsize: size 'many' is not a whole number\n`);
});

test('an unknown directive: exit 1 naming its file and line', async () => {
  const path = corefile('unknown', '.:0 {\n  bind 127.0.0.1\n\n  whoami\n  wat is this\n}\n');
  const r = await runCli(['--conf', path]);
  assert.equal(r.code, 1);
  assert.equal(r.stderr, `${path}:5: unknown directive 'wat'\n`);
});

test('a Corefile syntax error and a missing file both exit 1', async () => {
  const path = corefile('syntax', '.:0 {\n  whoami\n');
  const r = await runCli([`-conf=${path}`]);
  assert.equal(r.code, 1);
  assert.equal(r.stderr, `${path}:1: unclosed '{'\n`);
  const missing = await runCli(['-conf', join(dir, 'does-not-exist')]);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /does-not-exist/);
});

test('-conf PATH serves it: dig and kdig get answers; SIGTERM exits 0', async () => {
  const path = corefile('good', '.:0 {\n  bind 127.0.0.1\n  whoami\n  log\n}\n');
  await withServer(['-conf', path], undefined, async (port, s) => {
    const r = await dig(port, 'cli.example', 'A');
    assert.equal(r.status, 'NOERROR');
    assert.equal(r.additional[0]?.data, '127.0.0.1');
    const k = JSON.parse(await runClient('kdig', port, ['+json', '+tcp', 'cli.example'])) as { RCODE: number; ARCOUNT: number };
    assert.deepEqual([k.RCODE, k.ARCOUNT], [0, 2]);
    assert.ok(await waitFor(() => /\[INFO\] 127\.0\.0\.1:\d+ - \d+ "A IN cli\.example\. udp/.test(s.stdout)), s.stdout);
  });
});

test('without -conf, ./Corefile in the working directory is used', async () => {
  const cwd = mkdtempSync(join(dir, 'cwd-'));
  writeFileSync(join(cwd, 'Corefile'), 'local.test:0 {\n  bind 127.0.0.1\n  whoami\n}\n');
  await withServer([], cwd, async (port) => {
    assert.equal((await dig(port, 'a.local.test')).status, 'NOERROR');
    assert.equal((await dig(port, 'elsewhere.test')).status, 'REFUSED', 'only the zone of ./Corefile is served');
  });
});

test('`serve` means the same, and -dns.port sets the port of blocks that name none', async () => {
  const port = await freePort();
  const path = corefile('noport', 'example.net {\n  bind 127.0.0.1\n  whoami\n}\n');
  await withServer(['serve', '-conf', path, '-dns.port', String(port)], undefined, async (bound, s) => {
    assert.equal(bound, port);
    assert.match(s.stdout, new RegExp(`^example\\.net\\.:${port} on 127\\.0\\.0\\.1$`, 'm'));
    assert.equal((await dig(port, 'www.example.net')).status, 'NOERROR');
  });
});

test('no Corefile at all: the CoreDNS default (whoami and log on every address) on -dns.port', async () => {
  // The default binds every address, so it runs in a network namespace of its own (unshare -rn: only
  // a loopback interface, nobody else's ports): the server, dig and the log stay inside it.
  const cwd = mkdtempSync(join(dir, 'empty-'));
  const script = [
    'ip link set lo up || exit 3',
    `"${process.execPath}" "${MAIN}" -dns.port=5300 >server.log 2>&1 & pid=$!`,
    // Bounded wait for the listener (50 tries); the answer is printed for the test to read.
    'for i in $(seq 50); do dig @127.0.0.1 -p 5300 +time=1 +tries=1 default.test >dig.out && grep -q NOERROR dig.out && break; sleep 0.1; done',
    'kill -TERM $pid; wait $pid; echo "exit=$?" >>server.log; cat dig.out',
  ].join('\n');
  const r = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    execFile('unshare', ['-rn', 'sh', '-c', script], { cwd, timeout: 30_000, env: { ...process.env, CLUSTERDNS_DEBUG: '' } },
      (err, stdout, stderr) => { resolve({ code: err ? ((err as { code?: number }).code ?? null) : 0, stdout, stderr }); });
  });
  const log = readFileSync(join(cwd, 'server.log'), 'utf8');
  assert.equal(r.code, 0, `${r.stderr}\n${log}`);
  const answer = parseDig(r.stdout);
  assert.equal(answer.status, 'NOERROR', log);
  // Dual-stack socket: an IPv4 client is reported as IPv4, not ::ffff:127.0.0.1.
  assert.deepEqual(answer.additional.map((a) => `${a.type} ${a.data}`)[0], 'A 127.0.0.1');
  assert.match(log, /^\.:5300$/m, 'the banner names the default block on -dns.port');
  assert.match(log, /\[INFO\] 127\.0\.0\.1:\d+ - \d+ "A IN default\.test\./);
  assert.match(log, /^exit=0$/m, 'SIGTERM exits 0');
});

test('-quiet prints no banner and still serves; SIGINT exits 0', async () => {
  const port = await freePort();
  const path = corefile('quiet', '. {\n  bind 127.0.0.1\n  whoami\n}\n');
  const s = new CliServer(['-quiet', '-conf', path, '-dns.port', String(port)]);
  try {
    let answered = false;
    for (let i = 0; i < 50 && !answered && s.child.exitCode === null; i++) {
      answered = (await dig(port, 'quiet.test')).status === 'NOERROR';
      if (!answered) await new Promise((r) => setTimeout(r, 100));
    }
    assert.ok(answered, `answers on -dns.port: ${s.stderr}`);
    assert.equal(s.stdout, '');
    s.child.kill('SIGINT');
    assert.deepEqual(await s.waitExit(10_000), { code: 0, signal: null });
  } finally {
    await s.kill();
  }
});

test('bin/clusterdns.js runs under Node 24 and explains itself under an older Node', async () => {
  const ok = await runCli(['-version'], { script: BIN });
  assert.equal(ok.code, 0);
  assert.match(ok.stdout, /^clusterdns-/);
  // Pretend to be Node 20 (process.versions is what the bin checks).
  const old = await runCli(['-version'], {
    script: BIN,
    nodeArgs: ['--import', 'data:text/javascript,Object.defineProperty(process,"versions",{value:{...process.versions,node:"20.11.1"}})'],
  });
  assert.equal(old.code, 1);
  assert.equal(old.stdout, '');
  assert.match(old.stderr, /^clusterdns needs Node\.js 24 or newer \(this is v20\.11\.1\)\./);
});

async function waitFor(check: () => boolean, ms = 3000): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, 20));
  }
  return true;
}
