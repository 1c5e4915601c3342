/**
 * @module test/ops/ops-support
 * What the operations tests share: plain HTTP GETs (health, ready,
 * /metrics), scrapes parsed by a real Prometheus text-format parser, a raw
 * UDP DNS client (no dig: thousands of queries), a free-port finder, and a
 * child clusterdns process driven through its real CLI and signals.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { request } from 'node:http';
import { fileURLToPath } from 'node:url';
import { getMetricsFromIterator, type PromMetric } from 'prom2javascript';

export interface HttpAnswer {
  readonly status: number;
  readonly body: string;
  readonly contentType: string;
}

/** GET http://host:port/path with a 3 s timeout. */
export function httpGet(port: number, path: string, host = '127.0.0.1'): Promise<HttpAnswer> {
  return new Promise((resolve, reject) => {
    const req = request({ host, port, path, method: 'GET', agent: false, timeout: 3000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => { body += c; });
      res.on('end', () => { resolve({ status: res.statusCode ?? 0, body, contentType: String(res.headers['content-type'] ?? '') }); });
    });
    req.on('timeout', () => { req.destroy(new Error(`GET ${path}: timeout`)); });
    req.on('error', reject);
    req.end();
  });
}

export type MetricFamilies = ReadonlyMap<string, PromMetric>;

/** One parsed series: a counter/gauge value, or a histogram's cumulative buckets (by `le`), count and sum. */
export interface Series {
  readonly labels: Readonly<Record<string, string>>;
  readonly value?: number;
  readonly buckets?: Readonly<Record<string, number>>;
  readonly count?: number;
  readonly sum?: number;
}

/**
 * Parse Prometheus text format with prom2javascript. It reads labelled
 * histograms right (parse-prometheus-text-format does not) but rejects NaN
 * values, which prom-client's event-loop gauges show until their first
 * sample: those lines are left out, and only those may be NaN.
 */
export async function parseMetrics(text: string): Promise<MetricFamilies> {
  const lines = text.split('\n');
  const nan = lines.filter((l) => / NaN$/.test(l));
  const odd = nan.filter((l) => !l.startsWith('nodejs_eventloop_lag_'));
  if (odd.length > 0) throw new Error(`NaN samples outside the Node.js event-loop gauges: ${odd.join('; ')}`);
  const parsed = await getMetricsFromIterator(lines.filter((l) => !/ NaN$/.test(l))[Symbol.iterator]());
  return new Map(Object.entries(parsed));
}

/** Scrape /metrics and parse it; fails on a non-200 answer. */
export async function scrape(port: number): Promise<MetricFamilies> {
  const a = await httpGet(port, '/metrics');
  if (a.status !== 200) throw new Error(`/metrics answered ${a.status}: ${a.body}`);
  return parseMetrics(a.body);
}

/** Series of a family whose labels include `match`. */
export function samples(families: MetricFamilies, name: string, match: Readonly<Record<string, string>> = {}): Series[] {
  const f = families.get(name);
  if (!f) return [];
  return (f.data as readonly Series[]).filter((m) => Object.entries(match).every(([k, v]) => m.labels[k] === v));
}

/** Sum of the values (counters, gauges) or counts (histograms) of the matching series. */
export function total(families: MetricFamilies, name: string, match: Readonly<Record<string, string>> = {}): number {
  let sum = 0;
  for (const s of samples(families, name, match)) sum += s.value ?? s.count ?? 0;
  return sum;
}

/** A histogram's `le` bounds in order, and the cumulative counts in that order. */
export function bucketsOf(s: Series): { bounds: string[]; counts: number[] } {
  const bounds = Object.keys(s.buckets ?? {}).sort((a, b) => (a === '+Inf' ? Infinity : Number(a)) - (b === '+Inf' ? Infinity : Number(b)));
  return { bounds, counts: bounds.map((b) => s.buckets![b]!) };
}


const MAIN = fileURLToPath(new URL('../../src/main.ts', import.meta.url));

/** clusterdns as a child process, with its output collected line by line. */
export class CliProcess {
  readonly child: ChildProcess;
  readonly lines: string[] = [];
  readonly exited: Promise<number | null>;

  constructor(args: readonly string[], cwd: string) {
    this.child = spawn(process.execPath, [MAIN, ...args], { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let partial = '';
    const take = (chunk: Buffer): void => {
      const text = partial + chunk.toString('utf8');
      const parts = text.split('\n');
      partial = parts.pop()!;
      this.lines.push(...parts);
    };
    this.child.stdout!.on('data', take);
    this.child.stderr!.on('data', take);
    this.exited = new Promise((r) => { this.child.on('exit', (code) => { r(code); }); });
  }

  /** Wait (bounded) for a line matching `re`; returns it. */
  async waitForLine(re: RegExp, timeoutMs = 10_000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    for (let i = 0; i < timeoutMs / 20 + 1; i++) {
      const hit = this.lines.find((l) => re.test(l));
      if (hit !== undefined) return hit;
      if (Date.now() > deadline) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    throw new Error(`no line matching ${re} within ${timeoutMs} ms; output:\n${this.lines.join('\n')}`);
  }

  signal(sig: NodeJS.Signals): void {
    this.child.kill(sig);
  }

  /** Kill it if it still runs (test cleanup). */
  async kill(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) {
      this.child.kill('SIGKILL');
      await this.exited;
    }
  }
}
