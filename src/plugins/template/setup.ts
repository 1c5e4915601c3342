/**
 * @module plugins/template/setup
 * `template CLASS TYPE [ZONE...] { match REGEX...; answer RR; additional RR;
 * authority RR; rcode CODE; ederror CODE [REASON]; fallthrough [ZONE...] }`.
 * Several `template` lines of a block form one handler, tried in Corefile
 * order. Go regexes are read as JavaScript ones ((?P<name>) becomes
 * (?<name>)); a template or regex that cannot be compiled is a FILE:LINE
 * error here, not a failure at query time.
 */
import { classFromName, Class, Rcode, rcodeFromName, typeFromName } from '../../dns/constants.ts';
import type { Directive } from '../../corefile/parser.ts';
import { argCount, children, fail, Fallthrough, goRegExp, int, zonesArg } from '../../plugin/options.ts';
import type { BlockContext, PluginDefinition } from '../../plugin/plugin.ts';
import { GoTemplate } from './gotemplate.ts';
import { templateMetrics } from './metrics.ts';
import { TemplateHandler, type TemplateRule } from './template.ts';
import { errorMessage } from '../../errors/to-error.ts';

const P = 'template';

function goRegex(d: Directive, text: string): RegExp {
  try {
    return goRegExp(text);
  } catch (e) {
    return fail(d, P, `could not parse regex: ${text}, ${errorMessage(e)}`);
  }
}

function compileTemplate(d: Directive, text: string): GoTemplate {
  try {
    return new GoTemplate(text);
  } catch (e) {
    return fail(d, P, `could not compile template: ${text}, ${errorMessage(e)}`);
  }
}

/** One `template` directive. */
export function parseTemplate(d: Directive, ctx: Pick<BlockContext, 'zones'>): TemplateRule {
  argCount(d, P, 2);
  const qclass = d.args[0]!.toUpperCase() === 'ANY' ? Class.ANY : classFromName(d.args[0]!);
  if (qclass === undefined) fail(d, P, `invalid query class ${d.args[0]}`);
  const qtype = typeFromName(d.args[1]!);
  if (qtype === undefined || qtype > 65535) fail(d, P, `invalid RR type ${d.args[1]}`);
  const zones = zonesArg(d, P, d.args.slice(2).flatMap((z) => z.replace(/^['"]|['"]$/g, '').split(/\s+/).filter(Boolean)), ctx.zones);
  const regexes: RegExp[] = [];
  const sections = { answer: [] as GoTemplate[], additional: [] as GoTemplate[], authority: [] as GoTemplate[] };
  let rcode: number = Rcode.NOERROR;
  let ederror: TemplateRule['ederror'] = null;
  let fallthrough = Fallthrough.none();
  for (const c of children(d)) {
    switch (c.name) {
      case 'match':
        argCount(c, P, 1);
        for (const a of c.args) regexes.push(goRegex(c, a));
        break;
      case 'answer': case 'additional': case 'authority':
        argCount(c, P, 1);
        for (const a of c.args) sections[c.name].push(compileTemplate(c, a));
        break;
      case 'rcode': {
        argCount(c, P, 1, 1);
        const r = rcodeFromName(c.args[0]!);
        if (r === undefined) fail(c, P, `unknown rcode ${c.args[0]}`);
        rcode = r!;
        break;
      }
      case 'ederror':
        argCount(c, P, 1, 2);
        ederror = { code: int(c, P, c.args[0]!, 0, 24, 'extended error code'), reason: c.args[1] ?? '' };
        break;
      case 'fallthrough':
        fallthrough = Fallthrough.from(c, P);
        break;
      case 'upstream':
        fail(c, P, "'upstream' is not supported: put the plugin that resolves the target after template");
        break;
      default:
        fail(c, P, `unknown property '${c.name}'`);
    }
  }
  if (regexes.length === 0) regexes.push(/.*/);
  return { qclass: qclass!, qtype: qtype!, zones, regexes, ...sections, rcode, ederror, fallthrough };
}

/** The block's template handler, shared by its `template` lines: the first line makes it. */
const handlerOfBlock = new WeakMap<BlockContext, TemplateHandler>();

export const template: PluginDefinition = {
  name: 'template',
  setup(d, ctx) {
    const rule = parseTemplate(d, ctx);
    const existing = handlerOfBlock.get(ctx);
    if (existing) { existing.add(rule); return null; }
    const handler = new TemplateHandler(templateMetrics(ctx.services), ctx.server);
    handler.add(rule);
    handlerOfBlock.set(ctx, handler);
    return handler;
  },
};
