/**
 * @module plugins/errors
 * Logs the errors the rest of the chain met ("[ERROR] plugin/errors: 2
 * example.org. A: <error>"), optionally consolidating errors whose text
 * matches a pattern into one summary per period, as CoreDNS does: the period
 * starts with the first matching error, `show_first` logs that first one in
 * full, and pending summaries are printed when the configuration stops.
 * Errors are carried on the Reply (or thrown), so this plugin only looks at
 * what comes back.
 */
import { Rcode, typeName } from '../../dns/constants.ts';
import { Reply } from '../../dns/reply.ts';
import type { DnsRequest } from '../../dns/request.ts';
import type { Logger } from '../../log/logger.ts';
import { argCount, children, duration, fail } from '../../plugin/options.ts';
import type { Answer, ChainHandler, Handler, PluginDefinition } from '../../plugin/plugin.ts';
import { formatGoDuration } from './go-duration.ts';
import { errorMessage, toError } from '../../errors/to-error.ts';

export type ConsolidateLevel = 'warning' | 'error' | 'info' | 'debug';

export interface Consolidation {
  readonly periodMs: number;
  readonly pattern: RegExp;
  /** The pattern as written (RegExp.source would escape '/'), for the summary line. */
  readonly text: string;
  readonly level: ConsolidateLevel;
  readonly showFirst: boolean;
}

interface Pattern extends Consolidation {
  count: number;
  timer: NodeJS.Timeout | null;
}

export class Errors implements ChainHandler {
  readonly name = 'errors';
  next!: Handler;
  readonly #log: Logger;
  readonly #patterns: Pattern[];
  #stopped = false;

  constructor(log: Logger, rules: readonly Consolidation[]) {
    this.#log = log;
    this.#patterns = rules.map((r) => ({ ...r, count: 0, timer: null }));
  }

  serveDNS(req: DnsRequest): Answer {
    let r: Answer;
    try {
      r = this.next.serveDNS(req);
    } catch (e) {
      r = Reply.error(Rcode.SERVFAIL, '', toError(e));
    }
    if (r instanceof Promise) {
      return r.then(
        (x) => { if (x.error) this.report(x.error, x.rcode, req); return x; },
        (e: unknown) => {
          const x = Reply.error(Rcode.SERVFAIL, '', toError(e));
          this.report(x.error!, x.rcode, req);
          return x;
        },
      );
    }
    if (r.error) this.report(r.error, r.rcode, req);
    return r;
  }

  /** Log one error, or count it under the first consolidation whose pattern matches its text. */
  report(err: Error, rcode: number, req: DnsRequest): void {
    const text = err.message;
    for (const p of this.#patterns) {
      if (!p.pattern.test(text)) continue;
      if (this.#stopped) break;
      p.count++;
      if (p.count === 1) {
        p.timer = setTimeout(() => this.#summarise(p), p.periodMs);
        p.timer.unref();
        if (p.showFirst) this.#emit(p.level, line(rcode, req, text));
      }
      return;
    }
    this.#log.error(line(rcode, req, text));
  }

  #emit(level: ConsolidateLevel, text: string): void {
    if (level === 'warning') this.#log.warn(text);
    else if (level === 'info') this.#log.info(text);
    else if (level === 'debug') this.#log.debug(text);
    else this.#log.error(text);
  }

  /** End of a period: print the count (unless the only error was already shown) and start over. */
  #summarise(p: Pattern): void {
    const n = p.count;
    p.count = 0;
    p.timer = null;
    if (n > (p.showFirst ? 1 : 0)) {
      this.#emit(p.level, `${n} errors like '${p.text}' occurred in last ${formatGoDuration(p.periodMs)}`);
    }
  }

  /** The configuration stops: print what is pending, count no more. */
  stop(): void {
    this.#stopped = true;
    for (const p of this.#patterns) {
      if (p.timer === null) continue;
      clearTimeout(p.timer);
      this.#summarise(p);
    }
  }
}

/** CoreDNS's error line: "2 example.org. A: <error text>". */
function line(rcode: number, req: DnsRequest, text: string): string {
  return `${rcode} ${req.qname} ${typeName(req.qtype)}: ${text}`;
}

const levels = new Set<string>(['warning', 'error', 'info', 'debug']);

export const errors: PluginDefinition = {
  name: 'errors',
  once: true,
  setup(d, ctx) {
    argCount(d, 'errors', 0, 1);
    if (d.args.length === 1 && d.args[0] !== 'stdout') fail(d, 'errors', `invalid log file '${d.args[0]}': only stdout is supported`);
    const rules: Consolidation[] = [];
    for (const c of children(d)) {
      // No stack traces to add in a memory-safe runtime; both spellings are accepted so CoreDNS Corefiles load.
      if (c.name === 'stacktrace' || c.name === 'panicRecoveryStacktrace') { argCount(c, 'errors', 0, 0); continue; }
      if (c.name !== 'consolidate') fail(c, 'errors', `unknown property '${c.name}'`);
      argCount(c, 'errors', 2, 4);
      const periodMs = duration(c, 'errors', c.args[0]!);
      const source = c.args[1]!;
      if (source.length > 10000) fail(c, 'errors', 'regexp longer than 10000 characters');
      let pattern: RegExp;
      try { pattern = new RegExp(source); } catch (e) { fail(c, 'errors', `bad regexp: ${errorMessage(e)}`); }
      let level: ConsolidateLevel | null = null;
      let showFirst = false;
      for (const extra of c.args.slice(2)) {
        if (extra === 'show_first' && !showFirst) showFirst = true;
        else if (levels.has(extra) && level === null) level = extra as ConsolidateLevel;
        else fail(c, 'errors', `unknown log level argument in consolidate: '${extra}'`);
      }
      rules.push({ periodMs, pattern, text: source, level: level ?? 'error', showFirst });
    }
    const plugin = new Errors(ctx.logger.plugin('errors'), rules);
    ctx.onShutdown(() => plugin.stop());
    return plugin;
  },
};
