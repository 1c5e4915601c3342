/**
 * @module plugins/forward/setup
 * `forward FROM TO... { options }`: the option parser, CoreDNS's syntax and
 * defaults (15 upstreams at most, max_fails 2, expire 10s, health_check
 * 0.5s, policy random). TO may be a file (resolv.conf); its loopback
 * nameservers get a warning, since forwarding to systemd-resolved's stub or
 * to this server itself is how DNS loops start.
 */
import { joinHostPort } from '../../dns/ip.ts';
import { readFileSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import { Rcode } from '../../dns/constants.ts';
import { canonicalName } from '../../dns/name.ts';
import type { Directive } from '../../corefile/parser.ts';
import { argCount, children, duration, fail, int, zonesArg } from '../../plugin/options.ts';
import type { BlockContext, PluginDefinition } from '../../plugin/plugin.ts';
import { isLoopback, nameserversOf, parseUpstreamAddress, type UpstreamAddress } from './addresses.ts';
import { DeadlineQueue } from './deadlines.ts';
import { Forward, QUERY_DEADLINE_MS, READ_TIMEOUT_MS, type ForwardOptions, type Policy } from './forward.ts';
import { forwardMetrics } from './metrics.ts';
import { Upstream, type HealthOptions } from './upstream.ts';
import type { ConnectionOptions } from 'node:tls';
import { errorMessage } from '../../errors/to-error.ts';

const P = 'forward';
export const MAX_UPSTREAMS = 15;

export interface ForwardConfig {
  readonly options: ForwardOptions;
  readonly upstreams: readonly UpstreamAddress[];
  readonly health: HealthOptions;
  readonly expireMs: number;
  /** Client-side TLS for the `tls://` upstreams (`tls CERT KEY CA`, `tls_servername`). */
  readonly tls: ConnectionOptions;
  /** Setup warnings (logged by the plugin; returned for tests). */
  readonly warnings: readonly string[];
}

const rcodeByName = new Map<string, number>(Object.entries(Rcode).map(([k, v]) => [k, v]));

/** Parses one `forward` directive. Throws CorefileError ("FILE:LINE: plugin/forward: ..."). */
export function parseForward(d: Directive, ctx: Pick<BlockContext, 'zones' | 'configDir' | 'bindAddresses' | 'port'>): ForwardConfig {
  argCount(d, P, 2);
  const from = zonesArg(d, P, [d.args[0]!], ctx.zones)[0]!;
  const upstreams: UpstreamAddress[] = [];
  const warnings: string[] = [];
  for (const to of d.args.slice(1)) upstreams.push(...readTo(d, to, ctx.configDir));
  if (upstreams.length === 0) fail(d, P, 'no nameservers found');
  if (upstreams.length > MAX_UPSTREAMS) fail(d, P, `more than ${MAX_UPSTREAMS} upstreams configured: ${upstreams.length}`);
  for (const u of upstreams) {
    const where = joinHostPort(u.host, u.port);
    if (u.file !== null && isLoopback(u.host)) {
      warnings.push(`${u.file} lists nameserver ${u.host}, a loopback address (systemd-resolved's stub 127.0.0.53, or this very server): ` +
        `if it is not a real resolver on this host, queries will loop; point forward at the real upstream resolvers ` +
        `(e.g. /run/systemd/resolve/resolv.conf, or the resolvers' IPs)`);
    }
    if (ctx.port !== 0 && u.port === ctx.port && ctx.bindAddresses.includes(u.host)) {
      warnings.push(`upstream ${where} is this server's own listen address: queries will loop`);
    }
  }

  let forceTcp = false, preferUdp = false, expireMs = 10_000, maxFails = 2, intervalMs = 500;
  let domain = '.', recursionDesired = true, policy: Policy = 'random', maxConcurrent = 0;
  const except: string[] = [];
  const nextRcodes: number[] = [];
  const tls: { ca?: Buffer; cert?: Buffer; key?: Buffer; servername?: string } = {};
  for (const c of children(d)) {
    switch (c.name) {
      case 'except':
        argCount(c, P, 1);
        for (const a of c.args) except.push(canonicalName(a));
        break;
      case 'force_tcp': argCount(c, P, 0, 0); forceTcp = true; break;
      case 'prefer_udp': argCount(c, P, 0, 0); preferUdp = true; break;
      case 'expire':
        argCount(c, P, 1, 1);
        expireMs = duration(c, P, c.args[0]!, 'expire');
        break;
      case 'max_fails':
        argCount(c, P, 1, 1);
        maxFails = int(c, P, c.args[0]!, 0, 1_000_000, 'max_fails');
        break;
      case 'health_check': {
        argCount(c, P, 1, 4);
        intervalMs = duration(c, P, c.args[0]!, 'health_check');
        for (let i = 1; i < c.args.length; i++) {
          const a = c.args[i]!;
          if (a === 'no_rec') recursionDesired = false;
          else if (a === 'domain') {
            const name = c.args[++i];
            if (name === undefined) fail(c, P, "health_check 'domain' needs a name");
            domain = canonicalName(name);
          } else fail(c, P, `health_check: unknown argument '${a}'`);
        }
        break;
      }
      case 'policy': {
        argCount(c, P, 1, 1);
        const p = c.args[0]!;
        if (p !== 'random' && p !== 'round_robin' && p !== 'sequential') fail(c, P, `unknown policy '${p}'`);
        policy = p;
        break;
      }
      case 'max_concurrent':
        argCount(c, P, 1, 1);
        maxConcurrent = int(c, P, c.args[0]!, 1, 1_000_000, 'max_concurrent');
        break;
      case 'next':
        argCount(c, P, 1);
        for (const a of c.args) {
          const r = rcodeByName.get(a.toUpperCase());
          if (r === undefined) fail(c, P, `next: unknown rcode '${a}'`);
          nextRcodes.push(r);
        }
        break;
      case 'tls': {
        // CoreDNS's forms: no argument (system CAs), CA, CERT KEY, or CERT KEY CA.
        argCount(c, P, 0, 3);
        const read = (file: string, what: string): Buffer => {
          const path = isAbsolute(file) ? file : join(ctx.configDir, file);
          try { return readFileSync(path); } catch (e) { fail(c, P, `cannot read the TLS ${what} ${path}: ${errorMessage(e)}`); }
        };
        const a = c.args;
        if (a.length === 1) tls.ca = read(a[0]!, 'CA');
        if (a.length >= 2) { tls.cert = read(a[0]!, 'certificate'); tls.key = read(a[1]!, 'key'); }
        if (a.length === 3) tls.ca = read(a[2]!, 'CA');
        break;
      }
      case 'tls_servername':
        argCount(c, P, 1, 1);
        tls.servername = c.args[0]!;
        break;
      default:
        fail(c, P, `unknown property '${c.name}'`);
    }
  }
  return {
    options: {
      from, except, forceTcp, preferUdp, policy, maxConcurrent, nextRcodes,
      readTimeoutMs: READ_TIMEOUT_MS, deadlineMs: QUERY_DEADLINE_MS,
    },
    upstreams,
    health: { intervalMs, maxFails, domain, recursionDesired, tcp: forceTcp },
    expireMs,
    tls: { ...tls, ALPNProtocols: ['dot'] },
    warnings,
  };
}

/** One TO argument: an address, or the nameservers of a resolv.conf-style file. */
function readTo(d: Directive, to: string, configDir: string): UpstreamAddress[] {
  const parsed = parseUpstreamAddress(to);
  if (parsed !== null) {
    if ('unsupported' in parsed) fail(d, P, `'${parsed.unsupported}' upstreams are not supported: use plain DNS (IP[:PORT] or dns://) or DNS over TLS (tls://)`);
    return [parsed.address];
  }
  if (/^[a-z]+:\/\//i.test(to)) fail(d, P, `'${to}' is not an IP address or file`);
  const path = isAbsolute(to) ? to : join(configDir, to);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    fail(d, P, code === 'ENOENT' ? `'${to}' is not an IP address or file` : `cannot read ${path}: ${errorMessage(e)}`);
  }
  const servers = nameserversOf(text, path);
  if (servers.length === 0) fail(d, P, `no nameservers found in ${path}`);
  return servers;
}

export const forward: PluginDefinition = {
  name: 'forward',
  setup(d, ctx) {
    const cfg = parseForward(d, ctx);
    const log = ctx.logger.plugin('forward');
    for (const w of cfg.warnings) log.warn(w);
    const metrics = forwardMetrics(ctx.services);
    const deadlines = new DeadlineQueue();
    const upstreams = cfg.upstreams.map((u) => new Upstream(u.host, u.port, cfg.health, cfg.expireMs, metrics, log, deadlines, cfg.options.readTimeoutMs, u.tls ? cfg.tls : null));
    const handler = new Forward(cfg.options, upstreams, metrics, deadlines);
    ctx.onShutdown(() => handler.close());
    return handler;
  },
};
