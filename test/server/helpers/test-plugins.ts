/**
 * @module test/server/helpers/test-plugins
 * Plugins that exist only in tests, and a registry that adds them after the
 * built-in ones: `many_a COUNT` (COUNT A records, for truncation), `slow MS`
 * (answers after MS milliseconds, for in-flight work at shutdown),
 * `fail_with reply|throw|reject|encode TEXT` (errors the errors plugin must
 * report, and a reply that cannot be encoded), `throwing_observer TEXT`
 * (a reply observer that throws, outside the chain).
 */
import { Type } from '../../../src/dns/constants.ts';
import { Reply } from '../../../src/dns/reply.ts';
import { rr, rrs } from '../../../src/dns/rr.ts';
import type { DnsRequest } from '../../../src/dns/request.ts';
import { Rcode } from '../../../src/dns/constants.ts';
import { argCount, fail, int } from '../../../src/plugin/options.ts';
import { PLUGIN_ORDER } from '../../../src/plugin/order.ts';
import type { Answer, ChainHandler, Handler, PluginDefinition } from '../../../src/plugin/plugin.ts';
import { PluginRegistry } from '../../../src/plugin/registry.ts';
import { BUILTIN_PLUGINS } from '../../../src/plugins/index.ts';

/** The A address of record `i` of many_a: 10.<i/65536>.<i/256>.<i%256>. */
export function manyAddress(i: number): string {
  return `10.${(i >> 16) & 0xff}.${(i >> 8) & 0xff}.${i & 0xff}`;
}

class ManyA implements ChainHandler {
  readonly name = 'many_a';
  next!: Handler;
  readonly #count: number;
  constructor(count: number) { this.#count = count; }
  serveDNS(req: DnsRequest): Answer {
    if (req.qtype !== Type.A) return new Reply({ authoritative: true, plugin: 'many_a' });
    const answer = [];
    for (let i = 0; i < this.#count; i++) answer.push(rrs.a(req.qname, 60, manyAddress(i)));
    return new Reply({ authoritative: true, answer, plugin: 'many_a' });
  }
}

const manyA: PluginDefinition = {
  name: 'many_a',
  setup(d) {
    argCount(d, 'many_a', 1, 1);
    return new ManyA(int(d, 'many_a', d.args[0]!, 0, 5000, 'count'));
  },
};

class Slow implements ChainHandler {
  readonly name = 'slow';
  next!: Handler;
  readonly #ms: number;
  readonly #timers = new Set<NodeJS.Timeout>();
  constructor(ms: number) { this.#ms = ms; }
  serveDNS(req: DnsRequest): Promise<Reply> {
    return new Promise((resolve) => {
      const t = setTimeout(() => {
        this.#timers.delete(t);
        resolve(new Reply({ authoritative: true, answer: [rrs.a(req.qname, 5, '192.0.2.1')], plugin: 'slow' }));
      }, this.#ms);
      this.#timers.add(t);
    });
  }
  /** Abandon what is still waiting (the configuration stopped), so no timer outlives the test. */
  stop(): void {
    for (const t of this.#timers) clearTimeout(t);
    this.#timers.clear();
  }
}

const slow: PluginDefinition = {
  name: 'slow',
  setup(d, ctx) {
    argCount(d, 'slow', 1, 1);
    const plugin = new Slow(int(d, 'slow', d.args[0]!, 0, 60_000, 'delay'));
    ctx.onShutdown(() => plugin.stop());
    return plugin;
  },
};

type FailMode = 'reply' | 'throw' | 'reject' | 'encode';

class FailWith implements ChainHandler {
  readonly name = 'fail_with';
  next!: Handler;
  readonly #mode: FailMode;
  readonly #text: string;
  constructor(mode: FailMode, text: string) { this.#mode = mode; this.#text = text; }
  serveDNS(req: DnsRequest): Answer {
    const err = new Error(this.#text);
    switch (this.#mode) {
      case 'reply': return Reply.error(Rcode.SERVFAIL, 'fail_with', err);
      case 'throw': throw err;
      case 'reject': return Promise.reject(err);
      case 'encode':
        // An owner name with a 64-octet label: packing it must fail.
        return new Reply({ answer: [rr(`${'x'.repeat(64)}.${req.qname}`, Type.A, 5, new Uint8Array([192, 0, 2, 1]))], plugin: 'fail_with' });
    }
  }
}

const failWith: PluginDefinition = {
  name: 'fail_with',
  setup(d) {
    argCount(d, 'fail_with', 2, 2);
    const mode = d.args[0]!;
    if (mode !== 'reply' && mode !== 'throw' && mode !== 'reject' && mode !== 'encode') fail(d, 'fail_with', `bad mode '${mode}'`);
    return new FailWith(mode, d.args[1]!);
  },
};

/** Registers a reply observer that throws TEXT for every reply; not part of the chain. */
const throwingObserver: PluginDefinition = {
  name: 'throwing_observer',
  setup(d, ctx) {
    argCount(d, 'throwing_observer', 1, 1);
    const text = d.args[0]!;
    ctx.onReply(() => { throw new Error(text); });
    return null;
  },
};

export const TEST_PLUGINS: readonly PluginDefinition[] = [manyA, slow, failWith, throwingObserver];

/** The built-in plugins plus the test ones, which run after every built-in plugin. */
export function testRegistry(): PluginRegistry {
  return new PluginRegistry([...BUILTIN_PLUGINS, ...TEST_PLUGINS], [...PLUGIN_ORDER, ...TEST_PLUGINS.map((p) => p.name)]);
}
