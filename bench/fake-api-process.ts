/**
 * @module bench/fake-api-process
 * The API test server (test/support/fake-apiserver.ts) as a process of its
 * own, holding a generated cluster, so the server under test is measured
 * alone: lists are paginated as the client asks (clusterdns asks 500 per
 * page, as client-go's reflector does), watches stream. Prints one JSON line
 * `{"url": ...}` once loaded. Reads commands from stdin:
 *   relist   forget history and drop every connection, so each watch comes
 *            back with an expired resourceVersion (410) and relists; prints
 *            `{"relist": true}` once it is listening again.
 *
 *   node bench/fake-api-process.ts --services N [--tls DIR] [--token T]
 * With --tls, DIR holds server.crt / server.key (HTTPS, as in a cluster).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { FakeApiServer, type FakeApiServerOptions, type KubeObject } from '../test/support/fake-apiserver.ts';
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

const rl = createInterface({ input: process.stdin });
rl.on('line', (line) => {
  if (line.trim() !== 'relist') return;
  void (async () => {
    await api.kill();
    // One write after the clients' last resourceVersion, then compaction past it: their watches get 410.
    api.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: `relist-${api.resourceVersion}` } });
    api.compact();
    await api.restart();
    process.stdout.write(`${JSON.stringify({ relist: true })}\n`);
  })();
});
rl.on('close', () => { void api.stop().then(() => process.exit(0)); });
