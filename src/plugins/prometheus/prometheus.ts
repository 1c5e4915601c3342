/**
 * @module plugins/prometheus
 * `prometheus [ADDRESS]`: serves the process's metrics registry on
 * http://ADDRESS/metrics (default localhost:9153) and counts the DNS traffic
 * of its server block under CoreDNS's metric names. Several blocks may name
 * one address: they share one listener. The listener and every count live
 * for the process, so a reload neither closes /metrics nor resets a counter.
 */
import { serverLabel } from '../../dns/ip.ts';
import type { Registry } from 'prom-client';
import { metricsExposition, metricsRegistry, type MetricsExposition } from '../../metrics/registry.ts';
import { argCount, children, fail, listenAddress } from '../../plugin/options.ts';
import type { BlockContext, PluginDefinition } from '../../plugin/plugin.ts';
import type { HttpRoute } from '../../plugin/process-services.ts';
import { dnsCounters } from './dns-metrics.ts';
import { serverMetrics, type EnabledPlugin } from './server-metrics.ts';
import { errorMessage } from '../../errors/to-error.ts';

export const DEFAULT_METRICS_ADDRESS = 'localhost:9153';
export const METRICS_PATH = '/metrics';

/** Plugins that only configure the server and put no handler in the chain: CoreDNS does not list them in coredns_plugin_enabled. */
const SETUP_ONLY = new Set(['bind', 'reload', 'health', 'ready', 'debug', 'root', 'tls']);

/** The /metrics route: `text` (metricsExposition: the process registry in slices, or the sum over workers) in the Prometheus text format. */
export function metricsRoute(registry: Registry, text: MetricsExposition): HttpRoute {
  return (_req, res) => {
    text().then(
      (text) => {
        res.setHeader('Content-Type', registry.contentType);
        // prom-client spells NaN "Nan" (e.g. event-loop lag before its first sample); the text format says "NaN".
        res.end(text.replace(/ Nan$/gm, ' NaN'));
      },
      (e: unknown) => { res.statusCode = 500; res.end(`${errorMessage(e)}\n`); },
    );
  };
}

/** coredns_plugin_enabled label sets of a block: each listen host x zone x plugin. */
export function enabledPluginsOf(ctx: BlockContext): EnabledPlugin[] {
  const hosts = ctx.bindAddresses.length > 0 ? ctx.bindAddresses : [''];
  const out: EnabledPlugin[] = [];
  for (const h of hosts) {
    const server = serverLabel(h, ctx.port);
    for (const zone of ctx.zones) {
      for (const name of ctx.plugins) if (!SETUP_ONLY.has(name)) out.push({ server, zone, name });
    }
  }
  return out;
}

export const prometheus: PluginDefinition = {
  name: 'prometheus',
  once: true,
  setup(d, ctx) {
    argCount(d, 'prometheus', 0, 1);
    for (const c of children(d)) fail(c, 'prometheus', `unknown property '${c.name}'`);
    const address = listenAddress(d, 'prometheus', d.args[0] ?? DEFAULT_METRICS_ADDRESS);
    const services = ctx.services;
    const registry = metricsRegistry(services);
    const { enabled } = serverMetrics(services);
    ctx.onReply(dnsCounters(services).observe);
    // A route per configuration: a reload mounts its own over the old one, and the old one's removal uncovers nothing.
    const route = metricsRoute(registry, metricsExposition(services));
    let mine: EnabledPlugin[] = [];
    ctx.onStartup(async () => {
      await services.http.mount(address, METRICS_PATH, route);
      mine = enabledPluginsOf(ctx);
      enabled.add(mine);
    });
    ctx.onShutdown(async () => {
      enabled.remove(mine);
      mine = [];
      await services.http.unmount(address, METRICS_PATH, route);
    });
    return null;
  },
};
