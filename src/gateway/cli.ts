/**
 * @module gateway/cli
 * `clusterdns gateway`: flags, then the controller with nginx. With
 * `--run-nginx` it also runs nginx itself on a private prefix directory
 * (foreground master, restarted when it dies), so one command brings up the
 * whole gateway; without it, it writes `--nginx-conf` and reloads the nginx
 * something else runs (`nginx -c --nginx-main -s reload`). `--once` renders,
 * validates, prints and exits.
 */
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';
import { isIP } from 'node:net';
import { cliFlags } from '../cli/flags.ts';
import { createLogger, type Logger } from '../log/logger.ts';
import { DnsRecordFeeds, type DnsRecordSourceConfig } from '../dnsrecord/feeds.ts';
import { joinHostPort } from '../dns/ip.ts';
import { DnsRecordStatusWriter } from '../dnsrecord/status-writer.ts';
import { GatewayController } from './controller.ts';
import { DEFAULT_NGINX_BIN, mainConfig, NginxBinary, NginxSupervisor } from './nginx.ts';
import { errorMessage } from '../errors/to-error.ts';

export const GATEWAY_USAGE = `Usage: clusterdns gateway [source] [flags]
Source (one; default: the API, in-cluster):
  --manifests PATH          DNSRecord files or folders (repeatable); Services beside them
  --kubeconfig FILE         the API through a kubeconfig (--context NAME to pick one)
  --endpoint URL            the API at URL without credentials (kubectl proxy)
  --etcd URL                etcd (repeatable); --etcd-prefix PREFIX (default /dns/)
Flags:
  --gateway ADDRESS         the gateway address (default listen ADDRESS:80)
  --listen ADDR:PORT        where nginx listens (repeatable)
  --endpoints               proxy to the Services' ready endpoints (upstream, keepalive)
  --run-nginx               run and supervise nginx on a private prefix directory
  --prefix DIR              that directory (default: a new one under the temp folder, removed on exit)
  --nginx-conf FILE         the servers file to write (default PREFIX/conf.d/dnsrecord.conf,
                            or /etc/nginx/conf.d/dnsrecord.conf without --run-nginx)
  --nginx-main FILE         main nginx.conf of the nginx to reload (default /etc/nginx/nginx.conf)
  --nginx-bin PATH          nginx binary (default ${DEFAULT_NGINX_BIN})
  --access-log-dir DIR      per-host access logs (default PREFIX/logs or /var/log/nginx)
  --once                    render, validate, print and exit
`;

export interface GatewayArgs {
  source: DnsRecordSourceConfig;
  listen: string[];
  endpoints: boolean;
  runNginx: boolean;
  prefix: string | null;
  nginxConf: string | null;
  nginxMain: string;
  nginxBin: string;
  accessLogDir: string | null;
  once: boolean;
}

/** `ADDR:PORT` with an IP literal (brackets for IPv6), as nginx's `listen` takes it. */
function listenArg(text: string): string {
  const m = /^(?:\[([0-9A-Fa-f:.]+)\]|([0-9.]+)):(\d{1,5})$/.exec(text);
  const addr = m?.[1] ?? m?.[2];
  const port = Number(m?.[3]);
  if (addr === undefined || isIP(addr) === 0 || port < 1 || port > 65535) throw new Error(`--listen '${text}' is not IP:PORT (or [IPv6]:PORT)`);
  return text;
}

export function parseGatewayArgs(argv: readonly string[]): GatewayArgs {
  const manifests: string[] = [];
  const etcd: string[] = [];
  let etcdPrefix: string | null = null;
  const api: { kubeconfig?: string; context?: string; endpoint?: string } = {};
  let gateway: string | null = null;
  const out: Omit<GatewayArgs, 'source'> = {
    listen: [], endpoints: false, runNginx: false, prefix: null, nginxConf: null,
    nginxMain: '/etc/nginx/nginx.conf', nginxBin: DEFAULT_NGINX_BIN, accessLogDir: null, once: false,
  };
  const abs = (p: string): string => (isAbsolute(p) ? p : resolve(p));
  for (const { raw: a, name, value } of cliFlags(argv, (m) => new Error(m))) {
    switch (name) {
      case 'manifests': manifests.push(abs(value())); break;
      case 'kubeconfig': api.kubeconfig = abs(value()); break;
      case 'context': api.context = value(); break;
      case 'endpoint': api.endpoint = value(); break;
      case 'etcd': etcd.push(value()); break;
      case 'etcd-prefix': etcdPrefix = value(); break;
      case 'gateway': gateway = value(); if (isIP(gateway) === 0) throw new Error(`--gateway '${gateway}' is not an IP address`); break;
      case 'listen': out.listen.push(listenArg(value())); break;
      case 'endpoints': out.endpoints = true; break;
      case 'run-nginx': out.runNginx = true; break;
      case 'prefix': out.prefix = abs(value()); break;
      case 'nginx-conf': out.nginxConf = abs(value()); break;
      case 'nginx-main': out.nginxMain = abs(value()); break;
      case 'nginx-bin': out.nginxBin = value(); break;
      case 'access-log-dir': out.accessLogDir = abs(value()); break;
      case 'once': out.once = true; break;
      default: throw new Error(`unknown flag '${a}'`);
    }
  }
  if ([manifests.length > 0, Object.keys(api).length > 0, etcd.length > 0].filter(Boolean).length > 1) {
    throw new Error('give one source: --manifests, --kubeconfig/--endpoint, or --etcd');
  }
  if (out.listen.length === 0) {
    if (gateway === null) throw new Error('give --listen ADDR:PORT or --gateway ADDRESS');
    out.listen.push(joinHostPort(gateway, 80));
  }
  const source: DnsRecordSourceConfig = manifests.length > 0 ? { manifests }
    : etcd.length > 0 ? { etcd: { endpoints: etcd, ...(etcdPrefix !== null ? { prefix: etcdPrefix } : {}) } }
    : { api };
  return { ...out, source };
}

/** Runs the gateway; resolves with an exit code, or -1 while it keeps running. */
export async function gatewayCommand(argv: readonly string[], stdout: (s: string) => void, stderr: (s: string) => void, logger?: Logger): Promise<number> {
  let args: GatewayArgs;
  try {
    args = parseGatewayArgs(argv);
  } catch (e) {
    stderr(`clusterdns gateway: ${errorMessage(e)}\n${GATEWAY_USAGE}`);
    return 2;
  }
  // Logs go to stderr: stdout carries the configuration with --once.
  const log = (logger ?? createLogger({ write: (l) => stderr(`${l}\n`) })).plugin('gateway');
  const gateway = await startGateway(args, log, stdout);
  if (typeof gateway === 'number') return gateway;
  let stopping = false;
  const stop = (): void => {
    if (stopping) return;
    stopping = true;
    gateway.stop().then(() => process.exit(0), () => process.exit(1));
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  return -1;
}

export interface RunningGateway {
  readonly controller: GatewayController;
  readonly supervisor: NginxSupervisor | null;
  readonly feeds: DnsRecordFeeds;
  /** Writes the records' Accepted conditions (API source only). */
  readonly statusWriter: DnsRecordStatusWriter | null;
  /** The servers file and the main configuration nginx runs with. */
  readonly serversFile: string;
  stop(): Promise<void>;
}

/** Starts feeds, controller and (with --run-nginx) nginx; an exit code when it cannot (or after --once). */
export async function startGateway(args: GatewayArgs, log: Logger, stdout: (s: string) => void): Promise<RunningGateway | number> {
  const ownPrefix = (args.runNginx || args.once) && args.prefix === null;
  const prefix = args.runNginx || args.once ? (args.prefix ?? mkdtempSync(join(tmpdir(), 'clusterdns-gateway-'))) : null;
  // nginx workers (nobody, when started as root) must reach the prefix; mkdtemp makes it 0700.
  if (ownPrefix && prefix !== null) chmodSync(prefix, 0o755);
  const serversFile = args.nginxConf ?? (prefix !== null ? join(prefix, 'conf.d', 'dnsrecord.conf') : '/etc/nginx/conf.d/dnsrecord.conf');
  const accessLogDir = args.accessLogDir ?? (prefix !== null ? join(prefix, 'logs') : '/var/log/nginx');
  mkdirSync(accessLogDir, { recursive: true });
  const scratch = mkdtempSync(join(tmpdir(), 'clusterdns-nginx-check-'));
  const nginx = new NginxBinary(args.nginxBin, scratch);
  const feeds = new DnsRecordFeeds({ source: args.source, logger: log, endpointSlices: args.endpoints });
  try {
    await feeds.start();
  } catch (e) {
    log.error(errorMessage(e));
    return 1;
  }
  if (!(await feeds.waitForSync(5000))) log.warn('DNSRecords not read yet after 5 s; the configuration follows once they arrive');
  const main = prefix !== null ? join(prefix, 'nginx.conf') : args.nginxMain;
  let supervisor: NginxSupervisor | null = null;
  const reload = args.once ? null : async (): Promise<boolean> => {
    // Before nginx runs (the first apply) there is nothing to reload.
    if (args.runNginx && supervisor === null) return false;
    const before = supervisor?.workers() ?? [];
    await nginx.reload(main, args.runNginx ? prefix : null);
    // Our own nginx: the apply is done once the old workers stopped taking connections, so `applied` means served.
    if (supervisor !== null && before.length > 0 && !(await supervisor.untilReplaced(before))) {
      log.warn('nginx still runs its old workers 5 s after the reload: the new configuration may not be serving (see nginx\'s error log)');
    }
    return true;
  };
  const controller = new GatewayController({ feeds, nginx, render: { listen: args.listen, accessLogDir, endpoints: args.endpoints }, serversFile, reload, logger: log });
  await controller.sync();
  const cleanUp = (): void => {
    rmSync(scratch, { recursive: true, force: true });
    // A prefix of our own making goes with us (logs included: pass --prefix to keep them).
    if (ownPrefix && prefix !== null) rmSync(prefix, { recursive: true, force: true });
  };
  if (args.once) {
    await feeds.stop();
    cleanUp();
    if (controller.current === null) return 1;
    stdout(controller.current);
    return controller.rejections > 0 ? 1 : 0;
  }
  if (controller.current === null) {
    await feeds.stop();
    cleanUp();
    log.error('no configuration nginx accepts; not starting');
    return 1;
  }
  await controller.start();
  // From the API, the controller (not the DNS servers) records who owns each host in the records' status.
  let unsubscribeStatus = (): void => {};
  const writer = feeds.statusPatcher !== null ? new DnsRecordStatusWriter(feeds.statusPatcher, log) : null;
  if (writer !== null) {
    void writer.update(feeds.records);
    unsubscribeStatus = feeds.records.subscribe(() => { void writer.update(feeds.records); });
  }
  if (args.runNginx && prefix !== null) {
    mkdirSync(join(prefix, 'tmp'), { recursive: true });
    writeFileSync(main, mainConfig(prefix, serversFile));
    supervisor = new NginxSupervisor(args.nginxBin, prefix, main, {
      started: (pid) => log.info(`nginx started (pid ${pid}, prefix ${prefix}), listening on ${args.listen.join(', ')}`),
      died: (code, signal, delay) => log.error(`nginx exited (${signal ?? `code ${code}`}); starting it again in ${delay} ms`),
    });
    supervisor.start();
  }
  const sup = supervisor;
  return {
    controller, supervisor: sup, feeds, serversFile, statusWriter: writer,
    async stop() {
      unsubscribeStatus();
      await controller.stop();
      await sup?.stop();
      await feeds.stop();
      cleanUp();
    },
  };
}
