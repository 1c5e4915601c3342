/**
 * @module plugin/registry
 * Directive name -> plugin definition. Each plugin folder exports its
 * definition; src/plugins/index.ts lists them.
 */
import type { PluginDefinition } from './plugin.ts';
import { pluginRank } from './order.ts';

export class PluginRegistry {
  readonly #defs = new Map<string, PluginDefinition>();

  constructor(defs: readonly PluginDefinition[]) {
    for (const d of defs) {
      if (pluginRank(d.name) < 0) throw new Error(`plugin ${d.name} has no place in PLUGIN_ORDER`);
      this.#defs.set(d.name, d);
    }
  }

  get(name: string): PluginDefinition | undefined {
    return this.#defs.get(name);
  }

  /** Names of the built-in plugins, in chain order (for -plugins). */
  names(): string[] {
    return [...this.#defs.keys()].sort((a, b) => pluginRank(a) - pluginRank(b));
  }
}
