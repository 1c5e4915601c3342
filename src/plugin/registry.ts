/**
 * @module plugin/registry
 * Directive name -> plugin definition. Each plugin folder exports its
 * definition; src/plugins/index.ts lists them, each as a LazyPlugin so a
 * plugin's module (and the libraries it pulls in) is loaded the first time a
 * Corefile names it, not at start: a server without `etcd` never holds
 * etcd3 + gRPC. The chain order is PLUGIN_ORDER unless a registry is given
 * its own (tests that add a test-only plugin, embedders).
 */
import type { PluginDefinition } from './plugin.ts';
import { PLUGIN_ORDER } from './order.ts';

/** A plugin known by name whose definition is loaded on first use (synchronously: config building is synchronous). */
export interface LazyPlugin {
  readonly name: string;
  load(): PluginDefinition;
}

export type PluginEntry = PluginDefinition | LazyPlugin;

const isLazy = (e: PluginEntry): e is LazyPlugin => 'load' in e && typeof e.load === 'function';

export class PluginRegistry {
  readonly #entries = new Map<string, PluginEntry>();
  readonly #rank: Map<string, number>;

  constructor(defs: readonly PluginEntry[], order: readonly string[] = PLUGIN_ORDER) {
    this.#rank = new Map(order.map((n, i) => [n, i]));
    for (const d of defs) {
      if (!this.#rank.has(d.name)) throw new Error(`plugin ${d.name} has no place in PLUGIN_ORDER`);
      this.#entries.set(d.name, d);
    }
  }

  /** The plugin's definition, loading its module the first time it is asked for. */
  get(name: string): PluginDefinition | undefined {
    const e = this.#entries.get(name);
    if (e === undefined || !isLazy(e)) return e;
    const def = e.load();
    if (def.name !== name) throw new Error(`plugin ${name}: its module defines '${def.name}'`);
    this.#entries.set(name, def);
    return def;
  }

  /** Position of a plugin in the chain (lower runs first); -1 when it has none. */
  rank(name: string): number {
    return this.#rank.get(name) ?? -1;
  }

  /** Names of the built-in plugins, in chain order (for -plugins); loads none of them. */
  names(): string[] {
    return [...this.#entries.keys()].sort((a, b) => this.rank(a) - this.rank(b));
  }
}
