/**
 * @module bench/dnsperf
 * Runs dnsperf pinned to the load-generator CPU (`taskset -c 1`) against one
 * peer and parses its statistics block. With `verboseFile`, dnsperf's -v
 * output (one `> RCODE name type latency` line per answered query) is kept
 * for bench/latency.ts to compute percentiles from.
 */

import { spawn } from 'node:child_process';
import { openSync, closeSync, readFileSync } from 'node:fs';
import { LOADGEN_CPU, requireBinary, versionOf, findBinary, niceArgs, realtimeArgs } from './peers/process.ts';

export interface DnsperfOptions {
  readonly port: number;
  readonly file: string;
  readonly durationS: number;
  /** -c: client sockets. */
  readonly clients: number;
  /** -q: queries outstanding at most. */
  readonly outstanding: number;
  /** -Q: send at most this many queries per second. */
  readonly rateQps?: number;
  /** -t: seconds before a query counts as lost. */
  readonly timeoutS?: number;
  /** Where stdout goes; with verbose it holds a line per query. */
  readonly outFile: string;
  readonly verbose?: boolean;
  /** CPU to pin dnsperf to; default LOADGEN_CPU; null: not pinned (bench/scaling.ts). */
  readonly cpu?: string | null;
  /** The server's real-time priority under --rt (dnsperf then runs as realtimeArgs says; needs root); 0 or absent: normal scheduling. */
  readonly rtPriority?: number;
}

export interface DnsperfResult {
  readonly sent: number;
  readonly completed: number;
  readonly lost: number;
  readonly qps: number;
  readonly runTimeS: number;
  readonly avgLatencyUs: number;
  readonly minLatencyUs: number;
  readonly maxLatencyUs: number;
  readonly stddevUs: number;
  readonly rcodes: Readonly<Record<string, number>>;
  /** CPU seconds dnsperf itself used (user+system). */
  readonly clientCpuS: number;
  /** The command line, for the report. */
  readonly command: string;
}

export function dnsperfVersion(): Promise<string | null> {
  return versionOf(findBinary('dnsperf'), ['-h'], /Version\s+(\S+)/);
}

function num(text: string, re: RegExp, what: string): number {
  const m = re.exec(text);
  if (!m) throw new Error(`dnsperf output has no ${what}:\n${text.slice(-1500)}`);
  return Number(m[1]);
}

export function parseDnsperf(text: string, command: string, clientCpuS = NaN): DnsperfResult {
  const rcodes: Record<string, number> = {};
  const rc = /Response codes:\s+(.*)/.exec(text);
  if (rc) {
    for (const [, code = '', count] of (rc[1] ?? '').matchAll(/([A-Z]+)\s+(\d+)\s+\(/g)) rcodes[code] = Number(count);
  }
  const lat = /Average Latency \(s\):\s+([\d.]+)\s+\(min\s+([\d.]+),\s+max\s+([\d.]+)\)/.exec(text);
  return {
    sent: num(text, /Queries sent:\s+(\d+)/, 'Queries sent'),
    completed: num(text, /Queries completed:\s+(\d+)/, 'Queries completed'),
    lost: num(text, /Queries lost:\s+(\d+)/, 'Queries lost'),
    qps: num(text, /Queries per second:\s+([\d.]+)/, 'Queries per second'),
    runTimeS: num(text, /Run time \(s\):\s+([\d.]+)/, 'Run time'),
    avgLatencyUs: lat ? Number(lat[1]) * 1e6 : NaN,
    minLatencyUs: lat ? Number(lat[2]) * 1e6 : NaN,
    maxLatencyUs: lat ? Number(lat[3]) * 1e6 : NaN,
    stddevUs: (() => { const m = /Latency StdDev \(s\):\s+([\d.]+)/.exec(text); return m ? Number(m[1]) * 1e6 : NaN; })(),
    rcodes,
    clientCpuS,
    command,
  };
}

export async function runDnsperf(opts: DnsperfOptions): Promise<DnsperfResult> {
  const bin = requireBinary('dnsperf');
  const taskset = requireBinary('taskset');
  const args = [
    '-s', '127.0.0.1', '-p', String(opts.port), '-d', opts.file,
    '-l', String(opts.durationS), '-c', String(opts.clients), '-q', String(opts.outstanding),
    '-t', String(opts.timeoutS ?? 1),
  ];
  if (opts.rateQps !== undefined) args.push('-Q', String(Math.max(1, Math.round(opts.rateQps))));
  if (opts.verbose) args.push('-v');
  const cpu = opts.cpu === undefined ? LOADGEN_CPU : opts.cpu;
  const pin = cpu === null ? [] : [taskset, '-c', cpu];
  // A real-time dnsperf that does not stop would hold its core: under SCHED_FIFO it twice ran on past -l
  // (once for minutes); `timeout` kills it 15 s past its time limit (the run then fails and says so).
  const rt = realtimeArgs(opts.rtPriority ?? 0);
  if (rt.length > 0) rt.unshift(requireBinary('timeout'), '-s', 'KILL', String(Math.ceil(opts.durationS + 15)));
  const command = `${rt.length > 0 ? `${rt.join(' ')} ` : ''}${cpu === null ? '' : `taskset -c ${cpu} `}dnsperf ${args.join(' ')}`;
  // Through bash so its `times` builtin reports dnsperf's CPU time on stderr
  // after it exits (a reaped child's /proc entry is gone).
  const script = '"$@"; rc=$?; times >&2; exit $rc';
  const fd = openSync(opts.outFile, 'w');
  let stderr = '';
  await new Promise<void>((resolve, reject) => {
    const child = spawn('bash', ['-c', script, 'bash', ...(rt.length > 0 ? rt : niceArgs()), ...pin, bin, ...args], { stdio: ['ignore', fd, 'pipe'] });
    child.stderr?.on('data', (d: Buffer) => { stderr += d.toString(); });
    child.once('error', reject);
    child.once('exit', (c) => {
      if (c !== 0) reject(new Error(`dnsperf exited with ${c}: ${stderr.trim().slice(-500)}`));
      else resolve();
    });
  }).finally(() => closeSync(fd));
  // `times` prints the shell's own user/sys line, then its children's.
  const t = [...stderr.matchAll(/(\d+)m([\d.]+)s\s+(\d+)m([\d.]+)s/g)].at(-1);
  const clientCpuS = t ? Number(t[1]) * 60 + Number(t[2]) + Number(t[3]) * 60 + Number(t[4]) : NaN;
  return parseDnsperf(readFileSync(opts.outFile, 'utf8'), command, clientCpuS);
}
