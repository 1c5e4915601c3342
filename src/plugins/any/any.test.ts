/**
 * @module plugins/any/any.test
 * any: QTYPE ANY gets RFC 8482's one HINFO record (through dig too); other
 * types pass on untouched; options are rejected.
 */
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { dig, inject, startServer } from '../../../test/support/harness.ts';
import { setupError } from '../../../test/support/setup-error.ts';

it('answers ANY with HINFO "RFC8482" and lets other types through', async () => {
  const s = await startServer('.:0 {\n bind 127.0.0.1\n any\n hosts {\n  10.0.0.1 web.test\n }\n}');
  try {
    const r = await dig(s.port, 'web.test', 'ANY');
    assert.deepEqual(r.answer.map((a) => [a.name, a.ttl, a.type, a.data]), [['web.test.', 8482, 'HINFO', '"RFC8482" ""']]);
    const a = await inject(s.app, 'web.test.', 'A');
    assert.equal(a.answer.length, 1);
  } finally { await s.stop(); }
});

it('takes no arguments', () => {
  assert.equal(setupError('.:53 {\n any please\n}'), "Corefile:2: plugin/any: 'any' takes 0 arguments, got 1");
});
