/**
 * @module app/app
 * The running server: reads the Corefile, builds a configuration generation,
 * hands it to the DNS server, and rebuilds it on reload. A Corefile that
 * fails to parse or set up never replaces a running one, and readiness is
 * swapped only once the new configuration serves (a reload never flips it).
 * Stopping honours lameduck: keep serving for a while, then close.
 */
import { createHash } from 'node:crypto';
import { resolve } from 'node:path';
import { parseCorefile, type ServerBlock } from '../corefile/parser.ts';
import { readFileSync } from 'node:fs';
import { buildConfig, type ConfigGeneration } from '../config/build.ts';
import type { Logger } from '../log/logger.ts';
import { ProcessServices, type ServerControl } from '../plugin/process-services.ts';
import type { PluginRegistry } from '../plugin/registry.ts';
import { builtinRegistry } from '../plugins/index.ts';
import { DnsServer } from '../server/dns-server.ts';
import type { TcpOptions } from '../server/tcp-listener.ts';

export interface AppOptions {
  /** Path of the Corefile; with `corefileText` it only names the source in errors. */
  readonly corefilePath: string;
  /** Corefile contents, instead of reading corefilePath (tests, the built-in default). */
  readonly corefileText?: string;
  readonly dnsPort?: number;
  readonly logger: Logger;
  readonly registry?: PluginRegistry;
  readonly env?: Readonly<Record<string, string | undefined>>;
  readonly tcp?: TcpOptions;
  readonly reusePort?: boolean;
  /** Replaces the default fatal handler (print "[FATAL] ..." and exit 1); tests pass one so a detected loop does not end the run. */
  readonly fatal?: (message: string) => void;
}

export interface LoadedConfig {
  readonly blocks: readonly ServerBlock[];
  /** SHA-512 of the parsed Corefile (imports expanded): what `reload` compares. */
  readonly hash: string;
}

export class App implements ServerControl {
  readonly services: ProcessServices;
  readonly server: DnsServer;
  readonly #opts: AppOptions;
  readonly #registry: PluginRegistry;
  #hash = '';

  constructor(opts: AppOptions) {
    this.#opts = opts;
    this.#registry = opts.registry ?? builtinRegistry();
    this.services = new ProcessServices({ logger: opts.logger, fatal: opts.fatal });
    this.server = new DnsServer({ logger: opts.logger, tcp: opts.tcp, reusePort: opts.reusePort });
    this.services.shared.set('app', this);
    this.services.control = this;
  }

  get configHash(): string {
    return this.#hash;
  }

  get panics(): number {
    return this.server.stats.panics;
  }

  /** Parse the Corefile as it is now (file on disk unless text was given). Throws CorefileError. */
  load(): LoadedConfig {
    const path = this.#opts.corefilePath;
    const text = this.#opts.corefileText ?? readFileSync(path, 'utf8');
    const blocks = parseCorefile(text, path, { env: this.#opts.env });
    const hash = createHash('sha512').update(JSON.stringify(blocks, (k, v: unknown) => (k === 'file' || k === 'line' ? undefined : v))).digest('hex');
    return { blocks, hash };
  }

  build(cfg: LoadedConfig): ConfigGeneration {
    const gen = buildConfig(cfg.blocks, {
      registry: this.#registry, services: this.services,
      dnsPort: this.#opts.dnsPort ?? 53, configPath: resolve(this.#opts.corefilePath), configHash: cfg.hash,
    });
    return gen;
  }

  /** First start. Throws (and leaves nothing open) on a bad Corefile or a port in use. */
  async start(): Promise<void> {
    const cfg = this.load();
    const gen = this.build(cfg);
    this.services.readiness = gen.readiness;
    await this.server.apply(gen);
    this.#hash = cfg.hash;
    this.services.phase = 'serving';
  }

  /**
   * Re-read the Corefile; when its parsed content changed, build and swap in
   * the new configuration. Returns false when nothing changed. Throws (the
   * old configuration keeps serving) when the new one is bad.
   */
  async reload(force = false): Promise<boolean> {
    const cfg = this.load();
    if (!force && cfg.hash === this.#hash) return false;
    const gen = this.build(cfg);
    // The old readiness answers until the new configuration serves: its startup (a first sync) must not flip /ready.
    await this.server.apply(gen);
    this.services.readiness = gen.readiness;
    this.#hash = cfg.hash;
    return true;
  }

  /**
   * Stop: /ready turns 503 at once; with a lameduck request (health) DNS and
   * /health keep answering for its duration; then in-flight queries get up
   * to graceMs and everything closes.
   */
  async stop(graceMs = 5000): Promise<void> {
    this.services.phase = 'stopping';
    const lameduck = this.services.lameduck.longest();
    if (lameduck && lameduck.ms > 0 && this.server.generation) {
      lameduck.begin?.();
      await new Promise((r) => setTimeout(r, lameduck.ms));
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
