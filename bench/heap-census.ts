/**
 * @module bench/heap-census
 * Live-heap census of a running clusterdns started with
 * `--inspect=127.0.0.1:PORT` (e.g. the soak's `SOAK_NODE_ARGS`): through the
 * inspector it forces a full GC, reads `process.memoryUsage()`, and (with
 * `--snapshot`) takes a heap snapshot and counts objects and self bytes by
 * constructor. Two censuses taken at different times, compared with
 * `--diff A.json B.json`, name what grows. No signal handler or code in the
 * server itself: the inspector is Node's own.
 *
 *   node bench/heap-census.ts --port 9229 [--snapshot] [--out census.json]
 *   node bench/heap-census.ts --diff a.json b.json
 */
import { readFileSync, writeFileSync } from 'node:fs';

interface Census {
  at: string;
  memory: { rss: number; heapTotal: number; heapUsed: number; external: number; arrayBuffers: number };
  /** "type:name" -> [count, self bytes]; present with --snapshot. */
  byConstructor?: Record<string, [number, number]>;
}

const argv = process.argv;
const value = (name: string): string | undefined => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? argv[i + 1] : undefined;
};
const MiB = (n: number): string => (n / 2 ** 20).toFixed(1);

/** One inspector session: send a method, wait for its result; collects snapshot chunks on the side. */
async function inspect(port: number, snapshot: boolean): Promise<Census> {
  const list = await (await fetch(`http://127.0.0.1:${port}/json/list`)).json() as { webSocketDebuggerUrl: string }[];
  const ws = new WebSocket(list[0]!.webSocketDebuggerUrl);
  await new Promise((resolve, reject) => { ws.onopen = resolve; ws.onerror = reject; });
  let id = 0;
  const pending = new Map<number, (r: unknown) => void>();
  const chunks: string[] = [];
  ws.onmessage = (ev): void => {
    const msg = JSON.parse(String(ev.data)) as { id?: number; method?: string; params?: { chunk: string }; result?: unknown };
    if (msg.method === 'HeapProfiler.addHeapSnapshotChunk') chunks.push(msg.params!.chunk);
    else if (msg.id !== undefined) pending.get(msg.id)?.(msg.result);
  };
  const call = (method: string, params: object = {}): Promise<unknown> => new Promise((resolve) => {
    pending.set(++id, resolve);
    ws.send(JSON.stringify({ id, method, params }));
  });
  await call('HeapProfiler.enable');
  await call('HeapProfiler.collectGarbage');
  const evaluated = await call('Runtime.evaluate', { expression: 'process.memoryUsage()', returnByValue: true }) as { result: { value: Census['memory'] } };
  const census: Census = { at: new Date().toISOString(), memory: evaluated.result.value };
  if (snapshot) {
    await call('HeapProfiler.takeHeapSnapshot', { reportProgress: false });
    census.byConstructor = countByConstructor(chunks.join(''));
  }
  ws.close();
  return census;
}

/** Objects and self bytes per "type:constructor" from a .heapsnapshot's flat node array. */
function countByConstructor(text: string): Record<string, [number, number]> {
  const snap = JSON.parse(text) as { snapshot: { meta: { node_fields: string[]; node_types: [string[]] } }; nodes: number[]; strings: string[] };
  const fields = snap.snapshot.meta.node_fields;
  const types = snap.snapshot.meta.node_types[0];
  const [fType, fName, fSize, width] = [fields.indexOf('type'), fields.indexOf('name'), fields.indexOf('self_size'), fields.length];
  const out: Record<string, [number, number]> = {};
  for (let i = 0; i < snap.nodes.length; i += width) {
    const type = types[snap.nodes[i + fType]!]!;
    // Strings and code are grouped by kind; objects, closures and arrays by constructor name.
    const named = type === 'object' || type === 'closure' || type === 'native';
    const key = named ? `${type}:${snap.strings[snap.nodes[i + fName]!]}` : type;
    const e = (out[key] ??= [0, 0]);
    e[0]++;
    e[1] += snap.nodes[i + fSize]!;
  }
  return out;
}

if (argv.includes('--diff')) {
  const [a, b] = [value('diff')!, argv[argv.indexOf('--diff') + 2]!].map((f) => JSON.parse(readFileSync(f, 'utf8')) as Census);
  console.log(`heapUsed after full GC ${MiB(a!.memory.heapUsed)} -> ${MiB(b!.memory.heapUsed)} MiB; heapTotal ${MiB(a!.memory.heapTotal)} -> ${MiB(b!.memory.heapTotal)}; rss ${MiB(a!.memory.rss)} -> ${MiB(b!.memory.rss)}; external ${MiB(a!.memory.external)} -> ${MiB(b!.memory.external)}`);
  const keys = new Set([...Object.keys(a!.byConstructor ?? {}), ...Object.keys(b!.byConstructor ?? {})]);
  const rows = [...keys].map((k) => {
    const [ca, sa] = a!.byConstructor?.[k] ?? [0, 0];
    const [cb, sb] = b!.byConstructor?.[k] ?? [0, 0];
    return { k, ca, cb, dBytes: sb - sa };
  }).sort((x, y) => Math.abs(y.dBytes) - Math.abs(x.dBytes)).slice(0, 25);
  console.log('| type:constructor | count A | count B | Δ self bytes |\n|---|---:|---:|---:|');
  for (const r of rows) console.log(`| ${r.k} | ${r.ca} | ${r.cb} | ${r.dBytes} |`);
} else {
  const census = await inspect(Number(value('port') ?? 9229), argv.includes('--snapshot'));
  const out = value('out');
  if (out !== undefined) writeFileSync(out, JSON.stringify(census));
  console.log(`${census.at}: after a full GC heapUsed ${MiB(census.memory.heapUsed)} MiB, heapTotal ${MiB(census.memory.heapTotal)}, rss ${MiB(census.memory.rss)}, external ${MiB(census.memory.external)}`);
}
