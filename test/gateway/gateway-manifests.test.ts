/**
 * @module test/gateway/gateway-manifests.test
 * The whole DNSRecord flow from a manifest folder, with real nginx, real
 * HTTP and real dig: the record → dig on our server gives the gateway → a
 * request with that Host header reaches the right backend by path; an edit
 * (a new path, a changed port) is routed with no failed request during the
 * reload under a bounded request loop; a record nginx rejects leaves the old
 * routes working and the error names the record; nginx killed is restarted
 * by --run-nginx; the seed's JSON file as is.
 */
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync as writeInPlace } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { startTestGateway, type TestGateway } from '../support/gateway.ts';
import { dig, startServer, type TestServer } from '../support/harness.ts';
import { pollUntil, startBackend, type Backend } from '../support/http-backends.ts';
import { waitUntil } from '../support/wait-until.ts';

/** Writes as kubectl, editors and ConfigMap volumes do: a new file renamed over the old one, never half a file. */
function writeFileSync(file: string, text: string): void {
  writeInPlace(`${file}.tmp`, text);
  renameSync(`${file}.tmp`, file);
}

const seedFile = new URL('../support/fixtures/dnsrecord-seed.json', import.meta.url);

interface PathSpec { path?: string; service: string; backend: Backend }

function recordYaml(name: string, host: string, paths: PathSpec[]): string {
  const lines = paths.map((p) => `  - { ${p.path !== undefined ? `path: "${p.path}", ` : ''}service: ${p.service}, address: ${p.backend.address}, port: ${p.backend.port} }`);
  return `apiVersion: clusterdns.io/v1alpha1\nkind: DNSRecord\nmetadata: { name: ${name}, namespace: web }\nspec:\n  host: ${host}\n  gateway: 127.0.0.1\n  paths:\n${lines.join('\n')}\n`;
}

let dir: string;
let b1: Backend, b2: Backend, b3: Backend;
let dns: TestServer;
let t: TestGateway;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'gateway-records-'));
  [b1, b2, b3] = await Promise.all([startBackend('backend1', '127.0.0.2'), startBackend('backend2', '127.0.0.3'), startBackend('backend3', '127.0.0.3')]);
  writeFileSync(join(dir, 'node1.yaml'), recordYaml('node1', 'node1.com', [{ service: 'service1', backend: b1 }, { service: 'service2', backend: b2 }]));
  dns = await startServer(`.:0 {\n    bind 127.0.0.1\n    dnsrecord node1.com node2.com {\n        manifests ${dir}\n    }\n}\n`);
  t = await startTestGateway(['--manifests', dir]);
  assert.ok(await pollUntil(async () => (await t.get('node1.com', '/service1/')).status === 200, 200), `nginx did not come up: ${t.gw.supervisor?.output.join('\n')}`);
});

after(async () => {
  await t?.stop();
  await dns?.stop();
  await Promise.all([b1, b2, b3].map((b) => b?.close()));
  rmSync(dir, { recursive: true, force: true });
});

test('dig on our server gives the gateway for the record host', async () => {
  const r = await dig(dns.port, 'node1.com', 'A');
  assert.equal(r.status, 'NOERROR');
  assert.deepEqual(r.answer.map((a) => a.data), ['127.0.0.1']);
});

test('Host node1.com: /service1/test.html reaches backend 1 (prefix stripped), /service2/ backend 2', async () => {
  const one = await t.get('node1.com', '/service1/test.html');
  assert.equal(one.status, 200);
  assert.match(one.body, /^backend1 \/test\.html host=node1\.com xff=127\.0\.0\.1\n$/);
  assert.match(await t.bodyOf('node1.com', '/service2/'), /^backend2 \/ /);
  // Unknown hosts hit the default server, not the first record.
  assert.equal((await t.get('unknown.example', '/service1/')).status, 404);
  // One access log per host.
  assert.match(readFileSync(join(t.prefix, 'logs', 'node1.com.access.log'), 'utf8'), /GET \/service1\/test\.html/);
});

test('an edit (a new path, a changed port) is routed, with no failed request during the reload', async () => {
  let stop = false;
  let ok = 0;
  const failures: string[] = [];
  const loop = (async () => {
    // Bounded: at most 2000 requests, and it stops once the edit has been seen.
    for (let i = 0; i < 2000 && !stop; i++) {
      try {
        const r = await t.get('node1.com', '/service1/x');
        if (r.status === 200 && r.body.startsWith('backend1 /x')) ok++;
        else failures.push(`${r.status} ${r.body}`);
      } catch (e) {
        failures.push((e as Error).message);
      }
    }
  })();
  await waitUntil(() => ok >= 20, { timeoutMs: 5000 });
  const appliedBefore = t.gw.controller.applied;
  const workersBefore = t.gw.supervisor!.workers();
  writeFileSync(join(dir, 'node1.yaml'), recordYaml('node1', 'node1.com', [
    { service: 'service1', backend: b1 }, { service: 'service2', backend: b3 }, { path: '/new/', service: 'service1', backend: b2 },
  ]));
  // An apply counts once nginx's old workers stopped taking connections: from then on every request sees the edit.
  await t.untilApplied(appliedBefore, 'location /new/');
  assert.ok(workersBefore.length > 0 && t.gw.supervisor!.workers().every((pid) => !workersBefore.includes(pid)), 'an old worker still takes connections');
  assert.match(await t.bodyOf('node1.com', '/service2/'), /^backend3 /);
  assert.match(await t.bodyOf('node1.com', '/new/page'), /^backend2 \/page /);
  const okAtSwitch = ok;
  await waitUntil(() => ok >= okAtSwitch + 20, { timeoutMs: 5000 });
  stop = true;
  await loop;
  assert.deepEqual(failures, []);
  assert.ok(ok >= 40);
});

test('a record nginx rejects: the old routes keep working, the error names the record, other records still apply', async () => {
  const rejectionsBefore = t.gw.controller.rejections;
  const appliedBefore = t.gw.controller.applied;
  // Two paths with one prefix: valid for the schema, a duplicate location for nginx.
  writeFileSync(join(dir, 'node1.yaml'), recordYaml('node1', 'node1.com', [
    { service: 'service1', backend: b1 }, { path: '/dup/', service: 'service1', backend: b1 }, { path: '/dup/', service: 'service2', backend: b2 },
  ]));
  writeFileSync(join(dir, 'node2.yaml'), recordYaml('node2', 'node2.com', [{ service: 'service1', backend: b1 }]));
  await waitUntil(() => t.gw.controller.rejections > rejectionsBefore, { timeoutMs: 5000 });
  await t.untilApplied(appliedBefore, 'server_name node2.com;');
  assert.equal((await t.get('node2.com', '/service1/')).status, 200);
  const line = t.log.lines.find((l) => l.includes('nginx rejected'));
  assert.match(line ?? '', /^\[ERROR\] plugin\/gateway: nginx rejected DNSRecord web\/node1 \(.*node1\.yaml\): duplicate location "\/dup\/" .*serving its last good version/);
  assert.match(t.gw.controller.rejected.get('web/node1') ?? '', /duplicate location/);
  // The last good version of node1 is what nginx serves: the edited routes of the previous test.
  assert.match(await t.bodyOf('node1.com', '/service2/'), /^backend3 /);
  assert.match(await t.bodyOf('node1.com', '/new/a'), /^backend2 /);
  assert.equal((await t.get('node1.com', '/dup/')).status, 404);
  // Fixing the record applies it.
  const appliedAtFix = t.gw.controller.applied;
  writeFileSync(join(dir, 'node1.yaml'), recordYaml('node1', 'node1.com', [{ service: 'service1', backend: b1 }, { service: 'service2', backend: b2 }]));
  await t.untilApplied(appliedAtFix, `location /service2/ {\n        proxy_pass http://${b2.address}:${b2.port}/;`);
  assert.match(await t.bodyOf('node1.com', '/service2/'), /^backend2 /);
  assert.equal(t.gw.controller.rejected.size, 0);
});

test('nginx killed: --run-nginx starts it again and the routes come back', async () => {
  const sup = t.gw.supervisor!;
  const pid = sup.pid!;
  const starts = sup.starts;
  process.kill(pid, 'SIGKILL');
  await waitUntil(() => sup.starts > starts && sup.pid !== null && sup.pid !== pid, { timeoutMs: 10_000 });
  assert.ok(await pollUntil(async () => (await t.bodyOf('node1.com', '/service1/a')).startsWith('backend1 /a'), 200));
  assert.ok(t.log.lines.some((l) => /\[ERROR\] plugin\/gateway: nginx exited \(SIGKILL\); starting it again/.test(l)));
});

test('the seed JSON file as is: its host is answered by DNS and rendered as a server with its two locations', async () => {
  copyFileSync(seedFile, join(dir, 'seed.json'));
  await waitUntil(() => t.gw.controller.current?.includes('server_name node1.com;') === true && [...t.gw.feeds.records.records()].some((r) => r.name === 'dns-test1'), { timeoutMs: 5000 });
  // node1.com is web/node1's (older); the seed claims it too and is reported, never routed.
  await waitUntil(() => t.log.lines.some((l) => l.includes('DNSRecord default/dns-test1') && l.includes('is ignored')), { timeoutMs: 5000 });
  rmSync(join(dir, 'node1.yaml'));
  await waitUntil(() => t.gw.controller.current?.includes('proxy_pass http://10.1.1.10:8010/;') === true, { timeoutMs: 5000 });
  const text = t.gw.controller.current!;
  assert.match(text, /server_name node1\.com;\n.*\n    location \/service1\/ \{\n        proxy_pass http:\/\/10\.1\.1\.10:8010\/;/);
  assert.match(text, /location \/service2\/ \{\n        proxy_pass http:\/\/10\.1\.1\.11:8011\/;/);
  assert.ok(text.includes(`listen 127.0.0.1:${t.port};`));
  assert.ok(await pollUntil(async () => (await dig(dns.port, 'node1.com', 'A')).status === 'NOERROR', 100));
});
