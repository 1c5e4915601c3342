/**
 * @module main
 * The clusterdns command. `clusterdns [serve] [flags]` runs the server as
 * CoreDNS would; `clusterdns demo` serves the demo cluster in examples/.
 * With `-workers N` (N > 1) this process becomes the primary of a pool and
 * the same command, forked by node:cluster, runs each worker.
 */
import cluster from 'node:cluster';
import { existsSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { App } from './app/app.ts';
import { parseServeArgs, USAGE, UsageError, type ServeArgs } from './cli/args.ts';
import { CorefileError } from './corefile/errors.ts';
import { createLogger } from './log/logger.ts';
import { builtinRegistry } from './plugins/index.ts';
import { reloadOnSignal } from './plugins/reload/reload-watcher.ts';
import { Primary } from './server/workers/primary.ts';
import { runWorker } from './server/workers/worker.ts';
import { COREDNS_COMPAT_VERSION, VERSION } from './version.ts';
import { UDP_RECV_BUFFER_BYTES } from './server/udp-listener.ts';

/** CoreDNS's built-in default when no Corefile exists. */
const DEFAULT_COREFILE = '. {\n  whoami\n  log\n}\n';

export async function main(argv: readonly string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  if (cmd === 'demo') {
    const conf = fileURLToPath(new URL('../examples/Corefile', import.meta.url));
    return serve({ ...parseOrExit(rest), conf }, true);
  }
  if (cmd === 'serve') return serve(parseOrExit(rest), false);
  if (cmd === 'deploy') {
    const { deployCommand } = await import('./deploy/cli.ts');
    return deployCommand(rest, (s) => process.stdout.write(s), (s) => process.stderr.write(s));
  }
  return serve(parseOrExit(argv), false);
}

function parseOrExit(argv: readonly string[]): ServeArgs {
  try {
    return parseServeArgs(argv);
  } catch (e) {
    if (e instanceof UsageError) {
      if (e.message) process.stderr.write(`${e.message}\n`);
      process.stderr.write(USAGE);
      // Like Go's flag package: -h/-help is not an error, a bad flag is.
      process.exit(e.message ? 2 : 0);
    }
    throw e;
  }
}

async function serve(args: ServeArgs, demo: boolean): Promise<number> {
  if (args.version) {
    process.stdout.write(`clusterdns-${VERSION} (CoreDNS-${COREDNS_COMPAT_VERSION} compatible)\n${process.platform}/${process.arch}, node ${process.version}\n`);
    return 0;
  }
  if (args.plugins) {
    process.stdout.write('Server types:\n  dns\n\nCaddyfile loaders:\n  flag\n  default\n\nOther plugins:\n');
    for (const n of builtinRegistry().names()) process.stdout.write(`  dns.${n}\n`);
    return 0;
  }
  const logger = createLogger({ format: args.logFormat, quiet: args.quiet });
  const conf = args.conf ?? (existsSync('Corefile') ? 'Corefile' : null);
  const appOptions = {
    corefilePath: conf ?? 'Corefile', corefileText: conf === null ? DEFAULT_COREFILE : undefined,
    dnsPort: args.dnsPort, logger,
  };
  if (cluster.isWorker) return runWorker(appOptions);
  const workers = args.workers === 'auto' ? availableParallelism() : args.workers;
  if (workers > 1) return servePool(args, appOptions, workers, demo);
  const app = new App(appOptions);
  try {
    await app.start();
  } catch (e) {
    if (e instanceof CorefileError) process.stderr.write(`${e.message}\n`);
    else process.stderr.write(`clusterdns: ${(e as Error).message}\n`);
    await app.stop(0).catch(() => {});
    return 1;
  }
  if (args.pidfile) writeFileSync(args.pidfile, `${process.pid}\n`);
  if (!args.quiet) {
    for (const b of app.server.boundPorts()) process.stdout.write(`${b.address === '' ? '.' : b.address}:${b.port}\n`);
    process.stdout.write(`clusterdns-${VERSION}\n${process.platform}/${process.arch}, node ${process.version}\n`);
  }
  for (const b of app.server.boundPorts()) {
    // Linux reports twice what it granted (the rest is its bookkeeping).
    const granted = b.recvBufferBytes === null ? null : process.platform === 'linux' ? b.recvBufferBytes / 2 : b.recvBufferBytes;
    if (granted !== null) logger.info(`UDP receive buffer of ${b.address === '' ? '.' : b.address}:${b.port}: ${granted} bytes of ${UDP_RECV_BUFFER_BYTES} asked (net.core.rmem_max caps it)`);
  }
  if (demo) printDemoHints(app.port());
  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    logger.info(`received ${signal}, shutting down`);
    app.stop().then(() => process.exit(0), () => process.exit(1));
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  // Logged and counted (coredns_reload_failed_total) like the reload plugin's polls.
  process.on('SIGUSR1', () => { void reloadOnSignal(app.services, 'SIGUSR1'); });
  return -1; // keep running
}

/** `-workers N`: this process is the primary; it prints the banner once every worker serves. */
async function servePool(args: ServeArgs, appOptions: ConstructorParameters<typeof Primary>[0], workers: number, demo: boolean): Promise<number> {
  const primary = new Primary(appOptions, workers);
  try {
    await primary.start();
  } catch (e) {
    if (e instanceof CorefileError) process.stderr.write(`${e.message}\n`);
    else process.stderr.write(`clusterdns: ${(e as Error).message}\n`);
    await primary.stop(0).catch(() => {});
    return 1;
  }
  if (args.pidfile) writeFileSync(args.pidfile, `${process.pid}\n`);
  if (!args.quiet) {
    for (const l of primary.listeners()) process.stdout.write(`${l.address === '' ? '.' : l.address}:${l.port}\n`);
    process.stdout.write(`clusterdns-${VERSION}\n${process.platform}/${process.arch}, node ${process.version}, ${workers} workers\n`);
  }
  if (demo) printDemoHints(primary.listeners()[0]?.port ?? 53);
  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    appOptions.logger.info(`received ${signal}, shutting down`);
    primary.stop().then(() => process.exit(0), () => process.exit(1));
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGUSR1', () => { void reloadOnSignal(primary.app.services, 'SIGUSR1'); });
  return -1; // keep running
}

function printDemoHints(port: number): void {
  process.stdout.write(`\nServing the demo cluster on 127.0.0.1:${port} (UDP and TCP). Try:\n`);
  process.stdout.write(`  dig @127.0.0.1 -p ${port} nginx.default.svc.cluster.local\n`);
  process.stdout.write(`  dig @127.0.0.1 -p ${port} redis-ha.shared.svc.cluster.local\n`);
  process.stdout.write(`  dig @127.0.0.1 -p ${port} SRV _http._tcp.nginx.default.svc.cluster.local\n\n`);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  main(process.argv.slice(2)).then((code) => { if (code >= 0) process.exit(code); }, (e: unknown) => {
    process.stderr.write(`clusterdns: ${(e as Error).stack ?? String(e)}\n`);
    process.exit(1);
  });
}
