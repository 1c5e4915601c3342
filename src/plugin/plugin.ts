/**
 * @module plugin/plugin
 * The plugin contract. A handler gets the request and either answers or
 * passes it to `next` (set once when the chain is built: no closure per
 * query), and may look at or replace what comes back. Answers are returned
 * synchronously when they can be; only a plugin that waits on real I/O (forward) returns a
 * Promise. A thrown error becomes SERVFAIL and is reported by `errors`.
 * The server reuses the request object of a query answered synchronously for
 * the next query: a plugin that still reads the request after answering it
 * that way (background work, e.g. the cache's prefetch) calls `req.hold()`.
 */
import type { Directive } from '../corefile/parser.ts';
import type { DnsRequest } from '../dns/request.ts';
import type { Reply } from '../dns/reply.ts';
import type { Logger } from '../log/logger.ts';
import type { ProcessServices } from './process-services.ts';

export type Answer = Reply | Promise<Reply>;

export interface Handler {
  serveDNS(req: DnsRequest): Answer;
}

/** A handler in a server block's chain. */
export interface ChainHandler extends Handler {
  readonly name: string;
  /** Set by the chain builder; the last plugin's next answers SERVFAIL ("no next plugin"). */
  next: Handler;
  /**
   * Zones in which this plugin answers class IN queries from replies it keeps
   * (Reply.kept) and never passes them on (no fallthrough there). A cache in
   * front of it skips its lookup for names under them (plugins/cache).
   * Absent: none.
   */
  keptZones?(): readonly string[];
}

/** What a plugin's setup sees: its server block, and hooks into the block's and the process's lifecycle. */
export interface BlockContext {
  /** Canonical zones of the server block ("." for root). */
  readonly zones: readonly string[];
  /** The block's port. */
  readonly port: number;
  /** Server label for metrics and logs: "dns://:53". */
  readonly server: string;
  readonly logger: Logger;
  readonly services: ProcessServices;
  /** Directory of the Corefile (relative paths in options resolve against it). */
  readonly configDir: string;
  /** Addresses from `bind`; empty means all interfaces. */
  readonly bindAddresses: string[];
  /** Names of the plugins this block uses, in chain order, once each (coredns_plugin_enabled). */
  readonly plugins: readonly string[];
  /** SHA-512 of the parsed Corefile this configuration is built from ('' when built without one). */
  readonly configHash: string;
  /** Block-wide settings plugins may change at setup (bufsize). */
  readonly settings: { maxUdpSize: number };
  /** Report readiness for the `ready` plugin. */
  readyCheck(name: string, check: () => boolean): void;
  /** Run before the listeners open (e.g. wait for the first cluster sync). */
  onStartup(fn: () => Promise<void> | void): void;
  /** Run when this configuration stops serving (shutdown, or replaced by a reload). */
  onShutdown(fn: () => Promise<void> | void): void;
  /** Run once this block's listeners are open, with their real addresses and ports (loop sends its probe there). */
  onListening(fn: ListeningHook): void;
  /** Called with every reply after it was written (metrics); cheap, synchronous. */
  onReply(fn: ReplyObserver): void;
  /** Other handlers of this block by plugin name, available after the chain is built (autopath, loop). */
  handlersNamed(name: string): readonly ChainHandler[];
  /** The head of this block's chain, available after it is built (plugins that query their own server block). */
  chainHead(): Handler;
}

/**
 * Sees each reply after it was written: `size` is its length on the wire and
 * `packet` the bytes sent (header flags such as TC are only known there).
 * Observers must not keep or change `packet`.
 */
export type ReplyObserver = (req: DnsRequest, reply: Reply, size: number, packet: Uint8Array) => void;

/** A listener a block is served on: address as bound ('' = every interface) and the real port (never 0). */
export interface BoundAddress {
  readonly address: string;
  readonly port: number;
}
export type ListeningHook = (listeners: readonly BoundAddress[]) => void;

/** A directive name and how to set it up. */
export interface PluginDefinition {
  readonly name: string;
  /** Parse one directive (with its block) and return its handler, or null for plugins outside the chain. */
  setup(d: Directive, ctx: BlockContext): ChainHandler | null;
  /** Allowed once per server block. */
  readonly once?: boolean;
  /**
   * Serves class IN data only (hosts, kubernetes, file, k8s_external, etcd, dnsrecord): the
   * chain passes queries of any other class (ANY aside) straight past it, so
   * no plugin has to check the class itself (its PluginGuard does, server/panic.ts).
   */
  readonly inClassOnly?: boolean;
}
