/**
 * @module diagnostics/channels
 * The server's `node:diagnostics_channel` events, for tracing and debugging
 * tools that subscribe in-process (`diagnostics_channel.subscribe(name, fn)`).
 * Zero cost when nobody listens: every publisher checks `hasSubscribers`
 * before it builds a message. Messages hold live objects (the request, the
 * reply): a subscriber reads them synchronously and must not change them.
 * docs/architecture.md lists the events.
 */
import diagnostics from 'node:diagnostics_channel';
import type { ClusterKind } from '../cluster/types.ts';
import type { DnsRequest } from '../dns/request.ts';
import type { Reply } from '../dns/reply.ts';

/** `clusterdns:query`: a reply was sent (after the socket write, before the observers such as `log`). */
export interface QueryMessage {
  readonly request: DnsRequest;
  readonly reply: Reply;
  /** Bytes of the reply as sent. */
  readonly size: number;
}

/** `clusterdns:reload`: a reload attempt ended (poll, SIGUSR1 or a worker told by its primary). */
export interface ReloadMessage {
  /** `reloaded`: the new configuration serves; `unchanged`: same content, nothing done; `failed`: the old one keeps serving. */
  readonly outcome: 'reloaded' | 'unchanged' | 'failed';
  /** SHA-512 of the configuration serving after the attempt. */
  readonly hash: string;
  /** Why it failed (outcome `failed`). */
  readonly error?: Error;
}

/** `clusterdns:sync`: a cluster-state store has a complete list of one kind (first sync, or a re-list). */
export interface SyncMessage {
  readonly kind: ClusterKind;
  /** Objects of that kind held after the list. */
  readonly objects: number;
}

export const queryChannel = diagnostics.channel('clusterdns:query');
export const reloadChannel = diagnostics.channel('clusterdns:reload');
export const syncChannel = diagnostics.channel('clusterdns:sync');

// Typed publishers. Callers check the channel's hasSubscribers first, so no message is built for nobody:
//   if (queryChannel.hasSubscribers) publishQuery({ request, reply, size });

export function publishQuery(m: QueryMessage): void {
  queryChannel.publish(m);
}

export function publishReload(m: ReloadMessage): void {
  reloadChannel.publish(m);
}

export function publishSync(m: SyncMessage): void {
  syncChannel.publish(m);
}
