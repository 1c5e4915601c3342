/**
 * @module fuzz/targets/corefile
 * Fuzz target for the Corefile: any bytes, parsed and set up with every
 * built-in plugin (nothing started, as `clusterdns -validate` and a reload
 * do), give either a configuration or a CorefileError `Corefile:LINE: what`
 * whose line is in the file. Anything else thrown is a crash: a reload
 * would log an error without a place, or fail where it should reject.
 */
import assert from 'node:assert/strict';
import { buildConfig } from '../../src/config/build.ts';
import { CorefileError } from '../../src/corefile/errors.ts';
import { parseCorefile } from '../../src/corefile/parser.ts';
import { memoryLogger } from '../../src/log/logger.ts';
import { ProcessServices } from '../../src/plugin/process-services.ts';
import { builtinRegistry, importAllPlugins } from '../../src/plugins/index.ts';

// Plugins load on first use through require(), which the fuzzer's type-stripping hook does not see: import them all first.
await importAllPlugins();
const registry = builtinRegistry();
// Imports read nothing from disk: the fuzzer must not wander the file system.
const noFiles = (path: string): string => { throw new Error(`no file ${path} here`); };

export function fuzz(data: Buffer): void {
  const text = data.toString('utf8');
  const lines = text.split('\n').length;
  try {
    const blocks = parseCorefile(text, 'Corefile', { env: { NAME: 'value' }, readFile: noFiles });
    buildConfig(blocks, { registry, services: new ProcessServices({ logger: memoryLogger() }), dnsPort: 53, configPath: '/nonexistent/Corefile' });
  } catch (e) {
    if (!(e instanceof CorefileError)) throw e;
    assert.equal(e.file, 'Corefile', e.message);
    assert.ok(e.line >= 1 && e.line <= lines, `line ${e.line} outside the file's ${lines} lines: ${e.message}`);
    assert.ok(e.message.startsWith(`Corefile:${e.line}: `), e.message);
  }
}
