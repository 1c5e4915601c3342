/**
 * @module plugins/bufsize
 * Our maximum UDP payload: the EDNS size we advertise and the largest UDP
 * reply we send, whatever larger size a client offers (default 1232, the
 * DNS Flag Day 2020 value that avoids IP fragmentation).
 */
import { argCount, int, noBlock } from '../../plugin/options.ts';
import type { PluginDefinition } from '../../plugin/plugin.ts';

export const bufsize: PluginDefinition = {
  name: 'bufsize',
  once: true,
  setup(d, ctx) {
    argCount(d, 'bufsize', 0, 1);
    noBlock(d, 'bufsize');
    ctx.settings.maxUdpSize = d.args[0] === undefined ? 1232 : int(d, 'bufsize', d.args[0], 512, 4096, 'size');
    return null;
  },
};
