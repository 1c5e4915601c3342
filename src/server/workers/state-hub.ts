/**
 * @module server/workers/state-hub
 * The primary's side of shared cluster state. Each cluster-state source of
 * the primary's configuration (the kubernetes plugin's manifest folder or API
 * watches) runs here once, into a ClusterStore per source key (a "feed"),
 * and never into the primary's own plugin store: the primary serves no DNS,
 * it only passes on "synced" so its readiness follows the source. Workers
 * subscribe by key; a subscriber gets the feed's objects as a snapshot, then
 * the store's real changes (a relist or manifest re-read that changes one
 * object ships one object), in order, on the one IPC channel.
 *
 * A reload of the primary starts the new configuration's source before the
 * old one stops; with the same key both write into the one feed (the store
 * drops equal updates), so the workers' data never goes away in between.
 */
import { ClusterStore } from '../../cluster/store.ts';
import type {
  ClusterKind, ClusterRecord, ClusterStateSink, ClusterStateSource, StoreChange, WatchEvent,
} from '../../cluster/types.ts';
import type { SourceSharing } from '../../plugin/process-services.ts';
import { SNAPSHOT_PART, type StatePeer } from './messages.ts';

interface Subscription {
  readonly peer: StatePeer;
  readonly sub: number;
}

/** One shared source: its store, which kinds have had their first full list, and who follows it. */
class Feed {
  readonly key: string;
  readonly kinds: readonly ClusterKind[];
  readonly store = new ClusterStore();
  readonly synced = new Set<ClusterKind>();
  readonly subscribers = new Set<Subscription>();
  /** Running sources writing into it (two during a reload). */
  refs = 0;
  readonly unsubscribe: () => void;

  constructor(key: string, kinds: readonly ClusterKind[]) {
    this.key = key;
    this.kinds = kinds;
    this.unsubscribe = this.store.subscribe((changes) => this.#broadcast(changes));
  }

  #broadcast(changes: readonly StoreChange[]): void {
    if (this.subscribers.size === 0) return;
    const events: WatchEvent[] = changes.map((c) => (c.current !== null
      ? { type: c.previous === null ? 'ADDED' : 'MODIFIED', object: c.current }
      : { type: 'DELETED', object: c.previous! }));
    for (const s of this.subscribers) s.peer.send({ t: 'state', sub: s.sub, op: 'events', events });
  }

  markSynced(kind: ClusterKind): void {
    if (this.synced.has(kind)) return;
    this.synced.add(kind);
    for (const s of this.subscribers) s.peer.send({ t: 'state', sub: s.sub, op: 'synced', kind });
  }

  /** Sends everything held, then follows: synchronous, so no change can fall between the two. */
  follow(s: Subscription): void {
    s.peer.send({ t: 'state', sub: s.sub, op: 'begin', kinds: this.kinds });
    let part: ClusterRecord[] = [];
    const flush = (): void => {
      if (part.length === 0) return;
      s.peer.send({ t: 'state', sub: s.sub, op: 'part', objects: part });
      part = [];
    };
    const all: Iterable<ClusterRecord>[] = [this.store.namespaces(), this.store.services(), this.store.slices(), this.store.pods()];
    for (const objects of all) {
      for (const o of objects) {
        part.push(o);
        if (part.length >= SNAPSHOT_PART) flush();
      }
    }
    flush();
    s.peer.send({ t: 'state', sub: s.sub, op: 'end' });
    for (const kind of this.synced) s.peer.send({ t: 'state', sub: s.sub, op: 'synced', kind });
    this.subscribers.add(s);
  }
}

/** A source of the primary's configuration: runs the real one into its feed. */
class FeedingSource implements ClusterStateSource {
  readonly kinds: readonly ClusterKind[];
  readonly #hub: StateHub;
  readonly #key: string;
  readonly #inner: ClusterStateSource;
  #feed: Feed | null = null;

  constructor(hub: StateHub, key: string, inner: ClusterStateSource) {
    this.#hub = hub;
    this.#key = key;
    this.#inner = inner;
    this.kinds = inner.kinds;
  }

  start(sink: ClusterStateSink): void {
    if (this.#feed !== null) return;
    const feed = this.#hub.attach(this.#key, this.kinds);
    this.#feed = feed;
    this.#inner.start({
      apply: (e) => { feed.store.apply(e); },
      replace: (kinds, objects) => { feed.store.replace(kinds, objects); },
      held: (o) => feed.store.held(o),
      markSynced: (kind) => { feed.markSynced(kind); sink.markSynced(kind); },
    });
  }

  async stop(): Promise<void> {
    try {
      await this.#inner.stop();
    } finally {
      const feed = this.#feed;
      this.#feed = null;
      if (feed !== null) this.#hub.detach(feed);
    }
  }
}

/** The primary's SourceSharing: sources run once, here; workers subscribe by key. */
export class StateHub implements SourceSharing {
  readonly #feeds = new Map<string, Feed>();
  /** Subscriptions for keys no source runs yet (a worker that read a newer Corefile than the primary). */
  readonly #pending = new Map<string, Subscription[]>();

  async share(key: string, _kinds: readonly ClusterKind[], make: () => Promise<ClusterStateSource>): Promise<ClusterStateSource> {
    return new FeedingSource(this, key, await make());
  }

  /** @internal A source with this key starts. */
  attach(key: string, kinds: readonly ClusterKind[]): Feed {
    let feed = this.#feeds.get(key);
    if (feed === undefined) {
      feed = new Feed(key, kinds);
      this.#feeds.set(key, feed);
      const waiting = this.#pending.get(key);
      this.#pending.delete(key);
      for (const s of waiting ?? []) feed.follow(s);
    }
    feed.refs++;
    return feed;
  }

  /** @internal A source with this feed stopped; the last one takes the feed (and its followers) away. */
  detach(feed: Feed): void {
    if (--feed.refs > 0) return;
    feed.unsubscribe();
    feed.subscribers.clear();
    if (this.#feeds.get(feed.key) === feed) this.#feeds.delete(feed.key);
  }

  /** A worker's configuration wants the source named `key`, as subscription `sub`. */
  subscribe(peer: StatePeer, sub: number, key: string): void {
    const s: Subscription = { peer, sub };
    const feed = this.#feeds.get(key);
    if (feed !== undefined) { feed.follow(s); return; }
    const list = this.#pending.get(key) ?? [];
    list.push(s);
    this.#pending.set(key, list);
  }

  unsubscribe(peer: StatePeer, sub: number): void {
    this.#drop((s) => s.peer === peer && s.sub === sub);
  }

  /** A worker is gone: forget all its subscriptions. */
  dropPeer(peer: StatePeer): void {
    this.#drop((s) => s.peer === peer);
  }

  #drop(match: (s: Subscription) => boolean): void {
    for (const feed of this.#feeds.values()) for (const s of feed.subscribers) if (match(s)) feed.subscribers.delete(s);
    for (const [key, list] of this.#pending) {
      const rest = list.filter((s) => !match(s));
      if (rest.length === 0) this.#pending.delete(key); else this.#pending.set(key, rest);
    }
  }

  /** Feeds running now, by key, with their subscriber counts (tests, diagnostics). */
  feeds(): { key: string; subscribers: number; objects: number }[] {
    return [...this.#feeds.values()].map((f) => ({
      key: f.key, subscribers: f.subscribers.size,
      objects: f.store.count('Namespace') + f.store.count('Service') + f.store.count('EndpointSlice') + f.store.count('Pod'),
    }));
  }
}
