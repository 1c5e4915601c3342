/**
 * @module plugins/whoami/whoami.test
 * whoami: its (argument-free) option parser, the records it answers with for
 * IPv4/IPv6 clients, UDP/TCP, other classes and the root; and real dig/kdig.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Class, Flag, Rcode, Type } from '../../dns/constants.ts';
import { dig, inject, runClient } from '../../../test/support/harness.ts';
import { setupError, startTestServer, type StartedServer } from '../../../test/server/helpers/server.ts';

const options: [corefile: string, error: string | null][] = [
  ['. {\n whoami\n}', null],
  ['. {\n whoami extra\n}', "Corefile:2: plugin/whoami: 'whoami' takes 0 arguments, got 1"],
  ['. {\n whoami {\n  option\n }\n}', "Corefile:2: plugin/whoami: 'whoami' takes no block"],
  ['. {\n whoami\n whoami\n}', 'Corefile:3: plugin/whoami: this plugin can only be used once per server block'],
];
for (const [corefile, error] of options) {
  test(`options: ${JSON.stringify(corefile)} -> ${error ?? 'ok'}`, () => {
    assert.equal(setupError(corefile), error);
  });
}

let server: StartedServer;
before(async () => { server = await startTestServer('.:0 {\n bind 127.0.0.1\n whoami\n}\n'); });
after(async () => { await server.stop(); });

/** Additional section as "name type class data" lines (data as hex for brevity). */
function extra(m: Awaited<ReturnType<typeof inject>>): string[] {
  return m.additional.map((r) => `${r.name} ${r.type} ${r.class} ${Buffer.from(r.data).toString('hex')}`);
}

const behaviour: [what: string, name: string, type: string, opts: Parameters<typeof inject>[3], want: string[]][] = [
  ['IPv4 client over UDP', 'who.example.', 'A', {}, ['who.example. 1 1 7f000001', `_udp.who.example. 33 1 00000000cf0800`]],
  ['IPv4 client over TCP', 'who.example.', 'A', { transport: 'tcp' }, ['who.example. 1 1 7f000001', `_tcp.who.example. 33 1 00000000cf0800`]],
  ['IPv6 client', 'who.example.', 'AAAA', { remoteAddress: '2001:db8::1' }, ['who.example. 28 1 20010db8000000000000000000000001', `_udp.who.example. 33 1 00000000cf0800`]],
  ['any qtype', 'who.example.', 'TXT', {}, ['who.example. 1 1 7f000001', `_udp.who.example. 33 1 00000000cf0800`]],
  ['CH class: records in CH', 'who.example.', 'A', { qclass: Class.CH }, ['who.example. 1 3 7f000001', `_udp.who.example. 33 3 00000000cf0800`]],
  ['the root', '.', 'A', {}, ['. 1 1 7f000001', `_udp. 33 1 00000000cf0800`]],
];
// inject() uses client port 53000 (0xcf08).
for (const [what, name, type, opts, want] of behaviour) {
  test(`answers: ${what}`, async () => {
    const m = await inject(server.app, name, type, opts);
    assert.equal(m.rcode, Rcode.NOERROR);
    assert.ok(m.flags & Flag.AA, 'authoritative');
    assert.equal(m.answer.length, 0);
    assert.deepEqual(extra(m), want);
  });
}

test('a question name too long for "_udp." in front: the SRV is left out', async () => {
  const label = 'a'.repeat(63);
  const name = `${label}.${label}.${label}.${'b'.repeat(61)}.`; // 255 octets on the wire
  const m = await inject(server.app, name, Type.A);
  assert.equal(m.rcode, Rcode.NOERROR);
  assert.deepEqual(m.additional.map((r) => r.type), [Type.A]);
});

test('dig over UDP and TCP: client address and its port', async () => {
  for (const [flag, proto] of [['+notcp', '_udp'], ['+tcp', '_tcp']] as const) {
    const r = await dig(server.port, flag, 'Me.Example', 'A');
    assert.equal(r.status, 'NOERROR');
    assert.ok(r.flags.includes('aa'));
    assert.equal(r.additional[0]!.name, 'Me.Example.');
    assert.equal(r.additional[0]!.data, '127.0.0.1');
    assert.equal(r.additional[1]!.name, `${proto}.Me.Example.`);
    assert.match(r.additional[1]!.data, /^0 0 \d+ \.$/);
  }
});

test('kdig: the same over UDP and TCP', async () => {
  for (const tcp of [false, true]) {
    const k = JSON.parse(await runClient('kdig', server.port, ['+json', ...(tcp ? ['+tcp'] : []), 'kdig.example'])) as {
      AA: number; additionalRRs: { NAME: string; rdataA?: string; rdataSRV?: string }[];
    };
    assert.equal(k.AA, 1);
    assert.equal(k.additionalRRs[0]!.rdataA, '127.0.0.1');
    assert.equal(k.additionalRRs[1]!.NAME, `${tcp ? '_tcp' : '_udp'}.kdig.example.`);
  }
});
