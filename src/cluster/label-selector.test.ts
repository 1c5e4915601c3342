/**
 * @module cluster/label-selector.test
 * Label selector grammar and matching: a table of selectors with labels that
 * must and must not match, and of invalid selectors with their errors.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseLabelSelector } from './label-selector.ts';

type L = Record<string, string>;

const matching: [selector: string, yes: L[], no: L[]][] = [
  ['', [{}, { a: 'b' }], []],
  ['app=web', [{ app: 'web' }, { app: 'web', x: 'y' }], [{}, { app: 'db' }]],
  ['app==web', [{ app: 'web' }], [{ app: 'Web' }]],
  ['app!=web', [{}, { app: 'db' }], [{ app: 'web' }]],
  ['env in (prod, staging)', [{ env: 'prod' }, { env: 'staging' }], [{}, { env: 'dev' }]],
  ['env notin (dev)', [{}, { env: 'prod' }], [{ env: 'dev' }]],
  ['tier', [{ tier: '' }, { tier: 'x' }], [{}]],
  ['!tier', [{}, { other: 'x' }], [{ tier: 'x' }]],
  ['app=web,tier', [{ app: 'web', tier: 'f' }], [{ app: 'web' }, { tier: 'f' }]],
  [' app = web , !legacy ', [{ app: 'web' }], [{ app: 'web', legacy: 'true' }]],
  ['example.com/team=dns', [{ 'example.com/team': 'dns' }], [{ team: 'dns' }]],
  ['replicas>2', [{ replicas: '3' }], [{ replicas: '2' }, { replicas: 'x' }, {}]],
  ['replicas<2', [{ replicas: '1' }], [{ replicas: '2' }, {}]],
  ['app=', [{ app: '' }], [{}, { app: 'x' }]],
  ['env in (a,)', [{ env: 'a' }, { env: '' }], [{ env: 'b' }]],
];

const invalid: [selector: string, error: RegExp][] = [
  ['app=web,', /trailing ','/],
  ['=web', /expected a label key/],
  ['app=we b', /expected ',' between requirements/],
  ['app in web', /expected '\(' after 'in'/],
  ['app in ()', /'in' needs at least one value/],
  ['app in (a b)', /expected ',' or '\)'/],
  ['-bad=x', /invalid label key "-bad"/],
  ['a/b/c=x', /invalid label key/],
  ['Bad_Prefix.com/x=y', /prefix must be a DNS subdomain/],
  ['app=-x', /invalid label value "-x"/],
  [`app=${'v'.repeat(64)}`, /invalid label value/],
  ['!app=x', /'!app' takes no operator/],
  ['n>x', /'>' needs a whole number/],
  ['app foo', /unexpected 'foo' after 'app'/],
];

describe('label selectors', () => {
  for (const [sel, yes, no] of matching) {
    it(`"${sel}" matches what it should`, () => {
      const s = parseLabelSelector(sel);
      for (const l of yes) assert.equal(s.matches(l), true, `${JSON.stringify(l)} should match`);
      for (const l of no) assert.equal(s.matches(l), false, `${JSON.stringify(l)} should not match`);
    });
  }
  for (const [sel, err] of invalid) {
    it(`rejects "${sel}"`, () => {
      assert.throws(() => parseLabelSelector(sel), err);
    });
  }
  it('empty selector is empty', () => {
    assert.equal(parseLabelSelector('').empty, true);
    assert.equal(parseLabelSelector('a').empty, false);
  });
});
