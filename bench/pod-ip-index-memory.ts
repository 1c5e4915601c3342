/**
 * @module bench/pod-ip-index-memory
 * Memory of the pod-IP → namespace index autopath uses, at 100,000 running
 * pods (IPv4, spread over 500 namespaces, resourceVersions as the API sends
 * them), against the same pods kept as Pod records in the ClusterStore (what
 * `pods verified` costs). Heap plus ArrayBuffer memory after a full GC,
 * per pod. Also the lookup cost per call.
 *
 *   node --expose-gc bench/pod-ip-index-memory.ts [--pods N]
 */
import { PodIpIndex } from '../src/cluster/pod-ip-index.ts';
import { ClusterStore } from '../src/cluster/store.ts';
import type { PodRecord } from '../src/cluster/types.ts';

const gc = (globalThis as { gc?: () => void }).gc;
if (gc === undefined) {
  process.stderr.write('run with node --expose-gc\n');
  process.exit(2);
}
const i = process.argv.indexOf('--pods');
const PODS = i >= 0 ? Number(process.argv[i + 1]) : 100_000;

function podAt(n: number): PodRecord {
  const ip = `10.${(n >> 16) & 255}.${(n >> 8) & 255}.${n & 255}`;
  return {
    kind: 'Pod', namespace: `team-${n % 500}`, name: `app-${n}-7d9f8c6b5-x${n.toString(36)}`, ip, ips: [ip],
    phase: 'Running', deleting: false, hostname: null, subdomain: null,
    labels: { app: `app-${n % 2000}`, 'pod-template-hash': '7d9f8c6b5' }, resourceVersion: String(1_000_000 + n),
  };
}

function used(): number {
  gc!();
  gc!();
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
}

const base = used();
const index = new PodIpIndex();
for (let n = 0; n < PODS; n++) index.apply({ type: 'ADDED', object: podAt(n) });
const indexBytes = used() - base;

const base2 = used();
const store = new ClusterStore();
store.replace(['Pod'], Array.from({ length: PODS }, (_, n) => podAt(n)));
const storeBytes = used() - base2;

// Lookup cost: the autopath path (one call per query in the zone).
const probes = Array.from({ length: 1000 }, (_, n) => podAt((n * 97) % PODS).ip!);
let hits = 0;
const rounds = 1000;
const t0 = process.hrtime.bigint();
for (let r = 0; r < rounds; r++) for (const ip of probes) if (index.namespaceOf(ip) !== null) hits++;
const ns = Number(process.hrtime.bigint() - t0) / (rounds * probes.length);

process.stdout.write(`pods: ${PODS} (entries ${index.size}, store pods ${store.count('Pod')})\n`);
process.stdout.write(`pod-IP index: ${(indexBytes / 1024 / 1024).toFixed(2)} MiB, ${(indexBytes / PODS).toFixed(1)} bytes/pod\n`);
process.stdout.write(`store Pod records (pods verified): ${(storeBytes / 1024 / 1024).toFixed(2)} MiB, ${(storeBytes / PODS).toFixed(1)} bytes/pod\n`);
process.stdout.write(`namespaceOf: ${ns.toFixed(0)} ns/lookup (${hits} hits)\n`);
