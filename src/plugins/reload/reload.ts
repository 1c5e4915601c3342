/**
 * @module plugins/reload
 * `reload [INTERVAL] [JITTER]`: poll the Corefile and reload when its parsed
 * content changed. Defaults 30s and 15s; INTERVAL at least 2s, JITTER at
 * least 1s and at most INTERVAL/2 (as CoreDNS). The polling itself is the
 * process's ReloadPoller (app/reload-watcher); this only arms it for the
 * configuration's life.
 */
import { argCount, duration, fail, noBlock } from '../../plugin/options.ts';
import type { PluginDefinition } from '../../plugin/plugin.ts';
import type { ReloadSchedule } from '../../plugin/process-services.ts';
import { reloadMetrics } from './metrics.ts';

export const DEFAULT_INTERVAL_MS = 30_000;
export const DEFAULT_JITTER_MS = 15_000;
export const MIN_INTERVAL_MS = 2_000;
export const MIN_JITTER_MS = 1_000;

export const reload: PluginDefinition = {
  name: 'reload',
  once: true,
  setup(d, ctx) {
    argCount(d, 'reload', 0, 2);
    noBlock(d, 'reload');
    const intervalMs = d.args[0] === undefined ? DEFAULT_INTERVAL_MS : duration(d, 'reload', d.args[0], 'interval');
    if (intervalMs < MIN_INTERVAL_MS) fail(d, 'reload', `interval value must be greater or equal to 2s, got ${d.args[0]}`);
    let jitterMs = d.args[1] === undefined ? DEFAULT_JITTER_MS : duration(d, 'reload', d.args[1], 'jitter');
    if (jitterMs < MIN_JITTER_MS) fail(d, 'reload', `jitter value must be greater or equal to 1s, got ${d.args[1]}`);
    if (jitterMs > intervalMs / 2) jitterMs = intervalMs / 2;
    const schedule: ReloadSchedule = { intervalMs, jitterMs, hash: ctx.configHash };
    reloadMetrics(ctx.services);
    const services = ctx.services;
    ctx.onStartup(() => { services.reloadPoller?.arm(schedule); });
    ctx.onShutdown(() => { services.reloadPoller?.disarm(schedule); });
    return null;
  },
};
