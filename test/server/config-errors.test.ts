/**
 * @module test/server/config-errors.test
 * A bad Corefile never starts: every error names FILE:LINE and says what is
 * wrong, for syntax, unknown directives, bad plugin arguments, plugins used
 * twice, and listener plans that cannot work. Nothing is opened to find out.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App } from '../../src/app/app.ts';
import { memoryLogger } from '../../src/log/logger.ts';
import { setupError } from './helpers/server.ts';

const cases: [name: string, corefile: string, error: string][] = [
  ['unknown directive', '. {\n whoami\n nosuchplugin 1 2\n}\n', "Corefile:3: unknown directive 'nosuchplugin'"],
  ['unknown directive in the second block', 'a.org {\n whoami\n}\n\nb.org {\n\n frobnicate\n}\n', "Corefile:7: unknown directive 'frobnicate'"],
  ['bad argument', '. {\n bufsize lots\n}\n', "Corefile:2: plugin/bufsize: size 'lots' is not a whole number"],
  ['argument out of range', '. {\n bufsize 100\n}\n', 'Corefile:2: plugin/bufsize: size 100 is out of range 512..4096'],
  ['too many arguments', '. {\n whoami please\n}\n', "Corefile:2: plugin/whoami: 'whoami' takes 0 arguments, got 1"],
  ['bad nested property', '. {\n log {\n  klass denial\n }\n}\n', "Corefile:3: plugin/log: unknown property 'klass'"],
  ['plugin used twice', '. {\n errors\n whoami\n errors\n}\n', 'Corefile:4: plugin/errors: this plugin can only be used once per server block'],
  ['syntax: unclosed block', '. {\n whoami\n', "Corefile:1: unclosed '{'"],
  ['bind on some blocks of a port only', 'a.org:0 {\n bind 127.0.0.1\n whoami\n}\nb.org:0 {\n whoami\n}\n', "Corefile:5: port 0: every server block on a port must use 'bind', or none"],
  ['bad bind address', '. {\n bind 127.0.0.300\n}\n', "Corefile:2: plugin/bind: not a valid IP address or interface name: '127.0.0.300'"],
];

for (const [name, corefile, error] of cases) {
  test(`config error: ${name}`, () => {
    const got = setupError(corefile);
    assert.ok(got !== null, 'setup fails');
    assert.equal(got, error);
  });
}

test('the same Corefiles load when correct (the table is not vacuous)', () => {
  assert.equal(setupError('. {\n whoami\n bufsize 1232\n log {\n  class denial\n }\n errors\n}\n'), null);
  assert.equal(setupError('a.org:0 {\n bind 127.0.0.1\n whoami\n}\nb.org:0 {\n bind 127.0.0.1\n whoami\n}\n'), null);
});

test('an error inside an imported file names that file and its line', () => {
  const dir = mkdtempSync(join(tmpdir(), 'clusterdns-conf-'));
  try {
    const main = join(dir, 'Corefile');
    const part = join(dir, 'extra.conf');
    writeFileSync(main, '. {\n whoami\n import extra.conf\n}\n');
    writeFileSync(part, 'log\n\nbufsize huge\n');
    const app = new App({ corefilePath: main, logger: memoryLogger(), dnsPort: 0 });
    assert.throws(() => app.build(app.load()), (e: Error) => e.message === `${part}:3: plugin/bufsize: size 'huge' is not a whole number`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a failed start leaves nothing open (a bad directive after a good block)', async () => {
  const app = new App({ corefilePath: 'Corefile', corefileText: '.:0 {\n bind 127.0.0.1\n whoami\n}\nb.org:0 {\n bind 127.0.0.1\n nope\n}\n', logger: memoryLogger(), dnsPort: 0 });
  await assert.rejects(app.start(), /Corefile:7: unknown directive 'nope'/);
  assert.deepEqual(app.server.boundPorts(), []);
  await app.stop(0);
});
