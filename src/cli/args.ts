/**
 * @module cli/args
 * Command-line flags, CoreDNS-compatible so a Deployment can swap the image
 * and keep its args: -conf, -dns.port, -version, -plugins, -quiet, and
 * Go-style spellings (-flag value, -flag=value, --flag). Ours besides:
 * -log.format, -pidfile, -workers (also CLUSTERDNS_WORKERS).
 */

export interface ServeArgs {
  conf: string | null;
  dnsPort: number;
  version: boolean;
  plugins: boolean;
  quiet: boolean;
  logFormat: 'text' | 'json';
  pidfile: string | null;
  /** Processes serving DNS: 1 (one process, the default), N, or 'auto' (one per CPU). */
  workers: number | 'auto';
}

/** Upper bound for -workers, against a typo forking thousands of processes. */
export const MAX_WORKERS = 256;

/** `-workers` / CLUSTERDNS_WORKERS: a whole number from 1 to MAX_WORKERS, or 'auto'. */
export function parseWorkers(value: string, source: string): number | 'auto' {
  if (value === 'auto') return 'auto';
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < 1 || n > MAX_WORKERS) {
    throw new UsageError(`invalid value "${value}" for ${source}: a number of workers from 1 to ${MAX_WORKERS}, or auto`);
  }
  return n;
}

export class UsageError extends Error {}

const valueFlags = new Set(['conf', 'dns.port', 'log.format', 'pidfile', 'workers']);
const boolFlags = new Set(['version', 'plugins', 'quiet', 'help', 'h']);

/** `defaults` replaces the flags' defaults (the demo serves on 1053 unless -dns.port says otherwise). */
export function parseServeArgs(argv: readonly string[], env: Readonly<Record<string, string | undefined>> = process.env, defaults: Partial<ServeArgs> = {}): ServeArgs {
  const out: ServeArgs = { conf: null, dnsPort: 53, version: false, plugins: false, quiet: false, logFormat: 'text', pidfile: null, workers: 1, ...defaults };
  const fromEnv = env.CLUSTERDNS_WORKERS;
  if (fromEnv !== undefined && fromEnv !== '') out.workers = parseWorkers(fromEnv, 'CLUSTERDNS_WORKERS');
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (!a.startsWith('-')) throw new UsageError(`unexpected argument '${a}'`);
    const body = a.replace(/^--?/, '');
    const eq = body.indexOf('=');
    const name = eq >= 0 ? body.slice(0, eq) : body;
    let value: string | undefined = eq >= 0 ? body.slice(eq + 1) : undefined;
    if (valueFlags.has(name)) {
      if (value === undefined) {
        value = argv[++i];
        if (value === undefined) throw new UsageError(`flag needs an argument: -${name}`);
      }
      if (name === 'conf') out.conf = value;
      else if (name === 'pidfile') out.pidfile = value;
      else if (name === 'workers') out.workers = parseWorkers(value, 'flag -workers');
      else if (name === 'log.format') {
        if (value !== 'text' && value !== 'json') throw new UsageError(`-log.format must be text or json`);
        out.logFormat = value;
      } else {
        const n = Number(value);
        if (!Number.isInteger(n) || n < 0 || n > 65535) throw new UsageError(`invalid value "${value}" for flag -dns.port`);
        out.dnsPort = n;
      }
    } else if (boolFlags.has(name)) {
      const on = value === undefined || value === 'true';
      if (name === 'help' || name === 'h') throw new UsageError('');
      if (name === 'version') out.version = on;
      else if (name === 'plugins') out.plugins = on;
      else out.quiet = on;
    } else {
      throw new UsageError(`flag provided but not defined: -${name}`);
    }
  }
  return out;
}

export const USAGE = `Usage: clusterdns [serve] [flags]
       clusterdns demo [-dns.port N] [-conf PATH] [flags]   (default 127.0.0.1:1053)
       clusterdns deploy render [-i IP] [-d DOMAIN] [-r CIDR]... [-s]
       clusterdns resolv-conf --pod POD.yaml [--cluster-dns IP]... [--json]   (see docs/pod-dns.md)
       clusterdns hosts --pod POD.yaml [--pod-ip IP]...
Flags (CoreDNS-compatible):
  -conf PATH        Corefile to load (default: ./Corefile if present)
  -dns.port N       port for server blocks that name none (default 53)
  -plugins          list the built-in plugins and exit
  -version          print the version and exit
  -quiet            no start-up lines; only log warnings and errors
  -log.format F     text (default, CoreDNS style) or json
  -pidfile PATH     write the process id to PATH
  -workers N        serve DNS from N processes sharing the port (SO_REUSEPORT); auto = one per CPU;
                    default 1, or CLUSTERDNS_WORKERS; more than 1 needs fixed DNS ports
`;
