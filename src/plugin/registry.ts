/**
 * @module plugin/registry
 * Directive name -> plugin definition. Each plugin folder exports its
 * definition; src/plugins/index.ts lists them. The chain order is
 * PLUGIN_ORDER unless a registry is given its own (tests that add a
 * test-only plugin, embedders).
 */
import type { PluginDefinition } from './plugin.ts';
import { PLUGIN_ORDER } from './order.ts';

export class PluginRegistry {
  readonly #defs = new Map<string, PluginDefinition>();
  readonly #rank: Map<string, number>;

  constructor(defs: readonly PluginDefinition[], order: readonly string[] = PLUGIN_ORDER) {
    this.#rank = new Map(order.map((n, i) => [n, i]));
    for (const d of defs) {
      if (!this.#rank.has(d.name)) throw new Error(`plugin ${d.name} has no place in PLUGIN_ORDER`);
      this.#defs.set(d.name, d);
    }
  }

  get(name: string): PluginDefinition | undefined {
    return this.#defs.get(name);
  }

  /** Position of a plugin in the chain (lower runs first); -1 when it has none. */
  rank(name: string): number {
    return this.#rank.get(name) ?? -1;
  }

  /** Names of the built-in plugins, in chain order (for -plugins). */
  names(): string[] {
    return [...this.#defs.keys()].sort((a, b) => this.rank(a) - this.rank(b));
  }
}
