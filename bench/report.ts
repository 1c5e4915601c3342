/**
 * @module bench/report
 * Renders the harness's results as a markdown report: per cluster size, the
 * peers' status and footprint, saturation QPS, clusterdns ÷ peer ratios,
 * latency at a fixed rate with the server's event-loop delay and GC pauses
 * during it (clusterdns), and a detail table;
 * then any extra sections.
 */

import type { Mix } from './cluster-gen.ts';
import type { LoopAndGcDelta } from './metrics-scrape.ts';
import { NOISY_CPU_PCT } from './proc.ts';
import type { BenchEnvironment, BenchSettings, MixResult, PeerResult, SizeResult } from './types.ts';

export interface RenderedSection {
  readonly title: string;
  readonly markdown: string;
}

const int = (n: number): string => (Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : '–');
const us = (n: number | undefined): string => (n === undefined || !Number.isFinite(n) ? '–' : n >= 10_000 ? `${(n / 1000).toFixed(1)} ms` : `${Math.round(n)}`);
const mib = (kib: number): string => `${(kib / 1024).toFixed(1)} MiB`;
const ms = (n: number): string => (n >= 10_000 ? `${(n / 1000).toFixed(1)} s` : `${Math.round(n)} ms`);
const pct = (n: number): string => `${n >= 99.95 ? '100' : n.toFixed(1)}%`;
const oneLine = (s: string): string => s.replace(/\s*\n\s*/g, ' / ').replace(/\|/g, '\\|').slice(0, 300);

function table(head: readonly string[], align: readonly ('l' | 'r')[], rows: readonly (readonly string[])[]): string {
  const sep = align.map((a) => (a === 'r' ? '---:' : '---'));
  return [head, sep, ...rows].map((r) => `| ${r.join(' | ')} |`).join('\n');
}

function mixOf(p: PeerResult, mix: Mix): MixResult | undefined {
  return p.mixes.find((m) => m.mix === mix);
}

function qpsOf(p: PeerResult | undefined, mix: Mix): number | null {
  const s = p ? mixOf(p, mix)?.saturation : undefined;
  return s ? s.qps : null;
}

/** Saturation was limited by dnsperf rather than the server when the server had CPU to spare. */
const CLIENT_BOUND_CPU = 85;
const NOISY_CPU = NOISY_CPU_PCT;

function renderSize(size: SizeResult, settings: BenchSettings, subject: string): string {
  const out: string[] = [];
  const s = size.stats;
  out.push(`## ${int(size.services)} services`);
  out.push(`${s.namespaces} namespaces · ${int(s.clusterIP)} ClusterIP · ${int(s.headless)} headless (${int(s.endpoints)} endpoints) · ${int(s.records)} DNS records · query files of ${int(size.queryLines)} lines (distinct names: ${Object.entries(size.distinct).map(([m, d]) => `${m} ${int(d)}`).join(', ')}) · generated in ${ms(size.generateMs)}`);
  if (size.notRun.length > 0) out.push(`Not run at this size (time budget): ${size.notRun.join(', ')}.`);

  out.push('', '### Peers', '');
  out.push(table(['peer', 'status', 'version', 'start → first answer', 'peak RSS', 'sanity'], ['l', 'l', 'l', 'r', 'r', 'l'],
    size.peers.map((p) => [
      p.peer,
      p.status === 'ok' ? 'ok' : `**${p.status}**: ${oneLine(p.reason ?? '')}`,
      p.version ?? '–',
      p.startupMs !== undefined ? ms(p.startupMs) : '–',
      p.peakRss ? mib(p.peakRss.maxKiB) + (p.peakRss.processes > 1 ? ` (${p.peakRss.processes} procs, Σ ${mib(p.peakRss.sumKiB)})` : '') : '–',
      p.sanity ? (p.sanity.failed === 0 ? `${p.sanity.checked}/${p.sanity.checked} ok` : `**${p.sanity.failed}/${p.sanity.checked} wrong**: ${oneLine(p.sanity.examples.join('; '))}`) : '–',
    ])));

  const ok = size.peers.filter((p) => p.status === 'ok');
  if (ok.length === 0) return out.join('\n');
  const mixes = settings.mixes;

  out.push('', `### Saturation throughput (queries/s; server CPU in parentheses; * = server under ${CLIENT_BOUND_CPU}% CPU, so dnsperf, not the server, was the limit; † = other processes took over ${NOISY_CPU}% of a core meanwhile)`, '');
  out.push(table(['peer', ...mixes], ['l', ...mixes.map(() => 'r' as const)], ok.map((p) => [p.peer, ...mixes.map((m) => {
    const r = mixOf(p, m);
    if (r?.leftOut !== undefined) return 'left out';
    if (!r?.saturation) return r?.error ? 'error' : '–';
    const cpu = r.saturation.serverCpuPct;
    return `${int(r.saturation.qps)} (${Math.round(cpu)}%${cpu < CLIENT_BOUND_CPU ? '*' : ''})${r.saturation.othersCpuPct > NOISY_CPU ? '†' : ''}`;
  })])));

  const subj = ok.find((p) => p.peer === subject);
  out.push('', `### ${subject} ÷ peer, saturation QPS (above 1 = ${subject} faster)`, '');
  if (!subj) {
    const why = size.peers.find((p) => p.peer === subject);
    out.push(`Not available: ${subject} was ${why ? `${why.status} (${oneLine(why.reason ?? '')})` : 'not run'}.`);
  } else {
    const others = ok.filter((p) => p !== subj && !p.peer.startsWith(`${subject}-`));
    out.push(table(['peer', ...mixes], ['l', ...mixes.map(() => 'r' as const)], others.map((p) => [p.peer, ...mixes.map((m) => {
      const a = qpsOf(subj, m);
      const b = qpsOf(p, m);
      return a !== null && b !== null && b > 0 ? `${(a / b).toFixed(2)}×` : '–';
    })])));
    const nom = ok.find((p) => p.peer === `${subject}-nometrics`);
    if (nom) {
      const cells = mixes.map((m) => {
        const a = qpsOf(subj, m);
        const b = qpsOf(nom, m);
        return a !== null && b !== null && b > 0 ? `${m} ${(a / b).toFixed(2)}×` : `${m} –`;
      });
      out.push('', `Metrics overhead (${subject} ÷ ${subject}-nometrics): ${cells.join(', ')}.`);
    }
  }

  const left = ok.flatMap((p) => p.mixes.filter((m) => m.leftOut !== undefined).map((m) => `${p.peer} ${m.mix}: ${m.leftOut}`));
  if (left.length > 0) out.push('', `Left out: ${left.join('; ')}.`);

  const cacheCells = mixes.map((m) => {
    const s = subj ? mixOf(subj, m)?.saturation : undefined;
    const c = s?.cacheHitPct;
    const p = s?.cachePassedPct;
    return `${m} ${c === undefined ? '–' : `${c.toFixed(1)}%`}${p === undefined ? '' : ` (${p.toFixed(1)}% kept answers passed)`}`;
  });
  out.push('', `${subject} cache hit ratio at saturation (share of queries the cache answered: coredns_cache_hits_total ÷ hits + misses over the run; ` +
    `in brackets the share it let pass to the kubernetes plugin's kept answers, which cost what a hit costs: clusterdns_cache_passed_total ÷ hits + misses): ${cacheCells.join(', ')}.`);

  const latMixes = settings.latency.mixes;
  const rate = int(settings.latency.rateQps);
  out.push('', `### Latency at a fixed ${rate} q/s (p50 / p99 / p99.9, µs; from dnsperf -v per-query times)`, '');
  out.push(table(['peer', ...latMixes], ['l', ...latMixes.map(() => 'r' as const)], ok.map((p) => [p.peer, ...latMixes.map((m) => {
    const l = mixOf(p, m)?.latency;
    return l ? `${us(l.p50Us)} / ${us(l.p99Us)} / ${us(l.p999Us)}${l.othersCpuPct > NOISY_CPU ? '†' : ''}` : '–';
  })])));
  out.push('', `Event-loop delay and GC during those runs (the server's own figures, /metrics before and after: clusterdns_event_loop_delay_seconds — how late a 10 ms timer ran, as p50 / p99 / max, each the upper bound of its histogram bucket, ms — and nodejs_gc_duration_seconds — GC pauses, count and total ms; – for servers without them):`, '');
  out.push(table(['peer', ...latMixes], ['l', ...latMixes.map(() => 'r' as const)], ok.map((p) => [p.peer, ...latMixes.map((m) => loopCell(mixOf(p, m)?.latency?.loop))])));
  out.push('', ...targetLines(ok, subject, mixes, settings));

  out.push('', '### Details', '');
  const rows: string[][] = [];
  for (const m of mixes) {
    for (const p of ok) {
      const r = mixOf(p, m);
      if (!r || r.leftOut !== undefined) continue;
      const sat = r.saturation;
      const lat = r.latency;
      rows.push([
        m, p.peer,
        sat ? int(sat.qps) : `error: ${oneLine(r.error ?? '')}`,
        sat ? us(sat.avgLatencyUs) : '–',
        sat ? `${Math.round(sat.serverCpuPct)}%` : '–',
        sat ? `${Math.round(sat.othersCpuPct)}%` : '–',
        sat ? pct((100 * sat.lost) / Math.max(1, sat.sent)) : '–',
        sat ? (sat.rcodeMatchPct < 98 ? `**${pct(sat.rcodeMatchPct)}**` : pct(sat.rcodeMatchPct)) : '–',
        lat ? int(lat.targetQps) : '–',
        lat ? us(lat.avgUs) : '–',
        lat ? us(lat.p50Us) : '–',
        lat ? us(lat.p99Us) : '–',
        lat ? us(lat.p999Us) : '–',
        lat ? pct((100 * lat.lost) / Math.max(1, lat.samples + lat.lost)) : '–',
        lat ? `${Math.round(lat.othersCpuPct)}%` : '–',
        lat?.loop ? `${loopMs(lat.loop.loopP99Ms)} / ${loopMs(lat.loop.loopMaxMs)}` : '–',
        lat?.loop ? `${lat.loop.gcCount} / ${lat.loop.gcTotalMs.toFixed(1)} ms` : '–',
      ]);
    }
  }
  out.push(table(
    ['mix', 'peer', 'QPS @sat', 'avg µs @sat', 'server CPU', 'others CPU', 'lost @sat', 'rcodes as expected', 'rate (q/s)', 'avg µs', 'p50 µs', 'p99 µs', 'p99.9 µs', 'lost', 'others CPU', 'loop delay p99 / max (ms, ≤)', 'GC pauses / total'],
    ['l', 'l', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r'], rows));
  return out.join('\n');
}

/** A loop-delay bucket bound in ms (bounds run from 0.25 ms to 1 s, then +Inf). */
const loopMs = (n: number): string => (n === Infinity ? '>1000' : Number.isFinite(n) ? String(n) : '–');

/** `p50 / p99 / max ms · N GC, T ms` of one fixed-rate run, or – without the server's figures. */
export function loopCell(l: LoopAndGcDelta | undefined): string {
  if (l === undefined || l.loopSamples === 0) return '–';
  return `${loopMs(l.loopP50Ms)} / ${loopMs(l.loopP99Ms)} / ${loopMs(l.loopMaxMs)} ms · ${l.gcCount} GC, ${l.gcTotalMs.toFixed(1)} ms`;
}

/** The issue's targets, each with the measured figure: met, or by how much missed. */
function targetLines(ok: readonly PeerResult[], subject: string, mixes: readonly Mix[], settings: BenchSettings): string[] {
  const find = (name: string): PeerResult | undefined => ok.find((p) => p.peer === name);
  const out: string[] = ['Targets:'];
  const ratio = (a: PeerResult | undefined, b: PeerResult | undefined, want: number, label: string): void => {
    if (!a || !b) { out.push(`- ${label}: not measured (${!a ? 'subject' : 'peer'} missing)`); return; }
    const cells = mixes.map((m) => {
      const x = qpsOf(a, m);
      const y = qpsOf(b, m);
      if (x === null || y === null || y === 0) return `${m} –`;
      const r = x / y;
      return `${m} ${r.toFixed(2)}× ${r >= want ? 'met' : `**missed by ${((want - r) / want * 100).toFixed(0)}%**`}`;
    });
    out.push(`- ${label} ≥ ${want}×: ${cells.join(', ')}`);
  };
  ratio(find(subject), find('go-miekg'), 1.5, `${subject} ÷ go-miekg (UDP default path)`);
  ratio(find(`${subject}-batch`), find('knot'), 1.0, `${subject}-batch ÷ knot (batched I/O)`);
  // The ceiling of each UDP path in Node (every answer pre-encoded, no chain): a target above it is out of reach of clusterdns's code.
  const plain = (a: PeerResult | undefined, b: PeerResult | undefined, label: string): void => {
    if (!a || !b) return;
    const cells = mixes.map((m) => {
      const x = qpsOf(a, m);
      const y = qpsOf(b, m);
      return x === null || y === null || y === 0 ? `${m} –` : `${m} ${(x / y).toFixed(2)}×`;
    });
    out.push(`  - ${label}: ${cells.join(', ')}`);
  };
  plain(find('node-floor'), find('go-miekg'), 'ceiling of node:dgram, node-floor ÷ go-miekg');
  plain(find(subject), find('node-floor'), `share of that ceiling ${subject} reaches, ${subject} ÷ node-floor`);
  plain(find('node-floor-batch'), find('knot'), 'ceiling of batched I/O, node-floor-batch ÷ knot');
  plain(find(`${subject}-batch`), find('node-floor-batch'), `share of that ceiling ${subject}-batch reaches, ${subject}-batch ÷ node-floor-batch`);
  const subj = find(subject);
  const p99Cells = settings.latency.mixes.flatMap((m) => {
    const l = subj ? mixOf(subj, m)?.latency : undefined;
    if (!l) return [];
    return [`${m} ${us(l.p99Us)}${l.p99Us < 10_000 ? ' µs' : ''} ${l.p99Us <= 1000 ? 'met' : `**missed: ${(l.p99Us / 1000).toFixed(1)}× the target**`}`];
  });
  out.push(p99Cells.length > 0
    ? `- p99 ≤ 1 ms at ${int(settings.latency.rateQps)} q/s (${subject}, every mix): ${p99Cells.join(', ')}`
    : '- p99 at the fixed rate: not measured');
  return out;
}

export function renderReport(settings: BenchSettings, env: BenchEnvironment, results: readonly SizeResult[], sections: readonly RenderedSection[], subject: string): string {
  const sat = settings.saturation;
  const out: string[] = [
    `# clusterdns benchmark (${settings.mode}), ${env.date}`,
    '',
    `Machine: ${env.cpuModel}, ${env.cores} cores, ${env.memGiB} GiB, Linux ${env.kernel}; Node ${env.node}; dnsperf ${env.dnsperf ?? '?'}.`,
    `Each server pinned to CPU 0 (\`taskset -c 0\`), one worker/thread where configurable; dnsperf pinned to CPU 1. All traffic on 127.0.0.1, UDP.` +
      (settings.nice !== 0 ? ` Servers and dnsperf ran at nice ${settings.nice}.` : '') +
      ' Every peer is started first and stays up, idle on CPU 0 while another is measured; each round then runs every mix on every peer in turn, so a slow stretch of the machine lowers one run of every peer, not every run of one.' +
      (settings.waitQuietS > 0 ? ` Before each start and each mix of a round the harness waited up to ${settings.waitQuietS} s for a quiet second on the machine.` : ''),
    `Saturation: \`dnsperf -c ${sat.clients} -q ${sat.outstanding} -l ${sat.durationS}\`${sat.repeats > 1 ? `, ${sat.repeats} rounds, the best run kept` : ''}, after a ${sat.warmupS} s warm-up on the same file. ` +
      `Latency: \`dnsperf -Q ${settings.latency.rateQps} -l ${settings.latency.durationS} -v\`, percentiles over every answered query` +
      (settings.latency.runs > 1 ? `; ${settings.latency.runs} rounds, each after a ${settings.latency.warmupS} s warm-up at the same rate, the run with the median p99 shown` : '') +
      (settings.latency.rtPriority > 0 ? `; during each run only that server's threads at SCHED_FIFO ${settings.latency.rtPriority} (its main thread ${settings.latency.rtPriority + 1}; a Node runtime's helper threads free to use every CPU) and dnsperf at SCHED_RR ${settings.latency.rtPriority + 1}, so other jobs cannot preempt them` : '; normal scheduling, so other jobs on the machine add to the tail') + '.',
    `Mixes (bench/README.md): hit-a (A of existing services), nxdomain-search (ndots:5 search-path misses, A and AAAA), srv, ptr, blend (85% A incl. search-path misses, 10% AAAA, 5% SRV).`,
    '',
  ];
  const skipped = new Map<string, string>();
  for (const size of results) {
    for (const p of size.peers) if (p.status !== 'ok' && !skipped.has(p.peer)) skipped.set(p.peer, `${p.status} at ${int(size.services)} services: ${oneLine(p.reason ?? '')}`);
  }
  const noise: number[] = [];
  const steal: number[] = [];
  const idlePeers: number[] = [];
  for (const size of results) {
    for (const p of size.peers) {
      for (const m of p.mixes) {
        for (const run of [m.saturation, m.latency]) {
          if (!run) continue;
          noise.push(run.othersCpuPct);
          if (run.stealPct !== undefined) steal.push(run.stealPct);
          if (run.idlePeersCpuPct !== undefined) idlePeers.push(run.idlePeersCpuPct);
        }
      }
    }
  }
  const mean = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
  if (noise.length > 0) {
    const noisy = noise.filter((n) => n > NOISY_CPU).length;
    out.push(`Noise: other processes on the machine used ${Math.round(mean(noise))}% of a core on average during the kept runs (max ${Math.round(Math.max(...noise))}%)` +
      (steal.length > 0 ? `; steal (time this VM's CPUs waited for the host, which the processes' own CPU times do not show) ${mean(steal).toFixed(1)}% of a core on average (max ${Math.round(Math.max(...steal))}%)` : '') +
      `; ${noisy} of ${noise.length} kept runs over ${NOISY_CPU}% (marked †) after up to ${settings.retriesWhenNoisy} retr${settings.retriesWhenNoisy === 1 ? 'y' : 'ies'} of a disturbed run${settings.retryWindowS !== null ? ` (only in the first ${settings.retryWindowS} s of the run)` : ''}. Disturbed figures are low for throughput and high for latency.` +
      (idlePeers.length > 0 ? ` The idle peers beside the one measured used ${mean(idlePeers).toFixed(1)}% of a core on average (max ${Math.max(...idlePeers).toFixed(1)}%), counted apart.` : ''), '');
  }
  if (skipped.size > 0) {
    out.push('Peers not measured:', ...[...skipped].map(([k, v]) => `- **${k}**: ${v}`), '');
  }
  for (const size of results) out.push(renderSize(size, settings, subject), '');
  for (const s of sections) out.push(`## ${s.title}`, '', s.markdown.trim(), '');
  return out.join('\n');
}
