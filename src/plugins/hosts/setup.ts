/**
 * @module plugins/hosts/setup
 * `hosts [FILE [ZONES...]] { INLINE...; ttl SECONDS; reload DURATION;
 * no_reverse; fallthrough [ZONES...] }`: CoreDNS's syntax and defaults
 * (/etc/hosts, TTL 3600, reload 5s). Lines inside the block that start with
 * an IP address are inline hosts entries; any other unknown word is an
 * error (CoreDNS silently ignores it, which hides typos like `fallthru`).
 * Also the two metrics, summed over the hosts plugins serving now.
 */
import { isAbsolute, join } from 'node:path';
import { Gauge } from '../../metrics/prom-client.ts';
import { isIP } from 'node:net';
import type { Directive } from '../../corefile/parser.ts';
import { processMetric } from '../../metrics/registry.ts';
import { argCount, children, duration, fail, Fallthrough, int, zonesArg } from '../../plugin/options.ts';
import type { BlockContext, PluginDefinition } from '../../plugin/plugin.ts';
import type { ProcessServices } from '../../plugin/process-services.ts';
import { Hosts, type HostsOptions } from './hosts.ts';
import { parseHosts } from './hostsfile.ts';
import { errorMessage } from '../../errors/to-error.ts';

const P = 'hosts';
export const DEFAULT_HOSTS_FILE = '/etc/hosts';

/** Parses one `hosts` directive. Throws CorefileError ("FILE:LINE: plugin/hosts: ..."). */
export function parseHostsDirective(d: Directive, ctx: Pick<BlockContext, 'zones' | 'configDir'>): HostsOptions {
  const file = d.args[0] ?? DEFAULT_HOSTS_FILE;
  const path = isAbsolute(file) ? file : join(ctx.configDir, file);
  const zones = zonesArg(d, P, d.args.slice(1), ctx.zones);
  const inline: string[] = [];
  let ttl = 3600, reloadMs = 5000, reverse = true;
  let fallthrough = Fallthrough.none();
  for (const c of children(d)) {
    switch (c.name) {
      case 'ttl':
        argCount(c, P, 1, 1);
        ttl = int(c, P, c.args[0]!, 1, 65535, 'ttl');
        break;
      case 'reload':
        argCount(c, P, 1, 1);
        reloadMs = duration(c, P, c.args[0]!, 'reload');
        break;
      case 'no_reverse':
        argCount(c, P, 0, 0);
        reverse = false;
        break;
      case 'fallthrough':
        fallthrough = Fallthrough.from(c, P);
        break;
      default: {
        const addr = c.name.split('%')[0]!;
        if (isIP(addr) === 0) fail(c, P, `unknown property '${c.name}'`);
        if (c.args.length === 0) fail(c, P, `inline entry '${c.name}' has no host name`);
        if (c.block !== null) fail(c, P, `inline entry '${c.name}' takes no block`);
        inline.push([c.name, ...c.args].join(' '));
      }
    }
  }
  return { path, zones, inline: parseHosts(inline.join('\n'), zones), ttl, reloadMs, reverse, fallthrough };
}

/** Hosts plugins serving now, for the gauges (summed: several blocks may each have one). */
function liveHosts(services: ProcessServices): Set<Hosts> {
  return processMetric(services, 'hosts', (registry) => {
    const live = new Set<Hosts>();
    new Gauge({
      name: 'coredns_hosts_entries', help: 'The combined number of entries in hosts and Corefile.', registers: [registry],
      collect() { let n = 0; for (const h of live) n += h.entries; this.set(n); },
    });
    new Gauge({
      name: 'coredns_hosts_reload_timestamp_seconds', help: 'The timestamp of the last reload of hosts file.', registers: [registry],
      collect() { let t = 0; for (const h of live) if (h.reloadTimestamp > t) t = h.reloadTimestamp; this.set(t); },
    });
    return live;
  });
}

export const hosts: PluginDefinition = {
  name: 'hosts',
  once: true,
  inClassOnly: true,
  setup(d, ctx) {
    const opts = parseHostsDirective(d, ctx);
    const log = ctx.logger.plugin('hosts');
    const handler = new Hosts(opts, log);
    try {
      if (!handler.loadNow()) log.warn(`File does not exist: ${opts.path}`);
    } catch (e) {
      fail(d, P, `unable to access hosts file '${opts.path}': ${errorMessage(e)}`);
    }
    const live = liveHosts(ctx.services);
    ctx.onStartup(() => { live.add(handler); handler.start(); });
    ctx.onShutdown(() => { live.delete(handler); handler.stop(); });
    return handler;
  },
};
