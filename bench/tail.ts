/**
 * @module bench/tail
 * One clusterdns server under the fixed-rate latency run, for finding what
 * makes the tail: the kubeadm-like bench Corefile on a generated cluster,
 * a saturation warm-up per mix (so caches and heap are in the state the full
 * bench leaves them in), then `dnsperf -Q RATE -l S -v`, printing
 * p50/p99/p99.9/max next to the server's event-loop delay and GC pauses over
 * the run (from /metrics). Extra node flags (e.g. --trace-gc,
 * --max-semi-space-size=N, --cpu-prof) go to the server; with --trace-gc the
 * GC lines written during the fixed-rate run are printed as well.
 *
 * CLI: node bench/tail.ts --cluster DIR [--mixes blend,srv] [--rate 5000]
 *        [--duration 5] [--warmup 3] [--batch] [--node-flag F ...] [--rt P]
 * --rt: the server's threads and dnsperf at SCHED_FIFO during the fixed-rate
 * runs (root; default 0: normal scheduling), as bench/run.ts --rt does.
 */

import { mkdirSync, openSync, readSync, closeSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { generate, MIXES, type Mix } from './cluster-gen.ts';
import { runDnsperf } from './dnsperf.ts';
import { measureLatency } from './latency.ts';
import { loopAndGc, loopAndGcBetween } from './metrics-scrape.ts';
import { corefile, nodeBinary, sidePorts } from './peers/clusterdns.ts';
import { freePort, launch, realtimeAvailable, setRealtime } from './peers/process.ts';
import { processTree } from './proc.ts';

const ROOT = path.resolve(import.meta.dirname, '..');

function readFrom(file: string, from: number): string {
  const size = statSync(file).size;
  if (size <= from) return '';
  const buf = Buffer.alloc(size - from);
  const fd = openSync(file, 'r');
  try { readSync(fd, buf, 0, buf.length, from); } finally { closeSync(fd); }
  return buf.toString('utf8');
}

async function main(argv: readonly string[]): Promise<void> {
  let cluster = path.join(ROOT, 'bench', 'work', 'cluster-10000');
  let mixes: Mix[] = ['blend'];
  let rate = 5000;
  let duration = 5;
  let warmup = 3;
  let batch = false;
  let rtWanted = 0;
  const flags: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const next = (): string => argv[++i] ?? '';
    if (a === '--cluster') cluster = next();
    else if (a === '--mixes') mixes = next().split(',') as Mix[];
    else if (a === '--rate') rate = Number(next());
    else if (a === '--duration') duration = Number(next());
    else if (a === '--warmup') warmup = Number(next());
    else if (a === '--batch') batch = true;
    else if (a === '--node-flag') flags.push(next());
    else if (a === '--rt') rtWanted = Number(next());
    else throw new Error(`unknown option ${a}`);
  }
  for (const m of mixes) if (!MIXES.includes(m)) throw new Error(`unknown mix ${m}`);
  const data = generate({ services: 10_000, outDir: cluster });
  const work = path.join(cluster, 'tail');
  mkdirSync(work, { recursive: true });
  const port = await freePort();
  const side = await sidePorts(true);
  const conf = path.join(work, 'Corefile');
  writeFileSync(conf, corefile(port, data.manifestDir, true, side));
  const running = await launch({
    name: 'clusterdns', cmd: nodeBinary(), args: [...flags, path.join(ROOT, 'src', 'main.ts'), '-conf', conf], port, workDir: work, cwd: ROOT,
    env: { ...process.env, NODE_ENV: 'production', CLUSTERDNS_UDP_BATCH: batch ? '1' : '0' }, readyTimeoutMs: 120_000,
  });
  const url = `http://127.0.0.1:${side.metrics}/metrics`;
  console.log(`server pid ${running.pid}, answering after ${Math.round(running.startupMs)} ms; flags ${flags.join(' ') || '(none)'}; ${batch ? 'batched I/O' : 'node:dgram'}`);
  try {
    for (const mix of mixes) {
      const file = data.mixes[mix].path;
      const out = path.join(work, `${mix}.txt`);
      if (warmup > 0) await runDnsperf({ port, file, durationS: warmup, clients: 10, outstanding: 100, outFile: out });
      const rt = realtimeAvailable(rtWanted);
      if (rt > 0) await setRealtime(processTree(running.pid), rt);
      const before = await loopAndGc(url);
      const logAt = statSync(running.logFile).size;
      const l = await measureLatency({ port, file, rateQps: rate, durationS: duration, clients: 10, outstanding: 100, outFile: out, rtPriority: rt });
      const d = loopAndGcBetween(before, await loopAndGc(url));
      if (rt > 0) await setRealtime(processTree(running.pid), 0);
      const us = (n: number): string => String(Math.round(n));
      console.log(`${mix}${rt > 0 ? ` (SCHED_FIFO ${rt})` : ''}: p50 ${us(l.p50Us)} p99 ${us(l.p99Us)} p99.9 ${us(l.p999Us)} max ${us(l.maxUs)} µs (${l.samples} answers, ${l.lost} lost)` +
        (d ? `; loop delay p50 ${d.loopP50Ms} p99 ${d.loopP99Ms} max ≤${d.loopMaxMs} ms (${d.loopSamples} samples); GC ${d.gcCount} pauses, ${d.gcTotalMs.toFixed(1)} ms` : ''));
      if (flags.some((f) => f.startsWith('--trace-gc'))) {
        const gcLines = readFrom(running.logFile, logAt).split('\n').filter((s) => /Scavenge|Mark-Compact|Mark-sweep|MinorMS|gc=/.test(s));
        for (const s of gcLines) console.log(`  ${s.trim()}`);
      }
    }
  } finally {
    await running.stop();
  }
}

if (import.meta.main) await main(process.argv.slice(2));
