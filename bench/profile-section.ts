/**
 * @module bench/profile-section
 * Where clusterdns's time goes at saturation, in the same run as the
 * figures: for each mix, the batched-I/O peer and the node:dgram one are
 * each started with `--cpu-prof`,
 * warmed up, loaded with dnsperf for a few seconds and stopped (SIGTERM; the
 * server exits cleanly, so V8 writes the profile). The report gives the
 * share of non-idle samples by kind (our code per folder, GC, the runtime
 * and the addon's system calls) and the heaviest functions: the evidence
 * behind every target the report marks missed. Profiling costs throughput,
 * so these runs are separate from the measured ones.
 */
import { mkdirSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import { MIXES, type Mix } from './cluster-gen.ts';
import { runDnsperf } from './dnsperf.ts';
import { clusterdns, clusterdnsBatch } from './peers/clusterdns.ts';
import { summarise, type SelfTime } from './profile-summary.ts';
import type { Peer } from './peers/types.ts';
import type { ExtraSection, SectionContext } from './types.ts';

const SERVICES = 10_000;
const WARMUP_S = 1;
const PROFILE_S = 3;
const TOP = 6;

/** The kind of a profile row: the folder of our code, or what V8 calls the rest. */
function kindOf(fn: string): string {
  // The bench runs the compiled build: dist/x.js is src/x.ts.
  const m = / (?:src|dist)\/([^/:]+)(?:\/([^/:]+))?/.exec(fn);
  if (m !== null) {
    const [, top, sub] = m;
    return top === 'plugins' || top === 'cluster' || top === 'server' ? `src/${top}/${sub?.replace(/\.[jt]s$/, '') ?? ''}` : `src/${top?.replace(/\.[jt]s$/, '') ?? ''}`;
  }
  if (fn.startsWith('(garbage collector)')) return 'GC';
  if (fn.startsWith('(program)')) return 'V8/libuv outside JS (system calls of the addon included)';
  if (fn.includes(' node:') || fn.includes('node:internal')) return 'Node built-ins';
  return 'other (V8 builtins, native)';
}

function rowsByKind(rows: readonly SelfTime[]): [string, number][] {
  const by = new Map<string, number>();
  for (const r of rows) by.set(kindOf(r.fn), (by.get(kindOf(r.fn)) ?? 0) + r.share);
  return [...by].sort((a, b) => b[1] - a[1]);
}

const pct = (x: number): string => `${(100 * x).toFixed(1)}%`;

async function profileMix(ctx: SectionContext, peer: Peer, mix: Mix, dir: string): Promise<string> {
  const zoneData = ctx.zoneData(SERVICES);
  const profDir = path.join(dir, peer.name, mix);
  rmSync(profDir, { recursive: true, force: true });
  mkdirSync(profDir, { recursive: true });
  const saved = process.env['NODE_OPTIONS'];
  process.env['NODE_OPTIONS'] = `${saved ?? ''} --cpu-prof --cpu-prof-dir=${profDir}`.trim();
  let running;
  try {
    running = await peer.start(zoneData, path.join(dir, `peer-${peer.name}-${mix}`));
  } finally {
    if (saved === undefined) delete process.env['NODE_OPTIONS'];
    else process.env['NODE_OPTIONS'] = saved;
  }
  const t0 = performance.now();
  const common = { port: running.port, file: zoneData.mixes[mix].path, clients: 10, outstanding: 100 };
  await runDnsperf({ ...common, durationS: WARMUP_S, outFile: path.join(profDir, 'warmup.txt') });
  const fromS = (running.startupMs + performance.now() - t0) / 1000;
  const load = await runDnsperf({ ...common, durationS: PROFILE_S, outFile: path.join(profDir, 'load.txt') });
  await running.stop();
  // The server re-executes itself once at start (src/server/heap.ts): the largest profile is the serving process's.
  const file = readdirSync(profDir).filter((f) => f.endsWith('.cpuprofile'))
    .sort((a, b) => statSync(path.join(profDir, b)).size - statSync(path.join(profDir, a)).size)[0];
  if (file === undefined) return `- ${mix}: no profile written (the server did not exit cleanly)`;
  const { totalMs, rows } = summarise(JSON.parse(readFileSync(path.join(profDir, file), 'utf8')) as Parameters<typeof summarise>[0], fromS);
  const kinds = rowsByKind(rows).slice(0, 6).map(([k, s]) => `${k} ${pct(s)}`).join(' · ');
  const top = rows.slice(0, TOP).map((r) => `${pct(r.share)} \`${r.fn}\``).join(' · ');
  return `- **${mix}** (${Math.round(load.qps).toLocaleString('en-US')} q/s while profiled, ${Math.round(totalMs)} ms of samples): ${kinds}\n  - heaviest: ${top}`;
}

export const profileSection: ExtraSection = {
  title: 'Where the time goes (CPU profiles at saturation, clusterdns-batch and clusterdns on node:dgram)',
  quick: false,
  async run(ctx: SectionContext): Promise<string> {
    const dir = path.join(ctx.workDir, 'profiles');
    const mixes = MIXES.filter((m) => ctx.settings.mixes.includes(m));
    const lines: string[] = [
      `${SERVICES.toLocaleString('en-US')} services; per mix: \`node --cpu-prof\`, ${WARMUP_S} s warm-up, then ${PROFILE_S} s of \`dnsperf -c 10 -q 100\`; shares of the non-idle samples from the end of the warm-up on (bench/profile-summary.ts). Profiling slows the server, so the q/s here are not the report's figures.`,
      '',
    ];
    for (const peer of [clusterdnsBatch, clusterdns]) {
      lines.push(`**${peer.name}**`, '');
      for (const mix of mixes) {
        try {
          lines.push(await profileMix(ctx, peer, mix, dir));
        } catch (e) {
          lines.push(`- ${mix}: failed: ${e instanceof Error ? e.message : String(e)}`);
        }
      }
      lines.push('');
    }
    return lines.join('\n');
  },
};
