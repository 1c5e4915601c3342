/**
 * @module bench/soak
 * The soak and chaos run of issue 17 (`npm run bench:soak`): clusterdns as a
 * real process, the kubeadm-like Corefile (bench/peers/clusterdns.ts) fed over
 * HTTP list/watch by the API test server in its own process with SERVICES
 * services, `health { lameduck 5s }`, `reload 2s`, and `forward .` to a
 * black-holing upstream first and a good one second (`policy sequential`).
 * dnsperf sends the realistic blend plus external names at half of the
 * server's saturation on that file (measured first; `--rate N` fixes it) in
 * windows of 10 s: two quiet windows first (the quiet p99), then chaos: a
 * Service or EndpointSlice created or deleted every 100 ms, every minute the
 * watches dropped and, half a minute later, expired (410), the API server
 * down once for DOWN s, the Corefile rewritten every 30 s (every third
 * version broken: reload must refuse it and keep serving). A verifying client
 * asks names that exist at that moment and checks each answer. Per window:
 * sent/lost/SERVFAIL, p50/p99, RSS (/proc) and V8 heap used (/metrics). At the
 * end: every live name answers and every deleted one is NXDOMAIN; then SIGTERM
 * under load, counting unanswered queries sent before the lameduck ended.
 * Writes a Markdown table to stdout and, with the JSON, to bench/results/.
 *
 *   node bench/soak.ts [--duration 180] [--rate half|N] [--services 10000] [--down 20] [--out FILE]
 *   SOAK_NODE_ARGS='--cpu-prof --cpu-prof-dir=DIR' node bench/soak.ts ...   # profile the server
 */
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Rcode, Type } from '../src/dns/constants.ts';
import { rrs } from '../src/dns/rr.ts';
import { startFakeUpstream } from '../test/support/fake-upstream.ts';
import { bindLoopbackUdp } from '../test/support/udp-client.ts';
import { fqdnOf, generate, generateCluster, Rng } from './cluster-gen.ts';
import { runDnsperf } from './dnsperf.ts';
import { parseVerboseLatencies, percentile } from './latency.ts';
import { sumFamily } from './metrics-scrape.ts';
import { nodeBinary, corefile as kubeadmCorefile } from './peers/clusterdns.ts';
import { freePort } from './peers/process.ts';
import { ApiProcess, askAll, Churn, CHURN_NAMESPACE, expectedAddresses, newCounts, UdpClient, verifyName, type KnownName } from './soak-churn.ts';
import { p99Reference, renderSoak, type SoakResult, type SoakWindow } from './soak-report.ts';

const ROOT = path.resolve(import.meta.dirname, '..');
const arg = (name: string, dflt: number): number => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
};
const DURATION_S = arg('duration', 180);
/** q/s of the load; 0 = half of the saturation measured before the quiet windows (`--rate half`, the default). */
const RATE_ARG = process.argv.includes('--rate') && process.argv[process.argv.indexOf('--rate') + 1] !== 'half' ? arg('rate', 0) : 0;
/** Saturation: dnsperf without a rate limit, as bench/run.ts measures it. */
const SATURATION_S = 5;
const SERVICES = arg('services', 10_000);
const DOWN_S = arg('down', 20);
const WINDOW_S = 10;
const QUIET_WINDOWS = 2;
const LAMEDUCK_S = 5;
/** The end check waits at most this long for deleted names to go (answers cached up to 30 s). */
const END_WAIT_MS = 45_000;
const outArg = process.argv.indexOf('--out');

/** The bench's kubeadm-like Corefile with the soak's health, reload and forward; `variant` changes the cache; `broken` adds an error. */
function soakCorefile(base: string, upstreams: string, variant: number, broken: boolean): string {
  const swap = (text: string, from: RegExp, to: string): string => {
    if (!from.test(text)) throw new Error(`soak: the kubeadm-like Corefile has no ${from}`);
    return text.replace(from, to);
  };
  let c = base;
  c = swap(c, /^( *)health (\S+)$/m, `$1health $2 {\n$1    lameduck ${LAMEDUCK_S}s\n$1}`);
  c = swap(c, /^( *)forward \. \S+ \{$/m, `$1forward . ${upstreams} {\n$1    policy sequential`);
  c = swap(c, /^( *)reload$/m, '$1reload 2s 1s');
  c = swap(c, /^( *)cache 30$/m, `$1cache ${30 + (variant % 2)}`);
  if (!broken) return c;
  // Two kinds of mistake in turn: a bad option value, an unknown directive. (`cache thirty` was no
  // mistake: `thirty` is a zone there, so that version was taken.)
  return variant % 2 === 0
    ? swap(c, /^( *)cache (\d+)$/m, '$1cache $2 {\n$1    success many\n$1}')
    : swap(c, /^( *)loadbalance$/m, '$1loadbalance\n$1nonsense-directive');
}

function rssBytes(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) * 1024 : NaN;
}

async function heapUsed(metricsUrl: string): Promise<number> {
  try {
    const res = await fetch(metricsUrl, { signal: AbortSignal.timeout(5000) });
    return sumFamily(await res.text(), 'nodejs_heap_size_used_bytes');
  } catch {
    return NaN;
  }
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function main(): Promise<void> {
  const t0 = Date.now();
  const now = (): number => Date.now() - t0;
  const work = path.join(ROOT, 'bench', 'work', `soak-${SERVICES}`);
  const zone = generate({ services: SERVICES, outDir: work });
  // The blend, with one line in 20 an external name for the forward path (2,000 distinct: cache misses recur).
  const rng = new Rng(5);
  const blend = readFileSync(zone.mixes.blend.path, 'utf8').trimEnd().split('\n');
  const lines = blend.map((l, i) => (i % 20 === 19 ? `ext-${rng.int(0, 1999)}.soak.example. A` : l));
  const queryFile = path.join(work, 'soak-queries.txt');
  writeFileSync(queryFile, `${lines.join('\n')}\n`);

  const hole = await bindLoopbackUdp();
  hole.on('message', () => {}); // reads and answers nothing
  const good = await startFakeUpstream((q) => ({ reply: { answer: [rrs.a(q.name, 60, '192.0.2.53')] } }));
  const api = await ApiProcess.start(SERVICES);
  await api.send(`create ${JSON.stringify({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: CHURN_NAMESPACE } })}`);

  const port = await freePort();
  const side = { health: await freePort(), ready: await freePort(), metrics: await freePort(), upstream: 0 };
  const base = kubeadmCorefile(port, { endpoint: api.url }, true, side);
  const upstreams = `127.0.0.1:${hole.address().port} ${good.address}`;
  const conf = path.join(work, 'Corefile');
  writeFileSync(conf, soakCorefile(base, upstreams, 0, false));
  const metricsUrl = `http://127.0.0.1:${side.metrics}/metrics`;

  // SOAK_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof" profiles the server (written at its exit, after the SIGTERM).
  const nodeArgs = (process.env.SOAK_NODE_ARGS ?? '').split(' ').filter((a) => a !== '');
  const server = spawn(nodeBinary(), [...nodeArgs, path.join(ROOT, 'src', 'main.ts'), '-conf', conf], {
    cwd: ROOT, env: { ...process.env, NODE_ENV: 'production' }, stdio: ['ignore', 'pipe', 'pipe'],
  });
  const log: { t: number; line: string }[] = [];
  const onLine = (d: Buffer): void => { for (const l of d.toString().split('\n')) if (l.trim() !== '') log.push({ t: now(), line: l }); };
  server.stdout!.on('data', onLine);
  server.stderr!.on('data', onLine);
  const exited = new Promise<number | null>((r) => server.once('exit', (c) => r(c)));
  const pid = server.pid!;

  const cluster = generateCluster(SERVICES);
  const staticNames: KnownName[] = cluster.filter((s) => expectedAddresses(s).length > 0).map((s) => ({ name: fqdnOf(s), addresses: expectedAddresses(s) }));
  const verifier = await UdpClient.open(port);
  // Ready: a listed service answers (bounded).
  const readyCounts = newCounts();
  let ready = false;
  for (let i = 0; i < 600 && !ready; i++) {
    ready = await verifyName(verifier, staticNames[0]!, readyCounts, 500);
    if (!ready) await sleep(200);
  }
  if (!ready) throw new Error(`clusterdns did not serve ${staticNames[0]!.name}: ${log.slice(-10).map((l) => l.line).join('\n')}`);
  const readyAt = now();
  // Saturation on the soak's own file (its externals go through the black-holed upstream), after a
  // 1 s warm-up; the soak then runs at half of it unless --rate fixed the rate.
  let saturationQps: number | null = null;
  if (!(RATE_ARG > 0)) {
    const satOut = path.join(work, 'dnsperf-saturation.txt');
    await runDnsperf({ port, file: queryFile, durationS: 1, clients: 10, outstanding: 100, timeoutS: 2, outFile: satOut, cpu: null });
    saturationQps = (await runDnsperf({ port, file: queryFile, durationS: SATURATION_S, clients: 10, outstanding: 100, timeoutS: 2, outFile: satOut, cpu: null })).qps;
  }
  const RATE = RATE_ARG > 0 ? RATE_ARG : Math.round(saturationQps! / 2);
  process.stderr.write(`soak: clusterdns ready after ${readyAt} ms with ${SERVICES} services; ${saturationQps === null ? '' : `saturation ${Math.round(saturationQps)} q/s; `}quiet ${QUIET_WINDOWS * WINDOW_S} s, then ${DURATION_S} s of chaos at ${RATE} q/s\n`);

  // What happened when (chaos and the catch-up after the outage).
  const events: { t: number; what: string }[] = [];
  const event = (what: string): void => { events.push({ t: now(), what }); process.stderr.write(`soak: t=${(now() / 1000).toFixed(1)}s ${what}\n`); };
  // The verifying client: 50 names a second that exist now, counted per window.
  const churn = new Churn(api);
  let counts = newCounts();
  const allCounts = newCounts();
  let verifying = true;
  const verifyLoop = (async () => {
    while (verifying) {
      const sentinel = churn.catchingUp;
      if (sentinel !== null && await verifyName(verifier, sentinel, newCounts(), 500)) {
        churn.caughtUp(now());
        event('the server serves names created after the outage');
      }
      const pickChurned = rng.chance(0.5) ? churn.pickVisible(now()) : null;
      const known = pickChurned ?? rng.pick(staticNames);
      const c = newCounts();
      await verifyName(verifier, known, c);
      for (const k of ['checks', 'ok', 'servfail', 'nxdomain', 'wrong', 'timeout'] as const) { counts[k] += c[k]; allCounts[k] += c[k]; }
      for (const e of c.examples) if (allCounts.examples.length < 10) allCounts.examples.push(`t=${(now() / 1000).toFixed(1)}s ${e}`);
      await sleep(20);
    }
  })();

  const timers: NodeJS.Timeout[] = [];
  let churning = false;
  let apiDown = false;
  let churnLoop: Promise<void> = Promise.resolve();
  let corefileVersion = 0;
  let brokenWritten = 0;
  const startChaos = (): void => {
    churning = true;
    churnLoop = (async () => { while (churning) { const t = Date.now(); await churn.tick(now); await sleep(Math.max(0, 100 - (Date.now() - t))); } })();
    const at = (s: number, fn: () => void): void => { if (s < DURATION_S) timers.push(setTimeout(fn, s * 1000)); };
    for (let m = 0; m * 60 < DURATION_S; m++) {
      // Both restart the API test server's listener: not while it is meant to be down.
      at(m * 60 + 20, () => { if (apiDown) event('(watch drop skipped: API server down)'); else { event('watches dropped'); void api.send('drop'); } });
      at(m * 60 + 50, () => { if (apiDown) event('(410 skipped: API server down)'); else { event('history compacted: watches expire (410) and relist'); void api.send('relist'); } });
    }
    const downAt = Math.min(Math.round(DURATION_S * 0.4), Math.max(0, DURATION_S - DOWN_S - 20));
    at(downAt, () => {
      event(`API server down for ${DOWN_S} s`); apiDown = true; churn.apiDown(); void api.send('down');
      timers.push(setTimeout(() => { apiDown = false; void api.send('up').then(() => { event('API server up'); return churn.apiUp(); }); }, DOWN_S * 1000));
    });
    for (let k = 1; k * 30 < DURATION_S; k++) {
      at(k * 30 - 5, () => {
        corefileVersion++;
        const broken = corefileVersion % 3 === 2;
        if (broken) brokenWritten++;
        writeFileSync(conf, soakCorefile(base, upstreams, corefileVersion, broken));
        event(`Corefile version ${corefileVersion} written${broken ? ' (broken)' : ''}`);
      });
    }
  };

  const windows: SoakWindow[] = [];
  /** Each window's latencies (µs), by window index. */
  const lats: Float64Array[] = [];
  const totalWindows = QUIET_WINDOWS + Math.ceil(DURATION_S / WINDOW_S);
  for (let w = 0; w < totalWindows; w++) {
    if (w === QUIET_WINDOWS) startChaos();
    const start = now();
    counts = newCounts();
    const outFile = path.join(work, 'dnsperf-window.txt');
    const r = await runDnsperf({ port, file: queryFile, durationS: WINDOW_S, clients: 4, outstanding: 500, rateQps: RATE, timeoutS: 2, outFile, verbose: true, cpu: null });
    const lat = parseVerboseLatencies(readFileSync(outFile, 'utf8'));
    lats.push(lat);
    windows.push({
      index: w, quiet: w < QUIET_WINDOWS, startS: start / 1000,
      sent: r.sent, lost: r.lost, servfail: r.rcodes.SERVFAIL ?? 0, qps: r.qps,
      p50Us: percentile(lat, 50), p99Us: percentile(lat, 99), maxUs: r.maxLatencyUs,
      rssBytes: rssBytes(pid), heapUsedBytes: await heapUsed(metricsUrl),
      verify: { ...counts, examples: [] },
      events: events.filter((e) => e.t >= start && e.t < now()).map((e) => e.what),
    });
    process.stderr.write(`soak: window ${w}: ${r.sent} sent, ${r.lost} lost, p99 ${(percentile(lat, 99) / 1000).toFixed(2)} ms, RSS ${(rssBytes(pid) / 2 ** 20).toFixed(0)} MiB, verify ${counts.ok}/${counts.checks}\n`);
  }
  churning = false;
  for (const t of timers) clearTimeout(t);
  await churnLoop;
  await api.send('up'); // in case the run ended inside the outage

  // End check: every name that should exist answers, every deleted one is NXDOMAIN (bounded wait to converge).
  const endClient = await UdpClient.open(port);
  const live = [...staticNames, ...churn.live];
  let endLiveFailed = 0;
  let endDeletedFailed = 0;
  const endCounts = newCounts();
  const deletedExamples: string[] = [];
  // Answers are cached (`cache 30`, records' `ttl 30`): a name deleted just before may answer until its TTL runs out.
  const endStart = now();
  let endConvergedMs = NaN;
  while (now() - endStart < END_WAIT_MS) {
    const c = newCounts();
    deletedExamples.length = 0;
    endLiveFailed = await askAll(live, 64, (n) => verifyName(endClient, n, c));
    endDeletedFailed = await askAll(churn.deleted, 64, async ({ name, t }) => {
      try {
        const m = await endClient.query(name, Type.A, { timeoutMs: 2000 });
        if (m.rcode === Rcode.NXDOMAIN) return true;
        if (deletedExamples.length < 5) deletedExamples.push(`${name} (deleted ${((now() - t) / 1000).toFixed(0)} s before): rcode ${m.rcode}`);
      } catch { /* no answer: failed */ }
      return false;
    });
    Object.assign(endCounts, c);
    if (endLiveFailed === 0 && endDeletedFailed === 0) { endConvergedMs = now() - endStart; break; }
    process.stderr.write(`soak: end check: ${endLiveFailed} live names wrong, ${endDeletedFailed} deleted names answered (${deletedExamples[0] ?? ''}); again in 2 s\n`);
    await sleep(2000);
  }
  verifying = false;
  await verifyLoop;

  // SIGTERM under load: dnsperf keeps sending, a paced probe notes which queries were answered.
  const probe: { t: number; answered: boolean }[] = [];
  let probing = true;
  const probeLoop = (async () => {
    const pending: Promise<void>[] = [];
    while (probing) {
      for (let i = 0; i < 5; i++) {
        const entry = { t: now(), answered: false };
        probe.push(entry);
        pending.push(endClient.query(rng.pick(staticNames).name, Type.A, { timeoutMs: 1000 }).then(() => { entry.answered = true; }, () => {}));
      }
      await sleep(10);
    }
    await Promise.all(pending);
  })();
  const lameLoad = runDnsperf({ port, file: queryFile, durationS: LAMEDUCK_S + 6, clients: 4, outstanding: 500, rateQps: RATE, timeoutS: 1, outFile: path.join(work, 'dnsperf-lameduck.txt'), cpu: null }).catch((e: unknown) => e);
  await sleep(2000);
  const sigAt = now();
  server.kill('SIGTERM');
  const code = await exited;
  const exitAt = now();
  await sleep(1100);
  probing = false;
  await probeLoop;
  await lameLoad;
  const lineAt = (re: RegExp): number => log.find((l) => re.test(l.line))?.t ?? NaN;
  const beginAt = lineAt(/Going into lameduck mode/);
  const endAt = lineAt(/Lameduck over/);
  // The close line reaches us through a pipe a moment after the listeners stop reading: the last 50 ms are reported apart.
  const inWindow = probe.filter((p) => p.t >= sigAt && p.t < endAt - 50);
  const edge = probe.filter((p) => p.t >= endAt - 50 && p.t < endAt);

  const reloads = log.filter((l) => /running configuration SHA512/.test(l.line)).length;
  const refused = log.filter((l) => /reload failed/.test(l.line)).length;
  const result: SoakResult = {
    date: new Date().toISOString(), node: process.versions.node,
    settings: { services: SERVICES, rateQps: RATE, saturationQps, durationS: DURATION_S, windowS: WINDOW_S, quietWindows: QUIET_WINDOWS, downS: DOWN_S, lameduckS: LAMEDUCK_S },
    readyMs: readyAt, windows, ...p99Reference(windows, lats), verify: allCounts,
    churn: { created: churn.created, deleted: churn.removed, errors: churn.errors, liveAtEnd: churn.live.length },
    corefile: { versions: corefileVersion, broken: brokenWritten, reloadLines: reloads, refusedLines: refused },
    end: { convergedMs: endConvergedMs, live: live.length, liveFailed: endLiveFailed, deleted: churn.deleted.length, deletedFailed: endDeletedFailed, examples: [...endCounts.examples, ...deletedExamples] },
    lameduck: {
      exitCode: code, sigtermToBeginMs: beginAt - sigAt, lameduckMs: endAt - beginAt, sigtermToExitMs: exitAt - sigAt,
      probeSent: inWindow.length, probeFailed: inWindow.filter((p) => !p.answered).length,
      edgeSent: edge.length, edgeFailed: edge.filter((p) => !p.answered).length,
    },
    loadAverage: readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' '),
  };
  await good.close();
  hole.close();
  await verifier.close();
  await endClient.close();
  await api.stop();

  writeFileSync(path.join(work, 'server.log'), log.map((l) => `${(l.t / 1000).toFixed(3)} ${l.line}\n`).join(''));
  const out = outArg > 0 ? process.argv[outArg + 1]! : path.join(ROOT, 'bench', 'results', `${result.date.slice(0, 10)}-soak.json`);
  mkdirSync(path.dirname(out), { recursive: true });
  writeFileSync(out, `${JSON.stringify(result, null, 2)}\n`);
  const table = renderSoak(result);
  writeFileSync(out.replace(/\.json$/, '.md'), table);
  process.stdout.write(table);
  process.stderr.write(`soak: JSON in ${out}; the server's log in ${path.join(work, 'server.log')}\n`);
}

await main();
process.exit(0);
