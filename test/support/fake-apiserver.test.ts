/**
 * @module test/support/fake-apiserver.test
 * Tests of the fake Kubernetes API server itself: discovery, paginated and
 * filtered lists, watch replay/live events/bookmarks/timeouts, compaction
 * (410), injected failures, token auth, kill/restart and HTTPS with client
 * certificates.
 */

import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import https from 'node:https';
import { readFileSync } from 'node:fs';
import { FakeApiServer } from './fake-apiserver.ts';
import { endpointSliceObject, namespaceObject, podObject, serviceObject } from './fake-objects.ts';
import { waitUntil } from './wait-until.ts';

interface WatchEventJSON {
  type: string;
  object: { kind?: string; code?: number; reason?: string; metadata?: { name?: string; resourceVersion?: string } };
}

interface WatchHandle {
  readonly events: WatchEventJSON[];
  readonly done: Promise<'end' | 'error'>;
  readonly status: Promise<number>;
  close(): void;
}

function openWatch(url: string): WatchHandle {
  const events: WatchEventJSON[] = [];
  let setStatus: (n: number) => void = () => {};
  const status = new Promise<number>((r) => (setStatus = r));
  let req: http.ClientRequest | undefined;
  const done = new Promise<'end' | 'error'>((resolve) => {
    req = http.get(url, (res) => {
      setStatus(res.statusCode ?? 0);
      res.setEncoding('utf8');
      let buf = '';
      res.on('data', (chunk: string) => {
        buf += chunk;
        const lines = buf.split('\n');
        buf = lines.pop() ?? '';
        for (const l of lines) if (l.trim() !== '') events.push(JSON.parse(l) as WatchEventJSON);
      });
      res.on('end', () => resolve(res.complete ? 'end' : 'error'));
      res.on('error', () => resolve('error'));
    });
    req.on('error', () => resolve('error'));
  });
  return { events, done, status, close: () => req?.destroy() };
}

async function getJSON(url: string): Promise<{ status: number; body: any }> {
  const res = await fetch(url);
  return { status: res.status, body: await res.json() };
}

test('discovery endpoints answer', async () => {
  const server = new FakeApiServer();
  const { url } = await server.start();
  try {
    assert.equal((await getJSON(`${url}/version`)).body.major, '1');
    assert.deepEqual((await getJSON(`${url}/api`)).body.versions, ['v1']);
    assert.equal((await getJSON(`${url}/apis`)).body.groups[0].name, 'discovery.k8s.io');
    assert.equal((await getJSON(`${url}/api/v1/nothing`)).status, 404);
    assert.equal(server.requests.get('/version'), 1);
  } finally {
    await server.stop();
  }
});

test('lists paginate consistently and filter by namespace, labels and fields', async () => {
  const server = new FakeApiServer();
  const { url } = await server.start();
  try {
    for (let i = 0; i < 5; i++) server.create(serviceObject(i < 3 ? 'a' : 'b', `s${i}`, `10.0.0.${i + 1}`, { labels: { app: i % 2 === 0 ? 'web' : 'db' } }));
    const first = await getJSON(`${url}/api/v1/services?limit=2`);
    assert.equal(first.body.kind, 'ServiceList');
    assert.equal(first.body.items.length, 2);
    assert.equal(first.body.metadata.remainingItemCount, 3);
    const rv = first.body.metadata.resourceVersion;
    assert.equal(rv, String(server.resourceVersion));
    server.create(serviceObject('a', 's9', '10.0.0.9')); // not in the snapshot
    const names: string[] = first.body.items.map((i: any) => i.metadata.name);
    let cont: string | undefined = first.body.metadata.continue;
    for (let n = 0; n < 5 && cont; n++) {
      const page = await getJSON(`${url}/api/v1/services?limit=2&continue=${encodeURIComponent(cont)}`);
      assert.equal(page.body.metadata.resourceVersion, rv);
      names.push(...page.body.items.map((i: any) => i.metadata.name));
      cont = page.body.metadata.continue;
    }
    assert.deepEqual(names, ['s0', 's1', 's2', 's3', 's4']);
    const nsList = await getJSON(`${url}/api/v1/namespaces/b/services`);
    assert.deepEqual(nsList.body.items.map((i: any) => i.metadata.name), ['s3', 's4']);
    const sel = async (s: string): Promise<string[]> =>
      (await getJSON(`${url}/api/v1/services?labelSelector=${encodeURIComponent(s)}`)).body.items.map((i: any) => i.metadata.name);
    assert.deepEqual(await sel('app=web'), ['s0', 's2', 's4']);
    assert.deepEqual(await sel('app!=web'), ['s1', 's9', 's3']); // sorted by namespace/name
    assert.deepEqual(await sel('app in (db, web),app notin (web)'), ['s1', 's3']);
    assert.deepEqual(await sel('!app'), ['s9']);
    assert.deepEqual(await sel('app'), ['s0', 's1', 's2', 's3', 's4']);
    assert.equal((await getJSON(`${url}/api/v1/services?labelSelector=${encodeURIComponent('a b c')}`)).status, 400);
    server.create(podObject('a', 'run', '10.1.0.1'));
    server.create(podObject('a', 'done', '10.1.0.2', { phase: 'Succeeded' }));
    server.create(podObject('a', 'bad', '10.1.0.3', { phase: 'Failed' }));
    const pods = await getJSON(`${url}/api/v1/pods?fieldSelector=${encodeURIComponent('status.phase!=Succeeded,status.phase!=Failed')}`);
    assert.deepEqual(pods.body.items.map((i: any) => i.metadata.name), ['run']);
    server.create(endpointSliceObject('a', 'web-x1', 'web', ['10.2.0.1']));
    const slices = await getJSON(`${url}/apis/discovery.k8s.io/v1/namespaces/a/endpointslices`);
    assert.equal(slices.body.kind, 'EndpointSliceList');
    assert.equal(slices.body.items.length, 1);
    assert.equal((await getJSON(`${url}/api/v1/namespaces/a/services/s0`)).body.spec.clusterIP, '10.0.0.1');
  } finally {
    await server.stop();
  }
});

test('watch replays history, streams live events, translates selector changes, bookmarks and times out', async () => {
  const server = new FakeApiServer();
  const { url } = await server.start();
  try {
    server.create(namespaceObject('ns1'));
    const rv0 = server.resourceVersion;
    server.create(serviceObject('a', 'web', '10.0.0.1', { labels: { app: 'web' } }));
    const w = openWatch(`${url}/api/v1/services?watch=true&resourceVersion=${rv0}&allowWatchBookmarks=true&labelSelector=app%3Dweb&timeoutSeconds=1`);
    await waitUntil(() => server.openWatches === 1 && w.events.length === 1);
    assert.equal(await w.status, 200);
    assert.equal(w.events[0]!.type, 'ADDED');
    server.update(serviceObject('a', 'web', '10.0.0.2', { labels: { app: 'web' } }));
    server.update(serviceObject('a', 'web', '10.0.0.2', { labels: { app: 'other' } }));
    server.update(serviceObject('a', 'web', '10.0.0.3', { labels: { app: 'web' } }));
    server.delete('Service', 'a', 'web');
    server.create(serviceObject('a', 'unrelated', '10.0.0.4'));
    server.bookmark();
    await waitUntil(() => w.events.length === 6);
    assert.deepEqual(w.events.map((e) => e.type), ['ADDED', 'MODIFIED', 'DELETED', 'ADDED', 'DELETED', 'BOOKMARK']);
    assert.equal(w.events[5]!.object.metadata?.resourceVersion, String(server.resourceVersion));
    assert.equal(await w.done, 'end'); // timeoutSeconds=1
    assert.equal(server.openWatches, 0);
    // Without a resourceVersion the watch starts with the current objects as ADDED; no bookmarks unless asked.
    const w2 = openWatch(`${url}/api/v1/namespaces?watch=1`);
    await waitUntil(() => w2.events.length === 1 && server.openWatches === 1);
    server.bookmark();
    server.create(namespaceObject('ns2'));
    await waitUntil(() => w2.events.length === 2);
    assert.deepEqual(w2.events.map((e) => [e.type, e.object.metadata?.name]), [['ADDED', 'ns1'], ['ADDED', 'ns2']]);
    w2.close();
    await w2.done;
  } finally {
    await server.stop();
  }
});

test('compaction answers 410 the way the API server does', async () => {
  const server = new FakeApiServer();
  const { url } = await server.start();
  try {
    for (let i = 0; i < 3; i++) server.create(serviceObject('a', `s${i}`, `10.0.0.${i + 1}`));
    const old = server.resourceVersion - 1;
    const page = await getJSON(`${url}/api/v1/services?limit=1`);
    server.create(serviceObject('a', 's3', '10.0.0.4'));
    server.compact();
    const w = openWatch(`${url}/api/v1/services?watch=true&resourceVersion=${old}`);
    assert.equal(await w.status, 200);
    assert.equal(await w.done, 'end');
    assert.equal(w.events.length, 1);
    assert.equal(w.events[0]!.type, 'ERROR');
    assert.equal(w.events[0]!.object.code, 410);
    assert.equal(w.events[0]!.object.reason, 'Expired');
    assert.equal((await getJSON(`${url}/api/v1/services?resourceVersion=${old}`)).status, 410);
    const cont = await getJSON(`${url}/api/v1/services?limit=1&continue=${encodeURIComponent(page.body.metadata.continue)}`);
    assert.equal(cont.status, 410);
    const fresh = openWatch(`${url}/api/v1/services?watch=true&resourceVersion=${server.resourceVersion}`);
    await waitUntil(() => server.openWatches === 1);
    server.delete('Service', 'a', 's0');
    await waitUntil(() => fresh.events.length === 1);
    assert.equal(fresh.events[0]!.type, 'DELETED');
    fresh.close();
    await fresh.done;
  } finally {
    await server.stop();
  }
});

test('failNext, token auth and request counters', async () => {
  const server = new FakeApiServer({ token: 'sekret' });
  const { url } = await server.start();
  try {
    const auth = { headers: { Authorization: 'Bearer sekret' } };
    assert.equal((await fetch(`${url}/api/v1/pods`)).status, 401);
    server.failNext('/api/v1/pods', 500, 2);
    server.failNext('/api/v1/services', 403);
    assert.equal((await fetch(`${url}/api/v1/pods`, auth)).status, 500);
    const forbidden = await fetch(`${url}/api/v1/services`, auth);
    assert.equal(forbidden.status, 403);
    assert.equal(((await forbidden.json()) as { reason: string }).reason, 'Forbidden');
    assert.equal((await fetch(`${url}/api/v1/pods`, auth)).status, 500);
    assert.equal((await fetch(`${url}/api/v1/pods`, auth)).status, 200);
    assert.equal(server.requests.get('/api/v1/pods'), 4);
    assert.equal(server.requestCount('/api/v1/', false), 5);
    assert.equal(server.requestLog.at(-1)?.authorization, 'Bearer sekret');
  } finally {
    await server.stop();
  }
});

test('kill drops every connection; restart listens on the same port with the same state', async () => {
  const server = new FakeApiServer();
  const { url } = await server.start();
  try {
    server.create(namespaceObject('keep'));
    const w = openWatch(`${url}/api/v1/namespaces?watch=true&resourceVersion=${server.resourceVersion}`);
    await waitUntil(() => server.openWatches === 1);
    await server.kill();
    assert.equal(await w.done, 'error');
    await assert.rejects(fetch(`${url}/version`));
    server.create(namespaceObject('during-outage'));
    await server.restart();
    assert.equal(server.url, url);
    const list = await getJSON(`${url}/api/v1/namespaces`);
    assert.deepEqual(list.body.items.map((i: any) => i.metadata.name), ['during-outage', 'keep']);
  } finally {
    await server.stop();
  }
});

test('serves HTTPS and records the client certificate', async () => {
  const fixtures = new URL('./fixtures/', import.meta.url);
  const read = (f: string): Buffer => readFileSync(new URL(f, fixtures));
  const server = new FakeApiServer({ tls: { cert: read('server.crt'), key: read('server.key'), ca: read('ca.crt'), requestCert: true } });
  const { url } = await server.start();
  try {
    assert.ok(url.startsWith('https://127.0.0.1:'));
    const body = await new Promise<string>((resolve, reject) => {
      https.get(`${url}/version`, { ca: read('ca.crt'), cert: read('client.crt'), key: read('client.key') }, (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (text += c));
        res.on('end', () => resolve(text));
      }).on('error', reject);
    });
    assert.equal((JSON.parse(body) as { major: string }).major, '1');
    assert.equal(server.requestLog[0]!.clientCertCN, 'clusterdns-test-client');
  } finally {
    await server.stop();
  }
});
