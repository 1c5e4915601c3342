/**
 * @module plugins/cache/store.test
 * The cache store: keys (name, type, class, DO/CD) sharing a name, replacing,
 * deleting from the middle of a chain, capacity per kind, and eviction of
 * the oldest entry unless it was hit (second chance).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Class, Type } from '../../dns/constants.ts';
import { Reply } from '../../dns/reply.ts';
import { CacheEntry, CacheStore, KeyFlag, Kind } from './store.ts';
import { collidingNames, countNameReads, lazyRequest } from '../../../test/support/plain-names.ts';

const reply = new Reply({});
const entry = (name: string, type: number = Type.A, flags = 0, kind: Kind = Kind.SUCCESS): CacheEntry =>
  new CacheEntry(name, type, Class.IN, flags, kind, reply, 30, 0);

describe('cache store', () => {
  it('finds a question by its name as asked, in any case; a name not stored misses without its text', () => {
    const s = new CacheStore(10, 10);
    const [one, two] = collidingNames('example.');
    const e1 = entry(one), e1aaaa = entry(one, Type.AAAA), e2 = entry(two), e3 = entry('other.example.');
    for (const e of [e1, e1aaaa, e2, e3]) s.put(e);
    const find = (name: string, type: number = Type.A) => s.find(lazyRequest(name, type), 0);
    assert.equal(find(one.toUpperCase()), e1);
    assert.equal(find(one, Type.AAAA), e1aaaa);
    assert.equal(find(two), e2, 'the second of two names with one hash, found by its text');
    assert.equal(find('OTHER.example.'), e3);
    const unknown = lazyRequest('never.example.');
    const reads = countNameReads(unknown);
    assert.equal(s.find(unknown, 0), null);
    assert.equal(reads.count, 0, 'a miss without building the name');
    s.delete(e1);
    assert.equal(find(one, Type.AAAA), e1aaaa, 'the name is stored while one of its entries is');
    s.delete(e1aaaa);
    assert.equal(find(one), null);
    assert.equal(find(two), e2);
    s.delete(e2);
    assert.equal(find(two), null);
    s.put(entry(two));
    assert.equal(find(two)?.qname, two, 'stored again');
  });

  it('finds entries by the whole key, several per name', () => {
    const s = new CacheStore(10, 10);
    const a = entry('a.example.'), aaaa = entry('a.example.', Type.AAAA), ado = entry('a.example.', Type.A, KeyFlag.DO);
    const acd = entry('a.example.', Type.A, KeyFlag.CD);
    for (const e of [a, aaaa, ado, acd]) s.put(e);
    assert.equal(s.get('a.example.', Type.A, Class.IN, 0), a);
    assert.equal(s.get('a.example.', Type.AAAA, Class.IN, 0), aaaa);
    assert.equal(s.get('a.example.', Type.A, Class.IN, KeyFlag.DO), ado);
    assert.equal(s.get('a.example.', Type.A, Class.IN, KeyFlag.CD), acd);
    assert.equal(s.get('a.example.', Type.A, Class.CH, 0), null);
    assert.equal(s.get('b.example.', Type.A, Class.IN, 0), null);
    assert.equal(s.size(Kind.SUCCESS), 4);
  });

  it('replaces an entry with the same key and deletes from anywhere in a chain', () => {
    const s = new CacheStore(10, 10);
    const first = entry('x.'), mid = entry('x.', Type.MX), last = entry('x.', Type.TXT);
    s.put(first); s.put(mid); s.put(last);
    const again = entry('x.');
    s.put(again);
    assert.equal(s.get('x.', Type.A, Class.IN, 0), again);
    assert.equal(s.size(Kind.SUCCESS), 3);
    s.delete(mid);
    assert.equal(s.get('x.', Type.MX, Class.IN, 0), null);
    assert.equal(s.get('x.', Type.TXT, Class.IN, 0), last);
    s.delete(mid); // twice: no effect
    assert.equal(s.size(Kind.SUCCESS), 2);
    s.delete(again); s.delete(last);
    assert.equal(s.size(Kind.SUCCESS), 0);
    assert.equal(s.get('x.', Type.TXT, Class.IN, 0), null);
  });

  it('bounds each kind by its capacity, evicting the oldest', () => {
    const s = new CacheStore(2, 1);
    assert.equal(s.put(entry('a.')), 0);
    assert.equal(s.put(entry('b.')), 0);
    assert.equal(s.put(entry('n1.', Type.A, 0, Kind.DENIAL)), 0);
    assert.equal(s.put(entry('c.')), 1);
    assert.equal(s.get('a.', Type.A, Class.IN, 0), null);
    assert.ok(s.get('b.', Type.A, Class.IN, 0) && s.get('c.', Type.A, Class.IN, 0));
    assert.equal(s.put(entry('n2.', Type.A, 0, Kind.DENIAL)), 1);
    assert.equal(s.get('n1.', Type.A, Class.IN, 0), null);
    assert.equal(s.size(Kind.SUCCESS), 2);
    assert.equal(s.size(Kind.DENIAL), 1);
  });

  it('gives entries hit since they were stored a second chance', () => {
    const s = new CacheStore(3, 1);
    const a = entry('a.'), b = entry('b.'), c = entry('c.');
    s.put(a); s.put(b); s.put(c);
    a.referenced = true;
    s.put(entry('d.'));
    assert.equal(s.get('a.', Type.A, Class.IN, 0), a, 'hit entry kept');
    assert.equal(s.get('b.', Type.A, Class.IN, 0), null, 'oldest unhit entry evicted');
    assert.equal(a.referenced, false, 'its chance is used up');
    // When every entry was hit, the oldest still goes after the chances run out.
    for (const n of ['a.', 'c.', 'd.']) s.get(n, Type.A, Class.IN, 0)!.referenced = true;
    s.put(entry('e.'));
    assert.equal(s.size(Kind.SUCCESS), 3);
  });
});
