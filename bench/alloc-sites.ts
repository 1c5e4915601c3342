/**
 * @module bench/alloc-sites
 * Where the per-query bytes of the steady chain come from: the chain of
 * micro-chain.ts served in file order (as `micro.ts --steady`), then V8's
 * sampling heap profiler (node:inspector, every 64 bytes on average,
 * objects freed by scavenges kept in the sample) over N queries of one mix,
 * started after set-up so only the query path is sampled. Prints bytes per
 * query by allocating function and line.
 *
 *   node bench/alloc-sites.ts [--services 10000] [--mix hit-a] [--queries 200000]
 */
import { Session } from 'node:inspector/promises';
import { servingMix, startChain } from './micro-chain.ts';
import type { Mix } from './cluster-gen.ts';

const argAfter = (name: string): string | undefined => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
};
const services = Number(argAfter('--services') ?? 10_000);
const mixes = (argAfter('--mix') ?? 'hit-a').split(',') as Mix[];
const N = Number(argAfter('--queries') ?? 200_000);
const chain = await startChain(services, true, 100_000);
const session = new Session();
session.connect();

interface ProfileNode { callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number }; selfSize: number; id: number; children: ProfileNode[] }
interface Sample { size: number; nodeId: number; ordinal: number }

for (const mix of mixes) {
  const serve = servingMix(chain, mix);
  const n = chain.queries[mix].length;
  for (let i = 0; i < 2 * n; i++) serve(); // warm: caches filled, JIT settled
  await session.post('HeapProfiler.startSampling', { samplingInterval: 64, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true });
  for (let i = 0; i < N; i++) serve();
  const { profile } = await session.post('HeapProfiler.stopSampling') as unknown as { profile: { head: ProfileNode; samples: Sample[] } };
  // Per sampled node: the stack leading to it, so the site is readable.
  const byId = new Map<number, { frame: string; stack: string }>();
  const walk = (node: ProfileNode, stack: string[]): void => {
    const f = node.callFrame;
    const frame = `${f.functionName || '(anon)'} ${f.url.replace(/^.*\/(src|bench|node_modules)\//, '$1/')}:${f.lineNumber + 1}`;
    const s = [...stack, frame];
    byId.set(node.id, { frame, stack: s.slice(-3).reverse().join(' < ') });
    for (const c of node.children) walk(c, s);
  };
  walk(profile.head, []);
  const totals = new Map<string, number>();
  let all = 0;
  for (const smp of profile.samples) {
    const site = byId.get(smp.nodeId)?.stack ?? '?';
    totals.set(site, (totals.get(site) ?? 0) + smp.size);
    all += smp.size;
  }
  console.log(`${mix}: ${(all / N).toFixed(1)} B/q sampled over ${N} queries`);
  for (const [site, bytes] of [...totals].sort((a, b) => b[1] - a[1]).slice(0, 15)) {
    console.log(`  ${(bytes / N).toFixed(2).padStart(7)} B/q  ${site}`);
  }
}
session.disconnect();
await chain.app.stop(0);
process.exit(0);
