/**
 * @module app/run
 * The process around a started server, shared by the one-process server and
 * a worker pool's primary: start it (a bad Corefile or a busy port ends the
 * process with exit 1 and the reason on stderr), write the pid file, print
 * the start-up lines (CoreDNS's "zone:port" per served zone, unless -quiet;
 * through the logger with -log.format json), and handle the signals:
 * SIGTERM/SIGINT stop (honouring lameduck), SIGUSR1 reloads. The UDP
 * listeners' receive buffers are logged at start.
 */
import { writeFileSync } from 'node:fs';
import { CorefileError } from '../corefile/errors.ts';
import { errorMessage } from '../errors/to-error.ts';
import type { Logger } from '../log/logger.ts';
import { tightenHeapGrowth } from '../server/heap.ts';
import { UDP_RECV_BUFFER_BYTES } from '../server/udp-listener.ts';
import type { App } from './app.ts';

/** An App, or a worker pool's primary (which holds one). */
export interface RunnableServer {
  readonly app: App;
  start(): Promise<void>;
  stop(graceMs?: number): Promise<void>;
}

export interface RunOptions {
  readonly logger: Logger;
  readonly quiet: boolean;
  readonly pidfile: string | null;
  /** The version lines after the zones ("clusterdns-0.1.0", "linux/x64, node v24..."). */
  readonly versionLines: readonly string[];
  /** Printed after the start-up lines (the demo's hints), unless quiet. */
  readonly hints?: (port: number) => string;
}

/** Start `server` and keep it running until a stop signal. Returns 1 when it could not start, else -1 (keep running). */
export async function runServer(server: RunnableServer, opts: RunOptions): Promise<number> {
  try {
    await server.start();
  } catch (e) {
    process.stderr.write(e instanceof CorefileError ? `${e.message}\n` : `clusterdns: ${errorMessage(e)}\n`);
    await server.stop(0).catch(() => {});
    return 1;
  }
  // Once the first lists are in: a tight old generation from the start made the first list of 100,000 services ~1 s slower.
  try { tightenHeapGrowth(); } catch (e) { opts.logger.warn(`server: ${errorMessage(e)}; V8 keeps its own heap growth`); }
  if (opts.pidfile !== null) writeFileSync(opts.pidfile, `${process.pid}\n`);
  const app = server.app;
  if (!opts.quiet) {
    // Which UDP path serves (batched recvmmsg/sendmmsg or node:dgram, and why), after CoreDNS's lines.
    const udpPath = app.server.udpPathMessage;
    const lines = [...startupZones(app), ...opts.versionLines, ...(udpPath === '' ? [] : [udpPath])];
    if (opts.logger.structured) for (const l of lines) opts.logger.info(l);
    else process.stdout.write(lines.map((l) => `${l}\n`).join(''));
    // The demo's hints are for a person at a terminal: not in a JSON log stream.
    if (opts.hints && !opts.logger.structured) process.stdout.write(opts.hints(firstPort(app)));
  }
  for (const l of receiveBufferLines(app)) opts.logger.info(l);
  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    opts.logger.info(`received ${signal}, shutting down`);
    server.stop().then(() => process.exit(0), () => process.exit(1));
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  // Logged and counted (coredns_reload_failed_total) like the reload plugin's polls.
  process.on('SIGUSR1', () => { void app.reloadWatcher.reloadNow('SIGUSR1'); });
  return -1;
}

/**
 * CoreDNS's start-up lines: "zone:port" for each zone of each server block,
 * "zone:port on ADDRESS" when the block binds addresses; the port as bound
 * (a block on port 0 shows the port it got).
 */
export function startupZones(app: App): string[] {
  const out: string[] = [];
  for (const b of app.server.generation?.blocks ?? []) {
    const port = boundPort(app, b.port);
    for (const zone of b.zones) {
      if (b.bindAddresses.length === 0) out.push(`${zone}:${port}`);
      else for (const a of b.bindAddresses) out.push(`${zone}:${port} on ${a}`);
    }
  }
  return out;
}

/** What the kernel granted each listening UDP socket for bursts (issue 17: said at start). */
export function receiveBufferLines(app: App): string[] {
  const out: string[] = [];
  for (const b of app.server.boundPorts()) {
    if (b.recvBufferBytes === null) continue;
    // Linux reports twice what it granted (the rest is its bookkeeping).
    const granted = process.platform === 'linux' ? b.recvBufferBytes / 2 : b.recvBufferBytes;
    out.push(`UDP receive buffer of ${b.address === '' ? '.' : b.address}:${b.port}: ${granted} bytes of ${UDP_RECV_BUFFER_BYTES} asked (net.core.rmem_max caps it)`);
  }
  return out;
}

/** The bound port of a configured one (a pool's primary does not listen: its ports are fixed, so as configured). */
function boundPort(app: App, configured: number): number {
  return app.server.boundPorts().find((p) => p.configuredPort === configured)?.port ?? configured;
}

function firstPort(app: App): number {
  const first = app.server.generation?.blocks[0];
  return first ? boundPort(app, first.port) : 53;
}
