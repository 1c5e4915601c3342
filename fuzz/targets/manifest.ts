/**
 * @module fuzz/targets/manifest
 * Fuzz target for the manifest reader. Any bytes as a manifest file give
 * records and per-document warnings, or a syntax error at a line of the
 * file; never an exception (one bad file must not stop the others being
 * read). Read again over a good file's objects, it never throws either (the
 * last-good rule). And a differential check on every document: whatever
 * fast-yaml accepts, the `yaml` package (as the reader calls it) must parse
 * without error to the same value; fast-yaml gives up on everything else.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { StringPool } from '../../src/cluster/compact-record.ts';
import { fastDocument, NOT_HANDLED, splitDocuments } from '../../src/cluster/manifests/fast-yaml.ts';
import { parseManifestFile, type FileObjects } from '../../src/cluster/manifests/read-manifests.ts';

const yaml = createRequire(import.meta.url)('yaml') as typeof import('yaml');
const STAMP = { mtimeMs: 1, size: 1, ino: 1, ctimeMs: 1 };
const pool = new StringPool();
const good: FileObjects = parseManifestFile(readFileSync(new URL('../../examples/cluster/default.yaml', import.meta.url), 'utf8'), 'svc.yaml', STAMP, undefined, pool);

/** The document as the full parser reads it: its value through JSON, or its first error. */
function viaYaml(doc: string): { value: unknown } | { error: string } {
  const parsed = yaml.parseDocument(doc, { uniqueKeys: true });
  if (parsed.errors.length > 0) return { error: parsed.errors[0]!.message };
  const v: unknown = parsed.toJS({ maxAliasCount: 100 });
  return { value: v === undefined ? null : JSON.parse(JSON.stringify(v)) as unknown };
}

export function fuzz(data: Buffer): void {
  const text = data.toString('utf8');
  const lines = text.split('\n').length;
  for (const previous of [undefined, good]) {
    const r = parseManifestFile(text, 'svc.yaml', STAMP, previous, pool);
    if (r.syntax !== null) assert.ok(r.syntax.line >= 1 && r.syntax.line <= lines, `syntax error at line ${r.syntax.line} of ${lines}: ${r.syntax.message}`);
    for (const w of r.warnings) assert.match(w, /^svc\.yaml:\d+: /);
  }
  for (const d of splitDocuments(text) ?? []) {
    const fast = fastDocument(d.text);
    if (fast === NOT_HANDLED) continue;
    const full = viaYaml(d.text);
    assert.ok('value' in full, `fast-yaml read a document the yaml package rejects (${'error' in full ? full.error : ''}): ${JSON.stringify(d.text)}`);
    assert.deepStrictEqual(fast === undefined ? null : JSON.parse(JSON.stringify(fast)), full.value, `fast-yaml and yaml differ on ${JSON.stringify(d.text)}`);
  }
}
