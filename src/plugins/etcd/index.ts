/**
 * @module plugins/etcd/index
 * The plugin's in-memory copy of its etcd prefix, fed by the prefix
 * watcher: every value parsed once into a compact service in the tree. A
 * value that does not parse is logged with its key, counted (`onBadValue`,
 * coredns_etcd_bad_values_total) and skipped; the key's previous good
 * service (if any) stays, so a bad write never removes a name. Each change
 * bumps `generation`, which drops the answer cache.
 */
import type { EtcdKv, PrefixEvents } from '../../cluster/etcd/prefix-watcher.ts';
import type { Logger } from '../../log/logger.ts';
import { parseService } from './service.ts';
import { ServiceTree } from './tree.ts';
import { errorMessage } from '../../errors/to-error.ts';

export class EtcdIndex implements PrefixEvents {
  readonly prefix: string;
  tree: ServiceTree;
  readonly #log: Logger;
  readonly #now: () => number;
  readonly #onBadValue: (key: string) => void;
  /** Bumped on every change (answers cached under an older one are stale). */
  generation = 0;
  /** SOA serial: Unix seconds of the last change. */
  serial: number;
  /** Values rejected so far. */
  invalid = 0;
  /** Revision of the data held. */
  revision = 0;
  /** Keys whose value was last rejected, with that value's revision (reported once; a later good value is announced once). */
  readonly #bad = new Map<string, number>();

  constructor(prefix: string, log: Logger, now: () => number = () => Date.now(), onBadValue: (key: string) => void = () => {}) {
    this.prefix = prefix;
    this.#onBadValue = onBadValue;
    this.tree = new ServiceTree(prefix);
    this.#log = log;
    this.#now = now;
    this.serial = Math.floor(now() / 1000);
  }

  get size(): number {
    return this.tree.size;
  }

  /** Keys whose last value was rejected (coredns_etcd_invalid_values). */
  get badKeys(): number {
    return this.#bad.size;
  }

  onSnapshot(kvs: readonly EtcdKv[], revision: number): void {
    const old = this.tree;
    const next = new ServiceTree(this.prefix);
    for (const kv of kvs) {
      const s = this.#parse(kv);
      if (s) next.set(s);
      else {
        const before = old.get(kv.key);
        if (before) next.set(before);
      }
    }
    this.tree = next;
    this.revision = revision;
    this.#changed();
  }

  onPut(kv: EtcdKv, revision: number): void {
    this.revision = revision;
    const s = this.#parse(kv);
    if (!s) return;
    this.tree.set(s);
    this.#changed();
  }

  onDelete(key: string, revision: number): void {
    this.revision = revision;
    this.#bad.delete(key);
    if (this.tree.delete(key)) this.#changed();
  }

  #parse(kv: EtcdKv): ReturnType<typeof parseService> | null {
    try {
      const s = parseService(kv.key, kv.value);
      if (this.#bad.delete(kv.key)) this.#log.info(`${kv.key}: valid again`);
      return s;
    } catch (e) {
      // A relist hands the same bad value again: it was reported when it was written.
      if (this.#bad.get(kv.key) === kv.modRevision) return null;
      this.invalid++;
      this.#bad.set(kv.key, kv.modRevision);
      const kept = this.tree.get(kv.key) ? 'keeping its previous value' : 'skipped';
      this.#log.warn(`${kv.key}: bad value (${errorMessage(e)}); ${kept}`);
      this.#onBadValue(kv.key);
      return null;
    }
  }

  #changed(): void {
    this.generation++;
    this.serial = Math.max(this.serial + 1, Math.floor(this.#now() / 1000));
  }
}
