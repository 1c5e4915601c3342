/**
 * @module app/app
 * The running server: reads the Corefile, builds a configuration generation,
 * hands it to the DNS server, and rebuilds it on reload. A Corefile that
 * fails to parse or set up never replaces a running one, and readiness is
 * swapped only once the new configuration serves (a reload never flips it).
 * Stopping honours lameduck: keep serving for a while, then close.
 */
import { resolve } from 'node:path';
import { loadCorefile, type LoadedCorefile } from '../corefile/load.ts';
import { buildConfig, type ConfigGeneration } from '../config/build.ts';
import type { Logger } from '../log/logger.ts';
import { ProcessServices, type HttpListeners, type ServerControl } from '../plugin/process-services.ts';
import type { PluginRegistry } from '../plugin/registry.ts';
import { builtinRegistry } from '../plugins/index.ts';
import { DnsServer } from '../server/dns-server.ts';
import type { TcpOptions } from '../server/tcp-listener.ts';
import { loadUdpBatch, udpBatchFailure, udpBatchWanted, type UdpBatchAddon } from '../server/udp-batch/addon.ts';
import { ReloadWatcher } from './reload-watcher.ts';
import { publishReload, reloadChannel } from '../diagnostics/channels.ts';
import { toError } from '../errors/to-error.ts';

export interface AppOptions {
  /** Path of the Corefile; with `corefileText` it only names the source in errors. */
  readonly corefilePath: string;
  /** Corefile contents, instead of reading corefilePath (tests, the built-in default). */
  readonly corefileText?: string | undefined;
  readonly dnsPort?: number;
  readonly logger: Logger;
  readonly registry?: PluginRegistry;
  readonly env?: Readonly<Record<string, string | undefined>>;
  readonly tcp?: TcpOptions;
  /** SO_REUSEPORT on the DNS sockets (workers share a port). */
  readonly reusePort?: boolean;
  /** false: no DNS listeners (the primary of a worker pool runs the configuration, its workers serve). Default true. */
  readonly listen?: boolean;
  /** The HTTP listeners of the process (a worker gets ones that only point at its primary's). */
  readonly http?: HttpListeners;
  /**
   * true: serve UDP through the native addon (build/udp-batch.node) or refuse to start; false: node:dgram.
   * Default: CLUSTERDNS_UDP_BATCH=1 in `env` as true, else the server's choice (the addon on Linux when it
   * loads, unless CLUSTERDNS_UDP_BATCH=0).
   */
  readonly udpBatch?: boolean;
  /** A check every configuration must pass before it serves (start and reload); throw to refuse it. */
  readonly validate?: (gen: ConfigGeneration) => void;
  /** Replaces the default fatal handler (print "[FATAL] ..." and exit 1); tests pass one so a detected loop does not end the run. */
  readonly fatal?: (message: string) => void;
}

export class App implements ServerControl {
  readonly services: ProcessServices;
  readonly server: DnsServer;
  /** Polls the Corefile for the `reload` plugin and reloads on SIGUSR1. */
  readonly reloadWatcher: ReloadWatcher;
  readonly #opts: AppOptions;
  readonly #registry: PluginRegistry;
  #hash = '';
  /** Why the server cannot start whatever the Corefile says (reported by start()). */
  #startError: string | null = null;

  constructor(opts: AppOptions) {
    this.#opts = opts;
    this.#registry = opts.registry ?? builtinRegistry();
    this.services = new ProcessServices({ logger: opts.logger, fatal: opts.fatal, http: opts.http });
    const env = opts.env ?? process.env;
    let udpBatch: UdpBatchAddon | null | undefined;
    if (opts.udpBatch === false) udpBatch = null;
    else if (opts.udpBatch ?? udpBatchWanted(env)) {
      udpBatch = loadUdpBatch();
      if (udpBatch === null) this.#startError = `CLUSTERDNS_UDP_BATCH=1 but the UDP batch addon cannot be used: ${udpBatchFailure()}`;
    }
    this.server = new DnsServer({ logger: opts.logger, tcp: opts.tcp, reusePort: opts.reusePort, listen: opts.listen, udpBatch });
    this.services.control = this;
    this.reloadWatcher = new ReloadWatcher(this.services);
    this.services.reloadPoller = this.reloadWatcher;
  }

  get configHash(): string {
    return this.#hash;
  }

  get panics(): number {
    return this.server.stats.panics;
  }

  /** Parse the Corefile as it is now (file on disk unless text was given). Throws CorefileError. */
  load(): LoadedCorefile {
    return loadCorefile(this.#opts.corefilePath, this.#opts.corefileText, this.#opts.env);
  }

  build(cfg: LoadedCorefile): ConfigGeneration {
    warnEmpty(cfg, this.#opts.corefilePath, this.#opts.logger);
    const gen = buildConfig(cfg.blocks, {
      registry: this.#registry, services: this.services,
      dnsPort: this.#opts.dnsPort ?? 53, configPath: resolve(this.#opts.corefilePath), configHash: cfg.hash,
    });
    this.#opts.validate?.(gen);
    return gen;
  }

  /** First start. Throws (and leaves nothing open) on a bad Corefile or a port in use. */
  async start(): Promise<void> {
    if (this.#startError !== null) throw new Error(this.#startError);
    const cfg = this.load();
    const gen = this.build(cfg);
    this.services.readiness = gen.readiness;
    await this.server.apply(gen);
    this.#hash = cfg.hash;
    this.services.phase = 'serving';
  }

  /**
   * Swap in `cfg` (the Corefile as the reload watcher just parsed it; read
   * and parsed here when not given) when its content changed. Returns false
   * when nothing changed. Throws (the old configuration keeps serving) when
   * the new one is bad.
   */
  async reload(force = false, cfg?: LoadedCorefile): Promise<boolean> {
    try {
      const loaded = cfg ?? this.load();
      if (!force && loaded.hash === this.#hash) {
        if (reloadChannel.hasSubscribers) publishReload({ outcome: 'unchanged', hash: this.#hash });
        return false;
      }
      const gen = this.build(loaded);
      // The old readiness answers until the new configuration serves: its startup (a first sync) must not flip /ready.
      await this.server.apply(gen);
      this.services.readiness = gen.readiness;
      this.#hash = loaded.hash;
    } catch (e) {
      if (reloadChannel.hasSubscribers) publishReload({ outcome: 'failed', hash: this.#hash, error: toError(e) });
      throw e;
    }
    if (reloadChannel.hasSubscribers) publishReload({ outcome: 'reloaded', hash: this.#hash });
    return true;
  }

  /**
   * Stop: /ready turns 503 at once; with a lameduck request (health) DNS and
   * /health keep answering for its duration; then in-flight queries get up
   * to graceMs and everything closes. A second stop() during the lameduck
   * ends it at once and shares the first one's completion.
   */
  stop(graceMs = 5000): Promise<void> {
    if (this.#stopping) { this.#endLameduck?.(); return this.#stopping; }
    this.#stopping = this.#stop(graceMs);
    return this.#stopping;
  }

  #stopping: Promise<void> | null = null;
  #endLameduck: (() => void) | null = null;

  async #stop(graceMs: number): Promise<void> {
    this.services.phase = 'stopping';
    const lameduck = this.services.lameduck.longest();
    if (lameduck && lameduck.ms > 0 && this.server.generation) {
      lameduck.begin?.();
      await new Promise<void>((r) => {
        const t = setTimeout(r, lameduck.ms);
        this.#endLameduck = () => { clearTimeout(t); r(); };
      });
      this.#endLameduck = null;
      lameduck.end?.();
    }
    await this.server.shutdown(graceMs);
    await this.services.http.closeAll();
  }

  /** The port actually bound for a configured listener (port 0 in tests). */
  port(configuredPort?: number): number {
    const all = this.server.boundPorts();
    const p = configuredPort === undefined ? all[0] : all.find((x) => x.configuredPort === configuredPort);
    if (!p) throw new Error('no such listener');
    return p.port;
  }
}

/** A Corefile that serves nothing, or a block that answers nothing, is legal but almost always a mistake: say so. */
function warnEmpty(cfg: LoadedCorefile, path: string, logger: Logger): void {
  if (cfg.blocks.length === 0) logger.warn(`${path}: the Corefile has no server blocks: no DNS is served`);
  for (const b of cfg.blocks) {
    if (b.directives.length === 0) {
      logger.warn(`${b.file}:${b.line}: server block ${b.keys.map((k) => k.raw).join(' ')} has no plugins: every query to it is answered with an error`);
    }
  }
}
