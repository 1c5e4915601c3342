/**
 * @module dns/plain-name-table.test
 * Values found by the hash of the question name: found and adopted in any
 * case, a definite miss without the text, and names sharing a hash sent to
 * their text for as long as more than one of them may be stored.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BY_TEXT, PlainNameTable } from './plain-name-table.ts';
import { collidingNames, countNameReads, lazyRequest } from '../../test/support/plain-names.ts';

const table = () => new PlainNameTable<{ name: string }>((v) => v.name);

test('a stored name is found by the name as asked, in any case, and its string becomes the request\'s', () => {
  const t = table();
  const web = { name: 'web.example.' };
  t.add(web.name, web);
  const req = lazyRequest('WEB.Example.');
  const reads = countNameReads(req);
  assert.equal(t.find(req), web);
  assert.equal(reads.count, 0, 'no text built');
  assert.equal(req.nameHash, -1, 'adopted');
  assert.equal(req.qname, 'web.example.');
  const other = lazyRequest('other.example.');
  const otherReads = countNameReads(other);
  assert.equal(t.find(other), undefined, 'a name not stored: a miss, without its text');
  assert.equal(otherReads.count, 0);
  const v2 = { name: 'web.example.' };
  t.replace(v2.name, v2);
  assert.equal(t.find(lazyRequest('web.example.')), v2);
  t.remove('web.example.');
  assert.equal(t.find(lazyRequest('web.example.')), undefined);
});

test('names sharing a hash are looked up by their text until none of them is left', () => {
  const t = table();
  const [one, two] = collidingNames('example.');
  t.add(one, { name: one });
  t.add(two, { name: two });
  assert.equal(t.find(lazyRequest(one)), BY_TEXT);
  assert.equal(t.find(lazyRequest(two)), BY_TEXT);
  t.remove(one);
  assert.equal(t.find(lazyRequest(two)), BY_TEXT, 'which of the two is left is not known');
  t.remove(two);
  assert.equal(t.find(lazyRequest(two)), undefined);
  const eager = lazyRequest('web.example.');
  void eager.qname;
  assert.equal(t.find(eager), BY_TEXT, 'a request whose text is built is looked up by it');
  t.add('a\\.b.example.', { name: 'a\\.b.example.' });
  assert.equal(t.find(lazyRequest('example.')), undefined, 'a name that is not plain is not counted');
});
