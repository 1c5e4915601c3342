/**
 * @module dns/name.test
 * Reading names off the wire (compression rules, limits) and turning
 * presentation names into labels and wire bytes.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  canonicalName, encodeName, isSubdomain, labelCount, lastPlainHash, nameToLabels, NameError, plainNameIs, plainNameUnder,
  plainTextHash, readName, scanPlainName, zoneSuffix,
} from './name.ts';

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

// ---- plain names matched in place (the hot path's question name, its text never built) ----

/** A label of plain bytes (letters, digits, '-', '_') in any case. */
const plainLabel = fc.stringMatching(/^[A-Za-z0-9_-]{1,12}$/);
const plainName = fc.array(plainLabel, { minLength: 1, maxLength: 5 }).map((ls) => `${ls.join('.')}.`);

test('scanPlainName: the end, and the hash plainTextHash gives the canonical text, for any plain name in any case', () => {
  fc.assert(fc.property(plainName, (name) => {
    const wire = encodeName(name);
    const msg = new Uint8Array([...new Uint8Array(12), ...wire, 0, 1, 0, 1]);
    assert.equal(scanPlainName(msg, 12), 12 + wire.length);
    assert.equal(lastPlainHash(), plainTextHash(canonicalName(name)));
    assert.equal(readName(msg, 12).name, canonicalName(name), 'the text it stands for');
  }));
});

test('scanPlainName: -1 for what only readNameText reads or rejects', () => {
  const at12 = (bytes: number[]) => new Uint8Array([...new Uint8Array(12), ...bytes]);
  assert.equal(scanPlainName(at12([0]), 12), -1, 'the root');
  assert.equal(scanPlainName(at12([3, 0x61, 0x2e, 0x62, 0]), 12), -1, 'a dot inside a label (escaped in the text)');
  assert.equal(scanPlainName(at12([3, 0x61, 0x20, 0x62, 0]), 12), -1, 'a space');
  assert.equal(scanPlainName(at12([1, 0x61, 0xc0, 12]), 12), -1, 'a compression pointer');
  assert.equal(scanPlainName(at12([5, 0x61, 0x62]), 12), -1, 'a label past the end');
  assert.equal(scanPlainName(at12([1, 0x61]), 12), -1, 'no terminating zero');
  const long = [];
  for (let i = 0; i < 5; i++) long.push(63, ...new Array<number>(63).fill(0x61));
  assert.equal(scanPlainName(at12([...long, 0]), 12), -1, 'over 255 octets');
  assert.equal(plainTextHash('a\\.b.'), -1, 'an escaped name has no plain hash');
  assert.equal(plainTextHash('.'), -1);
  assert.equal(plainTextHash('Upper.'), -1, 'not canonical');
});

test('plainNameIs and plainNameUnder agree with comparing the text and isSubdomain', () => {
  const zone = fc.oneof(
    fc.constant('.'),
    plainName.map(canonicalName),
    fc.constantFrom('b.', 'a.b.', 'svc.cluster.local.', 'a\\.b.', 'b\\000.'),
  );
  fc.assert(fc.property(plainName, zone, fc.boolean(), (name, z, suffix) => {
    // Often build the name inside the zone, so both answers are seen.
    const asked = suffix && z !== '.' ? `${name}${z}` : name;
    const wire = encodeName(asked);
    const msg = new Uint8Array([...new Uint8Array(12), ...wire]);
    const end = scanPlainName(msg, 12);
    if (end < 0) return; // a zone with escapes makes the name not plain
    const text = canonicalName(asked);
    assert.equal(plainNameUnder(msg, 12, end, z), isSubdomain(text, z), `${asked} under ${z}`);
    assert.equal(plainNameIs(msg, 12, end, z), text === z, `${asked} is ${z}`);
    assert.equal(plainNameIs(msg, 12, end, text), true);
  }), { numRuns: 2000 });
});
