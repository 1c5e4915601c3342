/**
 * @module plugins/etcd/tree
 * The services of one etcd prefix as a tree of key segments (TLD first), so
 * a query reads a key's whole subtree from memory the way CoreDNS reads it
 * from etcd: every service strictly below the name's key; when there is
 * none, the service at the key itself; wildcard labels (`*`, `any`) match
 * any segment. Results come in key order, as etcd returns them.
 */
import { keySegments, type SkyService } from './service.ts';

class Node {
  /** The service stored at exactly this key. */
  own: SkyService | null = null;
  children: Map<string, Node> | null = null;
  /** Services in this node's subtree, own included. */
  count = 0;
}

function isWildcard(label: string): boolean {
  return label === '*' || label === 'any';
}

function byKey(a: SkyService, b: SkyService): number {
  return a.key < b.key ? -1 : a.key > b.key ? 1 : 0;
}

export class ServiceTree {
  readonly #prefix: string;
  #root = new Node();

  constructor(prefix: string) {
    this.#prefix = prefix;
  }

  get size(): number {
    return this.#root.count;
  }

  clear(): void {
    this.#root = new Node();
  }

  /** Stores a service at its key (replacing the one there); false when the key is outside the prefix. */
  set(s: SkyService): boolean {
    const segs = keySegments(s.key, this.#prefix);
    if (segs === null) return false;
    const path: Node[] = [this.#root];
    let n = this.#root;
    for (const seg of segs) {
      n.children ??= new Map();
      let c = n.children.get(seg);
      if (!c) n.children.set(seg, (c = new Node()));
      n = c;
      path.push(n);
    }
    const added = n.own === null ? 1 : 0;
    n.own = s;
    if (added) for (const p of path) p.count++;
    return true;
  }

  /** Removes the service at a key; returns it, or null when there was none. */
  delete(key: string): SkyService | null {
    const segs = keySegments(key, this.#prefix);
    if (segs === null) return null;
    const path: Node[] = [this.#root];
    let n: Node | undefined = this.#root;
    for (const seg of segs) {
      n = n.children?.get(seg);
      if (!n) return null;
      path.push(n);
    }
    const old = n.own;
    if (old === null) return null;
    n.own = null;
    for (const p of path) p.count--;
    // Prune empty branches so deleted names stop existing (NXDOMAIN, not NODATA).
    for (let i = path.length - 1; i > 0; i--) {
      if (path[i]!.count > 0) break;
      path[i - 1]!.children!.delete(segs[i - 1]!);
    }
    return old;
  }

  /** The service stored at exactly this key. */
  get(key: string): SkyService | null {
    const segs = keySegments(key, this.#prefix);
    if (segs === null) return null;
    let n: Node | undefined = this.#root;
    for (const seg of segs) { n = n.children?.get(seg); if (!n) return null; }
    return n.own;
  }

  /**
   * What CoreDNS's Records finds for a name given as key segments (TLD
   * first): with `exact`, the key itself only; else its subtree. null when
   * nothing is there (the name does not exist).
   */
  find(segs: readonly string[], exact: boolean): SkyService[] | null {
    const star = segs.findIndex(isWildcard);
    if (star < 0) {
      const n = this.#walk(segs);
      if (!n) return null;
      if (exact) return n.own ? [n.own] : null;
      return this.#subtreeOrOwn(n);
    }
    // CoreDNS reads the subtree above the first wildcard and keeps the keys that match label by label
    // (keys longer than the name match too); walking only the matching branches finds the same keys.
    const base = this.#walk(segs.slice(0, star));
    if (!base) return null;
    // An exact read gets the base key alone, which is shorter than the name: found, but no match.
    if (exact) return base.own ? [] : null;
    const out: SkyService[] = [];
    // Nothing below the base: only the base key itself (shorter than the name, so no match), or nothing at all.
    if (base.count - (base.own ? 1 : 0) === 0) return base.own ? out : null;
    const visit = (n: Node, depth: number): void => {
      if (depth === segs.length) {
        if (n.own) out.push(n.own);
        this.#collect(n, out);
        return;
      }
      if (!n.children) return;
      const label = segs[depth]!;
      if (isWildcard(label)) for (const c of n.children.values()) visit(c, depth + 1);
      else { const c = n.children.get(label); if (c) visit(c, depth + 1); }
    };
    visit(base, star);
    // etcd had keys under the prefix, so CoreDNS reports no name error even when none matched.
    return out.sort(byKey);
  }

  /** Every service strictly below `n`. */
  #collect(n: Node, out: SkyService[]): void {
    if (n.children) for (const c of n.children.values()) { if (c.own) out.push(c.own); this.#collect(c, out); }
  }

  #walk(segs: readonly string[]): Node | null {
    let n: Node | undefined = this.#root;
    for (const seg of segs) { n = n.children?.get(seg); if (!n) return null; }
    return n;
  }

  /** Everything strictly below `n` (a prefix read of "key/"); when that is empty, n's own service (a read of "key"). */
  #subtreeOrOwn(n: Node): SkyService[] | null {
    const below = n.count - (n.own ? 1 : 0);
    if (below === 0) return n.own ? [n.own] : null;
    const out: SkyService[] = [];
    this.#collect(n, out);
    return out.sort(byKey);
  }
}
