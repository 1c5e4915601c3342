/**
 * @module plugins/minimal/minimal.test
 * minimal: a positive answer from file loses its authority NS and glue; a
 * NODATA keeps its SOA; a referral keeps NS and glue.
 */
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inject, startServer } from '../../../test/support/harness.ts';
import { setupError } from '../../../test/support/setup-error.ts';

it('strips authority and additional from positive answers only', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'minimal-'));
  const zone = join(dir, 'db');
  writeFileSync(zone, '$TTL 60\n@ SOA ns h 1 2 3 4 5\n@ NS ns\nns A 192.0.2.1\nwww A 192.0.2.2\nsub NS ns.sub\nns.sub A 192.0.2.3\n');
  const s = await startServer(`example.org:0 {\n bind 127.0.0.1\n minimal\n file ${zone}\n}`);
  try {
    const pos = await inject(s.app, 'www.example.org.', 'A');
    assert.deepEqual([pos.answer.length, pos.authority.length, pos.additional.length], [1, 0, 0]);
    const nodata = await inject(s.app, 'www.example.org.', 'MX');
    assert.deepEqual(nodata.authority.map((r) => r.type), [6]);
    const referral = await inject(s.app, 'x.sub.example.org.', 'A');
    assert.deepEqual([referral.authority.length, referral.additional.length], [1, 1]);
  } finally {
    await s.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});

it('takes no arguments', () => {
  assert.equal(setupError('.:53 {\n minimal yes\n}'), "Corefile:2: plugin/minimal: 'minimal' takes 0 arguments, got 1");
});
