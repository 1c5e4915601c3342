/**
 * @module corefile/import-files.test
 * `import` of files and globs, with real files in a temp directory: relative
 * paths, glob order and filtering, nesting, cycles, error positions inside
 * imported files, and the readFile option.
 */

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseCorefile, parseCorefileFile } from './parser.ts';
import type { Directive } from './parser.ts';
import { CorefileError } from './errors.ts';
import { resolveImport } from './import-files.ts';

let dir = '';

function write(rel: string, text: string): string {
  const p = path.join(dir, rel);
  fs.mkdirSync(path.dirname(p), { recursive: true });
  fs.writeFileSync(p, text);
  return p;
}

function names(ds: readonly Directive[]): string[] {
  return ds.map((d) => [d.name, ...d.args].join(' '));
}

function throwsExactly(fn: () => unknown, message: string): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof CorefileError, `not a CorefileError: ${String(e)}`);
    assert.equal(e.message, message);
    return true;
  });
}

before(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'clusterdns-corefile-'));
  write('snippets.conf', '(common) {\n  errors\n}\n');
  write('plugins/b.conf', 'log\n');
  write('plugins/a.conf', '# first by name\ncache 30\n');
  write('plugins/c.conf', 'forward . 1.1.1.1 {\n  force_tcp\n}\n');
  write('plugins/.hidden.conf', 'hidden\n');
  write('plugins/notes.txt', 'not matched\n');
  fs.mkdirSync(path.join(dir, 'plugins/dir.conf'));
  write('inner.conf', 'whoami\n');
  write('zones/x.server', 'x.org {\n  import ../inner.conf\n}\n');
  write('zones/y.server', 'y.org {\n  log\n}\n');
  write(
    'Corefile',
    'import snippets.conf\n. {\n  import plugins/*.conf\n  import common\n  import nothing/*.conf\n}\nimport zones/*.server\n',
  );
});

after(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

test('imports snippets files, globs in name order, and server blocks at top level', () => {
  const corefile = path.join(dir, 'Corefile');
  const blocks = parseCorefileFile(corefile);
  assert.deepEqual(
    blocks.map((b) => b.keys.map((k) => k.zone)),
    [['.'], ['x.org.'], ['y.org.']],
  );
  assert.deepEqual(names(blocks[0]!.directives), ['cache 30', 'log', 'forward . 1.1.1.1', 'errors']);
  assert.deepEqual(names(blocks[0]!.directives[2]!.block ?? []), ['force_tcp']);
  assert.deepEqual(names(blocks[1]!.directives), ['whoami']);
  // Positions point into the file each token came from.
  assert.deepEqual(
    blocks[0]!.directives.map((d) => [path.relative(dir, d.file), d.line]),
    [
      [path.join('plugins', 'a.conf'), 2],
      [path.join('plugins', 'b.conf'), 1],
      [path.join('plugins', 'c.conf'), 1],
      ['snippets.conf', 2],
    ],
  );
  assert.equal(blocks[0]!.file, corefile);
  assert.equal(blocks[1]!.file, path.join(dir, 'zones', 'x.server'));
  assert.equal(blocks[1]!.directives[0]!.file, path.join(dir, 'inner.conf'));
});

test('imports are relative to the importing file; absolute paths and env work too', () => {
  const blocks = parseCorefile(`. {\n import {$D}/inner.conf\n}`, path.join(dir, 'sub', 'Corefile'), {
    env: { D: dir },
  });
  assert.deepEqual(names(blocks[0]!.directives), ['whoami']);
  const rel = parseCorefile('. {\n import ../inner.conf\n}', path.join(dir, 'sub', 'Corefile'));
  assert.deepEqual(names(rel[0]!.directives), ['whoami']);
});

test('a missing plain file is an error; a glob matching nothing is not', () => {
  const corefile = write('missing/Corefile', '. {\n  log\n  import missing.conf\n}\n');
  throwsExactly(() => parseCorefileFile(corefile), `${corefile}:3: import 'missing.conf': no snippet or file with that name`);
  const ok = write('missing/Corefile2', '. {\n  import none-*.conf\n  import none?/x.conf\n}\n');
  assert.throws(() => parseCorefileFile(ok), /wildcards are only supported in the last path segment/);
  write('missing/Corefile3', '. {\n  import none-*.conf\n  log\n}\n');
  assert.deepEqual(names(parseCorefileFile(path.join(dir, 'missing/Corefile3'))[0]!.directives), ['log']);
});

test('importing a directory by name is an error', () => {
  const corefile = write('dirimport/Corefile', '. {\n  import ../plugins\n}\n');
  assert.throws(
    () => parseCorefileFile(corefile),
    (e: unknown) => e instanceof CorefileError && e.line === 2 && /cannot read/.test(e.message),
  );
});

test('errors inside an imported file report that file and line', () => {
  const bad = write('bad/zones/bad.server', '\nexample.org:xx {\n}\n');
  const corefile = write('bad/Corefile', '. {\n}\nimport zones/*.server\n');
  throwsExactly(
    () => parseCorefileFile(corefile),
    `${bad}:2: invalid port 'xx' in 'example.org:xx': must be a number from 0 to 65535`,
  );
  const unclosed = write('bad2/part.conf', 'log\ncache {\n  success 1\n');
  const c2 = write('bad2/Corefile', '. {\n  import part.conf\n}\n');
  throwsExactly(() => parseCorefileFile(c2), `${unclosed}:2: unclosed '{'`);
  const quote = write('bad3/part.conf', 'log\nrewrite "abc\n');
  const c3 = write('bad3/Corefile', '. {\n  import part.conf\n}\n');
  throwsExactly(() => parseCorefileFile(c3), `${quote}:2: unterminated quoted string`);
});

test('a block must be closed in the file or snippet that opened it', () => {
  const extra = write('frames/extra.conf', 'log\n}\n');
  const c1 = write('frames/Corefile1', '. {\n  import extra.conf\n}\n');
  throwsExactly(() => parseCorefileFile(c1), `${extra}:2: unexpected '}'`);
  // Braceless server blocks in imported files end with their file.
  write('frames/zones/a.server', 'a.org\nlog\n');
  write('frames/zones/b.server', 'b.org:1053\nerrors\nwhoami\n');
  const c2 = write('frames/Corefile2', 'import zones/*.server\n');
  const blocks = parseCorefileFile(c2);
  assert.deepEqual(
    blocks.map((b) => [b.keys[0]!.zone, ...names(b.directives)]),
    [
      ['a.org.', 'log'],
      ['b.org.', 'errors', 'whoami'],
    ],
  );
});

test('import cycles are errors', () => {
  const a = write('cycle/a.conf', 'log\nimport b.conf\n');
  const b = write('cycle/b.conf', 'errors\nimport a.conf\n');
  const corefile = write('cycle/Corefile', '. {\n  import a.conf\n}\n');
  throwsExactly(() => parseCorefileFile(corefile), `${b}:2: import cycle: ${a} -> ${b} -> ${a}`);
  const self = write('cycle/Self', 'import Self\n');
  throwsExactly(() => parseCorefileFile(self), `${self}:1: import cycle: ${self} -> ${self}`);
  // The same file imported twice side by side is not a cycle.
  const twice = write('cycle/Twice', '. {\n  import ../inner.conf\n  import ../inner.conf\n}\n');
  assert.deepEqual(names(parseCorefileFile(twice)[0]!.directives), ['whoami', 'whoami']);
});

test('a snippet and a file importing each other is a cycle', () => {
  const loop = write('mixed/loop.conf', 'import s\n');
  const corefile = write('mixed/Corefile', '(s) {\n  import loop.conf\n}\n. {\n  import s\n}\n');
  throwsExactly(() => parseCorefileFile(corefile), `${loop}:1: import cycle: (s) -> ${loop} -> (s)`);
});

test('readFile option serves the Corefile and its imports', () => {
  const files: Record<string, string> = {
    '/virtual/Corefile': '. {\n  import parts/p.conf\n}\n',
    '/virtual/parts/p.conf': 'log\nerrors\n',
  };
  const readFile = (p: string): string => {
    const text = files[p];
    if (text === undefined) throw Object.assign(new Error(`ENOENT: ${p}`), { code: 'ENOENT' });
    return text;
  };
  const blocks = parseCorefileFile('/virtual/Corefile', { readFile });
  assert.deepEqual(names(blocks[0]!.directives), ['log', 'errors']);
  assert.equal(blocks[0]!.directives[1]!.file, '/virtual/parts/p.conf');
  assert.equal(blocks[0]!.directives[1]!.line, 2);
  throwsExactly(
    () => parseCorefile('. {\n  import nope.conf\n}', '/virtual/Corefile', { readFile }),
    "/virtual/Corefile:2: import 'nope.conf': no snippet or file with that name",
  );
  throwsExactly(
    () =>
      parseCorefile('. {\n  import x.conf\n}', '/virtual/Corefile', {
        readFile: () => {
          throw new Error('boom');
        },
      }),
    "/virtual/Corefile:2: import 'x.conf': cannot read '/virtual/x.conf': boom",
  );
});

test('resolveImport glob syntax', () => {
  const rel = (t: { files: string[] }) => t.files.map((f) => path.relative(dir, f));
  assert.deepEqual(rel(resolveImport('plugins/?.conf', dir)), ['plugins/a.conf', 'plugins/b.conf', 'plugins/c.conf']);
  assert.deepEqual(rel(resolveImport('plugins/[ab].conf', dir)), ['plugins/a.conf', 'plugins/b.conf']);
  assert.deepEqual(rel(resolveImport('plugins/[!ab].conf', dir)), ['plugins/c.conf']);
  assert.deepEqual(rel(resolveImport('plugins/*', dir)), ['plugins/a.conf', 'plugins/b.conf', 'plugins/c.conf', 'plugins/notes.txt']);
  assert.deepEqual(rel(resolveImport('plugins/.*', dir)), ['plugins/.hidden.conf']);
  assert.deepEqual(resolveImport('plugins/a.conf', dir), { files: [path.join(dir, 'plugins/a.conf')], wildcard: false });
  assert.deepEqual(resolveImport('nowhere/*.conf', dir), { files: [], wildcard: true });
  assert.throws(() => resolveImport('*/a.conf', dir), /only supported in the last path segment/);
  assert.throws(() => resolveImport('plugins/[a.conf', dir), /unclosed '\['/);
});
