/**
 * @module plugins/file/setup
 * `file DBFILE [ZONES...] { reload DURATION; fallthrough [ZONES...] }`:
 * CoreDNS's syntax and defaults (reload 1m). DBFILE is relative to the
 * Corefile's folder. The zone file is read here, so a missing or bad file
 * stops the Corefile with the file's own FILE:LINE.
 */
import { isAbsolute, join } from 'node:path';
import type { Directive } from '../../corefile/parser.ts';
import { ZoneFileError } from '../../dns/zonefile.ts';
import { argCount, children, duration, fail, Fallthrough, zonesArg } from '../../plugin/options.ts';
import type { BlockContext, PluginDefinition } from '../../plugin/plugin.ts';
import { FileHandler, type FileOptions } from './file.ts';
import { errorMessage } from '../../errors/to-error.ts';

const P = 'file';

export function parseFileDirective(d: Directive, ctx: Pick<BlockContext, 'zones' | 'configDir'>): FileOptions {
  argCount(d, P, 1);
  const file = d.args[0]!;
  const path = isAbsolute(file) ? file : join(ctx.configDir, file);
  const zones = zonesArg(d, P, d.args.slice(1), ctx.zones);
  let reloadMs = 60_000;
  let fallthrough = Fallthrough.none();
  for (const c of children(d)) {
    switch (c.name) {
      case 'reload':
        argCount(c, P, 1, 1);
        reloadMs = duration(c, P, c.args[0]!, 'reload');
        break;
      case 'fallthrough':
        fallthrough = Fallthrough.from(c, P);
        break;
      case 'upstream':
        // Accepted and ignored, as CoreDNS does since it resolves through itself.
        break;
      default:
        fail(c, P, `unknown property '${c.name}'`);
    }
  }
  return { path, zones, reloadMs, fallthrough };
}

export const file: PluginDefinition = {
  name: 'file',
  inClassOnly: true,
  setup(d, ctx) {
    const opts = parseFileDirective(d, ctx);
    const handler = new FileHandler(opts, ctx.logger.plugin('file'));
    try {
      handler.loadNow();
    } catch (e) {
      if (e instanceof ZoneFileError) throw e;
      fail(d, P, `${opts.path}: ${errorMessage(e)}`);
    }
    ctx.onStartup(() => handler.start());
    ctx.onShutdown(() => handler.stop());
    return handler;
  },
};
