/**
 * @module test/fuzz/regressions.test
 * Every input of the seed corpora (fuzz/corpus/TARGET/) and every crash the
 * fuzzers found (fuzz/regressions/TARGET/) is run through its target's
 * checks directly, without jazzer, so a crash once fixed stays fixed. Then
 * each fix, as the behaviour a user sees, with the input inline.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';
import { fuzzTargets, seedCorpus } from '../../fuzz/run.ts';
import { StringPool } from '../../src/cluster/compact-record.ts';
import { fastDocument, NOT_HANDLED } from '../../src/cluster/manifests/fast-yaml.ts';
import { parseManifestFile } from '../../src/cluster/manifests/read-manifests.ts';
import { parseZone } from '../../src/dns/zonefile.ts';

const REGRESSIONS = fileURLToPath(new URL('../../fuzz/regressions/', import.meta.url));
const yaml = createRequire(import.meta.url)('yaml') as typeof import('yaml');

for (const target of fuzzTargets()) {
  test(`${target}: every seed and every past crash passes the target's checks`, async () => {
    const { fuzz } = await import(`../../fuzz/targets/${target}.ts`) as { fuzz: (data: Buffer) => void };
    const dirs = [seedCorpus(target), join(REGRESSIONS, target)].filter((d) => existsSync(d));
    const files = dirs.flatMap((d) => readdirSync(d).map((f) => join(d, f)));
    assert.ok(files.length > 0, `no seed corpus for ${target}`);
    for (const f of files) assert.doesNotThrow(() => fuzz(readFileSync(f)), `input ${f}`);
  });
}

/** What the fast reader and the yaml package make of a document: the same value, or the fast reader gives up. */
function bothReaders(doc: string): { fast: unknown; full: unknown } {
  const fast = fastDocument(doc);
  return { fast: fast === NOT_HANDLED ? NOT_HANDLED : JSON.parse(JSON.stringify(fast)) as unknown, full: yaml.parse(doc) as unknown };
}

test('fast-yaml: a space before the colon is not part of the key (`name : web` is name)', () => {
  assert.deepEqual(bothReaders('name : web\nlabels :\n  app : web\n'), { fast: { name: 'web', labels: { app: 'web' } }, full: { name: 'web', labels: { app: 'web' } } });
  const svc = 'apiVersion: v1\nkind: Service\nmetadata:\n  name : web\n  namespace : default\nspec:\n  clusterIP: 10.96.0.10\n  ports:\n  - port: 80\n';
  const r = parseManifestFile(svc, 'svc.yaml', { mtimeMs: 1, size: 1, ino: 1, ctimeMs: 1 }, undefined, new StringPool());
  assert.equal(r.syntax, null);
  assert.deepEqual(r.records.map((x) => [x.record.kind, 'namespace' in x.record ? x.record.namespace : '', x.record.name]), [['Service', 'default', 'web']]);
});

test('fast-yaml: gives up on what the yaml package reads otherwise or rejects', () => {
  for (const doc of [
    'a: {read{: true}\n', // a flow indicator inside a flow scalar: an error
    'a: {k x:y, z: 1}\n', // "k x:y" is one key (no space after the colon)
    'a: b\f\f\n', // \f is part of the scalar in YAML, trimmed by JavaScript
    'a: TCP\n- name: x\n', // a sequence after `key: value`: an error, not a key "- name"
  ]) assert.equal(fastDocument(doc), NOT_HANDLED, JSON.stringify(doc));
  assert.deepEqual(yaml.parse('a: {k x:y, z: 1}\n'), { a: { 'k x:y': null, z: 1 } });
});

test('fast-yaml: a __proto__ key stays a key and never becomes the prototype', () => {
  const doc = 'metadata: {name: web, __proto__: {namespace: kube-system}}\n';
  assert.equal(fastDocument(doc), NOT_HANDLED);
  assert.equal(fastDocument('__proto__:\n  namespace: kube-system\n'), NOT_HANDLED);
  const full = yaml.parse(doc) as { metadata: Record<string, unknown> };
  assert.equal(Object.getPrototypeOf(full.metadata), Object.prototype);
  assert.ok(Object.hasOwn(full.metadata, '__proto__'));
});

test('zone file: an owner written with escapes or raw bytes gets the name a query for it has', () => {
  const records = parseZone('\\065bc IN A 192.0.2.1\nX\x01y IN A 192.0.2.2\n', { origin: 'example.org.', file: 'db' });
  assert.deepEqual(records.map((r) => r.name), ['abc.example.org.', 'x\\001y.example.org.']);
});
