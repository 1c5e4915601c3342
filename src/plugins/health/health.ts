/**
 * @module plugins/health
 * `health [ADDRESS] { lameduck DURATION; status }`: liveness on http://ADDRESS/health
 * (default :8080), 200 "OK" while the process runs. Process-wide: the
 * listener outlives reloads. With lameduck, a stop signal first keeps DNS and
 * /health answering for DURATION (so a load balancer can take the pod out),
 * while /ready already says 503. The plugin probes its own endpoint every
 * second for coredns_health_request_duration_seconds and _failures_total.
 * `status` adds the live status page, /status (src/status/).
 */
import { joinHostPort } from '../../dns/ip.ts';
import type { ClientRequest } from 'node:http';
import { http } from '../../util/node-http.ts';
import { Counter, Histogram } from '../../metrics/prom-client.ts';
import type { Logger } from '../../log/logger.ts';
import { processMetric } from '../../metrics/registry.ts';
import { argCount, children, duration, fail, listenAddress } from '../../plugin/options.ts';
import type { PluginDefinition } from '../../plugin/plugin.ts';
import { mountStatus } from '../../status/status-route.ts';
import { splitHostPort, type HttpRoute, type LameduckRequest, type ProcessServices } from '../../plugin/process-services.ts';

export const DEFAULT_HEALTH_ADDRESS = ':8080';
export const HEALTH_PATH = '/health';
/** CoreDNS's SlimTimeBuckets: 0.25 ms * 10^k, 5 of them. */
export const HEALTH_BUCKETS: readonly number[] = [0.00025, 0.0025, 0.025, 0.25, 2.5];
const PROBE_INTERVAL_MS = 1000;
const PROBE_TIMEOUT_MS = 3000;

export interface HealthMetrics {
  readonly duration: Histogram;
  readonly failures: Counter;
}

export function healthMetrics(services: ProcessServices): HealthMetrics {
  return processMetric(services, 'health', (registry) => ({
    duration: new Histogram({
      name: 'coredns_health_request_duration_seconds', help: 'Histogram of the time (in seconds) each request took.',
      buckets: [...HEALTH_BUCKETS], registers: [registry],
    }),
    failures: new Counter({ name: 'coredns_health_request_failures_total', help: 'The number of times the health check failed.', registers: [registry] }),
  }));
}

/** Go's time.Duration.String() for whole milliseconds: "500ms", "5s", "1m30s". */
export function goDuration(ms: number): string {
  if (ms < 1000) return `${ms}ms`;
  let s = ms / 1000;
  const h = Math.floor(s / 3600);
  s -= h * 3600;
  const m = Math.floor(s / 60);
  s -= m * 60;
  return `${h > 0 ? `${h}h` : ''}${h > 0 || m > 0 ? `${m}m` : ''}${Number(s.toFixed(3))}s`;
}

/** The URL the self-probe asks: a wildcard listen address is probed on loopback. */
export function probeUrl(address: string, port: number): string {
  const { host } = splitHostPort(address);
  const h = host === '' || host === '0.0.0.0' ? '127.0.0.1' : host === '::' ? '::1' : host;
  return `http://${joinHostPort(h, port)}${HEALTH_PATH}`;
}

/** Asks /health once a second and records how long it took (CoreDNS's "overloaded" check). */
export class HealthProbe {
  readonly #url: string;
  readonly #metrics: HealthMetrics;
  readonly #log: Logger;
  #timer: NodeJS.Timeout | null = null;
  #inflight: ClientRequest | null = null;

  constructor(url: string, metrics: HealthMetrics, log: Logger) {
    this.#url = url;
    this.#metrics = metrics;
    this.#log = log;
  }

  start(): void {
    this.#timer = setInterval(() => { this.probe(); }, PROBE_INTERVAL_MS);
    this.#timer.unref();
  }

  stop(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
    const r = this.#inflight;
    this.#inflight = null;
    r?.destroy();
  }

  /** One probe (skipped while the previous one is still out). */
  probe(): void {
    if (this.#inflight) return;
    const start = performance.now();
    const req = http.get(this.#url, { agent: false, timeout: PROBE_TIMEOUT_MS }, (res) => {
      res.resume();
      res.on('end', () => {
        if (this.#inflight !== req) return;
        this.#inflight = null;
        const seconds = (performance.now() - start) / 1000;
        this.#metrics.duration.observe(seconds);
        if (seconds > 1) this.#log.warn(`Local health request to "${this.#url}" took more than 1s: ${goDuration(Math.round(seconds * 1000))}`);
      });
    });
    req.on('timeout', () => { req.destroy(new Error(`timeout after ${goDuration(PROBE_TIMEOUT_MS)}`)); });
    req.on('error', (e) => {
      if (this.#inflight !== req) return; // stopped
      this.#inflight = null;
      this.#metrics.duration.observe((performance.now() - start) / 1000);
      this.#metrics.failures.inc();
      this.#log.warn(`Local health request to "${this.#url}" failed: ${e.message}`);
    });
    this.#inflight = req;
  }
}

export const health: PluginDefinition = {
  name: 'health',
  setup(d, ctx) {
    argCount(d, 'health', 0, 1);
    const address = listenAddress(d, 'health', d.args[0] ?? DEFAULT_HEALTH_ADDRESS);
    let lameduckMs = 0;
    let status = false;
    for (const c of children(d)) {
      if (c.name === 'status') { argCount(c, 'health', 0, 0); status = true; continue; }
      if (c.name !== 'lameduck') fail(c, 'health', `unknown property '${c.name}'`);
      argCount(c, 'health', 1, 1);
      lameduckMs = duration(c, 'health', c.args[0]!, 'lameduck');
    }
    // Ours: the live status page on the same listener (src/status/), off unless asked for.
    if (status) mountStatus(ctx, address);
    const services = ctx.services;
    const log = ctx.logger.plugin('health');
    const metrics = healthMetrics(services);
    const route: HttpRoute = (_req, res) => { res.statusCode = 200; res.end('OK'); };
    const lameduck: LameduckRequest = {
      ms: lameduckMs,
      begin: () => { log.info(`Going into lameduck mode for ${goDuration(lameduckMs)}`); },
      end: () => { log.info('Lameduck over: closing the DNS listeners'); },
    };
    let probe: HealthProbe | null = null;
    ctx.onStartup(async () => {
      const port = await services.http.mount(address, HEALTH_PATH, route);
      if (lameduckMs > 0) services.lameduck.add(lameduck);
      probe = new HealthProbe(probeUrl(address, port), metrics, log);
      probe.start();
    });
    ctx.onShutdown(async () => {
      probe?.stop();
      services.lameduck.delete(lameduck);
      await services.http.unmount(address, HEALTH_PATH, route);
    });
    return null;
  },
};
