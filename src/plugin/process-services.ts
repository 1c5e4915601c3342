/**
 * @module plugin/process-services
 * Things that outlive one configuration and are shared by every server block:
 * the logger, the HTTP listeners (health, ready, metrics: kept open across
 * reloads so a reload never closes /metrics), the readiness registry, the
 * process's lifecycle phase and lameduck requests, a handle on the running
 * server for the plugins that steer it (reload), and typed slots for
 * process-wide state that plugins own (ProcessSlot).
 */
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { http } from '../util/node-http.ts';
import type { ClusterKind, ClusterStateSource } from '../cluster/types.ts';
import type { LoadedCorefile } from '../corefile/load.ts';
import type { Logger } from '../log/logger.ts';

export type HttpRoute = (req: IncomingMessage, res: ServerResponse) => void;

interface HttpEntry {
  readonly server: Server;
  /** Routes by path; the last one mounted answers, so a reload can mount its route before the old one is removed. */
  readonly routes: Map<string, HttpRoute[]>;
  readonly port: number;
}

/** One HTTP listener per address, shared by the plugins that mount paths on it. */
export class HttpListeners {
  readonly #servers = new Map<string, HttpEntry>();
  /** Listeners being opened, so two mounts on a new address at once share one listener. */
  readonly #opening = new Map<string, Promise<HttpEntry>>();

  /**
   * Mount `path` on the listener for `address` ("host:port", ":port"), opening it if needed. Returns the bound port.
   * Mounting a path that is already mounted stacks the new route on top; unmounting it uncovers the previous one.
   */
  async mount(address: string, path: string, route: HttpRoute): Promise<number> {
    const entry = this.#servers.get(address) ?? await this.#open(address);
    const stack = entry.routes.get(path);
    if (stack) stack.push(route);
    else entry.routes.set(path, [route]);
    return entry.port;
  }

  #open(address: string): Promise<HttpEntry> {
    let opening = this.#opening.get(address);
    if (opening) return opening;
    opening = (async () => {
      const routes = new Map<string, HttpRoute[]>();
      const server = http.createServer((req, res) => {
        const url = (req.url ?? '/').split('?')[0]!;
        const stack = routes.get(url);
        if (stack && stack.length > 0) stack[stack.length - 1]!(req, res);
        else { res.statusCode = 404; res.end('404 page not found\n'); }
      });
      const { host, port } = splitHostPort(address);
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen({ host: host || undefined, port }, () => { server.off('error', reject); resolve(); });
      });
      const entry: HttpEntry = { server, routes, port: (server.address() as { port: number }).port };
      this.#servers.set(address, entry);
      return entry;
    })().finally(() => { this.#opening.delete(address); });
    this.#opening.set(address, opening);
    return opening;
  }

  /** Remove `route` from `path` (every route of it when none is given); close the listener when nothing is mounted on it any more. */
  async unmount(address: string, path: string, route?: HttpRoute): Promise<void> {
    const entry = this.#servers.get(address);
    if (!entry) return;
    const stack = entry.routes.get(path);
    if (!stack) return;
    if (route) {
      const i = stack.lastIndexOf(route);
      if (i < 0) return;
      stack.splice(i, 1);
    }
    if (!route || stack.length === 0) entry.routes.delete(path);
    if (entry.routes.size === 0) {
      this.#servers.delete(address);
      await closeServer(entry.server);
    }
  }

  port(address: string): number | undefined {
    return this.#servers.get(address)?.port;
  }

  /** Every open listener: its address as mounted and its bound port. */
  bound(): [address: string, port: number][] {
    return [...this.#servers].map(([address, e]) => [address, e.port]);
  }

  async closeAll(): Promise<void> {
    const all = [...this.#servers.values()];
    this.#servers.clear();
    await Promise.all(all.map((e) => closeServer(e.server)));
  }
}

function closeServer(server: Server): Promise<void> {
  return new Promise<void>((r) => { server.close(() => r()); server.closeAllConnections(); });
}

export function splitHostPort(address: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d+)$/.exec(address);
  if (!m) throw new Error(`not an address with a port: '${address}'`);
  return { host: m[1] ?? m[2] ?? '', port: Number(m[3]) };
}

/** Plugins that have a readiness notion report here; `ready` serves the result. */
export class Readiness {
  readonly #checks = new Map<string, () => boolean>();
  register(name: string, check: () => boolean): void {
    this.#checks.set(name, check);
  }
  /** Names of every plugin that registered a check, sorted. */
  names(): string[] {
    return [...this.#checks.keys()].sort();
  }
  /** Names of the plugins that are not ready, sorted; empty when all are. */
  notReady(): string[] {
    const out: string[] = [];
    for (const [name, check] of this.#checks) if (!check()) out.push(name);
    return out.sort();
  }
}

/** What plugins may ask of the running server (reload polls and reloads it; prometheus reads panics). App implements it. */
export interface ServerControl {
  /** SHA-512 of the parsed Corefile now serving. */
  readonly configHash: string;
  /**
   * Parse the Corefile as it is now (throws CorefileError), or null when this
   * process does not read it itself (a pool worker: its primary says when).
   */
  load(): LoadedCorefile | null;
  /**
   * Swap in `loaded` (parsed by load(); parsed now when not given) when its
   * hash differs from the running one, or always with force. Throws, keeping
   * the old configuration, when it is bad. The Corefile is parsed once per reload.
   */
  reload(force?: boolean, loaded?: LoadedCorefile): Promise<boolean>;
  /** Handlers that threw so far (coredns_panics_total). */
  readonly panics: number;
}

/** How often the `reload` plugin wants the Corefile polled, for as long as its configuration lives. */
export interface ReloadSchedule {
  readonly intervalMs: number;
  /** Jitter span: each arming picks a delay of intervalMs +/- jitterMs/2. */
  readonly jitterMs: number;
  /** SHA-512 of the configuration that armed it, for the startup log line. */
  readonly hash: string;
}

/** The process's Corefile poller (app/reload-watcher): a configuration arms it at startup and disarms it at shutdown. */
export interface ReloadPoller {
  arm(s: ReloadSchedule): void;
  disarm(s: ReloadSchedule): void;
}

/**
 * A typed process-wide value owned by whoever declares it (a metrics
 * registry, a plugin's process-wide state): `services.get(SLOT)` makes it on
 * first use with `create`, one per ProcessServices; `services.set(SLOT, v)`
 * replaces it (tests, the worker pool). The slot object itself is the key,
 * so two owners cannot collide and the value's type is the slot's.
 */
export class ProcessSlot<T> {
  readonly name: string;
  readonly create: (services: ProcessServices) => T;
  constructor(name: string, create: (services: ProcessServices) => T) {
    this.name = name;
    this.create = create;
  }
}

/** Where the process is in its life: `ready` answers 200 only while serving. */
export type ServerPhase = 'starting' | 'serving' | 'stopping';

/** A plugin's wish to keep serving for a while after a stop signal (health's lameduck). */
export interface LameduckRequest {
  readonly ms: number;
  /** Called when the lameduck period begins (to log it). */
  readonly begin?: () => void;
  /** Called when it ends, just before the DNS listeners close (to log it: the moment a client stops being answered). */
  readonly end?: () => void;
}

/**
 * Lameduck requests of the configurations alive now. A generation adds its
 * request at startup and removes it at shutdown, so after a reload (new one
 * added before the old one is removed) or a failed reload the right one is left.
 */
export class Lameduck {
  readonly #requests = new Set<LameduckRequest>();
  add(r: LameduckRequest): void { this.#requests.add(r); }
  delete(r: LameduckRequest): void { this.#requests.delete(r); }
  /** The longest request, or null. */
  longest(): LameduckRequest | null {
    let best: LameduckRequest | null = null;
    for (const r of this.#requests) if (best === null || r.ms > best.ms) best = r;
    return best;
  }
}

/**
 * How a plugin's cluster-state source runs. Alone, the process runs it as it
 * is. With workers (server/workers) the primary runs each source once and
 * relays what it delivers, and each worker gets a relay instead of its own
 * watches. `key` names the source's settings: equal keys are one source.
 * The source is made through `make` only where it runs (alone, or in the
 * primary): a worker never constructs it, so it never loads an API client
 * or reads a manifest.
 */
export interface SourceSharing {
  share(key: string, kinds: readonly ClusterKind[], make: () => Promise<ClusterStateSource>): Promise<ClusterStateSource>;
}

/** The single-process way: every source runs where it is made. */
export const UNSHARED_SOURCES: SourceSharing = { share: (_key, _kinds, make) => make() };

export interface ProcessServicesInit {
  logger: Logger;
  /** The HTTP listeners (default: real ones opened here). */
  http?: HttpListeners | undefined;
  /** What an unrecoverable condition does (loop detected); default: print "[FATAL] message" and exit with code 1, like CoreDNS. */
  fatal?: ((message: string) => void) | undefined;
}

export class ProcessServices {
  readonly logger: Logger;
  readonly http: HttpListeners;
  /** Where cluster-state sources run (replaced by the worker pool before the first configuration is built). */
  sourceSharing: SourceSharing = UNSHARED_SOURCES;
  /** Replaced with each configuration generation, when it has started serving. */
  readiness = new Readiness();
  /** Set by App: 'serving' once the first configuration serves, 'stopping' from the stop signal on. */
  phase: ServerPhase = 'starting';
  readonly lameduck = new Lameduck();
  /** The running server; set by App (null for setups built without one, e.g. option-parser tests). */
  control: ServerControl | null = null;
  /** The Corefile poller; set by App (null without one: option-parser tests). */
  reloadPoller: ReloadPoller | null = null;
  /** Values of the typed slots (ProcessSlot), made on first use. */
  readonly #slots = new Map<ProcessSlot<unknown>, unknown>();

  /** Called by plugins on an unrecoverable condition; tests replace it so the test runner survives. */
  fatal: (message: string) => void;

  constructor(init: ProcessServicesInit) {
    this.logger = init.logger;
    this.http = init.http ?? new HttpListeners();
    this.fatal = init.fatal ?? ((message) => { process.stderr.write(`[FATAL] ${message}\n`); process.exit(1); });
  }

  /** The value of `slot` in this process, made on first use. */
  get<T>(slot: ProcessSlot<T>): T {
    if (this.#slots.has(slot)) return this.#slots.get(slot) as T;
    const v = slot.create(this);
    this.#slots.set(slot, v);
    return v;
  }

  /** Replace the value of `slot` (before first use, or to swap it). */
  set<T>(slot: ProcessSlot<T>, value: T): void {
    this.#slots.set(slot, value);
  }
}
