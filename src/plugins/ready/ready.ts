/**
 * @module plugins/ready
 * `ready [ADDRESS] { monitor until-ready|continuously }`: readiness on
 * http://ADDRESS/ready (default :8181). 200 "OK" once the process serves and
 * every plugin that registered a readiness check is ready; else 503 with the
 * names of the plugins that are not, one per line; 503 "Shutting down" from
 * the stop signal on (lameduck). A reload never flips it: App swaps the
 * readiness set only once the new configuration serves.
 */
import { argCount, children, fail, listenAddress } from '../../plugin/options.ts';
import type { PluginDefinition } from '../../plugin/plugin.ts';
import { ProcessSlot, type HttpRoute, type ProcessServices, type Readiness } from '../../plugin/process-services.ts';
import type { Logger } from '../../log/logger.ts';

/** `monitor until-ready`: the plugins each readiness generation has already seen ready (they stay ready). */
const READY_ONCE = new ProcessSlot('ready once', () => new WeakMap<Readiness, Set<string>>());

export const DEFAULT_READY_ADDRESS = ':8181';
export const READY_PATH = '/ready';

export interface ReadyAnswer {
  readonly status: 200 | 503;
  readonly body: string;
  /** Not-ready plugin names, for the log. */
  readonly notReady: readonly string[];
}

/**
 * What /ready says now. `once` (monitor until-ready) remembers, per readiness
 * set, the plugins that were ready once, and stops asking them.
 */
export function readyAnswer(services: ProcessServices, once: WeakMap<Readiness, Set<string>> | null): ReadyAnswer {
  if (services.phase === 'stopping') return { status: 503, body: 'Shutting down', notReady: [] };
  const readiness = services.readiness;
  let notReady = readiness.notReady();
  if (once) {
    let seen = once.get(readiness);
    if (!seen) { seen = new Set(); once.set(readiness, seen); }
    const now = new Set(notReady);
    for (const n of readiness.names()) if (!now.has(n)) seen.add(n);
    const s = seen;
    notReady = notReady.filter((n) => !s.has(n));
  }
  if (notReady.length > 0) return { status: 503, body: `${notReady.join('\n')}\n`, notReady };
  if (services.phase !== 'serving') return { status: 503, body: 'Starting', notReady: [] };
  return { status: 200, body: 'OK', notReady: [] };
}

export function readyRoute(services: ProcessServices, once: WeakMap<Readiness, Set<string>> | null, log: Logger): HttpRoute {
  return (_req, res) => {
    const a = readyAnswer(services, once);
    if (a.notReady.length > 0) log.info(`Plugins not ready: "${a.notReady.join(',')}"`);
    res.statusCode = a.status;
    res.end(a.body);
  };
}

export const ready: PluginDefinition = {
  name: 'ready',
  setup(d, ctx) {
    argCount(d, 'ready', 0, 1);
    const address = listenAddress(d, 'ready', d.args[0] ?? DEFAULT_READY_ADDRESS);
    let continuously = false;
    for (const c of children(d)) {
      if (c.name !== 'monitor') fail(c, 'ready', `unknown property '${c.name}'`);
      argCount(c, 'ready', 1, 1);
      const mode = c.args[0]!;
      if (mode !== 'until-ready' && mode !== 'continuously') fail(c, 'ready', `monitor must be until-ready or continuously, got '${mode}'`);
      continuously = mode === 'continuously';
    }
    const services = ctx.services;
    const once = continuously ? null : services.get(READY_ONCE);
    const route = readyRoute(services, once, ctx.logger.plugin('ready'));
    ctx.onStartup(async () => { await services.http.mount(address, READY_PATH, route); });
    ctx.onShutdown(async () => { await services.http.unmount(address, READY_PATH, route); });
    return null;
  },
};
