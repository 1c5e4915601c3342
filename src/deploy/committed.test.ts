/**
 * @module deploy/committed.test
 * deploy/clusterdns.yaml, deploy/node-local/*.yaml and the CRD, RBAC and
 * gateway of deploy/dnsrecord/ are what `deploy render` prints with the
 * defaults: this fails when code and files drift (fix: `npm run
 * manifests`), and the committed files are valid manifests.
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

/** The objects `deploy render FLAG` prints equal those of the committed files under `dir`, whatever the file split. */
function sameObjects(flag: string, dir: string, files: readonly string[]): void {
  let out = '';
  assert.equal(deployCommand(['render', flag], (s) => { out += s; }, () => {}), 0);
  const rendered = parseAllDocuments(out).map((d) => d.toJSON() as Record<string, unknown>);
  const committed = files.flatMap((f) =>
    parseAllDocuments(readFileSync(`${ROOT}${dir}/${f}.yaml`, 'utf8')).map((d) => d.toJSON() as Record<string, unknown>));
  assert.deepEqual(committed.map((o) => o.kind).sort(), rendered.map((o) => o.kind).sort());
  for (const o of rendered) assert.deepEqual(committed.find((c) => c.kind === o.kind && JSON.stringify(c.metadata) === JSON.stringify(o.metadata)), o);
}

test('deploy/node-local/*.yaml are what `deploy render --node-local` prints', () => {
  sameObjects('--node-local', 'deploy/node-local', ['configmap', 'services', 'daemonset']);
});

test('deploy/dnsrecord/{crd,rbac,gateway}.yaml are what `deploy render --dnsrecord` prints; kustomize lists them', () => {
  sameObjects('--dnsrecord', 'deploy/dnsrecord', ['crd', 'rbac', 'gateway']);
  const kustomization = parseAllDocuments(readFileSync(`${ROOT}deploy/dnsrecord/kustomization.yaml`, 'utf8'))[0]!.toJSON() as { resources: string[] };
  assert.deepEqual(kustomization.resources, ['crd.yaml', 'rbac.yaml', 'gateway.yaml']);
});
