/**
 * @module server/workers/state-relay
 * A worker's side of shared cluster state: the kubernetes plugin's source is
 * replaced by a relay of the primary's (same key), so a worker opens no
 * watch and reads no manifest. Starting the relay subscribes; the snapshot
 * is applied with one `replace` once all its parts are in (a query sees the
 * old state or the new, never half), changes with `apply`, one message's
 * worth in one synchronous step, and "synced" as it comes.
 */
import type { ClusterKind, ClusterRecord, ClusterStateSink, ClusterStateSource } from '../../cluster/types.ts';
import type { SourceSharing } from '../../plugin/process-services.ts';
import type { StateMessage, ToPrimary } from './messages.ts';

interface Receiver {
  readonly sink: ClusterStateSink;
  /** Snapshot being received: its kinds and the parts so far. */
  kinds: readonly ClusterKind[] | null;
  parts: ClusterRecord[];
}

class RelayedSource implements ClusterStateSource {
  readonly kinds: readonly ClusterKind[];
  readonly #relay: StateRelay;
  readonly #key: string;
  #sub = -1;

  constructor(relay: StateRelay, key: string, kinds: readonly ClusterKind[]) {
    this.#relay = relay;
    this.#key = key;
    this.kinds = kinds;
  }

  start(sink: ClusterStateSink): void {
    if (this.#sub < 0) this.#sub = this.#relay.subscribe(this.#key, sink);
  }

  stop(): void {
    if (this.#sub >= 0) this.#relay.unsubscribe(this.#sub);
    this.#sub = -1;
  }
}

/** The worker's SourceSharing: every source becomes a relay of the primary's. */
export class StateRelay implements SourceSharing {
  readonly #send: (msg: ToPrimary) => void;
  readonly #receivers = new Map<number, Receiver>();
  #nextSub = 1;

  constructor(send: (msg: ToPrimary) => void) {
    this.#send = send;
  }

  /** The source is never made here (no API client, no manifest read): its kinds are all the relay needs. */
  share(key: string, kinds: readonly ClusterKind[], _make: () => Promise<ClusterStateSource>): Promise<ClusterStateSource> {
    return Promise.resolve(new RelayedSource(this, key, kinds));
  }

  /** @internal */
  subscribe(key: string, sink: ClusterStateSink): number {
    const sub = this.#nextSub++;
    this.#receivers.set(sub, { sink, kinds: null, parts: [] });
    this.#send({ t: 'subscribe', sub, key });
    return sub;
  }

  /** @internal */
  unsubscribe(sub: number): void {
    if (this.#receivers.delete(sub)) this.#send({ t: 'unsubscribe', sub });
  }

  /** A state message from the primary; ones for subscriptions already stopped are dropped. */
  receive(msg: StateMessage): void {
    const r = this.#receivers.get(msg.sub);
    if (r === undefined) return;
    switch (msg.op) {
      case 'begin':
        r.kinds = msg.kinds;
        r.parts = [];
        break;
      case 'part':
        for (const o of msg.objects) r.parts.push(o);
        break;
      case 'end': {
        const kinds = r.kinds ?? [];
        const objects = r.parts;
        r.kinds = null;
        r.parts = [];
        r.sink.replace(kinds, objects);
        break;
      }
      case 'events':
        for (const e of msg.events) r.sink.apply(e);
        break;
      case 'synced':
        r.sink.markSynced(msg.kind);
        break;
    }
  }

  /** Subscriptions open now (tests). */
  get subscriptions(): number {
    return this.#receivers.size;
  }
}
