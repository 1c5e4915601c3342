/**
 * @module server/workers/worker-http
 * The HTTP listeners of a worker: none. The primary owns health, ready and
 * /metrics (one port each for the pool; /metrics sums the workers), so a
 * worker's plugins mount nothing. `mount` still answers with the port the
 * primary bound for that address, so what a plugin derives from it (the
 * health plugin's self-probe URL) points at the real listener.
 */
import { HttpListeners, splitHostPort, type HttpRoute } from '../../plugin/process-services.ts';

export class WorkerHttpListeners extends HttpListeners {
  #ports: Map<string, number>;

  constructor(primaryPorts: readonly [string, number][]) {
    super();
    this.#ports = new Map(primaryPorts);
  }

  /** The primary's listeners now (sent with each reload, before the worker builds the new configuration). */
  update(primaryPorts: readonly [string, number][]): void {
    this.#ports = new Map(primaryPorts);
  }

  override mount(address: string, _path: string, _route: HttpRoute): Promise<number> {
    return Promise.resolve(this.port(address));
  }

  override unmount(): Promise<void> {
    return Promise.resolve();
  }

  override port(address: string): number {
    return this.#ports.get(address) ?? splitHostPort(address).port;
  }

  override bound(): [string, number][] {
    return [];
  }

  override closeAll(): Promise<void> {
    return Promise.resolve();
  }
}

/** Reads the primary's listeners from the worker's environment ('[]' when absent or unreadable). */
export function primaryPortsFrom(json: string | undefined): [string, number][] {
  if (json === undefined || json === '') return [];
  try {
    const v = JSON.parse(json) as unknown;
    if (!Array.isArray(v)) return [];
    return v.filter((e): e is [string, number] => Array.isArray(e) && typeof e[0] === 'string' && typeof e[1] === 'number');
  } catch {
    return [];
  }
}
