/**
 * @module plugins
 * Every built-in plugin. Adding a plugin: a folder here with its setup,
 * handler, README and tests, a place in plugin/order.ts, and a line below.
 * Each line names the directive, its module and the definition it exports;
 * the module is loaded (require of ESM, synchronous) the first time a
 * Corefile uses the directive, so a plugin not in the Corefile costs no
 * memory: its code and its libraries (etcd3 and gRPC, the kubernetes index,
 * prom-client's collectors...) are never loaded.
 */
import { createRequire } from 'node:module';
import type { PluginDefinition } from '../plugin/plugin.ts';
import { PluginRegistry, type LazyPlugin, type PluginEntry } from '../plugin/registry.ts';

const requireModule = createRequire(import.meta.url);
/** '.ts' when running the sources, '.js' in the compiled build (dist/): require() paths are not rewritten by tsc. */
const EXT = import.meta.url.endsWith('.ts') ? '.ts' : '.js';

/** Every built-in plugin's module file, and those already imported by `importAllPlugins` (taken before require is tried). */
const moduleFiles: string[] = [];
const imported = new Map<string, Record<string, PluginDefinition | undefined>>();

/** A built-in plugin whose module `./FILE` (without extension) exports its definition as `exported`. */
function lazy(name: string, file: string, exported: string): LazyPlugin {
  moduleFiles.push(file);
  return {
    name,
    load: () => {
      const mod = imported.get(file) ?? (requireModule(`./${file}${EXT}`) as Record<string, PluginDefinition | undefined>);
      const def = mod[exported];
      if (def === undefined) throw new Error(`plugin ${name}: ./${file}${EXT} exports no '${exported}'`);
      return def;
    },
  };
}

export const BUILTIN_PLUGINS: readonly PluginEntry[] = [
  lazy('bind', 'bind/bind', 'bind'),
  lazy('bufsize', 'bufsize/bufsize', 'bufsize'),
  lazy('chaos', 'chaos/chaos', 'chaos'),
  lazy('errors', 'errors/errors', 'errors'),
  lazy('log', 'log/log', 'log'),
  lazy('whoami', 'whoami/whoami', 'whoami'),
  lazy('forward', 'forward/setup', 'forward'),
  lazy('cache', 'cache/setup', 'cache'),
  lazy('hosts', 'hosts/setup', 'hosts'),
  lazy('loop', 'loop/loop', 'loop'),
  lazy('loadbalance', 'loadbalance/loadbalance', 'loadbalance'),
  lazy('prometheus', 'prometheus/prometheus', 'prometheus'),
  lazy('reload', 'reload/reload', 'reload'),
  lazy('health', 'health/health', 'health'),
  lazy('ready', 'ready/ready', 'ready'),
  lazy('kubernetes', 'kubernetes/setup', 'kubernetes'),
  lazy('dnsrecord', 'dnsrecord/setup', 'dnsrecord'),
  lazy('etcd', 'etcd/setup', 'etcd'),
  lazy('template', 'template/setup', 'template'),
  lazy('rewrite', 'rewrite/setup', 'rewrite'),
  lazy('file', 'file/setup', 'file'),
  lazy('acl', 'acl/acl', 'acl'),
  lazy('any', 'any/any', 'any'),
  lazy('minimal', 'minimal/minimal', 'minimal'),
  lazy('local', 'local/local', 'local'),
  lazy('metadata', 'metadata/metadata', 'metadata'),
  lazy('k8s_external', 'k8s_external/k8s_external', 'k8sExternal'),
  lazy('transfer', 'transfer/setup', 'transfer'),
  lazy('autopath', 'autopath/autopath', 'autopath'),
  lazy('explain', 'explain/explain', 'explain'),
];

/**
 * Imports every built-in plugin's module through the ESM loader at once.
 * For hosts whose loader hooks see import() but not require() (the fuzzer's
 * instrumentation, fuzz/targets/corefile.ts); a server never needs it.
 */
export async function importAllPlugins(): Promise<void> {
  for (const file of moduleFiles) {
    if (!imported.has(file)) imported.set(file, (await import(`./${file}${EXT}`)) as Record<string, PluginDefinition | undefined>);
  }
}

export function builtinRegistry(): PluginRegistry {
  return new PluginRegistry(BUILTIN_PLUGINS);
}
