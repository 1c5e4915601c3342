/**
 * @module bench/soak-report
 * What bench/soak.ts measured (the JSON it saves) and its Markdown: one row
 * per 10 s window (load, latency, memory, the verifying client, what chaos
 * happened in it), then the totals, the end check, SIGTERM under lameduck,
 * and the issue's targets as met or missed.
 */
import { percentile } from './latency.ts';
import type { CheckCounts } from './soak-churn.ts';

export interface SoakWindow {
  readonly index: number;
  readonly quiet: boolean;
  readonly startS: number;
  readonly sent: number;
  readonly lost: number;
  /** SERVFAIL answers dnsperf got (every name in the file, external ones included). */
  readonly servfail: number;
  readonly qps: number;
  readonly p50Us: number;
  readonly p99Us: number;
  readonly maxUs: number;
  readonly rssBytes: number;
  readonly heapUsedBytes: number;
  readonly verify: CheckCounts;
  readonly events: readonly string[];
}

export interface SoakResult {
  readonly date: string;
  readonly node: string;
  readonly settings: { services: number; rateQps: number; saturationQps?: number | null; durationS: number; windowS: number; quietWindows: number; downS: number; lameduckS: number };
  readonly readyMs: number;
  readonly windows: readonly SoakWindow[];
  /** p99 of the windows after the first minute in which no event happened (churn only): the quiet reference. */
  readonly quietP99Us: number;
  readonly quietWindows: readonly number[];
  /** p99 of every window with an event (drop, 410, reload, outage) after the first minute, all together, and the worst one alone. */
  readonly chaosP99Us: number;
  readonly worstEventP99Us: number;
  readonly worstEventWindow: number | null;
  readonly verify: CheckCounts;
  readonly churn: { created: number; deleted: number; errors: number; liveAtEnd: number };
  readonly corefile: { versions: number; broken: number; reloadLines: number; refusedLines: number };
  readonly end: { convergedMs: number; live: number; liveFailed: number; deleted: number; deletedFailed: number; examples: readonly string[] };
  readonly lameduck: {
    exitCode: number | null; sigtermToBeginMs: number; lameduckMs: number; sigtermToExitMs: number;
    /** Probe queries sent from SIGTERM until 50 ms before the close line, and how many got no answer. */
    probeSent: number; probeFailed: number;
    /** Sent in the last 50 ms before the close line (may have reached closed listeners). */
    edgeSent: number; edgeFailed: number;
  };
  readonly loadAverage: string;
}

const ms = (us: number): string => (Number.isFinite(us) ? (us / 1000).toFixed(2) : '–');
const mib = (b: number): string => (Number.isFinite(b) ? (b / 2 ** 20).toFixed(0) : '–');
const failedChecks = (c: CheckCounts): number => c.servfail + c.nxdomain + c.wrong + c.timeout;

/** Windows that start at least a minute after the first one: start-up (first lists, cold caches, JIT) is over. */
function afterFirstMinute(windows: readonly SoakWindow[]): SoakWindow[] {
  const t0 = windows[0]?.startS ?? 0;
  return windows.filter((w) => w.startS - t0 >= 60);
}

/** One sorted array of every latency in `parts`. */
function merged(parts: readonly Float64Array[]): Float64Array {
  const all = new Float64Array(parts.reduce((n, p) => n + p.length, 0));
  let off = 0;
  for (const p of parts) { all.set(p, off); off += p.length; }
  return all.sort();
}

/**
 * The p99 reference and the chaos figure, both after the first minute: the
 * quiet one from windows with no event in them (churn goes on), the chaos one
 * from windows with one. `lats` are each window's latencies by index.
 */
export function p99Reference(windows: readonly SoakWindow[], lats: readonly Float64Array[]): Pick<SoakResult, 'quietP99Us' | 'quietWindows' | 'chaosP99Us' | 'worstEventP99Us' | 'worstEventWindow'> {
  const later = afterFirstMinute(windows);
  const quiet = later.filter((w) => w.events.length === 0);
  const eventful = later.filter((w) => w.events.length > 0);
  const worst = eventful.reduce<SoakWindow | null>((a, w) => (a === null || w.p99Us > a.p99Us ? w : a), null);
  return {
    quietP99Us: percentile(merged(quiet.map((w) => lats[w.index]!)), 99), quietWindows: quiet.map((w) => w.index),
    chaosP99Us: percentile(merged(eventful.map((w) => lats[w.index]!)), 99),
    worstEventP99Us: worst?.p99Us ?? NaN, worstEventWindow: worst?.index ?? null,
  };
}

/** Windows at each end of the RSS comparison: one sample sits anywhere on the GC sawtooth (140-206 MiB in one run). */
const RSS_ENDS = 3;

const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s.length % 2 === 1 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

/**
 * RSS after the first minute: at its end (the first window starting after
 * it), the highest later, and the last; growth is the median of the last
 * RSS_ENDS windows over the median of the first RSS_ENDS after the minute
 * (a trend, not two points of the sawtooth), pointGrowth the last window
 * over the first.
 */
export function rssAfterFirstMinute(r: SoakResult): { atMinuteBytes: number; peakAfterBytes: number; lastBytes: number; growth: number; pointGrowth: number } {
  const later = afterFirstMinute(r.windows);
  const atMinuteBytes = later[0]?.rssBytes ?? NaN;
  const lastBytes = later.at(-1)?.rssBytes ?? NaN;
  const ends = Math.min(RSS_ENDS, Math.floor(later.length / 2));
  const growth = median(later.slice(-ends).map((w) => w.rssBytes)) / median(later.slice(0, ends).map((w) => w.rssBytes));
  return { atMinuteBytes, peakAfterBytes: Math.max(...later.map((w) => w.rssBytes)), lastBytes, growth, pointGrowth: lastBytes / atMinuteBytes };
}

export function renderSoak(r: SoakResult): string {
  const s = r.settings;
  const out: string[] = [];
  const rate = s.saturationQps != null ? `${s.rateQps.toLocaleString('en')} q/s (half of the ${Math.round(s.saturationQps).toLocaleString('en')} q/s saturation)` : `${s.rateQps.toLocaleString('en')} q/s`;
  out.push(`### Soak: ${s.services.toLocaleString('en')} services over list/watch, ${rate}, ${s.durationS} s of chaos`, '');
  out.push(`${r.date}, Node ${r.node}, load average at the end ${r.loadAverage}; ready after ${(r.readyMs / 1000).toFixed(1)} s.`, '');
  out.push('| window | t (s) | sent | lost | SERVFAIL | p50 ms | p99 ms | RSS MiB | heap MiB | verified (failed) | events |');
  out.push('|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|');
  for (const w of r.windows) {
    out.push(`| ${w.quiet ? `quiet ${w.index}` : w.index} | ${w.startS.toFixed(0)} | ${w.sent} | ${w.lost} | ${w.servfail} | ${ms(w.p50Us)} | ${ms(w.p99Us)} | ${mib(w.rssBytes)} | ${mib(w.heapUsedBytes)} | ${w.verify.checks} (${failedChecks(w.verify)}) | ${w.events.join('; ')} |`);
  }
  const sent = r.windows.reduce((n, w) => n + w.sent, 0);
  const lost = r.windows.reduce((n, w) => n + w.lost, 0);
  const servfail = r.windows.reduce((n, w) => n + w.servfail, 0);
  const ld = r.lameduck;
  const rss = rssAfterFirstMinute(r);
  const existFailed = failedChecks(r.verify) + r.end.liveFailed;
  out.push('');
  out.push(`- Queries: ${sent.toLocaleString('en')} sent by dnsperf, ${lost} lost, ${servfail} SERVFAIL (all names, external ones through the black-holed upstream included).`);
  out.push(`- Verifying client (names that existed at that moment): ${r.verify.checks} asked, ${failedChecks(r.verify)} failed (SERVFAIL ${r.verify.servfail}, NXDOMAIN ${r.verify.nxdomain}, wrong ${r.verify.wrong}, no answer ${r.verify.timeout})${r.verify.examples.length > 0 ? `: ${r.verify.examples.join('; ')}` : ''}.`);
  out.push(`- Churn: ${r.churn.created} services created, ${r.churn.deleted} deleted (half headless with an EndpointSlice), ${r.churn.errors} command errors. Corefile: ${r.corefile.versions} versions written, ${r.corefile.broken} broken; ${r.corefile.refusedLines} reloads refused in the log.`);
  out.push(`- End check (${Number.isFinite(r.end.convergedMs) ? `right ${(r.end.convergedMs / 1000).toFixed(1)} s after the churn stopped` : 'not right within 45 s'}): ${r.end.live} names that exist, ${r.end.liveFailed} wrong; ${r.end.deleted} deleted names, ${r.end.deletedFailed} still answered${r.end.examples.length > 0 ? `: ${r.end.examples.join('; ')}` : ''}.`);
  out.push(`- SIGTERM under load with \`lameduck ${s.lameduckS}s\`: lameduck began ${ld.sigtermToBeginMs} ms after the signal and lasted ${ld.lameduckMs} ms; exit ${ld.exitCode} after ${ld.sigtermToExitMs} ms. Probe queries sent in the lameduck window: ${ld.probeSent}, unanswered ${ld.probeFailed} (in the last 50 ms before the listeners closed: ${ld.edgeSent} sent, ${ld.edgeFailed} unanswered).`);
  out.push('');
  out.push('Targets (issue 17):');
  out.push(`- no failed query for a name that exists: ${existFailed === 0 && ld.probeFailed === 0 ? 'met' : `missed (${existFailed} failed, ${ld.probeFailed} in lameduck)`}`);
  out.push(`- no RSS growth after the first minute: median of the last ${RSS_ENDS} windows over the first ${RSS_ENDS} after the minute ${((rss.growth - 1) * 100).toFixed(1)} % (single windows: ${mib(rss.atMinuteBytes)} MiB at one minute, ${mib(rss.lastBytes)} MiB at the end, ${((rss.pointGrowth - 1) * 100).toFixed(1)} %; highest after the first minute ${mib(rss.peakAfterBytes)} MiB): ${rss.growth <= 1.05 ? 'met' : 'missed'} (5 % allowed)`);
  const ratio = r.chaosP99Us / r.quietP99Us;
  out.push(`- p99 within 2× of the quiet figure: quiet (windows ${r.quietWindows.join(', ') || 'none'}: after the first minute, no event) ${ms(r.quietP99Us)} ms; windows with an event ${ms(r.chaosP99Us)} ms (${ratio.toFixed(2)}×), the worst one (window ${r.worstEventWindow ?? '–'}) ${ms(r.worstEventP99Us)} ms (${(r.worstEventP99Us / r.quietP99Us).toFixed(2)}×): ${Number.isFinite(ratio) ? (ratio <= 2 ? 'met' : 'missed') : 'not measurable'}`);
  out.push('');
  return out.join('\n');
}
