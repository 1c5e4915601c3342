/**
 * @module plugins/bind
 * Which addresses a server block listens on: IP addresses or interface names
 * (every address of that interface except IPv6 link-local ones), minus the
 * `except` addresses or interfaces of the same line. Several bind lines add
 * up. Interfaces are read when the configuration is built (start, reload).
 */
import { isIP } from 'node:net';
import { networkInterfaces } from 'node:os';
import { canonicalIp } from '../../dns/ip.ts';
import type { Directive } from '../../corefile/parser.ts';
import { argCount, children, fail } from '../../plugin/options.ts';
import type { PluginDefinition } from '../../plugin/plugin.ts';

/** fe80::/10: needs a scope id, which a listen address here cannot carry. */
function isV6LinkLocal(ip: string): boolean {
  return /^fe[89ab][0-9a-f]:/i.test(ip);
}

/** The canonical addresses an argument stands for: itself when an IP, else every address of that interface. */
export function addressesOf(d: Directive, arg: string, ifaces: ReturnType<typeof networkInterfaces>): string[] {
  const ip = canonicalIp(arg);
  if (ip !== null) return [ip];
  if (isIP(arg)) fail(d, 'bind', `'${arg}': a listen address cannot carry a zone or leading zeros`);
  const iface = ifaces[arg];
  if (!iface) fail(d, 'bind', `not a valid IP address or interface name: '${arg}'`);
  const out: string[] = [];
  for (const info of iface) {
    const ip = canonicalIp(info.address);
    if (ip !== null && !isV6LinkLocal(ip)) out.push(ip);
  }
  return out;
}

export const bind: PluginDefinition = {
  name: 'bind',
  setup(d, ctx) {
    if (d.args.length === 0) fail(d, 'bind', 'at least one address or interface name is expected');
    const ifaces = networkInterfaces();
    const addrs: string[] = [];
    for (const a of d.args) addrs.push(...addressesOf(d, a, ifaces));
    const except = new Set<string>();
    for (const c of children(d)) {
      if (c.name !== 'except') fail(c, 'bind', `unknown property '${c.name}'`);
      argCount(c, 'bind', 1);
      for (const a of c.args) for (const ip of addressesOf(c, a, ifaces)) except.add(ip);
    }
    const kept = addrs.filter((a) => !except.has(a));
    // A line that leaves nothing is a mistake in that line, whatever other bind lines add.
    if (kept.length === 0) fail(d, 'bind', 'no address left to listen on');
    for (const a of kept) if (!ctx.bindAddresses.includes(a)) ctx.bindAddresses.push(a);
    return null;
  },
};
