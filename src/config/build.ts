/**
 * @module config/build
 * Corefile -> a runnable configuration generation: each server block's
 * plugins set up and linked into a chain in the fixed order, and the
 * listeners (address, port) with the zones they route. Nothing is opened
 * here; a reload builds the whole generation before touching the running one.
 */
import { serverLabel } from '../dns/ip.ts';
import { dirname } from 'node:path';
import type { Directive, ServerBlock } from '../corefile/parser.ts';
import { CorefileError } from '../corefile/errors.ts';
import { Rcode } from '../dns/constants.ts';
import { Reply } from '../dns/reply.ts';
import type { Logger } from '../log/logger.ts';
import type { BlockContext, ChainHandler, Handler, ListeningHook, ReplyObserver } from '../plugin/plugin.ts';
import { Readiness, type ProcessServices } from '../plugin/process-services.ts';
import type { PluginRegistry } from '../plugin/registry.ts';
import { errorMessage } from '../errors/to-error.ts';
import { PluginGuard } from '../server/panic.ts';

export const DEFAULT_MAX_UDP_SIZE = 1232;

export interface BlockConfig {
  readonly zones: readonly string[];
  /** The first key's port (the block's label in metrics and logs). */
  readonly port: number;
  /** Every key with its own port: CoreDNS serves each key of a block on the port it names. */
  readonly keys: readonly { readonly zone: string; readonly port: number }[];
  readonly bindAddresses: readonly string[];
  readonly head: Handler;
  readonly handlers: readonly ChainHandler[];
  readonly observers: readonly ReplyObserver[];
  /** The plugin that registered each observer (same order), for the panic log. */
  readonly observerPlugins: readonly string[];
  /** Hooks to run once the block's listeners are open. */
  readonly listening: readonly ListeningHook[];
  readonly maxUdpSize: number;
  readonly file: string;
  readonly line: number;
}

/** One zone served on one listener. */
export interface Route {
  readonly zone: string;
  readonly block: BlockConfig;
  /** Metrics/log label of the listener: "dns://:53", "dns://127.0.0.1:53". */
  readonly server: string;
}

export interface ListenerSpec {
  /** Address to bind; '' means every interface. */
  readonly address: string;
  readonly port: number;
  /** Longest zone first. */
  readonly routes: readonly Route[];
}

export interface ConfigGeneration {
  readonly blocks: readonly BlockConfig[];
  readonly listeners: readonly ListenerSpec[];
  readonly readiness: Readiness;
  readonly startup: readonly (() => Promise<void> | void)[];
  readonly shutdown: readonly (() => Promise<void> | void)[];
}

export interface BuildOptions {
  readonly registry: PluginRegistry;
  readonly services: ProcessServices;
  /** Port for server blocks that name none (-dns.port). */
  readonly dnsPort: number;
  /** Path of the Corefile, for resolving relative paths. */
  readonly configPath: string;
  /** SHA-512 of the parsed Corefile (BlockContext.configHash). */
  readonly configHash?: string;
}

/** The handler after the last plugin: nobody answered. */
const noNextPlugin: Handler = {
  serveDNS: () => Reply.error(Rcode.SERVFAIL, '', new Error('no next plugin found')),
};

/** A query of a class no plugin of the block serves. */
const classRefused = Reply.error(Rcode.REFUSED);
const noClassData: Handler = { serveDNS: () => classRefused };

export function buildConfig(blocks: readonly ServerBlock[], opts: BuildOptions): ConfigGeneration {
  const readiness = new Readiness();
  const startup: (() => Promise<void> | void)[] = [];
  const shutdown: (() => Promise<void> | void)[] = [];
  const built: BlockConfig[] = [];
  for (const block of blocks) {
    built.push(buildBlock(block, opts, readiness, startup, shutdown));
  }
  return { blocks: built, listeners: planListeners(built), readiness, startup, shutdown };
}

function buildBlock(
  block: ServerBlock, opts: BuildOptions, readiness: Readiness,
  startup: (() => Promise<void> | void)[], shutdown: (() => Promise<void> | void)[],
): BlockConfig {
  const zones = block.keys.map((k) => k.zone);
  // `example.com example.io:1053 { ... }`: one chain, each key on its own port (kubespray's mixed-port block).
  const keys = block.keys.map((k) => ({ zone: k.zone, port: k.port ?? opts.dnsPort }));
  const port = keys[0]!.port;
  const observers: ReplyObserver[] = [];
  const observerPlugins: string[] = [];
  let settingUp = '';
  const listening: ListeningHook[] = [];
  const handlers: ChainHandler[] = [];
  const settings = { maxUdpSize: DEFAULT_MAX_UDP_SIZE };
  const bindAddresses: string[] = [];
  let head: Handler = noNextPlugin;
  const plugins = [...new Set(block.directives.map((d) => d.name))].sort((a, b) => opts.registry.rank(a) - opts.registry.rank(b));
  const ctx: BlockContext = {
    zones, port, plugins, configHash: opts.configHash ?? '',
    server: `dns://:${port}`,
    logger: opts.services.logger,
    services: opts.services,
    configDir: dirname(opts.configPath),
    bindAddresses, settings,
    onStartup: (fn) => { startup.push(fn); },
    onShutdown: (fn) => { shutdown.push(fn); },
    onReply: (fn) => { observers.push(fn); observerPlugins.push(settingUp); },
    onListening: (fn) => { listening.push(fn); },
    readyCheck: (name, check) => { readiness.register(name, check); },
    handlersNamed: (name) => handlers.filter((h) => h.name === name),
    chainHead: () => head,
  };
  // Set up in Corefile order (so option errors read top to bottom), chain in plugin order.
  const seen = new Map<string, Directive>();
  const made: { rank: number; seq: number; handler: ChainHandler; inOnly: boolean }[] = [];
  block.directives.forEach((d, seq) => {
    const def = opts.registry.get(d.name);
    if (!def) throw new CorefileError(d.file, d.line, `unknown directive '${d.name}'`);
    if (def.once && seen.has(d.name)) throw new CorefileError(d.file, d.line, `plugin/${d.name}: this plugin can only be used once per server block`);
    seen.set(d.name, d);
    let h: ChainHandler | null;
    settingUp = d.name;
    try {
      h = def.setup(d, ctx);
    } catch (e) {
      if (e instanceof CorefileError) throw e;
      throw new CorefileError(d.file, d.line, `plugin/${d.name}: ${errorMessage(e)}`);
    }
    if (h) made.push({ rank: opts.registry.rank(d.name), seq, handler: h, inOnly: def.inClassOnly === true });
  });
  made.sort((a, b) => a.rank - b.rank || a.seq - b.seq);
  for (const m of made) handlers.push(m.handler);
  // Link back to front: each plugin's next is the entry of the one after it (its guard, which is also the class gate
  // of an IN-only plugin), so a throw is reported under the plugin that threw (server/panic).
  let entry: Handler = noNextPlugin;
  for (let i = made.length - 1; i >= 0; i--) {
    const m = made[i]!;
    m.handler.next = entry;
    // An IN-only plugin's guard sends other classes past it (REFUSED when nothing follows).
    const otherClass = m.inOnly ? (entry === noNextPlugin ? noClassData : entry) : null;
    entry = new PluginGuard(m.handler.name, m.handler, otherClass);
  }
  head = entry;
  return { zones, port, keys, bindAddresses, head, handlers, observers, observerPlugins, listening, maxUdpSize: settings.maxUdpSize, file: block.file, line: block.line };
}

/** Groups blocks into listeners by (address, port); a port is either bound to addresses by every block on it, or by none. */
function planListeners(blocks: readonly BlockConfig[]): ListenerSpec[] {
  const byPort = new Map<number, BlockConfig[]>();
  for (const b of blocks) {
    for (const p of new Set(b.keys.map((k) => k.port))) {
      const list = byPort.get(p) ?? [];
      list.push(b);
      byPort.set(p, list);
    }
  }
  const listeners: ListenerSpec[] = [];
  for (const [port, list] of byPort) {
    const bound = list.filter((b) => b.bindAddresses.length > 0);
    if (bound.length > 0 && bound.length < list.length) {
      const b = list.find((x) => x.bindAddresses.length === 0)!;
      throw new CorefileError(b.file, b.line, `port ${port}: every server block on a port must use 'bind', or none`);
    }
    const byAddress = new Map<string, Route[]>();
    for (const b of list) {
      const addrs = b.bindAddresses.length > 0 ? b.bindAddresses : [''];
      for (const address of addrs) {
        const routes = byAddress.get(address) ?? [];
        const server = serverLabel(address, port);
        for (const { zone } of b.keys.filter((k) => k.port === port)) {
          if (routes.some((r) => r.zone === zone)) throw new CorefileError(b.file, b.line, `zone '${zone}' is served twice on ${server}`);
          routes.push({ zone, block: b, server });
        }
        byAddress.set(address, routes);
      }
    }
    for (const [address, routes] of byAddress) {
      routes.sort((a, b) => b.zone.length - a.zone.length);
      listeners.push({ address, port, routes });
    }
  }
  return listeners;
}

export type { Logger };
