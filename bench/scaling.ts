/**
 * @module bench/scaling
 * clusterdns on one core and on two: `-workers 1` and `-workers 2` with the
 * bench's Corefile (kubernetes + cache + prometheus + errors + loadbalance)
 * over the generated cluster, for the default UDP path (node:dgram) and the
 * native batch path (CLUSTERDNS_UDP_BATCH=1). Rows:
 *   - 1 worker, server on CPU 0 and dnsperf on CPU 1 (the harness's setup);
 *   - 1 worker and 2 workers, nothing pinned: the machine has two cores, so
 *     with two workers dnsperf shares them with the server. Those figures are
 *     indicative only (the load generator takes its share of the two cores).
 * Each cell is the best of --repeats saturation runs (dnsperf -c CLIENTS -q
 * 100), with the server's CPU (all its processes) and dnsperf's.
 *
 *   node bench/scaling.ts [--services 10000] [--mixes hit-a,blend] [--duration 5]
 *                         [--repeats 2] [--clients 10] [--paths dgram,batch]
 */
import { existsSync, mkdirSync, realpathSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { ADDON_PATH } from '../src/server/udp-batch/addon.ts';
import { buildUdpBatch } from '../src/server/udp-batch/build.ts';
import { generate, type Mix } from './cluster-gen.ts';
import { DnsClient } from './dns-wire.ts';
import { runDnsperf } from './dnsperf.ts';
import { corefile, serverMain, sidePorts } from './peers/clusterdns.ts';
import { freePort, launch } from './peers/process.ts';
import { cpuSeconds, machineBusySeconds, processTree, statusKiB } from './proc.ts';
import type { ExtraSection } from './types.ts';

const ROOT = path.resolve(import.meta.dirname, '..');
const WORK = path.join(import.meta.dirname, 'work', 'scaling');

interface Setup {
  readonly label: string;
  readonly workers: number;
  /** Server CPUs (null: not pinned) and dnsperf's. */
  readonly serverCpus: string | null;
  readonly dnsperfCpu: string | null;
}

const SETUPS: readonly Setup[] = [
  { label: '1 worker, server CPU 0, dnsperf CPU 1', workers: 1, serverCpus: '0', dnsperfCpu: '1' },
  { label: '1 worker, unpinned', workers: 1, serverCpus: null, dnsperfCpu: null },
  { label: '2 workers, unpinned (indicative)', workers: 2, serverCpus: null, dnsperfCpu: null },
];

export interface ScalingCell {
  readonly qps: number;
  /** Server CPU (all its processes) and dnsperf's, % of one core. */
  readonly serverCpuPct: number;
  readonly dnsperfCpuPct: number;
  /** Everything else on the machine during the run, % of one core. */
  readonly othersCpuPct: number;
}

export interface ScalingOptions {
  readonly services: number;
  readonly mixes: readonly Mix[];
  readonly durationS: number;
  readonly repeats: number;
  readonly clients: number;
  readonly paths: readonly ('dgram' | 'batch')[];
}

function nodeBinary(): string {
  return realpathSync(path.join(ROOT, 'node_modules', '.bin', 'node'));
}

/** Waits (bounded) until a sample of the mix answers with records: the cluster is loaded in every worker. */
async function waitLoaded(port: number, name: string): Promise<void> {
  const client = new DnsClient(port);
  try {
    for (let i = 0; i < 600; i++) {
      const answers = await Promise.all(Array.from({ length: 8 }, () => client.query(name, 'A', 500)));
      if (answers.every((a) => a !== null && a.matching > 0)) return;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`no answer for ${name} after 60 s`);
  } finally {
    client.close();
  }
}

/** RSS (KiB) of each process of the server once loaded, primary first, by setup. */
const memory = new Map<string, number[]>();

async function measure(opts: ScalingOptions, setup: Setup, batch: boolean, log: (s: string) => void): Promise<Map<Mix, ScalingCell>> {
  const data = generate({ services: opts.services, outDir: path.join(WORK, `cluster-${opts.services}`) });
  if (batch && !existsSync(ADDON_PATH)) buildUdpBatch();
  const port = await freePort();
  const dir = path.join(WORK, `${setup.workers}w-${batch ? 'batch' : 'dgram'}`);
  mkdirSync(dir, { recursive: true });
  const conf = path.join(dir, 'Corefile');
  writeFileSync(conf, corefile(port, data.manifestDir, true, await sidePorts(true)));
  const server = await launch({
    name: 'clusterdns', cmd: nodeBinary(), args: [serverMain(), '-conf', conf, '-workers', String(setup.workers)],
    port, workDir: dir, cwd: ROOT, readyTimeoutMs: 120_000, cpus: setup.serverCpus,
    env: { ...process.env, NODE_ENV: 'production', CLUSTERDNS_UDP_BATCH: batch ? '1' : '0' },
  });
  const out = new Map<Mix, ScalingCell>();
  try {
    await waitLoaded(port, data.mixes['hit-a'].sample[0]!.name);
    memory.set(`${setup.workers}-${batch}-${setup.serverCpus}`, processTree(server.pid).map((p) => statusKiB(p, 'VmRSS')));
    for (const mix of opts.mixes) {
      const file = data.mixes[mix].path;
      await runDnsperf({ port, file, durationS: 1, clients: opts.clients, outstanding: 100, outFile: path.join(dir, 'warmup.txt'), cpu: setup.dnsperfCpu });
      let best: ScalingCell | null = null;
      for (let r = 0; r < opts.repeats; r++) {
        const cpu0 = cpuSeconds(server.pid);
        const busy0 = machineBusySeconds();
        const t0 = performance.now();
        const res = await runDnsperf({ port, file, durationS: opts.durationS, clients: opts.clients, outstanding: 100, outFile: path.join(dir, 'run.txt'), cpu: setup.dnsperfCpu });
        const wall = (performance.now() - t0) / 1000;
        const serverCpu = cpuSeconds(server.pid) - cpu0;
        const others = machineBusySeconds() - busy0 - serverCpu - res.clientCpuS;
        const cell: ScalingCell = {
          qps: res.qps, serverCpuPct: (100 * serverCpu) / wall, dnsperfCpuPct: (100 * res.clientCpuS) / wall, othersCpuPct: Math.max(0, (100 * others) / wall),
        };
        log(`  ${setup.label}, ${batch ? 'batch' : 'dgram'}, ${mix}: ${Math.round(cell.qps)} qps, server ${cell.serverCpuPct.toFixed(0)}%, dnsperf ${cell.dnsperfCpuPct.toFixed(0)}%, others ${cell.othersCpuPct.toFixed(0)}%`);
        if (best === null || cell.qps > best.qps) best = cell;
      }
      out.set(mix, best!);
    }
  } finally {
    await server.stop();
  }
  return out;
}

/** Runs every setup and path; returns the markdown report. */
export async function scalingReport(opts: ScalingOptions, log: (s: string) => void = (s) => process.stderr.write(`${s}\n`)): Promise<string> {
  const rows: string[] = [];
  for (const p of opts.paths) {
    const results: Map<Mix, ScalingCell>[] = [];
    for (const setup of SETUPS) results.push(await measure(opts, setup, p === 'batch', log));
    SETUPS.forEach((setup, i) => {
      const cells = opts.mixes.map((m) => {
        const c = results[i]!.get(m)!;
        const ratio = i === 2 ? ` (${(c.qps / results[1]!.get(m)!.qps).toFixed(2)}× 1 worker unpinned)` : '';
        return `${Math.round(c.qps).toLocaleString('en-US')}${ratio}; server ${c.serverCpuPct.toFixed(0)}%, dnsperf ${c.dnsperfCpuPct.toFixed(0)}%, others ${c.othersCpuPct.toFixed(0)}%`;
      });
      const rss = memory.get(`${setup.workers}-${p === 'batch'}-${setup.serverCpus}`) ?? [];
      const mem = rss.map((k) => `${(k / 1024).toFixed(0)}`).join(' + ');
      rows.push(`| ${p === 'batch' ? 'native batches' : 'node:dgram'} | ${setup.label} | ${cells.join(' | ')} | ${mem} MiB |`);
    });
  }
  return [
    `${opts.services.toLocaleString('en-US')} services; best of ${opts.repeats} runs of \`dnsperf -c ${opts.clients} -q 100 -l ${opts.durationS}\`; CPU as % of one core (the machine has 2).`,
    '',
    `| UDP path | setup | ${opts.mixes.join(' | ')} | RSS per process once loaded (primary + workers) |`,
    `| --- | --- | ${opts.mixes.map(() => '---:').join(' | ')} | ---: |`,
    ...rows,
    '',
  ].join('\n');
}

/** The run's workers section: 1 → 2 workers on the blend, memory per process (indicative on 2 cores). */
export const workersSection: ExtraSection = {
  title: 'Workers: 1 → 2 (indicative: 2 cores, dnsperf shares them)',
  quick: false,
  run: (ctx) => scalingReport({
    services: 10_000, mixes: ['blend'], durationS: ctx.settings.saturation.durationS, repeats: 1, clients: 10, paths: ['dgram'],
  }),
};

if (import.meta.main) {
  const arg = (name: string, dflt: string): string => {
    const i = process.argv.indexOf(name);
    return i >= 0 ? process.argv[i + 1]! : dflt;
  };
  const opts: ScalingOptions = {
    services: Number(arg('--services', '10000')),
    mixes: arg('--mixes', 'hit-a,blend').split(',') as Mix[],
    durationS: Number(arg('--duration', '5')),
    repeats: Number(arg('--repeats', '2')),
    clients: Number(arg('--clients', '10')),
    paths: arg('--paths', 'dgram,batch').split(',') as ('dgram' | 'batch')[],
  };
  process.stdout.write(await scalingReport(opts));
}
