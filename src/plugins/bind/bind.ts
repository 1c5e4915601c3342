/**
 * @module plugins/bind
 * Which addresses a server block listens on: IP addresses or interface names
 * (every address of that interface), minus `except` addresses. Several bind
 * lines add up.
 */
import { isIP } from 'node:net';
import { networkInterfaces } from 'node:os';
import { canonicalIp } from '../../dns/ip.ts';
import { argCount, children, fail } from '../../plugin/options.ts';
import type { PluginDefinition } from '../../plugin/plugin.ts';

export const bind: PluginDefinition = {
  name: 'bind',
  setup(d, ctx) {
    argCount(d, 'bind', 1);
    const addrs: string[] = [];
    const ifaces = networkInterfaces();
    for (const a of d.args) {
      if (isIP(a)) { addrs.push(canonicalIp(a)!); continue; }
      const iface = ifaces[a];
      if (!iface) fail(d, 'bind', `'${a}' is neither an IP address nor a network interface`);
      for (const info of iface) if (!info.address.startsWith('fe80:')) addrs.push(canonicalIp(info.address)!);
    }
    const except = new Set<string>();
    for (const c of children(d)) {
      if (c.name !== 'except') fail(c, 'bind', `unknown property '${c.name}'`);
      argCount(c, 'bind', 1);
      for (const a of c.args) {
        const ip = canonicalIp(a);
        if (!ip) fail(c, 'bind', `'${a}' is not an IP address`);
        except.add(ip);
      }
    }
    for (const a of addrs) if (!except.has(a) && !ctx.bindAddresses.includes(a)) ctx.bindAddresses.push(a);
    if (ctx.bindAddresses.length === 0) fail(d, 'bind', 'no address left to listen on');
    return null;
  },
};
