/**
 * @module dns/name.test
 * Reading names off the wire (compression rules, limits) and turning
 * presentation names into labels and wire bytes.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { canonicalName, encodeName, isSubdomain, labelCount, nameToLabels, NameError, readName, zoneSuffix } from './name.ts';

/** A 12-byte header followed by `body`. */
function msg(...body: (number | string)[]): Uint8Array {
  const parts = body.flatMap((b) => typeof b === 'number' ? [b] : [...Buffer.from(b, 'latin1')]);
  return Uint8Array.from([...new Array(12).fill(0), ...parts]);
}

const readable: [what: string, m: Uint8Array, at: number, name: string, end: number][] = [
  ['plain, lower-cased', msg(3, 'WwW', 7, 'Example', 0), 12, 'www.example.', 25],
  ['root', msg(0), 12, '.', 13],
  ['pointer back to an earlier name', msg(7, 'example', 0, 3, 'www', 0xc0, 12), 21, 'www.example.', 27],
  ['pointers in a chain', msg(1, 'a', 0, 1, 'b', 0xc0, 12, 1, 'c', 0xc0, 15), 19, 'c.b.a.', 23],
  ['dot and backslash escaped', msg(3, 'a.b', 2, 'c\\', 0), 12, 'a\\046b.c\\092.', 20],
  ['non-printable escaped', msg(2, 0x00, 0x20, 0), 12, '\\000\\032.', 16],
];
for (const [what, m, at, name, end] of readable) {
  test(`readName: ${what}`, () => {
    assert.deepEqual(readName(m, at), { name, end });
  });
}

const unreadable: [what: string, m: Uint8Array, at: number][] = [
  ['pointer to itself', msg(0xc0, 12), 12],
  ['pointer forward', msg(0xc0, 14, 0, 0), 12],
  ['pointer loop between two names', msg(1, 'a', 0xc0, 16, 1, 'b', 0xc0, 12), 16],
  ['pointer into the header', msg(0xc0, 2), 12],
  ['pointer out of bounds', msg(0xff, 0xff), 12],
  ['truncated pointer', msg(1, 'a', 0xc0), 12],
  ['label type 0x40', msg(0x40, 'x', 0), 12],
  ['label type 0x80', msg(0x80, 0), 12],
  ['label past the end', msg(5, 'ab'), 12],
  ['no terminating zero', msg(1, 'a'), 12],
  ['256 octets', msg(...Array.from({ length: 4 }, (_, i) => [63, (i === 3 ? 'z' : 'y').repeat(i === 3 ? 62 : 63)]).flat(), 0), 12],
];
for (const [what, m, at] of unreadable) {
  test(`readName rejects: ${what}`, () => {
    assert.throws(() => readName(m, at), NameError);
  });
}

test('readName accepts exactly 255 octets', () => {
  const m = msg(...Array.from({ length: 4 }, (_, i) => [i === 3 ? 61 : 63, 'y'.repeat(i === 3 ? 61 : 63)]).flat(), 0);
  assert.equal(readName(m, 12).end, 12 + 255);
});

test('nameToLabels: plain names (fast path) and escaped ones agree with encodeName', () => {
  const cases: [string, string[]][] = [
    ['.', []], ['', []], ['a.', ['a']], ['a', ['a']], ['www.example.org.', ['www', 'example', 'org']],
    ['a\\.b.c.', ['a.b', 'c']], ['a\\046b.', ['a.b']], ['\\000x.', ['\u0000x']], ['a..b.', ['a', '', 'b']],
  ];
  for (const [name, labels] of cases) {
    assert.deepEqual(nameToLabels(name).map((l) => Buffer.from(l).toString('latin1')), labels, name);
  }
  assert.deepEqual([...encodeName('A.b.')], [1, 0x41, 1, 0x62, 0]);
  assert.throws(() => encodeName(`${'x'.repeat(64)}.`), NameError);
  assert.throws(() => encodeName('a..b.'), NameError);
});

test('canonicalName, isSubdomain, labelCount', () => {
  assert.equal(canonicalName('Foo.Bar'), 'foo.bar.');
  assert.equal(canonicalName(''), '.');
  assert.ok(isSubdomain('a.example.org.', 'example.org.'));
  assert.ok(isSubdomain('example.org.', 'example.org.'));
  assert.ok(!isSubdomain('notexample.org.', 'example.org.'));
  assert.ok(isSubdomain('anything.', '.'));
  assert.deepEqual(['.', 'a.', 'a.b.c.'].map(labelCount), [0, 1, 3]);
});

test('zoneSuffix joins a label to a zone without doubling the root dot', () => {
  assert.equal(`a.${zoneSuffix('cluster.local.')}`, 'a.cluster.local.');
  assert.equal(`a.${zoneSuffix('.')}`, 'a.');
});
