/**
 * @module plugins/errors
 * Logs the errors the rest of the chain met ("[ERROR] plugin/errors: 2
 * example.org. A: <error>"), optionally consolidating lines that match a
 * pattern into one summary per period. Errors are carried on the Reply (or
 * thrown), so this plugin only looks at what comes back.
 */
import { Rcode, typeName } from '../../dns/constants.ts';
import { Reply } from '../../dns/reply.ts';
import type { DnsRequest } from '../../dns/request.ts';
import type { Logger } from '../../log/logger.ts';
import { argCount, children, duration, fail } from '../../plugin/options.ts';
import type { Answer, ChainHandler, Handler, PluginDefinition } from '../../plugin/plugin.ts';

interface Consolidation {
  readonly periodMs: number;
  readonly pattern: RegExp;
  readonly level: 'warning' | 'error' | 'info' | 'debug';
  readonly showFirst: boolean;
  count: number;
}

class Errors implements ChainHandler {
  readonly name = 'errors';
  next!: Handler;
  readonly #log: Logger;
  readonly #rules: Consolidation[];

  constructor(log: Logger, rules: Consolidation[]) {
    this.#log = log;
    this.#rules = rules;
  }

  serveDNS(req: DnsRequest): Answer {
    let r: Answer;
    try {
      r = this.next.serveDNS(req);
    } catch (e) {
      r = Reply.error(Rcode.SERVFAIL, '', e as Error);
    }
    if (r instanceof Promise) {
      return r.then(
        (x) => { if (x.error) this.#report(x.error, x, req); return x; },
        (e: unknown) => { const x = Reply.error(Rcode.SERVFAIL, '', e as Error); this.#report(x.error, x, req); return x; },
      );
    }
    if (r.error) this.#report(r.error, r, req);
    return r;
  }

  #report(err: Error | null, reply: Reply, req?: DnsRequest): void {
    if (!err) return;
    const text = req ? `${reply.rcode} ${req.qname} ${typeName(req.qtype)}: ${err.message}` : err.message;
    for (const rule of this.#rules) {
      if (rule.pattern.test(text)) {
        rule.count++;
        if (rule.showFirst && rule.count === 1) this.#emit(rule.level, text);
        return;
      }
    }
    this.#log.error(text);
  }

  #emit(level: Consolidation['level'], text: string): void {
    if (level === 'warning') this.#log.warn(text);
    else if (level === 'info') this.#log.info(text);
    else if (level === 'debug') this.#log.debug(text);
    else this.#log.error(text);
  }

  /** Print and reset each consolidation's count; called once per its period. */
  flush(rule: Consolidation): void {
    if (rule.count > (rule.showFirst ? 1 : 0)) {
      this.#emit(rule.level, `${rule.count} errors like '${rule.pattern.source}' occurred in last ${rule.periodMs / 1000}s`);
    }
    rule.count = 0;
  }
}

const levels = new Set(['warning', 'error', 'info', 'debug']);

export const errors: PluginDefinition = {
  name: 'errors',
  once: true,
  setup(d, ctx) {
    argCount(d, 'errors', 0, 0);
    const rules: Consolidation[] = [];
    for (const c of children(d)) {
      if (c.name === 'stacktrace') continue; // no stack traces to print in a memory-safe runtime; accepted for compatibility
      if (c.name !== 'consolidate') fail(c, 'errors', `unknown property '${c.name}'`);
      argCount(c, 'errors', 2, 4);
      const periodMs = duration(c, 'errors', c.args[0]!);
      const source = c.args[1]!;
      if (source.length > 10000) fail(c, 'errors', 'regexp longer than 10000 characters');
      let pattern: RegExp;
      try { pattern = new RegExp(source); } catch (e) { fail(c, 'errors', `bad regexp: ${(e as Error).message}`); }
      let level: Consolidation['level'] = 'error';
      let showFirst = false;
      for (const extra of c.args.slice(2)) {
        if (extra === 'show_first') showFirst = true;
        else if (levels.has(extra)) level = extra as Consolidation['level'];
        else fail(c, 'errors', `unknown log level '${extra}'`);
      }
      rules.push({ periodMs, pattern, level, showFirst, count: 0 });
    }
    const plugin = new Errors(ctx.logger.plugin('errors'), rules);
    const timers: NodeJS.Timeout[] = [];
    ctx.onStartup(() => {
      for (const r of rules) { const t = setInterval(() => plugin.flush(r), r.periodMs); t.unref(); timers.push(t); }
    });
    ctx.onShutdown(() => { for (const t of timers) clearInterval(t); });
    return plugin;
  },
};
