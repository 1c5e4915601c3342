/**
 * @module bench/fake-api-process
 * The API test server (test/support/fake-apiserver.ts) as a process of its
 * own, holding a generated cluster, so the server under test is measured
 * alone: lists are paginated as the client asks (clusterdns asks 500 per
 * page, as client-go's reflector does), watches stream. Prints one JSON line
 * `{"url": ...}` once loaded. Reads commands from stdin, one a line, run in
 * order (bench/soak.ts drives its chaos through them):
 *   relist   forget history and drop every connection, so each watch comes
 *            back with an expired resourceVersion (410) and relists; prints
 *            `{"relist": true}` once it is listening again.
 *   create JSON       add an object (a Service, EndpointSlice, ...)
 *   delete KIND NS NAME   remove one
 *   drop     drop every connection and listen again at once: watches resume
 *            from their resourceVersion (history kept)
 *   down / up   stop listening (connections dropped) / listen again on the
 *            same port; the store keeps changing while down
 * Each of these prints `{"done": "COMMAND", "rv": N}` (and `"deleted": false`
 * for a delete of nothing); a bad line prints `{"error": "..."}`.
 *
 *   node bench/fake-api-process.ts --services N [--tls DIR] [--token T]
 * With --tls, DIR holds server.crt / server.key (HTTPS, as in a cluster).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { FakeApiServer, type FakeApiServerOptions, type FakeKind, type KubeObject } from '../test/support/fake-apiserver.ts';
import { generateCluster, serviceManifest, sliceManifest } from './cluster-gen.ts';

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

const services = Number(arg('services') ?? '1000');
const tlsDir = arg('tls');
const token = arg('token');
const options: FakeApiServerOptions = {
  ...(tlsDir !== undefined ? { tls: { cert: readFileSync(path.join(tlsDir, 'server.crt')), key: readFileSync(path.join(tlsDir, 'server.key')) } } : {}),
  ...(token !== undefined ? { token } : {}),
};
const api = new FakeApiServer(options);
const cluster = generateCluster(services);
for (const ns of [...new Set(cluster.map((s) => s.namespace))]) {
  api.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns, labels: { 'kubernetes.io/metadata.name': ns } } });
}
for (const s of cluster) api.create(serviceManifest(s) as KubeObject);
for (const s of cluster) if (s.clusterIP === null) api.create(sliceManifest(s, 'x1') as KubeObject);
const { url } = await api.start();
process.stdout.write(`${JSON.stringify({ url })}\n`);

/** Runs one command line; returns the reply line's fields. */
async function command(line: string): Promise<Record<string, unknown>> {
  const [verb = '', ...rest] = line.trim().split(/\s+/);
  switch (verb) {
    case 'create': {
      const obj = JSON.parse(line.trim().slice('create'.length)) as KubeObject;
      api.create(obj);
      return {};
    }
    case 'delete': {
      const [kind, ns, name] = rest;
      if (kind === undefined || ns === undefined || name === undefined) throw new Error('usage: delete KIND NS NAME');
      return { deleted: api.delete(kind as FakeKind, ns, name) };
    }
    case 'drop': await api.restart(); return {};
    case 'down': await api.kill(); return {};
    case 'up': await api.restart(); return {};
    default: throw new Error(`unknown command '${verb}'`);
  }
}

async function relist(): Promise<void> {
  await api.kill();
  // One write after the clients' last resourceVersion, then compaction past it: their watches get 410.
  api.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: `relist-${api.resourceVersion}` } });
  api.compact();
  await api.restart();
  process.stdout.write(`${JSON.stringify({ relist: true })}\n`);
}

// One command at a time, in the order they came.
let queue: Promise<void> = Promise.resolve();
const rl = createInterface({ input: process.stdin });
rl.on('line', (line) => {
  if (line.trim() === '') return;
  queue = queue.then(async () => {
    if (line.trim() === 'relist') { await relist(); return; }
    const verb = line.trim().split(/\s+/)[0];
    try {
      const fields = await command(line);
      process.stdout.write(`${JSON.stringify({ done: verb, rv: api.resourceVersion, ...fields })}\n`);
    } catch (e) {
      process.stdout.write(`${JSON.stringify({ error: `${verb}: ${e instanceof Error ? e.message : String(e)}` })}\n`);
    }
  });
});
rl.on('close', () => { void queue.then(() => api.stop()).then(() => process.exit(0)); });
