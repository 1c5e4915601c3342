/**
 * @module test/docs/readme-examples.test
 * Every ```corefile example in every plugin README (and the README at the
 * repository root) is booted with App and stopped, so the docs cannot rot:
 * an example with an unknown directive, a bad option or a listener that
 * cannot open fails here. Examples are made bootable by the minimal rewrite
 * documented in corefile-examples.ts (ports below 1024 -> 0, `bind 127.0.0.1`
 * added to blocks without bind); that rewrite is tested below too.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { App } from '../../src/app/app.ts';
import { memoryLogger } from '../../src/log/logger.ts';
import { bootable, corefileExamples, rewriteKey, type CorefileExample } from './corefile-examples.ts';
import { errorMessage } from '../../src/errors/to-error.ts';

const root = fileURLToPath(new URL('../../', import.meta.url));

function readmes(): string[] {
  const plugins = join(root, 'src', 'plugins');
  const files = readdirSync(plugins, { withFileTypes: true })
    .filter((d) => d.isDirectory() && existsSync(join(plugins, d.name, 'README.md')))
    .map((d) => join(plugins, d.name, 'README.md'));
  if (existsSync(join(root, 'README.md'))) files.push(join(root, 'README.md'));
  return files.sort();
}

const examples: CorefileExample[] = readmes().flatMap((f) => corefileExamples(f, readFileSync(f, 'utf8')));

test('the examples are found (at least one in each of the core plugin READMEs)', () => {
  for (const p of ['bind', 'bufsize', 'chaos', 'errors', 'log', 'whoami']) {
    assert.ok(examples.some((e) => e.file.endsWith(join('plugins', p, 'README.md'))), `an example in plugins/${p}/README.md`);
  }
});

for (const ex of examples) {
  test(`boots ${relative(root, ex.file)}:${ex.line}`, async () => {
    const text = bootable(ex.text);
    const logger = memoryLogger();
    const app = new App({
      corefilePath: join(dirname(ex.file), 'Corefile'), corefileText: text, logger, dnsPort: 0,
      tcp: { idleTimeoutMs: 1000, maxConnections: 10 }, fatal: (m) => { logger.error(`fatal: ${m}`); },
    });
    try {
      await app.start();
      assert.ok(app.server.boundPorts().length > 0, 'listening');
      assert.ok(app.server.boundPorts().every((p) => p.port > 0));
    } catch (e) {
      assert.fail(`${relative(root, ex.file)}:${ex.line}: ${errorMessage(e)}\n--- booted as:\n${text}`);
    } finally {
      await app.stop(500);
    }
  });
}

test('rewrite: only privileged ports in keys change', () => {
  assert.deepEqual(
    ['.', '.:53', ':53', 'example.org:53', 'dns://example.org:53', 'a.org:1053', '10.0.0.0/24:53', 'fd00::/8', 'fd00::/8:53', 'x:0'].map(rewriteKey),
    ['.', '.:0', ':0', 'example.org:0', 'dns://example.org:0', 'a.org:1053', '10.0.0.0/24:0', 'fd00::/8', 'fd00::/8:0', 'x:0'],
  );
});

test('rewrite: bind added only where a block has none of its own; snippets, env and nesting left alone', () => {
  const text = [
    '(common) {', '  errors', '}',
    'example.org:53 {', '  log . "{name} {type}"', '  import common', '  forward . 127.0.0.1 {', '    bind 1.2.3.4', '  }', '}',
    '{$ZONE}:5353 example.net {', '  bind ::1', '  whoami', '}',
  ].join('\n');
  assert.equal(bootable(text), [
    '(common) {', '  errors', '}',
    'example.org:0 {', '    bind 127.0.0.1', '  log . "{name} {type}"', '  import common', '  forward . 127.0.0.1 {', '    bind 1.2.3.4', '  }', '}',
    '{$ZONE}:5353 example.net {', '  bind ::1', '  whoami', '}',
  ].join('\n'));
});

test('rewrite: the braceless single block gets braces', () => {
  assert.equal(bootable('example.org:53\nwhoami\n'), 'example.org:0 {\n    bind 127.0.0.1\nwhoami\n\n}\n');
});

test('fenced blocks: ``` and ~~~ fences, only the corefile ones', () => {
  const md = 'x\n```corefile\n. {\n}\n```\n~~~ txt\nno\n~~~\n~~~ corefile\na {\n}\n~~~\n';
  assert.deepEqual(corefileExamples('R.md', md), [
    { file: 'R.md', line: 2, text: '. {\n}\n' },
    { file: 'R.md', line: 9, text: 'a {\n}\n' },
  ]);
});
