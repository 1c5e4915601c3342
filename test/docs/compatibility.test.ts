/**
 * @module test/docs/compatibility.test
 * docs/coredns-compatibility.md stays true: every plugin `clusterdns -plugins`
 * prints has a row marked Supported or Partly, no row claims a plugin the
 * binary lacks, and the README's drop-in sentence links to the page.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../', import.meta.url));

function builtInPlugins(): Promise<string[]> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [`${root}src/main.ts`, '-plugins'], { timeout: 20_000 }, (err, stdout) => {
      if (err) reject(err);
      else resolve([...stdout.matchAll(/^ {2}dns\.(\S+)$/gm)].map((m) => m[1]!));
    });
  });
}

/** Plugin -> status of the page's table. */
function rows(): Map<string, string> {
  const out = new Map<string, string>();
  for (const m of readFileSync(`${root}docs/coredns-compatibility.md`, 'utf8').matchAll(/^\| ([a-z0-9_]+) \| (Supported|Partly|Missing|Not planned) \|/gm)) {
    out.set(m[1]!, m[2]!);
  }
  return out;
}

test('every built-in plugin is on the compatibility page as Supported or Partly, and nothing else is', async () => {
  const plugins = await builtInPlugins();
  assert.ok(plugins.length >= 20, `plugins listed: ${plugins.join(' ')}`);
  const table = rows();
  for (const p of plugins) assert.match(table.get(p) ?? 'absent', /^(Supported|Partly)$/, `${p} on docs/coredns-compatibility.md`);
  for (const [p, status] of table) {
    if (status === 'Supported' || status === 'Partly') assert.ok(plugins.includes(p) || p === 'import', `${p} is marked ${status} but not built in`);
  }
});

test("the README's drop-in sentence links to the page", () => {
  const readme = readFileSync(`${root}README.md`, 'utf8');
  assert.match(readme, /drop-in[\s\S]{0,200}\(docs\/coredns-compatibility\.md\)/);
});
