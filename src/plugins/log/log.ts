/**
 * @module plugins/log
 * The query log. It watches replies as they are written (so it sees the
 * final answer and its size) and prints one line per query in CoreDNS's
 * common log format, for names under the listed zones and the chosen
 * response classes. Without a `log` line nothing is added to the hot path.
 */
import { Rcode } from '../../dns/constants.ts';
import { isSubdomain } from '../../dns/name.ts';
import type { Reply } from '../../dns/reply.ts';
import { argCount, children, fail, zonesArg } from '../../plugin/options.ts';
import type { PluginDefinition } from '../../plugin/plugin.ts';
import { compileFormat, COMMON_FORMAT } from './format.ts';

export type ResponseClass = 'success' | 'denial' | 'error' | 'all';

/** CoreDNS's response classes: NXDOMAIN and NODATA are denial; SERVFAIL, REFUSED, ... are error. */
export function classify(r: Reply): Exclude<ResponseClass, 'all'> {
  if (r.rcode === Rcode.NXDOMAIN) return 'denial';
  if (r.rcode !== Rcode.NOERROR) return 'error';
  return r.answer.length === 0 ? 'denial' : 'success';
}

export const log: PluginDefinition = {
  name: 'log',
  setup(d, ctx) {
    // `log [NAMES...] [FORMAT]`: a last argument with '{' is the format.
    let names = d.args;
    let format = COMMON_FORMAT;
    if (names.length > 0 && names[names.length - 1]!.includes('{')) {
      format = names[names.length - 1]!;
      names = names.slice(0, -1);
    }
    const zones = zonesArg(d, 'log', names, ['.']);
    const classes = new Set<ResponseClass>();
    for (const c of children(d)) {
      if (c.name !== 'class') fail(c, 'log', `unknown property '${c.name}'`);
      argCount(c, 'log', 1);
      for (const a of c.args) {
        if (a !== 'success' && a !== 'denial' && a !== 'error' && a !== 'all') fail(c, 'log', `unknown class '${a}'`);
        classes.add(a);
      }
    }
    const all = classes.size === 0 || classes.has('all');
    const line = compileFormat(format);
    const out = ctx.logger;
    ctx.onReply((req, reply, size) => {
      let inZone = false;
      for (const z of zones) if (isSubdomain(req.qname, z)) { inZone = true; break; }
      if (!inZone) return;
      if (!all && !classes.has(classify(reply))) return;
      out.line(line({ req, reply, size, durationMs: performance.now() - req.start }));
    });
    return null;
  },
};
