/**
 * @module deploy/committed.test
 * deploy/clusterdns.yaml and deploy/node-local/*.yaml are what `deploy
 * render` prints with the defaults: this fails when code and files drift
 * (fix: `npm run manifests`), and the committed files are valid manifests.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';
import { committedManifests } from './committed.ts';
import { deployCommand } from './cli.ts';
import { validateManifests } from './validate.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

test('every committed manifest equals its rendering', () => {
  for (const [path, text] of committedManifests()) {
    assert.equal(readFileSync(ROOT + path, 'utf8'), text, `${path} is stale: run npm run manifests`);
  }
});

test('deploy/clusterdns.yaml is what `deploy render` prints, and valid', () => {
  let out = '';
  assert.equal(deployCommand(['render'], (s) => { out += s; }, () => {}), 0);
  const committed = readFileSync(ROOT + 'deploy/clusterdns.yaml', 'utf8');
  assert.ok(committed.endsWith(out), 'the file is the render output below its comment header');
  const docs = parseAllDocuments(committed).map((d) => d.toJSON() as Record<string, unknown>);
  assert.deepEqual(validateManifests(docs), []);
});

test('deploy/node-local/*.yaml are what `deploy render --node-local` prints', () => {
  let out = '';
  assert.equal(deployCommand(['render', '--node-local'], (s) => { out += s; }, () => {}), 0);
  const rendered = parseAllDocuments(out).map((d) => d.toJSON() as Record<string, unknown>);
  const committed = ['configmap', 'services', 'daemonset'].flatMap((f) =>
    parseAllDocuments(readFileSync(`${ROOT}deploy/node-local/${f}.yaml`, 'utf8')).map((d) => d.toJSON() as Record<string, unknown>));
  assert.deepEqual(committed.map((o) => o.kind).sort(), rendered.map((o) => o.kind).sort());
  for (const o of rendered) assert.deepEqual(committed.find((c) => c.kind === o.kind && JSON.stringify(c.metadata) === JSON.stringify(o.metadata)), o);
});
