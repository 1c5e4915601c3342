/**
 * @module plugins/chaos/chaos.test
 * chaos: option parser; the CH TXT names it answers (version, hostname,
 * authors one TXT each, sorted and de-duplicated), everything else passed
 * on; and real dig/kdig.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { hostname } from 'node:os';
import { Class, Flag, Rcode, Type } from '../../dns/constants.ts';
import { dig, inject, runClient } from '../../../test/support/harness.ts';
import { setupError, startTestServer, type StartedServer } from '../../../test/server/helpers/server.ts';
import { DEFAULT_CHAOS_VERSION } from './chaos.ts';

const options: [corefile: string, error: string | null][] = [
  ['. {\n chaos\n}', null],
  ['. {\n chaos CoreDNS-001\n}', null],
  ['. {\n chaos CoreDNS-001 info@coredns.io other@example.org\n}', null],
  ['. {\n chaos {\n  version 1\n }\n}', "Corefile:2: plugin/chaos: 'chaos' takes no block"],
  ['. {\n chaos\n chaos v2\n}', 'Corefile:3: plugin/chaos: this plugin can only be used once per server block'],
];
for (const [corefile, error] of options) {
  test(`options: ${JSON.stringify(corefile)} -> ${error ?? 'ok'}`, () => {
    assert.equal(setupError(corefile), error);
  });
}

let plain: StartedServer;
let custom: StartedServer;
before(async () => {
  plain = await startTestServer('.:0 {\n bind 127.0.0.1\n chaos\n whoami\n}\n');
  custom = await startTestServer('.:0 {\n bind 127.0.0.1\n chaos "MyDNS 1.0" zed@example.org amy@example.org zed@example.org\n whoami\n}\n');
});
after(async () => {
  await plain.stop();
  await custom.stop();
});

/** TXT strings of each answer record. */
async function txt(s: StartedServer, name: string, opts: { qclass?: number; type?: string } = {}): Promise<string[][] | 'passed on'> {
  const m = await inject(s.app, name, opts.type ?? 'TXT', { qclass: opts.qclass ?? Class.CH });
  if (m.additional.some((r) => r.type === Type.SRV)) return 'passed on'; // whoami answered
  assert.equal(m.rcode, Rcode.NOERROR);
  assert.ok(m.flags & Flag.AA);
  return m.answer.map((r) => {
    assert.equal(r.class, Class.CH);
    assert.equal(r.ttl, 0);
    const out: string[] = [];
    for (let p = 0; p < r.data.length; p += 1 + r.data[p]!) out.push(Buffer.from(r.data.subarray(p + 1, p + 1 + r.data[p]!)).toString());
    return out;
  });
}

const answers: [what: string, server: 'plain' | 'custom', name: string, opts: { qclass?: number; type?: string }, want: string[][] | 'passed on'][] = [
  ['version.bind, default version', 'plain', 'version.bind.', {}, [[DEFAULT_CHAOS_VERSION]]],
  ['version.server', 'plain', 'version.server.', {}, [[DEFAULT_CHAOS_VERSION]]],
  ['hostname.bind', 'plain', 'hostname.bind.', {}, [[hostname()]]],
  ['id.server', 'plain', 'id.server.', {}, [[hostname()]]],
  ['authors.bind without authors: passed on', 'plain', 'authors.bind.', {}, 'passed on'],
  ['custom version', 'custom', 'version.bind.', {}, [['MyDNS 1.0']]],
  ['authors: one TXT each, sorted, no duplicates', 'custom', 'authors.bind.', {}, [['amy@example.org'], ['zed@example.org']]],
  ['case-insensitive name', 'custom', 'VERSION.Bind.', {}, [['MyDNS 1.0']]],
  ['IN class: passed on', 'plain', 'version.bind.', { qclass: Class.IN }, 'passed on'],
  ['CH but not TXT: passed on', 'plain', 'version.bind.', { type: 'A' }, 'passed on'],
  ['other CH TXT name: passed on', 'plain', 'nothing.bind.', {}, 'passed on'],
];
for (const [what, which, name, opts, want] of answers) {
  test(`answers: ${what}`, async () => {
    assert.deepEqual(await txt(which === 'plain' ? plain : custom, name, opts), want);
  });
}

test('a version longer than 255 octets is cut there (one TXT string)', async () => {
  const s = await startTestServer(`.:0 {\n bind 127.0.0.1\n chaos ${'v'.repeat(300)}\n}\n`);
  try {
    assert.deepEqual(await txt(s, 'version.bind.'), [['v'.repeat(255)]]);
  } finally {
    await s.stop();
  }
});

test('dig CH TXT version.bind and hostname.bind, the answer echoing the case', async () => {
  const v = await dig(custom.port, 'CH', 'TXT', 'Version.Bind');
  assert.equal(v.status, 'NOERROR');
  assert.deepEqual(v.answer.map((a) => [a.name, a.class, a.type, a.data]), [['Version.Bind.', 'CH', 'TXT', '"MyDNS 1.0"']]);
  const h = await dig(plain.port, '+tcp', 'CH', 'TXT', 'hostname.bind');
  assert.equal(h.answer[0]?.data, `"${hostname()}"`);
});

test('kdig CH TXT authors.bind', async () => {
  const k = JSON.parse(await runClient('kdig', custom.port, ['+json', '-c', 'CH', '-t', 'TXT', 'authors.bind'])) as { answerRRs: { rdataTXT: string }[] };
  assert.deepEqual(k.answerRRs.map((r) => r.rdataTXT), ['"amy@example.org"', '"zed@example.org"']);
});
