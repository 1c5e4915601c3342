/**
 * @module server/workers/messages
 * What the primary and its workers say to each other over the node:cluster
 * IPC channel ('advanced' serialization: structured clone, so the slim
 * cluster records travel as they are). Cluster state goes primary -> worker
 * per subscription (one per kubernetes source of a worker's configuration):
 * a snapshot in parts, then the store's real changes as they happen.
 */
import type { Registry } from 'prom-client';
import type { ClusterKind, ClusterRecord, WatchEvent } from '../../cluster/types.ts';

/** Environment of a forked worker: its slot, and the primary's HTTP listeners ([address, port] pairs, JSON). */
export const WORKER_INDEX_ENV = 'CLUSTERDNS_WORKER_INDEX';
export const WORKER_HTTP_ENV = 'CLUSTERDNS_WORKER_HTTP';

/** Objects per snapshot message: keeps each IPC message small at 100k services. */
export const SNAPSHOT_PART = 2000;

export type StateMessage =
  | { readonly t: 'state'; readonly sub: number; readonly op: 'begin'; readonly kinds: readonly ClusterKind[] }
  | { readonly t: 'state'; readonly sub: number; readonly op: 'part'; readonly objects: readonly ClusterRecord[] }
  | { readonly t: 'state'; readonly sub: number; readonly op: 'end' }
  | { readonly t: 'state'; readonly sub: number; readonly op: 'events'; readonly events: readonly WatchEvent[] }
  | { readonly t: 'state'; readonly sub: number; readonly op: 'synced'; readonly kind: ClusterKind };

/** One registry's metrics as prom-client's getMetricsAsJSON() gives them. */
export type MetricsJson = Awaited<ReturnType<Registry['getMetricsAsJSON']>>;

/** Primary -> worker. */
export type ToWorker =
  | StateMessage
  /** Re-read the Corefile and swap it in; `http` is the primary's listeners now. */
  | { readonly t: 'reload'; readonly id: number; readonly http: readonly [string, number][] }
  /** Shut down (lameduck, then up to graceMs for queries in flight) and exit 0. */
  | { readonly t: 'stop'; readonly graceMs: number }
  | { readonly t: 'metrics'; readonly id: number };

/** Worker -> primary. */
export type ToPrimary =
  | { readonly t: 'listening' }
  | { readonly t: 'start-failed'; readonly message: string }
  | { readonly t: 'subscribe'; readonly sub: number; readonly key: string }
  | { readonly t: 'unsubscribe'; readonly sub: number }
  | { readonly t: 'reloaded'; readonly id: number; readonly error: string | null }
  | { readonly t: 'metrics'; readonly id: number; readonly metrics: MetricsJson | null; readonly error: string | null }
  | { readonly t: 'fatal'; readonly message: string };

/** Where the hub sends one worker its cluster state. */
export interface StatePeer {
  send(msg: StateMessage): void;
}

/** True for a message of this protocol (the channel also carries node:cluster's own). */
export function isProtocolMessage(m: unknown): m is { t: string } {
  return typeof m === 'object' && m !== null && typeof (m as { t?: unknown }).t === 'string';
}
