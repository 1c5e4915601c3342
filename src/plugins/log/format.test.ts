/**
 * @module plugins/log/format.test
 * The placeholder compiler and value printers on their own: parsing like
 * CoreDNS's replacer, flags from a header, rcode names, seconds.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Type } from '../../dns/constants.ts';
import { DnsRequest } from '../../dns/request.ts';
import { Reply } from '../../dns/reply.ts';
import { compileFormat, flagsText, formatSeconds, rcodeText, type LogEntry } from './format.ts';

const entry: LogEntry = {
  req: DnsRequest.synthetic('example.org.', Type.MX, null),
  reply: Reply.error(2),
  size: 99,
  packet: new Uint8Array([0, 0, 0x84, 0x80]),
  durationMs: 1.5,
};

const formats: [format: string, out: string][] = [
  ['{type} {name}', 'MX example.org.'],
  ['plain text', 'plain text'],
  ['{unknown} {type}', '{unknown} MX'],
  ['{ {type} }', '{ MX }'],
  ['} {type} {', '} MX {'],
  ['{rcode} {rsize} {duration}', 'SERVFAIL 99 0.0015s'],
  ['{/meta} {>opcode} {>rflags}', '- 0 qr,aa,ra'],
  ['{{class}}', '{IN}'],
];
for (const [format, out] of formats) {
  test(`format ${JSON.stringify(format)}`, () => {
    assert.equal(compileFormat(format)(entry), out);
  });
}

test('flags as CoreDNS lists them', () => {
  assert.equal(flagsText(new Uint8Array([0, 0, 0xff, 0xf0])), 'qr,aa,tc,rd,ra,z,ad,cd');
  assert.equal(flagsText(new Uint8Array([0, 0, 0, 0])), '');
});

test('rcode names, numbers for the unnamed', () => {
  assert.deepEqual([0, 1, 2, 3, 4, 5, 9, 16, 23].map(rcodeText), ['NOERROR', 'FORMERR', 'SERVFAIL', 'NXDOMAIN', 'NOTIMP', 'REFUSED', 'NOTAUTH', 'BADVERS', '23']);
});

test('seconds with nanosecond precision and no trailing zeros', () => {
  assert.deepEqual([0.000123456, 1.5, 1000, 0.0000004].map(formatSeconds), ['0.000000123s', '0.0015s', '1s', '0s']);
});
