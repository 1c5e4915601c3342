/**
 * @module plugins/etcd/tree.test
 * The in-memory tree finds exactly what CoreDNS finds in etcd: a reference
 * written the way CoreDNS reads etcd (a prefix read of "key/", else a read
 * of "key"; with a wildcard, a read above it and the label-by-label filter
 * of loopNodes) over a sorted key list, compared with the tree on 2,000
 * seeded random key sets and names, after puts and deletes.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HostKind, SkyService } from './service.ts';
import { ServiceTree } from './tree.ts';

const P = '/skydns';

function svc(key: string): SkyService {
  return new SkyService(key, '10.0.0.1', HostKind.A, 0, 10, 0, '', false, 0, 0, '');
}

/** CoreDNS's Records over a plain key list (etcd returns keys sorted). */
function reference(keys: readonly string[], segs: readonly string[], exact: boolean): string[] | null {
  const star = segs.findIndex((s) => s === '*' || s === 'any');
  const path = `${P}/${(star < 0 ? segs : segs.slice(0, star)).join('/')}`.replace(/\/$/, '');
  const sorted = [...keys].sort();
  let found: string[];
  if (exact) found = sorted.filter((k) => k === path);
  else {
    found = sorted.filter((k) => k.startsWith(`${path}/`));
    if (found.length === 0) found = sorted.filter((k) => k === path);
  }
  if (found.length === 0) return null;
  if (star < 0) return found;
  const nameParts = [...P.split('/'), ...segs];
  return found.filter((k) => {
    const kp = k.split('/');
    for (let i = 0; i < nameParts.length; i++) {
      if (i > kp.length - 1) return false;
      const n = nameParts[i]!;
      if (n === '*' || n === 'any') continue;
      if (kp[i] !== n) return false;
    }
    return true;
  });
}

/** A small seeded PRNG (mulberry32), so failures reproduce. */
function rng(seed: number): () => number {
  let a = seed;
  return () => {
    a |= 0; a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

test('tree.find equals CoreDNS\'s etcd reads on random keys, names and wildcards', () => {
  const labels = ['com', 'a', 'b', 'x', ''];
  for (let round = 0; round < 2000; round++) {
    const r = rng(round + 1);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
    const tree = new ServiceTree(P);
    const keys = new Set<string>();
    const n = 1 + Math.floor(r() * 8);
    for (let i = 0; i < n; i++) {
      const depth = 1 + Math.floor(r() * 4);
      const segs = Array.from({ length: depth }, (_, d) => (d === depth - 1 ? pick(labels) : pick(labels.slice(0, 4))));
      const key = `${P}/${segs.join('/')}`;
      keys.add(key);
      tree.set(svc(key));
    }
    // Some deletes, so pruning is exercised too.
    for (const k of [...keys]) if (r() < 0.2) { keys.delete(k); assert.ok(tree.delete(k)); }
    assert.equal(tree.size, keys.size);
    for (let q = 0; q < 5; q++) {
      const depth = Math.floor(r() * 4);
      const segs = Array.from({ length: depth }, () => pick(['com', 'a', 'b', 'x', '*', 'any']));
      const exact = r() < 0.3;
      const got = tree.find(segs, exact)?.map((s) => s.key) ?? null;
      assert.deepEqual(got, reference([...keys], segs, exact), `round ${round}: keys ${JSON.stringify([...keys])} name ${segs.join('/')} exact ${exact}`);
    }
  }
});
