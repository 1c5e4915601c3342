/**
 * @module plugins/log
 * The query log. It watches replies as they are written (so it sees the
 * final answer, its size and its header flags) and prints one line per query
 * in CoreDNS's common log format, for names under the listed zones and the
 * chosen response classes. As in CoreDNS, all `log` lines of a server block
 * make one ordered rule list and the first rule whose name matches decides.
 * In JSON log mode each query is one record with the fields as values.
 * Without a `log` line nothing is added to the hot path.
 */
import { className, Opcode, Rcode, Type, typeName } from '../../dns/constants.ts';
import { canonicalName, isSubdomain } from '../../dns/name.ts';
import type { DnsRequest } from '../../dns/request.ts';
import type { Reply } from '../../dns/reply.ts';
import type { Logger } from '../../log/logger.ts';
import { argCount, children, fail } from '../../plugin/options.ts';
import type { BlockContext, PluginDefinition } from '../../plugin/plugin.ts';
import { bufsizeOf, compileFormat, COMBINED_FORMAT, COMMON_FORMAT, flagsText, rcodeText, type LogEntry } from './format.ts';

export type ResponseClass = 'success' | 'denial' | 'error' | 'all';

/**
 * CoreDNS's response classes (response.Typify + Classify): an answer, a
 * referral or an empty NOERROR is success; NXDOMAIN or NODATA with an SOA is
 * denial; everything else (SERVFAIL, REFUSED, NXDOMAIN without SOA,
 * transfers, NOTIFY, UPDATE) is error.
 */
export function classify(r: Reply, req: DnsRequest): Exclude<ResponseClass, 'all'> {
  if (req.opcode === Opcode.UPDATE || req.opcode === Opcode.NOTIFY || req.qtype === Type.AXFR || req.qtype === Type.IXFR) return 'error';
  if (r.rcode === Rcode.NOERROR && r.answerCount > 0) return 'success';
  let soa = false;
  for (const rr of r.authority) if (rr.type === Type.SOA) { soa = true; break; }
  if (soa && (r.rcode === Rcode.NOERROR || r.rcode === Rcode.NXDOMAIN)) return 'denial';
  return r.rcode === Rcode.NOERROR ? 'success' : 'error';
}

interface Rule {
  readonly zone: string;
  /** null: every class. */
  readonly classes: ReadonlySet<ResponseClass> | null;
  readonly format: string;
  readonly line: (e: LogEntry) => string;
}

/** The rules of each server block, shared by its `log` lines. */
const rulesOfBlock = new WeakMap<BlockContext, Rule[]>();

function emit(out: Logger, rule: Rule, entry: LogEntry): void {
  if (!out.structured) { out.line(rule.line(entry)); return; }
  const { req } = entry;
  out.record({
    remote: req.remoteAddress, port: req.remotePort, id: req.id,
    type: typeName(req.qtype), class: className(req.qclass), name: req.qname, proto: req.transport,
    size: req.raw.length, do: req.do, bufsize: bufsizeOf(req),
    rcode: rcodeText(entry.reply.rcode), rflags: flagsText(entry.packet), rsize: entry.size,
    // Seconds to the nanosecond, as the text format prints them (no float noise like 0.00012300000000000001).
    duration: Number((entry.durationMs / 1000).toFixed(9)),
    ...(rule.format === COMMON_FORMAT ? {} : { line: rule.line(entry) }),
  });
}

export const log: PluginDefinition = {
  name: 'log',
  setup(d, ctx) {
    // `log`, `log NAME`, or `log NAMES... [FORMAT]` where a last argument with '{' is the format (CoreDNS's rules).
    let names: readonly string[] = d.args.length === 0 ? ['.'] : d.args;
    let format = COMMON_FORMAT;
    if (d.args.length > 1 && d.args[d.args.length - 1]!.includes('{')) {
      format = d.args[d.args.length - 1]!;
      if (format === '{common}') format = COMMON_FORMAT;
      else if (format === '{combined}') format = COMBINED_FORMAT;
      names = d.args.slice(0, -1);
    }
    let classes: Set<ResponseClass> | null = null;
    for (const c of children(d)) {
      if (c.name !== 'class') fail(c, 'log', `unknown property '${c.name}'`);
      argCount(c, 'log', 1);
      classes ??= new Set();
      for (const a of c.args) {
        if (a !== 'success' && a !== 'denial' && a !== 'error' && a !== 'all') fail(c, 'log', `invalid class '${a}': want success, denial, error or all`);
        classes.add(a);
      }
    }
    if (classes?.has('all')) classes = null;
    const line = compileFormat(format);
    let rules = rulesOfBlock.get(ctx);
    if (rules === undefined) {
      const list: Rule[] = [];
      rules = list;
      rulesOfBlock.set(ctx, list);
      const out = ctx.logger;
      ctx.onReply((req, reply, size, packet) => {
        const name = req.qname;
        for (let i = 0; i < list.length; i++) {
          const rule = list[i]!;
          if (!isSubdomain(name, rule.zone)) continue;
          if (rule.classes === null || rule.classes.has(classify(reply, req))) {
            emit(out, rule, { req, reply, size, packet, durationMs: performance.now() - req.start });
          }
          return;
        }
      });
    }
    for (const n of names) rules.push({ zone: canonicalName(n), classes, format, line });
    return null;
  },
};
