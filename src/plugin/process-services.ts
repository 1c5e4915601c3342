/**
 * @module plugin/process-services
 * Things that outlive one configuration and are shared by every server block:
 * the logger, the HTTP listeners (health, ready, metrics: kept open across
 * reloads so a reload never closes /metrics), and the readiness registry.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Logger } from '../log/logger.ts';

export type HttpRoute = (req: IncomingMessage, res: ServerResponse) => void;

/** One HTTP listener per address, shared by the plugins that mount paths on it. */
export class HttpListeners {
  readonly #servers = new Map<string, { server: Server; routes: Map<string, HttpRoute>; port: number }>();

  /** Mount `path` on the listener for `address` ("host:port", ":port"), opening it if needed. Returns the bound port. */
  async mount(address: string, path: string, route: HttpRoute): Promise<number> {
    let entry = this.#servers.get(address);
    if (!entry) {
      const routes = new Map<string, HttpRoute>();
      const server = createServer((req, res) => {
        const url = (req.url ?? '/').split('?')[0]!;
        const r = routes.get(url);
        if (r) r(req, res);
        else { res.statusCode = 404; res.end('404 page not found\n'); }
      });
      const { host, port } = splitHostPort(address);
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen({ host: host || undefined, port }, () => { server.off('error', reject); resolve(); });
      });
      const bound = (server.address() as { port: number }).port;
      entry = { server, routes, port: bound };
      this.#servers.set(address, entry);
    }
    entry.routes.set(path, route);
    return entry.port;
  }

  /** Remove a path; close the listener when nothing is mounted on it any more. */
  async unmount(address: string, path: string, route?: HttpRoute): Promise<void> {
    const entry = this.#servers.get(address);
    if (!entry) return;
    if (route && entry.routes.get(path) !== route) return;
    entry.routes.delete(path);
    if (entry.routes.size === 0) {
      this.#servers.delete(address);
      await new Promise<void>((r) => { entry.server.close(() => r()); entry.server.closeAllConnections(); });
    }
  }

  port(address: string): number | undefined {
    return this.#servers.get(address)?.port;
  }

  async closeAll(): Promise<void> {
    const all = [...this.#servers.values()];
    this.#servers.clear();
    await Promise.all(all.map((e) => new Promise<void>((r) => { e.server.close(() => r()); e.server.closeAllConnections(); })));
  }
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
  /** Names of the plugins that are not ready, sorted; empty when all are. */
  notReady(): string[] {
    const out: string[] = [];
    for (const [name, check] of this.#checks) if (!check()) out.push(name);
    return out.sort();
  }
}

export interface ProcessServicesInit {
  logger: Logger;
}

export class ProcessServices {
  readonly logger: Logger;
  readonly http = new HttpListeners();
  /** Replaced with each configuration generation. */
  readiness = new Readiness();
  /** Extension slots for process-wide state owned by plugins (metrics registry, reload watcher), by name. */
  readonly shared = new Map<string, unknown>();

  constructor(init: ProcessServicesInit) {
    this.logger = init.logger;
  }

  /** The shared value under `key`, created on first use. */
  singleton<T>(key: string, create: () => T): T {
    let v = this.shared.get(key) as T | undefined;
    if (v === undefined) { v = create(); this.shared.set(key, v); }
    return v;
  }
}
