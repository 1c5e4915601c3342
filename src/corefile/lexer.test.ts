/**
 * @module corefile/lexer.test
 * Tokenizer details: kinds, quoting, comments, line numbers and env references.
 */

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { substituteEnv, tokenize } from './lexer.ts';

const brief = (text: string, env = {}) => tokenize(text, 'F', env).map((t) => [t.kind, t.text, t.line, t.endLine]);

test('words, braces and line numbers', () => {
  assert.deepEqual(brief('a b {\n  c\n}'), [
    ['word', 'a', 1, 1],
    ['word', 'b', 1, 1],
    ['open', '{', 1, 1],
    ['word', 'c', 2, 2],
    ['close', '}', 3, 3],
  ]);
  assert.deepEqual(brief('x{ }y {}'), [
    ['word', 'x{', 1, 1],
    ['word', '}y', 1, 1],
    ['open', '{', 1, 1],
    ['close', '}', 1, 1],
  ]);
});

test('comments end tokens and run to end of line, but not inside quotes', () => {
  assert.deepEqual(brief('a#b c\n"#d" `#e` # f\ng'), [
    ['word', 'a', 1, 1],
    ['word', '#d', 2, 2],
    ['word', '#e', 2, 2],
    ['word', 'g', 3, 3],
  ]);
});

test('quoted strings: spaces, newlines, escapes, adjacent text', () => {
  assert.deepEqual(brief('"a b\nc" d'), [
    ['word', 'a b\nc', 1, 2],
    ['word', 'd', 2, 2],
  ]);
  assert.deepEqual(brief('"say \\"hi\\"" "back\\slash"'), [
    ['word', 'say "hi"', 1, 1],
    ['word', 'back\\slash', 1, 1],
  ]);
  assert.deepEqual(brief('`raw \\" {$X}`', { X: 'no' }), [['word', 'raw \\" {$X}', 1, 1]]);
  assert.deepEqual(brief('"a"b mid"dle"'), [
    ['word', 'a', 1, 1],
    ['word', 'b', 1, 1],
    ['word', 'mid"dle"', 1, 1],
  ]);
  assert.equal(tokenize('"{"', 'F', {})[0]!.kind, 'word');
  assert.equal(tokenize('"{"', 'F', {})[0]!.quoted, true);
  assert.throws(() => tokenize('a\n`open', 'F', {}), { name: 'CorefileError', message: 'F:2: unterminated quoted string' });
});

test('byte order mark is skipped', () => {
  assert.deepEqual(brief('\uFEFFa'), [['word', 'a', 1, 1]]);
});

test('substituteEnv', () => {
  const env = { A: 'one', B: 'two', EMPTY: '' };
  assert.equal(substituteEnv('{$A}', env), 'one');
  assert.equal(substituteEnv('x{$A}y{%B%}z', env), 'xoneytwoz');
  assert.equal(substituteEnv('{$NOPE}|{%NOPE%}|{$EMPTY}', env), '||');
  assert.equal(substituteEnv('{$}{%%}{A}{$A', env), '{$}{%%}{A}{$A');
  assert.equal(substituteEnv('{$A}', { A: '{$A}' }), '{$A}'); // one pass, no recursion
});
