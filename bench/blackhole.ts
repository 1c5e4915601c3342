/**
 * @module bench/blackhole
 * The black-hole case of issue 17: clusterdns (a child process, the example
 * cluster from examples/cluster) forwards `.` to a silent upstream first and a
 * good one second with `policy sequential`, while this process sends
 * external names at RATE q/s and cluster names at a tenth of that, all on
 * 127.0.0.1. It reports, per kind: sent, answered, SERVFAIL, lost, latency
 * p50/p99/max; how many external answers came within the per-try timeout;
 * and the kernel's drops on clusterdns's listening socket
 * (/proc/net/udp; the server exports it as coredns_udp_receive_drops_total)
 * before and after. BLACKHOLE_SERVER=PATH/src/main.ts runs another build.
 * With --tcp the upstreams are asked over TCP (`force_tcp`): the black hole
 * accepts connections and never answers, so the pooled connections' read
 * deadlines are what expires.
 *
 *   node bench/blackhole.ts [--rate 2000] [--seconds 10] [--tcp]
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Rcode, Type } from '../src/dns/constants.ts';
import { decodeMessage, encodeQuery } from '../src/dns/message.ts';
import { rrs } from '../src/dns/rr.ts';
import { INITIAL_TRY_MS } from '../src/plugins/forward/upstream.ts';
import { startFakeUpstream } from '../test/support/fake-upstream.ts';
import { freePort } from '../test/support/ports.ts';
import { bindLoopbackUdp } from '../test/support/udp-client.ts';

const arg = (name: string, dflt: number): number => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
};
const RATE = arg('rate', 2000);
const TCP = process.argv.includes('--tcp');
const SECONDS = arg('seconds', 10);
const ROOT = fileURLToPath(new URL('../', import.meta.url));
const CLUSTER_NAMES = ['kubernetes.default.svc.cluster.local.', 'nginx.default.svc.cluster.local.', 'kube-dns.kube-system.svc.cluster.local.'];

interface Kind { sent: number; answered: number; servfail: number; other: number; latencies: number[] }
const newKind = (): Kind => ({ sent: 0, answered: 0, servfail: 0, other: 0, latencies: [] });

function pct(sorted: number[], p: number): number {
  return sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))]!;
}

/** Kernel drops on the UDP socket listening on 127.0.0.1:`port` (/proc/net/udp's drops column; the server exports it as coredns_udp_receive_drops_total). */
function socketDrops(port: number): number {
  const local = `0100007F:${port.toString(16).toUpperCase().padStart(4, '0')}`;
  for (const line of readFileSync('/proc/net/udp', 'utf8').split('\n')) {
    const f = line.trim().split(/\s+/);
    if (f[1] === local && f[2] === '00000000:0000') return Number(f[12]);
  }
  return NaN;
}

/** CPU time (user + system, ms) the process has used: a figure a loaded machine changes far less than latency. */
function processCpuMs(pid: number): number {
  // Fields after the command name (which may hold spaces): utime and stime are the 12th and 13th, in clock ticks (100 Hz on Linux).
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) * 10;
}

async function main(): Promise<void> {
  // Reads and answers nothing: over UDP a bare socket, over TCP a server that accepts and stays silent.
  const hole = TCP ? await startFakeUpstream(() => ({})) : await bindLoopbackUdp();
  const holePort = 'port' in hole ? hole.port : hole.address().port;
  if (!('port' in hole)) hole.on('message', () => {});
  const good = await startFakeUpstream((q) => ({ reply: { answer: [rrs.a(q.name, 60, '192.0.2.53')] } }));
  const dnsPort = await freePort();
  const metricsPort = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'clusterdns-blackhole-'));
  const corefile = join(dir, 'Corefile');
  writeFileSync(corefile, `.:${dnsPort} {
  bind 127.0.0.1
  errors
  prometheus 127.0.0.1:${metricsPort}
  kubernetes cluster.local {
    manifests ${join(ROOT, 'examples/cluster')}
  }
  forward . 127.0.0.1:${holePort} ${good.address} {
    policy sequential${TCP ? '\n    force_tcp' : ''}
  }
}
`);
  // BLACKHOLE_SERVER=/path/to/other/src/main.ts measures another build (the "before" figures).
  const server = process.env.BLACKHOLE_SERVER ?? join(ROOT, 'src/main.ts');
  const child = spawn(process.execPath, [server, '-conf', corefile], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => { out += d.toString(); });
  for (let i = 0; i < 200 && !out.includes('clusterdns-'); i++) await new Promise((r) => setTimeout(r, 50));
  if (!out.includes('clusterdns-')) throw new Error(`clusterdns did not start: ${out}`);

  const kinds = { cluster: newKind(), external: newKind() };
  const sentAt = new Map<number, { kind: Kind; at: number }>();
  const sockets = await Promise.all(Array.from({ length: 4 }, () => bindLoopbackUdp()));
  for (const s of sockets) {
    s.on('message', (m) => {
      const id = m.readUInt16BE(0) | (sockets.indexOf(s) << 16);
      const q = sentAt.get(id);
      if (!q) return;
      sentAt.delete(id);
      const rcode = decodeMessage(m).rcode;
      if (rcode === Rcode.NOERROR) { q.kind.answered++; q.kind.latencies.push(performance.now() - q.at); } else if (rcode === Rcode.SERVFAIL) q.kind.servfail++;
      else q.kind.other++;
    });
  }
  const dropsBefore = socketDrops(dnsPort);
  const goodDropsBefore = socketDrops(good.port);
  const start = performance.now();
  const total = RATE * SECONDS;
  let n = 0;
  let nextId = 1;
  // Paced in 10 ms steps; bounded by count.
  while (n < total) {
    const due = Math.min(total, Math.floor(((performance.now() - start) / 1000) * RATE));
    for (; n < due; n++) {
      const s = n % sockets.length;
      const id = nextId;
      nextId = (nextId % 0xffff) + 1;
      const key = id | (s << 16);
      const external = { kind: kinds.external, name: `q${n}.ext.example.` };
      const pick = n % 10 === 0 ? { kind: kinds.cluster, name: CLUSTER_NAMES[n % CLUSTER_NAMES.length]! } : external;
      pick.kind.sent++;
      sentAt.set(key, { kind: pick.kind, at: performance.now() });
      sockets[s]!.send(encodeQuery(pick.name, Type.A, { id }), dnsPort, '127.0.0.1');
    }
    await new Promise((r) => setTimeout(r, 10));
  }
  // Stragglers: up to the 5 s query deadline and a margin.
  for (let i = 0; i < 70 && sentAt.size > 0; i++) await new Promise((r) => setTimeout(r, 100));
  const dropsAfter = socketDrops(dnsPort);
  const goodDrops = socketDrops(good.port) - goodDropsBefore;
  const cpuMs = processCpuMs(child.pid!);
  child.kill('SIGTERM');
  await new Promise((r) => child.once('exit', r));
  if (process.env.BLACKHOLE_LOG) process.stderr.write(out);
  for (const s of sockets) s.close();
  await hole.close();
  await good.close();

  const row = (name: string, k: Kind): string => {
    const l = k.latencies.sort((a, b) => a - b);
    const lost = k.sent - k.answered - k.servfail - k.other;
    return `| ${name} | ${k.sent} | ${k.answered} | ${k.servfail} | ${lost} | ${pct(l, 0.5).toFixed(1)} | ${pct(l, 0.99).toFixed(1)} | ${(l.at(-1) ?? NaN).toFixed(1)} |`;
  };
  const within = kinds.external.latencies.filter((ms) => ms <= INITIAL_TRY_MS + 100).length;
  const path = /UDP on [^\n]*/.exec(out)?.[0] ?? 'UDP path not logged';
  process.stdout.write(`black hole first, good upstream second, policy sequential${TCP ? ', force_tcp' : ''}; ${RATE} q/s for ${SECONDS} s (1 in 10 a cluster name); ${path}\n\n`);
  process.stdout.write('| queries | sent | answered | SERVFAIL | lost | p50 ms | p99 ms | max ms |\n|---|---|---|---|---|---|---|---|\n');
  process.stdout.write(`${row('cluster names', kinds.cluster)}\n${row('external names', kinds.external)}\n\n`);
  process.stdout.write(`external answers within the initial per-try timeout + 100 ms (${INITIAL_TRY_MS + 100} ms): ${within} of ${kinds.external.answered}\n`);
  process.stdout.write(`kernel drops on clusterdns's listening socket during the run: ${dropsAfter - dropsBefore}\n`);
  // The good upstream runs in this (load-generating) process: queries it never saw are lost here, not in clusterdns.
  process.stdout.write(`kernel drops on the good upstream's UDP socket (in the load generator's process): ${goodDrops}\n`);
  process.stdout.write(`clusterdns CPU time (user + system, start-up included): ${(cpuMs / 1000).toFixed(2)} s for ${total} queries\n`);
}

await main();
