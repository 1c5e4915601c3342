/**
 * @module main
 * The clusterdns command. `clusterdns [serve] [flags]` runs the server as
 * CoreDNS would; `clusterdns demo` serves the demo cluster in examples/.
 * With `-workers N` (N > 1) this process becomes the primary of a pool and
 * the same command, forked by node:cluster, runs each worker.
 * `clusterdns gateway` runs the DNSRecord gateway controller (src/gateway/);
 * `resolv-conf`, `hosts` (src/pod/), `doctor` and `explain` (src/doctor/)
 * and `deploy` (src/deploy/) are tools that load none of the server.
 */
import cluster from 'node:cluster';
import { existsSync, readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseServeArgs, USAGE, UsageError, type ServeArgs } from './cli/args.ts';
import { COREDNS_COMPAT_VERSION, VERSION } from './version.ts';
import { toError } from './errors/to-error.ts';

/** CoreDNS's built-in default when no Corefile exists. */
const DEFAULT_COREFILE = '. {\n  whoami\n  log\n}\n';
/** Where `clusterdns demo` (npm start) serves unless -dns.port says otherwise. */
const DEMO_PORT = 1053;

/**
 * `entry`: this process was started as the clusterdns command (bin/clusterdns.js
 * or `node src/main.ts`), so serving may first re-exec it with the heap flags
 * (server/heap.ts); never when main() runs inside another program.
 */
export async function main(argv: readonly string[], entry = false): Promise<number> {
  const [cmd, ...rest] = argv;
  if (entry && (cmd === undefined || cmd === 'demo' || cmd === 'serve' || cmd.startsWith('-'))) {
    const { reexecWithHeapFlags } = await import('./server/heap.ts');
    reexecWithHeapFlags();
  }
  if (cmd === 'demo') {
    const args = parseOrExit(rest, { dnsPort: DEMO_PORT });
    if (args.conf !== null) return serve(args, true);
    // The demo Corefile names its port (.:1053); -dns.port moves it.
    const conf = fileURLToPath(new URL('../examples/Corefile', import.meta.url));
    const text = readFileSync(conf, 'utf8').replace(`.:${DEMO_PORT} {`, `.:${args.dnsPort} {`);
    return serve({ ...args, conf }, true, text);
  }
  if (cmd === 'serve') return serve(parseOrExit(rest), false);
  if (cmd === 'gateway') {
    const { gatewayCommand } = await import('./gateway/cli.ts');
    return gatewayCommand(rest, (s) => process.stdout.write(s), (s) => process.stderr.write(s));
  }
  if (cmd === 'resolv-conf' || cmd === 'hosts') {
    const { resolvConfCommand, hostsCommand } = await import('./cli/pod-commands.ts');
    const command = cmd === 'hosts' ? hostsCommand : resolvConfCommand;
    return command(rest, (s) => process.stdout.write(s), (s) => process.stderr.write(s));
  }
  if (cmd === 'doctor') {
    const { doctorCommand } = await import('./doctor/doctor.ts');
    return doctorCommand(rest, (s) => process.stdout.write(s), (s) => process.stderr.write(s));
  }
  if (cmd === 'explain') {
    const { explainCommand } = await import('./doctor/explain.ts');
    return explainCommand(rest, (s) => process.stdout.write(s), (s) => process.stderr.write(s));
  }
  if (cmd === 'deploy') {
    const { deployCommand } = await import('./deploy/cli.ts');
    return deployCommand(rest, (s) => process.stdout.write(s), (s) => process.stderr.write(s));
  }
  return serve(parseOrExit(argv), false);
}

function parseOrExit(argv: readonly string[], defaults: Partial<ServeArgs> = {}): ServeArgs {
  try {
    return parseServeArgs(argv, process.env, defaults);
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

/** The server's modules, loaded only when serving: the tool subcommands start without them. */
async function serverModules() {
  const [{ App }, { runServer }, { createLogger }, { builtinRegistry }, { Primary }, { runWorker }] = await Promise.all([
    import('./app/app.ts'), import('./app/run.ts'), import('./log/logger.ts'), import('./plugins/index.ts'),
    import('./server/workers/primary.ts'), import('./server/workers/worker.ts'),
  ]);
  return { App, runServer, createLogger, builtinRegistry, Primary, runWorker };
}

/** Run the server; `corefileText` stands for the file's contents (the demo with its port moved). */
async function serve(args: ServeArgs, demo: boolean, corefileText?: string): Promise<number> {
  const { App, runServer, createLogger, builtinRegistry, Primary, runWorker } = await serverModules();
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
  const appOptions = conf === null
    ? { corefilePath: 'Corefile', corefileText: DEFAULT_COREFILE, dnsPort: args.dnsPort, logger }
    : corefileText === undefined ? { corefilePath: conf, dnsPort: args.dnsPort, logger } : { corefilePath: conf, corefileText, dnsPort: args.dnsPort, logger };
  if (cluster.isWorker) return runWorker(appOptions);
  const workers = args.workers === 'auto' ? availableParallelism() : args.workers;
  const platform = `${process.platform}/${process.arch}, node ${process.version}`;
  const app = workers > 1 ? null : new App(appOptions);
  const server = app === null ? new Primary(appOptions, workers) : { app, start: () => app.start(), stop: (graceMs?: number) => app.stop(graceMs) };
  return runServer(server, {
    logger, quiet: args.quiet, pidfile: args.pidfile,
    versionLines: [`clusterdns-${VERSION}`, workers > 1 ? `${platform}, ${workers} workers` : platform],
    ...(demo ? { hints: demoHints } : {}),
  });
}

function demoHints(port: number): string {
  return `\nServing the demo cluster on 127.0.0.1:${port} (UDP and TCP). Try:\n` +
    `  dig @127.0.0.1 -p ${port} nginx.default.svc.cluster.local\n` +
    `  dig @127.0.0.1 -p ${port} redis-ha.shared.svc.cluster.local\n` +
    `  dig @127.0.0.1 -p ${port} SRV _http._tcp.nginx.default.svc.cluster.local\n\n`;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  main(process.argv.slice(2), true).then((code) => { if (code >= 0) process.exit(code); }, (e: unknown) => {
    process.stderr.write(`clusterdns: ${toError(e).stack ?? String(e)}\n`);
    process.exit(1);
  });
}
