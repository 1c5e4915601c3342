/**
 * @module errors/to-error.test
 * Caught values that are not Errors still give a readable message.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { errorMessage, toError } from './to-error.ts';

test('an Error passes through; anything else becomes an Error with its text', () => {
  const e = new RangeError('boom');
  assert.equal(toError(e), e);
  assert.equal(toError('plain string').message, 'plain string');
  assert.ok(toError(42) instanceof Error);
  assert.equal(errorMessage(e), 'boom');
  assert.equal(errorMessage({ toString: () => 'odd thing' }), 'odd thing');
  assert.equal(errorMessage(undefined), 'undefined');
});
