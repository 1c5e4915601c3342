/**
 * @module test/ops/manifest-last-good.test
 * Garbage in a manifest file never removes served names (issue 17): a
 * running server's file is edited into invalid YAML, then emptied (as an
 * editor truncates before writing), and every name it held still answers to
 * a real `dig`, with one ERROR line naming FILE:LINE; then the file is
 * fixed and the fix is served. Each step waits for the re-read's own log
 * line, not for time.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { dig, startServer, type TestServer } from '../support/harness.ts';
import { makeTempDir, removeDir } from '../support/kubeconfig.ts';
import { waitUntil } from '../support/wait-until.ts';

const svc = (name: string, ip: string): string =>
  `apiVersion: v1\nkind: Service\nmetadata: {name: ${name}, namespace: shop}\nspec: {clusterIP: ${ip}, ports: [{name: http, port: 80}]}\n`;

describe('manifests: last good state per file', () => {
  let dir: string;
  let srv: TestServer;
  const file = (): string => join(dir, 'shop.yaml');
  const a = async (name: string): Promise<{ status: string; ips: string[] }> => {
    const r = await dig(srv.port, 'A', `${name}.shop.svc.cluster.local.`);
    return { status: r.status, ips: r.answer.map((x) => x.data) };
  };
  /** Writes the file and waits until the server has read it (a new kubernetes log line matching `done`). */
  const edit = async (text: string, done: RegExp): Promise<void> => {
    const seen = srv.logs.length;
    await writeFile(file(), text);
    await waitUntil(() => srv.logs.slice(seen).some((l) => done.test(l)), { timeoutMs: 10_000 });
  };

  before(async () => {
    dir = await makeTempDir('clusterdns-lastgood-');
    await writeFile(file(), svc('web', '10.96.0.11') + '---\n' + svc('api', '10.96.0.12') + '---\n' + svc('db', '10.96.0.13'));
    srv = await startServer(`.:0 {\n  bind 127.0.0.1\n  kubernetes cluster.local {\n    manifests ${dir}\n  }\n}\n`);
  });

  after(async () => {
    await srv.stop();
    await removeDir(dir);
  });

  it('garbage, then an empty file: every name still answers; the fix is served', async () => {
    for (const n of ['web', 'api', 'db']) assert.equal((await a(n)).status, 'NOERROR');

    await edit(svc('web', '10.96.0.21') + '---\nkind: Service\nmetadata: {name: api\n  : [[[\n', /\[ERROR\].*shop\.yaml:\d+: .*keeping the 3 objects read from it before/);
    assert.deepEqual(await a('web'), { status: 'NOERROR', ips: ['10.96.0.11'] }, 'a file that does not parse changes nothing');
    assert.deepEqual(await a('api'), { status: 'NOERROR', ips: ['10.96.0.12'] });
    assert.deepEqual(await a('db'), { status: 'NOERROR', ips: ['10.96.0.13'] });
    const errors = srv.logs.filter((l) => l.startsWith('[ERROR]'));
    assert.equal(errors.length, 1, errors.join('\n'));
    assert.match(errors[0]!, new RegExp(`${file().replaceAll('/', '\\/')}:\\d+: `));

    await edit('', /\[ERROR\].*shop\.yaml:1: file is empty; keeping the 3 objects/);
    for (const [n, ip] of [['web', '10.96.0.11'], ['api', '10.96.0.12'], ['db', '10.96.0.13']] as const) {
      assert.deepEqual(await a(n), { status: 'NOERROR', ips: [ip] }, `${n} after the file was emptied`);
    }

    await edit(svc('web', '10.96.0.31') + '---\n' + svc('api', '10.96.0.12'), /manifests: re-read/);
    assert.deepEqual(await a('web'), { status: 'NOERROR', ips: ['10.96.0.31'] }, 'the fix is served');
    assert.deepEqual(await a('api'), { status: 'NOERROR', ips: ['10.96.0.12'] });
    assert.equal((await a('db')).status, 'NXDOMAIN', 'the fixed file no longer holds db');
  });
});
