/**
 * @module server/workers/primary
 * The primary of a worker pool (`-workers N`, N > 1). It runs the
 * configuration like a single server would, but opens no DNS socket: its
 * plugins' startup and shutdown hooks run (HTTP listeners for health, ready
 * and /metrics; the reload poller; the kubernetes plugin's sources, shared
 * through the StateHub), and its workers serve DNS on the same ports. Its
 * /metrics is the sum over itself and the workers; /ready says 200 only
 * once every worker serves. A reload (poll or SIGUSR1) swaps the primary's
 * configuration first, then every worker's. Port 0 cannot be shared by
 * several processes, so every DNS listener needs a fixed port.
 */
import { App, type AppOptions } from '../../app/app.ts';
import type { ConfigGeneration } from '../../config/build.ts';
import { CorefileError } from '../../corefile/errors.ts';
import { metricsRegistry, setMetricsExposition } from '../../metrics/registry.ts';
import type { ServerControl } from '../../plugin/process-services.ts';
import { sumMetrics } from './metrics-sum.ts';
import { WorkerPool } from './pool.ts';
import { StateHub } from './state-hub.ts';

export type PrimaryAppOptions = Pick<AppOptions, 'corefilePath' | 'corefileText' | 'dnsPort' | 'logger'>;

/** Refuses a configuration with a DNS listener on port 0: each worker would get a port of its own. */
export function requireFixedPorts(workers: number): (gen: ConfigGeneration) => void {
  return (gen) => {
    for (const l of gen.listeners) {
      if (l.port !== 0) continue;
      const block = l.routes[0]!.block;
      throw new CorefileError(block.file, block.line,
        `-workers ${workers} needs a fixed port: every worker binds the same one, and port 0 would give each its own`);
    }
  };
}

export class Primary {
  readonly app: App;
  readonly pool: WorkerPool;
  readonly hub = new StateHub();

  constructor(opts: PrimaryAppOptions, workers: number) {
    this.app = new App({ ...opts, listen: false, validate: requireFixedPorts(workers), fatal: (m) => this.#fatal(m) });
    const services = this.app.services;
    services.sourceSharing = this.hub;
    this.pool = new WorkerPool({
      size: workers, hub: this.hub, logger: opts.logger,
      httpPorts: () => services.http.bound(),
      onFatal: (m) => this.#fatal(m),
    });
    const registry = metricsRegistry(services);
    setMetricsExposition(services, async () => {
      const [own, workersJson] = await Promise.all([registry.getMetricsAsJSON(), this.pool.metrics()]);
      return sumMetrics(own, workersJson).metrics();
    });
    services.control = this.#control();
  }

  /** A reload of the primary's configuration, then of every worker's (when it changed, or forced). */
  #control(): ServerControl {
    const app = this.app;
    return {
      get configHash() { return app.configHash; },
      load: () => app.load(),
      reload: async (force, loaded) => {
        const changed = await app.reload(force, loaded);
        if (changed) await this.pool.reload();
        return changed;
      },
      get panics() { return app.panics; },
    };
  }

  #fatal(message: string): void {
    process.stderr.write(`[FATAL] ${message}\n`);
    void this.pool.stop(0, 2000).finally(() => process.exit(1));
  }

  /** Starts the configuration (sources synced, HTTP listening), then the workers; /ready turns 200 once they all serve. */
  async start(): Promise<void> {
    await this.app.start();
    // App.start said "serving"; the pool serves only once its workers do.
    this.app.services.phase = 'starting';
    await this.pool.start();
    this.app.services.phase = 'serving';
  }

  /** Stop: /ready 503 at once, workers and primary go lameduck together, then workers finish their queries and exit. */
  async stop(graceMs = 5000): Promise<void> {
    const lameduck = this.app.services.lameduck.longest()?.ms ?? 0;
    await Promise.all([
      this.pool.stop(graceMs, lameduck + graceMs + 5000),
      this.app.stop(graceMs),
    ]);
  }
}
