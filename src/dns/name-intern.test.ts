/**
 * @module dns/name-intern.test
 * The question-name intern table (readQuestionName in dns/name.ts): it must
 * return exactly what readNameText builds, for any name and any case of it,
 * report malformed names the same way, find a name again without building
 * it, and empty itself at its bound.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { lastNameEnd, lastNameFailure, nameInternStats, readNameText, readQuestionName } from './name.ts';

/** A 12-byte header followed by the name's labels (raw bytes) and the root. */
function question(labels: readonly (string | ArrayLike<number>)[]): Uint8Array {
  const bytes: number[] = new Array<number>(12).fill(0);
  for (const l of labels) {
    const b = typeof l === 'string' ? [...Buffer.from(l, 'latin1')] : Array.from(l);
    bytes.push(b.length, ...b);
  }
  bytes.push(0, 0, 1, 0, 1); // root, QTYPE A, QCLASS IN
  return Uint8Array.from(bytes);
}

/** readQuestionName and readNameText on the same message: name, end offset, failure reason. */
function both(m: Uint8Array): [interned: [string, number, string], built: [string, number, string]] {
  const a = readQuestionName(m, 12);
  const interned: [string, number, string] = [a, a === '' ? -1 : lastNameEnd(), a === '' ? lastNameFailure() : ''];
  const b = readNameText(m, 12);
  const built: [string, number, string] = [b, b === '' ? -1 : lastNameEnd(), b === '' ? lastNameFailure() : ''];
  return [interned, built];
}

test('readQuestionName: mixed case gives the lower-case name, one entry for every case of it', () => {
  const lower = question(['www', 'example', 'org']);
  const mixed = question(['WwW', 'ExAmple', 'ORG']);
  assert.deepEqual(readQuestionName(lower, 12), 'www.example.org.');
  const hits = nameInternStats().hits;
  assert.equal(readQuestionName(mixed, 12), 'www.example.org.');
  assert.equal(readQuestionName(question(['WWW', 'EXAMPLE', 'ORG']), 12), 'www.example.org.');
  assert.equal(nameInternStats().hits, hits + 2, 'both other cases found the lower-case entry');
  const [interned, built] = both(mixed);
  assert.deepEqual(interned, built);
});

test('readQuestionName: escaped dots, backslashes and binary bytes read as readNameText reads them', () => {
  const cases: (string | readonly number[])[][] = [
    ['a.b', 'c'], // a dot inside a label
    ['back\\slash', 'x'],
    [[0x00, 0x20, 0x7f, 0xff], 'bin'],
    [[0x41, 0xc1, 0x5a], 'UPPER'], // 0xc1 is not a letter: kept, escaped, not lowered
    ['a', 'b.'], ['a.', 'b'], // different names whose dots would collide without escapes
  ];
  const seen = new Set<string>();
  for (const labels of cases) {
    const m = question(labels);
    for (let round = 0; round < 2; round++) { // built, then found in the table
      const [interned, built] = both(m);
      assert.deepEqual(interned, built, JSON.stringify(labels));
    }
    seen.add(readQuestionName(m, 12));
  }
  assert.equal(seen.size, cases.length, 'each name its own entry');
  assert.equal(readQuestionName(question(['a.b', 'c']), 12), 'a\\046b.c.');
});

test('readQuestionName: the root is ".", a malformed name is "" with the same reason as readNameText', () => {
  assert.equal(readQuestionName(question([]), 12), '.');
  assert.equal(lastNameEnd(), 13);
  const selfPointer = Uint8Array.from([...new Array<number>(12).fill(0), 0xc0, 12, 0, 1, 0, 1]);
  const cut = question(['abc']).subarray(0, 15);
  const badType = Uint8Array.from([...new Array<number>(12).fill(0), 0x40, 0x78, 0, 0, 1, 0, 1]);
  for (const m of [selfPointer, cut, badType]) {
    const [interned, built] = both(m);
    assert.equal(interned[0], '');
    assert.deepEqual(interned, built);
  }
});

test('readQuestionName: the table empties itself once it holds its limit of names', () => {
  const before = nameInternStats();
  const first = question(['first', 'bound', 'test']);
  assert.equal(readQuestionName(first, 12), 'first.bound.test.');
  // Distinct names until the table has been emptied once (at most its limit, plus one).
  let i = 0;
  while (nameInternStats().clears === before.clears) {
    const m = question([`n${i}`, 'bound', 'test']);
    assert.equal(readQuestionName(m, 12), `n${i}.bound.test.`);
    i++;
    assert.ok(i <= before.limit + 1, 'emptied by the time the limit is passed');
  }
  const after = nameInternStats();
  assert.equal(after.names, 1, 'only the name that found it full is in the emptied table');
  assert.ok(after.displaced > before.displaced, 'near its limit some names found every probed slot taken (bounded probes)');
  // The first name was dropped with the rest: reading it builds it again (a miss), then it is found.
  const hits = after.hits;
  assert.equal(readQuestionName(first, 12), 'first.bound.test.');
  assert.equal(nameInternStats().hits, hits, 'a miss after the table was emptied');
  assert.equal(readQuestionName(first, 12), 'first.bound.test.');
  assert.equal(nameInternStats().hits, hits + 1);
  assert.equal(nameInternStats().names, 2);
});

/** A label of arbitrary bytes, with upper-case letters likely (so case folding is exercised). */
const label = fc.oneof(
  fc.uint8Array({ minLength: 1, maxLength: 63 }),
  fc.stringMatching(/^[A-Za-z0-9_-]{1,20}$/).map((s) => Uint8Array.from(Buffer.from(s, 'latin1'))),
);
/** Labels whose wire form fits in 255 octets. */
const wireName = fc.array(label, { maxLength: 8 }).filter((ls) => ls.reduce((n, l) => n + l.length + 1, 1) <= 255);

/** The same labels with every ASCII letter's case flipped by `flips` (bit i: byte i). */
function recased(labels: readonly Uint8Array[], flips: number): Uint8Array[] {
  let bit = 0;
  return labels.map((l) => l.map((c) => {
    const isLetter = (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a);
    return isLetter && ((flips >>> (bit++ % 31)) & 1) === 1 ? c ^ 0x20 : c;
  }));
}

test('property: interning returns exactly what readNameText builds, for any wire name and any case of it', () => {
  fc.assert(fc.property(wireName, fc.integer({ min: 0, max: 0x7fffffff }), (labels, flips) => {
    const m = question(labels);
    const [first, built] = both(m);
    assert.deepEqual(first, built);
    const [again] = both(m);
    assert.deepEqual(again, built, 'the interned string is the built one');
    const [otherCase, otherBuilt] = both(question(recased(labels, flips)));
    assert.deepEqual(otherCase, otherBuilt);
    assert.equal(otherCase[0], built[0], 'case does not change the name');
  }), { numRuns: 2000 });
});
