/**
 * @module server/workers/workers.test
 * `-workers 2` as a user runs it: the real command (a primary and two
 * node:cluster workers) on a fixed free port. UDP from many source ports and
 * TCP are answered; with one worker frozen some queries go unanswered and
 * the rest are answered (the kernel spreads flows over both sockets);
 * /metrics sums both workers; a killed worker is replaced; SIGUSR1 reloads
 * every worker; SIGTERM exits 0 and takes the workers along. Also the
 * errors: port 0, and a bad -workers value.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it, test } from 'node:test';
import { Class, Type } from '../../dns/constants.ts';
import type { DecodedMessage } from '../../dns/message.ts';
import { UdpClient } from '../../../test/support/udp-client.ts';
import { runClient } from '../../../test/support/harness.ts';
import { CliProcess, httpGet, scrape, total } from '../../../test/ops/ops-support.ts';
import { runCli } from '../../../test/server/helpers/cli.ts';
import { freePort } from '../../../test/support/ports.ts';
import { waitUntil } from '../../../test/support/wait-until.ts';

/** Child processes of `pid` (its workers), from /proc. */
function childPids(pid: number): number[] {
  const out: number[] = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === pid) out.push(Number(d));
    } catch { /* gone meanwhile */ }
  }
  return out.sort((a, b) => a - b);
}

function alive(pid: number): boolean {
  try { process.kill(pid, 0); return true; } catch { return false; }
}

/** One CH TXT version.bind query from a socket of its own (a new source port: a new flow for the kernel to place). */
async function askOnce(port: number, timeoutMs: number): Promise<DecodedMessage | null> {
  const c = await UdpClient.open(port);
  try {
    return await c.query('version.bind.', Type.TXT, { qclass: Class.CH, timeoutMs });
  } catch {
    return null;
  } finally {
    await c.close();
  }
}

function versionOf(m: DecodedMessage | null): string | null {
  return m === null ? null : Buffer.from(m.answer[0]!.data.subarray(1)).toString();
}

function corefile(dns: number, http: number, version: string): string {
  return `.:${dns} {
  bind 127.0.0.1
  prometheus 127.0.0.1:${http}
  health 127.0.0.1:${http}
  ready 127.0.0.1:${http}
  chaos ${version}
}
`;
}

describe('-workers 2 on one fixed port', () => {
  let dir = '';
  let file = '';
  let dns = 0;
  let http = 0;
  let cli: CliProcess;
  let workers: number[] = [];
  const queriesSent = { udp: 0, tcp: 0 };

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'clusterdns-workers-'));
    file = join(dir, 'Corefile');
    dns = await freePort();
    http = await freePort();
    writeFileSync(file, corefile(dns, http, 'one'));
    cli = new CliProcess(['-conf', file, '-workers', '2'], dir);
    await cli.waitForLine(/, 2 workers$/, 30_000);
    workers = childPids(cli.child.pid!);
  });

  after(async () => {
    await cli.kill();
    for (const pid of childPids(cli.child.pid!)) { try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ } }
    rmSync(dir, { recursive: true, force: true });
  });

  it('starts two workers, prints one banner, and is ready', async () => {
    assert.equal(workers.length, 2);
    assert.ok(cli.lines.includes(`.:${dns} on 127.0.0.1`), cli.lines.join('\n'));
    assert.equal(cli.lines.filter((l) => /^clusterdns-/.test(l)).length, 1);
    const ready = await httpGet(http, '/ready');
    assert.equal(ready.status, 200);
    assert.equal((await httpGet(http, '/health')).status, 200);
  });

  it('answers UDP from many source ports, and TCP', async () => {
    const answers = await Promise.all(Array.from({ length: 40 }, () => askOnce(dns, 2000)));
    queriesSent.udp += 40;
    assert.deepEqual(new Set(answers.map(versionOf)), new Set(['one']));
    const tcp = await runClient('kdig', dns, ['+tcp', '-c', 'CH', '-t', 'TXT', 'version.bind']);
    queriesSent.tcp += 1;
    assert.match(tcp, /version\.bind\.\s+0\s+CH\s+TXT\s+"one"/);
  });

  it('spreads flows over both workers: with one frozen, part of the queries wait for it; /metrics sums both', async () => {
    const frozen = workers[0]!;
    process.kill(frozen, 'SIGSTOP');
    let got = 0;
    let pending: Promise<DecodedMessage | null>[] = [];
    try {
      // 40 flows (40 source ports): the running worker answers its share; the stopped one cannot answer at all.
      pending = Array.from({ length: 40 }, () => askOnce(dns, 10_000).then((m) => { if (m !== null) got++; return m; }));
      await waitUntil(() => got > 0, { timeoutMs: 10_000, message: 'the running worker answered' });
    } finally {
      process.kill(frozen, 'SIGCONT');
    }
    const whileFrozen = got;
    const answered = await Promise.all(pending);
    queriesSent.udp += 40;
    assert.ok(whileFrozen > 0 && whileFrozen < 40, `answered ${whileFrozen} of 40 with one of two workers frozen`);
    assert.equal(answered.filter((m) => m !== null).length, 40, 'once thawed, the frozen worker answered the queries queued for it');
    // The frozen worker answers what queued up for it once thawed, and counts it: the sum covers both workers.
    const want = queriesSent.udp + queriesSent.tcp;
    let seen = -1;
    for (let i = 0; i < 50 && seen !== want; i++) {
      seen = total(await scrape(http), 'coredns_dns_requests_total');
      if (seen !== want) await new Promise((r) => setTimeout(r, 100));
    }
    assert.equal(seen, want);
    const families = await scrape(http);
    assert.equal(total(families, 'coredns_dns_requests_total', { proto: 'tcp' }), queriesSent.tcp);
    assert.equal(total(families, 'coredns_build_info'), 1);
  });

  it('restarts a worker that dies', async () => {
    const victim = workers[1]!;
    process.kill(victim, 'SIGKILL');
    await cli.waitForLine(new RegExp(`worker 1 \\(pid ${victim}\\) exited with signal SIGKILL; restarting it`), 5000);
    let now: number[] = [];
    for (let i = 0; i < 100; i++) {
      now = childPids(cli.child.pid!);
      if (now.length === 2 && !now.includes(victim)) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.equal(now.length, 2);
    assert.ok(!now.includes(victim));
    workers = now;
    // The new worker needs a moment to bind; then every flow is answered again.
    let all: (DecodedMessage | null)[] = [];
    for (let i = 0; i < 40; i++) {
      all = await Promise.all(Array.from({ length: 20 }, () => askOnce(dns, 500)));
      if (all.every((m) => m !== null)) break;
    }
    assert.deepEqual(new Set(all.map(versionOf)), new Set(['one']));
  });

  it('SIGUSR1 reloads the primary and every worker', async () => {
    writeFileSync(file, corefile(dns, http, 'two'));
    cli.signal('SIGUSR1');
    await cli.waitForLine(/^\[INFO\] plugin\/reload: SIGUSR1: running configuration SHA512 = [0-9a-f]{128}$/);
    let versions = new Set<string | null>();
    for (let i = 0; i < 50; i++) {
      versions = new Set((await Promise.all(Array.from({ length: 20 }, () => askOnce(dns, 1000)))).map(versionOf));
      if (versions.size === 1 && versions.has('two')) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.deepEqual(versions, new Set(['two']));
  });

  it('SIGTERM: exit 0, and the workers are gone', async () => {
    const pids = childPids(cli.child.pid!);
    cli.signal('SIGTERM');
    const code = await Promise.race([cli.exited, new Promise<string>((r) => setTimeout(() => r('timeout'), 15_000))]);
    assert.equal(code, 0);
    for (let i = 0; i < 50 && pids.some(alive); i++) await new Promise((r) => setTimeout(r, 50));
    assert.deepEqual(pids.filter(alive), []);
  });
});

test('-workers 2 with a block on port 0: exit 1 naming the block; a bad -workers value: exit 2', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'clusterdns-workers-'));
  try {
    const file = join(dir, 'Corefile');
    writeFileSync(file, '.:0 {\n  bind 127.0.0.1\n  whoami\n}\n');
    const r = await runCli(['-conf', file, '-workers', '2']);
    assert.equal(r.code, 1);
    assert.equal(r.stderr, `${file}:1: -workers 2 needs a fixed port: every worker binds the same one, and port 0 would give each its own\n`);
    for (const bad of ['0', 'two', '-1', '1.5', '100000']) {
      const b = await runCli(['-conf', file, '-workers', bad]);
      assert.equal(b.code, 2, bad);
      assert.match(b.stderr, new RegExp(`invalid value "${bad.replace('.', '\\.')}" for flag -workers: a number of workers from 1 to 256, or auto`));
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('-workers 2 with the kubernetes plugin: the primary reads the manifests once, both workers answer from them and follow a change', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'clusterdns-workers-'));
  const service = (ip: string): string => `apiVersion: v1
kind: Namespace
metadata: {name: shop}
---
apiVersion: v1
kind: Service
metadata: {name: cart, namespace: shop}
spec: {clusterIP: ${ip}, ports: [{name: http, port: 80, protocol: TCP}]}
`;
  writeFileSync(join(dir, 'shop.yaml'), service('10.96.0.10'));
  const dns = await freePort();
  const file = join(dir, 'Corefile');
  writeFileSync(file, `.:${dns} {\n  bind 127.0.0.1\n  kubernetes cluster.local {\n    manifests shop.yaml\n  }\n}\n`);
  const cli = new CliProcess(['-conf', file, '-workers', '2'], dir);
  const addresses = async (): Promise<Set<string | null>> => {
    const replies = await Promise.all(Array.from({ length: 20 }, async (): Promise<DecodedMessage | null> => {
      const c = await UdpClient.open(dns);
      try {
        return await c.query('cart.shop.svc.cluster.local.', Type.A, { timeoutMs: 1000 });
      } catch {
        return null;
      } finally {
        await c.close();
      }
    }));
    return new Set(replies.map((m) => (m === null || m.answer.length === 0 ? null : [...m.answer[0]!.data].join('.'))));
  };
  try {
    await cli.waitForLine(/, 2 workers$/, 30_000);
    assert.deepEqual(await addresses(), new Set(['10.96.0.10']));
    writeFileSync(join(dir, 'shop.yaml'), service('10.96.0.20'));
    let seen = new Set<string | null>();
    for (let i = 0; i < 100; i++) {
      seen = await addresses();
      if (seen.size === 1 && seen.has('10.96.0.20')) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.deepEqual(seen, new Set(['10.96.0.20']));
    // One process read the files: the primary (workers relay its state).
    assert.equal(cli.lines.filter((l) => /plugin\/kubernetes: manifests: \d+ objects/.test(l)).length, 1, cli.lines.join('\n'));
    cli.signal('SIGTERM');
    const code = await Promise.race([cli.exited, new Promise<string>((r) => setTimeout(() => r('timeout'), 15_000))]);
    assert.equal(code, 0);
  } finally {
    await cli.kill();
    rmSync(dir, { recursive: true, force: true });
  }
});
