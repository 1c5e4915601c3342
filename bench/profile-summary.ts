/**
 * @module bench/profile-summary
 * A text summary of a V8 .cpuprofile (`node --cpu-prof`): self time summed
 * by function (name and source line), as a share of the non-idle samples,
 * optionally only from --from seconds on (to leave out start-up and the
 * manifest load when profiling a server under dnsperf) and before --to
 * (one moment of a soak run).
 *
 *   node --cpu-prof --cpu-prof-dir=/tmp/prof src/main.ts -conf Corefile   # load it, then SIGTERM
 *   node bench/profile-summary.ts /tmp/prof/CPU.*.cpuprofile [--top 25] [--from 12] [--to 40]
 */
import { readFileSync } from 'node:fs';

interface ProfileNode {
  readonly id: number;
  readonly callFrame: { readonly functionName: string; readonly url: string; readonly lineNumber: number };
}

interface CpuProfile {
  readonly nodes: readonly ProfileNode[];
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
}

export interface SelfTime {
  readonly fn: string;
  readonly ms: number;
  readonly share: number;
}

/** Self time per function, largest first; idle samples and those before `fromS` or from `toS` on are left out. */
export function summarise(profile: CpuProfile, fromS = 0, toS = Infinity): { totalMs: number; rows: SelfTime[] } {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map<string, number>();
  let t = 0;
  let total = 0;
  for (let i = 0; i < profile.samples.length; i++) {
    const dt = profile.timeDeltas[i] ?? 0;
    t += dt;
    if (t < fromS * 1e6 || t >= toS * 1e6) continue;
    const cf = byId.get(profile.samples[i]!)!.callFrame;
    if (cf.functionName === '(idle)') continue;
    // dist/ is the compiled build of src/ (its lines are the compiled file's).
    const where = cf.url === '' ? '' : ` ${cf.url.replace(/^.*\/(src|dist|node_modules)\//, '$1/')}:${cf.lineNumber + 1}`;
    // A regular expression's "function name" is its whole source: keep its start.
    const name = cf.functionName.length > 60 ? `${cf.functionName.slice(0, 57)}...` : cf.functionName;
    const key = `${name || '(anonymous)'}${where}`;
    self.set(key, (self.get(key) ?? 0) + dt);
    total += dt;
  }
  const rows = [...self].sort((a, b) => b[1] - a[1]).map(([fn, us]) => ({ fn, ms: us / 1000, share: total > 0 ? us / total : 0 }));
  return { totalMs: total / 1000, rows };
}

if (import.meta.main) {
  const args = process.argv.slice(2);
  const opt = (name: string, dflt: string): string => {
    const i = args.indexOf(name);
    return i >= 0 ? args[i + 1]! : dflt;
  };
  const file = args.find((a) => a.endsWith('.cpuprofile'));
  if (file === undefined) {
    process.stderr.write('usage: node bench/profile-summary.ts FILE.cpuprofile [--top N] [--from SECONDS] [--to SECONDS]\n');
    process.exit(2);
  }
  const { totalMs, rows } = summarise(JSON.parse(readFileSync(file, 'utf8')) as CpuProfile, Number(opt('--from', '0')), Number(opt('--to', 'Infinity')));
  process.stdout.write(`${Math.round(totalMs)} ms of non-idle samples\n`);
  for (const r of rows.slice(0, Number(opt('--top', '25')))) process.stdout.write(`${(100 * r.share).toFixed(1).padStart(5)}%  ${r.fn}\n`);
}
