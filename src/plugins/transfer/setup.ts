/**
 * @module plugins/transfer/setup
 * `transfer [ZONE...] { to ADDRESS... }`: CoreDNS's syntax. Each `to` lists
 * addresses (with an optional port, 53 by default) allowed to transfer and
 * told of changes by NOTIFY, or `*` for anyone (no NOTIFY). Networks in CIDR
 * form are allowed to transfer but not notified.
 */
import { parseCidr, type Cidr } from '../../dns/ip.ts';
import { argCount, children, fail, zonesArg } from '../../plugin/options.ts';
import type { PluginDefinition } from '../../plugin/plugin.ts';
import { isTransferSource, type TransferSource } from '../../plugin/transfer-source.ts';
import { TransferHandler, type TransferRule } from './transfer.ts';

const P = 'transfer';

/** "ADDR", "ADDR:PORT", "[V6]:PORT" or a CIDR: what it allows and where NOTIFY goes. */
function target(text: string): { net: Cidr; notify: { address: string; port: number } | null } | null {
  const m = /^\[([^\]]+)\]:(\d+)$/.exec(text) ?? /^([^:]+):(\d+)$/.exec(text);
  const host = m ? m[1]! : text;
  const port = m ? Number(m[2]) : 53;
  if (port > 65535) return null;
  const net = parseCidr(host);
  if (net === null) return null;
  return { net, notify: host.includes('/') ? null : { address: host, port } };
}

export const transfer: PluginDefinition = {
  name: 'transfer',
  setup(d, ctx) {
    const zones = zonesArg(d, P, d.args, ctx.zones);
    let allow: Cidr[] | null = [];
    const notify: { address: string; port: number }[] = [];
    for (const c of children(d)) {
      if (c.name !== 'to') fail(c, P, `unknown property '${c.name}'`);
      argCount(c, P, 1);
      for (const a of c.args) {
        if (a === '*') { allow = null; continue; }
        const t = target(a);
        if (t === null) fail(c, P, `'${a}' is not an address, address:port or network`);
        allow?.push(t!.net);
        if (t!.notify) notify.push(t!.notify);
      }
    }
    if (allow !== null && allow.length === 0) fail(d, P, "needs 'to ADDRESS...' or 'to *'");
    const rule: TransferRule = { zones, allow, notify };
    const sources = (): TransferSource[] =>
      ctx.plugins.flatMap((n) => ctx.handlersNamed(n)).filter((h): h is typeof h & TransferSource => isTransferSource(h));
    const handler = new TransferHandler([rule], sources, ctx.logger.plugin(P));
    ctx.onStartup(() => handler.watch());
    ctx.onShutdown(() => handler.stop());
    return handler;
  },
};
