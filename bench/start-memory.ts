/**
 * @module bench/start-memory
 * Extra report section: start time and memory of clusterdns at scale, fed
 * three ways with the same generated cluster and the kubeadm-like Corefile:
 *   - manifests: the generated folder (`manifests DIR`);
 *   - API: the API test server in its own process (bench/fake-api-process.ts),
 *     `endpoint http://…`, lists paginated 500 per page as client-go's
 *     reflector asks and a real API server serves;
 *   - API in-cluster: the same over HTTPS with a service-account token and
 *     CA (KUBERNETES_SERVICE_HOST/PORT + CLUSTERDNS_SERVICEACCOUNT_DIR), the
 *     way a pod runs it.
 * For each: spawn → first answer, spawn → /ready 200 (every kind synced),
 * peak RSS (VmHWM) and RSS once synced; for the API feeds, a forced full
 * relist (history compacted, connections dropped: every watch gets 410)
 * and the peak RSS after it. Knot on the same records at the largest size,
 * for reference. Quick mode: 1,000 services only (the demo-size target).
 * BENCH_HEAP_STATS=1 prints the server's heap figures from its /metrics once
 * synced (where the RSS goes: old/new space, external) and its /proc/PID/smaps
 * by kind (node binary pages, glibc arenas, other anonymous memory).
 * `--node-options '...'` sets NODE_OPTIONS for the server alone (V8 heap flags).
 * At 100,000 services the section runs the API feed once more inside a
 * 256 MiB cgroup (the relist target: survive a full relist inside that
 * limit), when the harness is root and cgroup v1 is there.
 * `--cgroup 256M` (command line) runs the server inside a cgroup v1
 * memory controller with that limit (created under /sys/fs/cgroup/memory,
 * removed after): the row then says whether it survived the start and the
 * relist, the cgroup's max usage and its failcnt. Where the controller is
 * not writable the run says so in one line and measures without it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, rmdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { knot } from './peers/knot.ts';
import { corefile, nodeBinary, serverMain, sidePorts, type ClusterFeed } from './peers/clusterdns.ts';
import { freePort, launch, LOADGEN_CPU, requireBinary } from './peers/process.ts';
import { cpuSeconds, peakRss, processTree, smapsBreakdown, statusKiB } from './proc.ts';
import { writeKubeconfig } from '../test/support/kubeconfig.ts';
import { sumFamily } from './metrics-scrape.ts';
import type { ExtraSection, SectionContext } from './types.ts';

const ROOT = path.resolve(import.meta.dirname, '..');
const FIXTURES = path.join(ROOT, 'test', 'support', 'fixtures');
const SA_TOKEN = 'bench-service-account-token';
/** manifests; the API over plain HTTP (`endpoint`); in-cluster HTTPS; a kubeconfig (HTTPS, token + CA). */
type FeedKind = 'manifests' | 'api' | 'in-cluster' | 'kubeconfig';
const FEED_NAMES: Record<FeedKind, string> = {
  manifests: 'manifests', api: 'API, paginated 500 (endpoint http)', 'in-cluster': 'API in-cluster (https, SA token + CA)',
  kubeconfig: 'API through a kubeconfig (https, token + CA)',
};

interface FakeApi {
  readonly url: string;
  relist(): Promise<void>;
  stop(): Promise<void>;
}

/** The API test server in a child process on the load generator's CPU, loaded with `services`. */
async function startFakeApi(services: number, tls: boolean): Promise<FakeApi> {
  const args = [path.join(import.meta.dirname, 'fake-api-process.ts'), '--services', String(services), ...(tls ? ['--tls', FIXTURES, '--token', SA_TOKEN] : [])];
  const child: ChildProcess = spawn(requireBinary('taskset'), ['-c', LOADGEN_CPU, nodeBinary(), ...args], { stdio: ['pipe', 'pipe', 'inherit'] });
  const lines = createInterface({ input: child.stdout! });
  const waiters: ((line: string) => void)[] = [];
  lines.on('line', (l) => waiters.shift()?.(l));
  const next = (timeoutMs: number): Promise<string> => new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error('fake API server: no answer in time')), timeoutMs);
    child.once('exit', (code) => reject(new Error(`fake API server exited (${code})`)));
    waiters.push((l) => { clearTimeout(t); resolve(l); });
  });
  const { url } = JSON.parse(await next(300_000)) as { url: string };
  return {
    url,
    relist: async () => { child.stdin!.write('relist\n'); await next(30_000); },
    stop: async () => {
      child.stdin!.end();
      await new Promise<void>((r) => { if (child.exitCode !== null) r(); else child.once('exit', () => r()); });
    },
  };
}

/** The process exists (signal 0). */
function alive(pid: number): boolean {
  try { process.kill(pid, 0); return true; } catch { return false; }
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Polls until fn() is true (bounded). */
async function until(fn: () => Promise<boolean>, limitMs: number, what: string): Promise<void> {
  const t0 = performance.now();
  while (!(await fn().catch(() => false))) {
    if (performance.now() - t0 > limitMs) throw new Error(`${what}: not within ${Math.round(limitMs / 1000)} s`);
    await sleep(20);
  }
}

interface Row {
  readonly feed: string;
  readonly services: number;
  readonly firstAnswerMs: number;
  readonly readyMs: number;
  /** CPU seconds (user + system) the server had used when /ready first answered 200: less load-dependent than the wall time. */
  readonly cpuToReadyS: number;
  readonly peakKiB: number;
  readonly rssKiB: number;
  readonly relistPeakKiB?: number;
  readonly relistMs?: number;
  /** RSS of each process once synced (primary first), with -workers. */
  readonly processesKiB?: readonly number[];
  /** With --cgroup: the cgroup's limit, max usage (KiB), failcnt and whether the server lived to the end. */
  readonly cgroup?: { readonly limitKiB: number; readonly maxUsageKiB: number; readonly failcnt: number; readonly survived: boolean };
}

const CGROUP_ROOT = '/sys/fs/cgroup/memory';

/** null when makeCgroup can work here, else why not (checked without making one). */
function cgroupAvailable(): string | null {
  if (!existsSync(path.join(CGROUP_ROOT, 'memory.limit_in_bytes'))) return `no cgroup v1 memory controller at ${CGROUP_ROOT}`;
  if (process.getuid?.() !== 0) return 'not root';
  return null;
}

/** A cgroup v1 memory cgroup limited to `limit` bytes, or the reason there is none. */
function makeCgroup(limit: number): { dir: string } | { error: string } {
  const dir = path.join(CGROUP_ROOT, `clusterdns-bench-${process.pid}`);
  const unavailable = cgroupAvailable();
  if (unavailable !== null) return { error: unavailable };
  try {
    mkdirSync(dir, { recursive: true });
    writeFileSync(path.join(dir, 'memory.limit_in_bytes'), String(limit));
    return { dir };
  } catch (err) {
    return { error: `cgroup not writable: ${(err as Error).message}` };
  }
}

const cgroupNumber = (dir: string, file: string): number => Number(readFileSync(path.join(dir, file), 'utf8').trim());

function parseSize(text: string): number {
  const m = /^(\d+)([KMG]?)$/i.exec(text);
  if (m === null) throw new Error(`--cgroup ${text}: a size like 256M`);
  return Number(m[1]) * ({ '': 1, K: 1024, M: 1024 ** 2, G: 1024 ** 3 } as Record<string, number>)[m[2]!.toUpperCase()]!;
}

async function measureClusterdns(ctx: SectionContext, services: number, kind: FeedKind, workers = 1, cgroupLimit = 0, nodeOptions = ''): Promise<Row> {
  const zone = ctx.zoneData(services);
  const api = kind === 'manifests' ? null : await startFakeApi(services, kind === 'in-cluster' || kind === 'kubeconfig');
  const dir = path.join(ctx.workDir, `start-${kind}-${services}`);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const env: NodeJS.ProcessEnv = { ...process.env, NODE_ENV: 'production', ...(nodeOptions !== '' ? { NODE_OPTIONS: nodeOptions } : {}) };
  let feed: ClusterFeed;
  if (kind === 'manifests') feed = { manifests: zone.manifestDir };
  else if (kind === 'api') feed = { endpoint: api!.url };
  else if (kind === 'kubeconfig') {
    feed = { kubeconfig: await writeKubeconfig(dir, { server: api!.url, token: SA_TOKEN, caFile: path.join(FIXTURES, 'ca.crt') }) };
  } else {
    feed = { inCluster: true };
    const sa = path.join(dir, 'serviceaccount');
    mkdirSync(sa, { recursive: true });
    writeFileSync(path.join(sa, 'token'), SA_TOKEN);
    copyFileSync(path.join(FIXTURES, 'ca.crt'), path.join(sa, 'ca.crt'));
    Object.assign(env, { KUBERNETES_SERVICE_HOST: '127.0.0.1', KUBERNETES_SERVICE_PORT: new URL(api!.url).port, CLUSTERDNS_SERVICEACCOUNT_DIR: sa });
  }
  const port = await freePort();
  const side = await sidePorts(true);
  const conf = path.join(dir, 'Corefile');
  writeFileSync(conf, corefile(port, feed, true, side));
  let cg: string | null = null;
  if (cgroupLimit > 0) {
    const made = makeCgroup(cgroupLimit);
    if ('error' in made) process.stderr.write(`[start/memory] --cgroup: ${made.error}; measuring without a memory limit\n`);
    else cg = made.dir;
  }
  const serverArgs = [serverMain(), '-conf', conf, ...(workers > 1 ? ['-workers', String(workers)] : [])];
  // In a cgroup: a shell joins it, then execs the server (same pid, so the peak is the server's).
  const [cmd, args] = cg === null ? [nodeBinary(), serverArgs] : ['/bin/sh', ['-c', 'echo $$ > "$BENCH_CGROUP/cgroup.procs" && exec "$@"', 'sh', nodeBinary(), ...serverArgs]];
  if (cg !== null) env.BENCH_CGROUP = cg;
  const t0 = performance.now();
  let running;
  try {
    running = await launch({ name: `clusterdns-${kind}`, cmd, args, port, workDir: dir, cwd: ROOT, env, readyTimeoutMs: 300_000, ...(workers > 1 ? { cpus: null } : {}) });
  } catch (err) {
    await api?.stop();
    if (cg !== null) process.stderr.write(`[start/memory] in the ${mib(cgroupLimit / 1024)} cgroup: failcnt ${cgroupNumber(cg, 'memory.failcnt')}, max usage ${mib(cgroupNumber(cg, 'memory.max_usage_in_bytes') / 1024)}\n`);
    removeCgroup(cg);
    throw err;
  }
  const cgroupRow = (survived: boolean): Pick<Row, 'cgroup'> => cg === null ? {} : {
    cgroup: { limitKiB: cgroupLimit / 1024, maxUsageKiB: cgroupNumber(cg, 'memory.max_usage_in_bytes') / 1024, failcnt: cgroupNumber(cg, 'memory.failcnt'), survived },
  };
  try {
    await until(async () => (await fetch(`http://127.0.0.1:${side.ready}/ready`)).ok, 300_000, 'ready');
    const readyMs = performance.now() - t0;
    const cpuToReadyS = cpuSeconds(running.pid);
    await sleep(500); // let the post-sync work (index build, GC) show in the peak
    if (process.env.BENCH_HEAP_STATS === '1') {
      const text = await (await fetch(`http://127.0.0.1:${side.metrics}/metrics`)).text();
      process.stderr.write(`${text.split('\n').filter((l) => /^(nodejs_heap_size_(used|total)_bytes|nodejs_external_memory_bytes|process_resident_memory_bytes|nodejs_heap_space_size_used_bytes)/.test(l)).join('\n')}\n`);
      process.stderr.write(`smaps of ${running.pid} (RSS KiB, mappings):\n${smapsBreakdown(running.pid).slice(0, 12).map((p) => `  ${String(p.rssKiB).padStart(7)}  ${String(p.mappings).padStart(4)}  ${p.what}`).join('\n')}\n`);
    }
    const row: Row = {
      feed: FEED_NAMES[kind],
      services, firstAnswerMs: running.startupMs, readyMs, cpuToReadyS, peakKiB: peakRss(running.pid).maxKiB, rssKiB: statusKiB(running.pid, 'VmRSS'),
      ...(workers > 1 ? { processesKiB: processTree(running.pid).map((p) => statusKiB(p, 'VmRSS')) } : {}),
    };
    if (api === null) return { ...row, ...cgroupRow(alive(running.pid)) };
    const relists = async (): Promise<number> => sumFamily(await (await fetch(`http://127.0.0.1:${side.metrics}/metrics`)).text(), 'coredns_kubernetes_api_relists_total');
    const before = await relists();
    const r0 = performance.now();
    await api.relist();
    // Namespace, Service and EndpointSlice each relist once.
    let died = false;
    await until(async () => {
      if (!alive(running.pid)) { died = true; return true; }
      return (await relists()) >= before + 3;
    }, 300_000, 'relist');
    if (died) {
      process.stderr.write(`[start/memory] ${kind}: the server died during the relist\n`);
      return { ...row, ...cgroupRow(false) };
    }
    const relistMs = performance.now() - r0;
    await sleep(500);
    return { ...row, relistMs, relistPeakKiB: peakRss(running.pid).maxKiB, ...cgroupRow(alive(running.pid)) };
  } finally {
    await running.stop();
    await api?.stop();
    removeCgroup(cg);
  }
}

function removeCgroup(dir: string | null): void {
  if (dir === null) return;
  try { rmdirSync(dir); } catch (err) { process.stderr.write(`[start/memory] could not remove ${dir}: ${(err as Error).message}\n`); }
}

const mib = (kib: number): string => `${(kib / 1024).toFixed(0)} MiB`;
const secs = (ms: number): string => `${(ms / 1000).toFixed(2)} s`;

/** The issue's targets for a row, with the verdict. */
function verdict(r: Row): string {
  const check = (ok: boolean, what: string): string => `${what} ${ok ? 'met' : '**missed**'}`;
  if (r.services === 1_000) return check(r.peakKiB <= 80 * 1024, '≤ 80 MiB:');
  if (r.services < 100_000) return '';
  if (r.feed === 'manifests') return `${check(r.readyMs <= 10_000, '≤ 10 s:')}, ${check(r.peakKiB <= 400 * 1024, '≤ 400 MiB:')}`;
  // The relist target is survival inside the limit: a row run in the cgroup has the verdict; an uncapped row's relist peak is what V8 takes when memory is free.
  if (r.cgroup !== undefined) return check(r.cgroup.survived && r.relistMs !== undefined, `start and full relist inside a ${mib(r.cgroup.limitKiB)} cgroup (failcnt ${r.cgroup.failcnt}, max usage ${mib(r.cgroup.maxUsageKiB)}):`);
  return `${check(r.readyMs <= 5_000, '≤ 5 s:')}, ${check(r.peakKiB <= 250 * 1024, '≤ 250 MiB:')}`;
}

/** The limit the relist target names; the row runs in a cgroup v1 memory controller where one is writable (root). */
const RELIST_LIMIT = 256 * 1024 ** 2;

export const startMemorySection: ExtraSection = {
  title: 'Start and memory at scale (clusterdns: manifests, API, API in-cluster, kubeconfig)',
  quick: true,
  async run(ctx: SectionContext): Promise<string> {
    const sizes = ctx.settings.mode === 'quick' ? [1_000] : [1_000, 100_000];
    const rows: Row[] = [];
    const failures: string[] = [];
    const log = (s: string): void => { process.stderr.write(`${s}\n`); };
    for (const n of sizes) {
      // The kubeconfig feed at the demo size only: what the library costs, beside in-cluster.
      for (const kind of (n === 1_000 ? ['manifests', 'api', 'in-cluster', 'kubeconfig'] : ['manifests', 'api', 'in-cluster']) as FeedKind[]) {
        try {
          const r = await measureClusterdns(ctx, n, kind);
          rows.push(r);
          log(`[start/memory ${n}] ${r.feed}: ready ${secs(r.readyMs)}, peak ${mib(r.peakKiB)}${r.relistPeakKiB !== undefined ? `, after relist ${mib(r.relistPeakKiB)} (${secs(r.relistMs!)})` : ''}`);
        } catch (err) {
          failures.push(`${n} ${kind}: ${(err as Error).message.split('\n')[0]}`);
          log(`[start/memory ${n}] ${kind}: failed: ${(err as Error).message.split('\n')[0]}`);
        }
      }
      if (n < 100_000) continue;
      // The relist target: the API feed again, inside the memory limit.
      const limit = cgroupAvailable();
      if (limit !== null) { failures.push(`${n} API in a ${mib(RELIST_LIMIT / 1024)} cgroup: not measured (${limit})`); continue; }
      try {
        const r = await measureClusterdns(ctx, n, 'api', 1, RELIST_LIMIT);
        rows.push(r);
        log(`[start/memory ${n}] ${r.feed} in a cgroup: ${verdict(r)}`);
      } catch (err) {
        failures.push(`${n} API in a ${mib(RELIST_LIMIT / 1024)} cgroup: ${(err as Error).message.split('\n')[0]}`);
      }
    }
    let knotLine = '';
    const largest = sizes[sizes.length - 1]!;
    if (largest >= 100_000) {
      try {
        const k = await knot.start(ctx.zoneData(largest), path.join(ctx.workDir, 'knot-large'));
        const peak = peakRss(k.pid).maxKiB;
        await k.stop();
        knotLine = `Knot on the same ${largest.toLocaleString('en-US')}-service records (zone files): first answer ${secs(k.startupMs)}, peak RSS ${mib(peak)}.`;
      } catch (err) {
        knotLine = `Knot at ${largest.toLocaleString('en-US')}: not measured (${(err as Error).message.split('\n')[0]}).`;
      }
    }
    const table = [
      '| services | feed | first answer | /ready (all synced) | server CPU to /ready | peak RSS | RSS synced | full relist (410): time, peak RSS after | targets |',
      '| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |',
      ...rows.map((r) => `| ${r.services.toLocaleString('en-US')} | ${r.feed}${r.cgroup !== undefined ? `, in a ${mib(r.cgroup.limitKiB)} cgroup` : ''} | ${secs(r.firstAnswerMs)} | ${secs(r.readyMs)} | ${r.cpuToReadyS.toFixed(2)} s | ${mib(r.peakKiB)} | ${mib(r.rssKiB)} | ${r.relistPeakKiB !== undefined ? `${secs(r.relistMs!)}, ${mib(r.relistPeakKiB)}` : '–'} | ${verdict(r)} |`),
    ];
    return [
      'Spawn of `node dist/main.js -conf Corefile` (the compiled build) (kubeadm-like Corefile) to the first answer and to `/ready`; peak RSS is VmHWM of the server process. The API test server runs in its own process on the other CPU. The relist peak is VmHWM after the relist (so it is the peak of the whole run so far); without a limit V8 lets the heap grow while memory is free, so that peak is not the relist target. The target (survive a full relist inside a 256 MiB memory limit) is the row run in a cgroup v1 memory controller with that limit (root only; the harness makes the cgroup and removes it after): it is met when the server is alive after its start and the relist.',
      '',
      ...table,
      '',
      ...(knotLine !== '' ? [knotLine, ''] : []),
      ...(failures.length > 0 ? [`Failed: ${failures.join('; ')}.`] : []),
    ].join('\n');
  },
};

if (import.meta.main) {
  // node bench/start-memory.ts --services 100000 --feeds manifests,api,in-cluster[,kubeconfig] [--workers 2]
  const { generate } = await import('./cluster-gen.ts');
  const argOf = (name: string, dflt: string): string => {
    const i = process.argv.indexOf(name);
    return i >= 0 ? process.argv[i + 1]! : dflt;
  };
  const n = Number(argOf('--services', '100000'));
  const feeds = argOf('--feeds', 'manifests,api,in-cluster').split(',') as FeedKind[];
  const workers = Number(argOf('--workers', '1'));
  const cgroupLimit = process.argv.includes('--cgroup') ? parseSize(argOf('--cgroup', '256M')) : 0;
  // --node-options '--max-old-space-size=192': V8 flags for the server only (not the API test server).
  const nodeOptions = argOf('--node-options', '');
  const work = path.join(import.meta.dirname, 'work');
  const data = generate({ services: n, outDir: path.join(work, `cluster-${n}`) });
  const ctx = { workDir: path.join(work, 'sections'), zoneData: () => data } as unknown as SectionContext;
  for (const f of feeds) {
    let r: Row;
    try {
      r = await measureClusterdns(ctx, n, f, workers, cgroupLimit, nodeOptions);
    } catch (err) {
      process.stdout.write(`${n} ${f}: failed: ${(err as Error).message.split('\n')[0]}\n`);
      continue;
    }
    process.stdout.write(`${n} ${r.feed}: first answer ${secs(r.firstAnswerMs)}, ready ${secs(r.readyMs)} (server CPU ${r.cpuToReadyS.toFixed(2)} s), peak ${mib(r.peakKiB)}, rss ${mib(r.rssKiB)}` +
      `${r.relistPeakKiB !== undefined ? `, relist ${secs(r.relistMs!)} peak ${mib(r.relistPeakKiB)}` : ''}` +
      `${r.processesKiB !== undefined ? `, RSS per process ${r.processesKiB.map(mib).join(' + ')}` : ''}` +
      `${r.cgroup !== undefined ? `; cgroup ${mib(r.cgroup.limitKiB)}: ${r.cgroup.survived ? 'survived' : '**died**'}, max usage ${mib(r.cgroup.maxUsageKiB)}, failcnt ${r.cgroup.failcnt}` : ''}\n`);
  }
}
