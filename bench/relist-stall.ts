/**
 * @module bench/relist-stall
 * The longest synchronous step of the kubernetes source during a relist
 * (410 Expired) and a dropped watch, with 10,000 services: the store and
 * DNS index (a warm answer cache) fed by the live API source, in this
 * process, from the API test server in a process of its own (so its
 * serialising is not measured). The figure is the event loop's longest
 * delay (perf_hooks.monitorEventLoopDelay max) while the source relists or
 * reconnects: how long a query that arrived then waited before being read.
 * That is wall time, which a loaded machine stretches; so the main thread's
 * CPU time between two ticks of a 1 ms timer, less GC pauses, is reported
 * too: the longest synchronous step of our own.
 *
 *   node bench/relist-stall.ts [--services 10000] [--rounds 5]
 */
import { monitorEventLoopDelay, PerformanceObserver } from 'node:perf_hooks';
import { KubernetesApiSource } from '../src/cluster/api/source.ts';
import { ClusterStore } from '../src/cluster/store.ts';
import { Type } from '../src/dns/constants.ts';
import { DnsIndex } from '../src/plugins/kubernetes/dns-index.ts';
import { fqdnOf, generateCluster } from './cluster-gen.ts';
import { ApiProcess } from './soak-churn.ts';

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}

const services = arg('services', 10_000);
const rounds = arg('rounds', 5);
const quiet = { info: () => {}, warn: () => {}, error: (m: string) => process.stderr.write(`${m}\n`) };

const api = await ApiProcess.start(services);
const store = new ClusterStore();
const index = new DnsIndex(store, {
  zones: ['cluster.local.'], primaryZone: 'cluster.local.', ttl: 5, pods: 'disabled', endpointPodNames: false, endpoints: true,
  ignoreEmptyService: false, zonal: false, namespaces: null, namespaceLabels: null, localAddresses: () => [],
});
const source = new KubernetesApiSource({ endpoint: api.url, watchPods: false, watchEndpoints: true, logger: quiet, backoff: { initialMs: 10, maxMs: 50 } });
source.start(store);
if (!(await source.waitForSync(120_000))) throw new Error('no sync within 120 s');
// A warm index, as a serving one is: every service's A answer built once.
for (const s of generateCluster(services)) index.answer(fqdnOf(s), Type.A, 'cluster.local.');

const sumOf = (key: 'relists' | 'watches'): number => source.status().reduce((n, s) => n + s[key], 0);
async function until(cond: () => boolean, ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 5));
  }
}

// GC pauses, so a long delay can be told apart from a long step of our own.
let longestGc = 0;
let gcSpans: [start: number, end: number][] = [];
const gcs = new PerformanceObserver((list) => {
  for (const e of list.getEntries()) { longestGc = Math.max(longestGc, e.duration); gcSpans.push([e.startTime, e.startTime + e.duration]); }
});
gcs.observe({ entryTypes: ['gc'] });

/**
 * A 1 ms timer chain: for each gap between two of its ticks, the main
 * thread's CPU time in it (process.threadCpuUsage) less the GC pauses inside
 * it; the longest is the longest synchronous step of our own. CPU time, not
 * wall time, so the other processes of a loaded machine do not stretch it
 * (much: caches and frequency still vary).
 */
class OwnStepMeter {
  #gaps: [start: number, end: number, cpuMs: number][] = [];
  #last = performance.now();
  #lastCpu = 0;
  #timer: NodeJS.Timeout | null = null;
  static #cpu(): number { const u = process.threadCpuUsage(); return (u.user + u.system) / 1000; }
  start(): void {
    this.#last = performance.now();
    this.#lastCpu = OwnStepMeter.#cpu();
    const tick = (): void => {
      const now = performance.now();
      const cpu = OwnStepMeter.#cpu();
      if (cpu - this.#lastCpu > 1) this.#gaps.push([this.#last, now, cpu - this.#lastCpu]);
      this.#last = now;
      this.#lastCpu = cpu;
      this.#timer = setTimeout(tick, 1);
    };
    this.#timer = setTimeout(tick, 1);
  }
  stop(): number {
    if (this.#timer !== null) clearTimeout(this.#timer);
    let longest = 0;
    for (const [a, b, cpu] of this.#gaps) {
      let gc = 0;
      for (const [s, e] of gcSpans) gc += Math.max(0, Math.min(b, e) - Math.max(a, s));
      longest = Math.max(longest, cpu - gc);
    }
    return longest;
  }
}

/** Longest event-loop delay and GC pause (ms) from sending `command` until every kind has done `key` once more, and 200 ms after. */
async function measure(command: 'relist' | 'drop', key: 'relists' | 'watches'): Promise<[delay: number, gc: number, own: number]> {
  const before = sumOf(key);
  const h = monitorEventLoopDelay({ resolution: 1 });
  const own = new OwnStepMeter();
  longestGc = 0;
  gcSpans = [];
  h.enable();
  own.start();
  await api.send(command);
  await until(() => sumOf(key) >= before + source.kinds.length, 60_000);
  await new Promise((r) => setTimeout(r, 200));
  h.disable();
  return [h.max / 1e6, longestGc, own.stop()];
}

const out: Record<string, number[]> = { relist: [], drop: [], relistGc: [], dropGc: [], relistOwn: [], dropOwn: [] };
for (let i = 0; i < rounds; i++) {
  const [relist, relistGc, relistOwn] = await measure('relist', 'relists');
  out.relist!.push(relist);
  out.relistGc!.push(relistGc);
  out.relistOwn!.push(relistOwn);
  const [drop, dropGc, dropOwn] = await measure('drop', 'watches');
  out.drop!.push(drop);
  out.dropGc!.push(dropGc);
  out.dropOwn!.push(dropOwn);
}
gcs.disconnect();
await source.stop();
index.close();
await api.stop();
const fmt = (xs: number[]): string => `max ${Math.max(...xs).toFixed(1)} ms, median ${[...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!.toFixed(1)} ms (${xs.map((x) => x.toFixed(1)).join(', ')})`;
process.stdout.write(`${services} services, ${rounds} rounds; longest event-loop delay\n  relist (410): ${fmt(out.relist!)}\n    longest GC pause in it: ${fmt(out.relistGc!)}\n    CPU of the longest step: ${fmt(out.relistOwn!)}\n  watch drop:   ${fmt(out.drop!)}\n    longest GC pause in it: ${fmt(out.dropGc!)}\n    CPU of the longest step: ${fmt(out.dropOwn!)}\n`);
