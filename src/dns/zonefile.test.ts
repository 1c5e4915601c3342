/**
 * @module dns/zonefile.test
 * The master-file reader: directives, relative names, blank owners,
 * multi-line records, every supported type's wire form, and FILE:LINE
 * errors for bad lines.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Type } from './constants.ts';
import { parseRecordLine, parseZone, ZoneFileError } from './zonefile.ts';
import { rng } from '../../test/support/rng.ts';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

describe('zone file reader', () => {
  it('reads $ORIGIN, $TTL, @, relative names, blank owners and parentheses', () => {
    const text = [
      '$ORIGIN example.org.',
      '$TTL 1h',
      '@ IN SOA ns1 hostmaster (',
      '   2024010101 ; serial',
      '   7200 3600 1209600 300 )',
      '  IN NS ns1',
      'ns1 300 IN A 192.0.2.1',
      '    IN AAAA 2001:db8::1',
      'WWW IN 60 CNAME ns1',
      '$ORIGIN sub',
      'deep A 192.0.2.9',
    ].join('\n');
    const rrs = parseZone(text, { origin: '.', file: 'db.example' });
    assert.deepEqual(rrs.map((r) => [r.name, r.type, r.ttl]), [
      ['example.org.', Type.SOA, 3600], ['example.org.', Type.NS, 3600], ['ns1.example.org.', Type.A, 300],
      ['ns1.example.org.', Type.AAAA, 3600], ['www.example.org.', Type.CNAME, 60], ['deep.sub.example.org.', Type.A, 3600],
    ]);
    assert.equal(hex(rrs[0]!.data), '036e7331076578616d706c65036f7267000a686f73746d6173746572076578616d706c65036f726700' + '78a3f175' + '00001c20' + '00000e10' + '00127500' + '0000012c');
  });

  const rdataCases: [string, string][] = [
    ['x. A 10.0.0.1', '0a000001'],
    ['x. AAAA ::1', '00000000000000000000000000000001'],
    ['x. MX 10 mail.example.', '000a046d61696c076578616d706c6500'],
    ['x. SRV 0 5 80 web.example.', '0000000500500377656207' + '6578616d706c6500'],
    ['x. TXT "hello world" two', '0b68656c6c6f20776f726c640374776f'],
    ['x. TXT "a\\"b\\065"', '04612262' + '41'],
    ['x. CAA 0 issue "letsencrypt.org"', '0005697373756' + '56c657473656e63727970742e6f7267'],
    ['x. DS 12345 13 2 ABCDEF01', '30390d02abcdef01'],
    ['x. DNSKEY 257 3 13 AQID', '01010' + '30d010203'],
    ['x. PTR host.', '04686f737400'],
    ['x. TYPE65280 \\# 3 ABCDEF', 'abcdef'],
    ['x. HTTPS 1 . alpn=h2,h3 port=8443 ipv4hint=192.0.2.1', '0001' + '00' + '0001' + '0006' + '02683202' + '6833' + '0003' + '0002' + '20fb' + '0004' + '0004' + 'c0000201'],
  ];
  for (const [line, want] of rdataCases) {
    it(`encodes ${line}`, () => assert.equal(hex(parseRecordLine(line).data), want));
  }
  it('encodes an NSEC type bitmap', () => {
    assert.equal(hex(parseRecordLine('x. NSEC next.x. A MX RRSIG').data), '046e6578740178' + '00' + '0006' + '400100000002');
  });

  const errors: [string, string][] = [
    ['a A 10.0.0.300', 'db:2: A a.example.: \'10.0.0.300\' is not an IPv4 address'],
    ['a BOGUS 1', "db:2: unknown type 'BOGUS'"],
    ['a MX mail', 'db:2: MX a.example.: needs 2 fields, got 1'],
    ['a TXT "open', 'db:2: a quoted string is never closed'],
    ['a SOA ( ns h 1 2 3 4 5', "db:2: '(' is never closed"],
    ['$GENERATE 1-4 h$ A 10.0.0.$', "db:2: unsupported directive '$GENERATE'"],
    ['$INCLUDE other', 'db:2: $INCLUDE is not allowed here'],
    ['a..b A 10.0.0.1', "db:2: bad owner name 'a..b.example.': empty label in 'a..b.example.'"],
  ];
  for (const [line, want] of errors) {
    it(`rejects '${line}' with FILE:LINE`, () => {
      assert.throws(() => parseZone(`$ORIGIN example.\n${line}\n`, { origin: '.', file: 'db' }), (e: unknown) => {
        assert.ok(e instanceof ZoneFileError);
        assert.equal(e.message, want);
        return true;
      });
    });
  }

  it('$INCLUDE reads another file with its own origin and leaves ours alone', () => {
    const files: Record<string, string> = { inc: 'host A 10.0.0.2\n' };
    const rrs = parseZone('$ORIGIN a.\n$INCLUDE inc b.\nafter A 10.0.0.3\n', {
      origin: '.', file: 'db', include: (p) => ({ text: files[p]!, file: p }),
    });
    assert.deepEqual(rrs.map((r) => r.name), ['host.b.', 'after.a.']);
  });
});

describe('zone file reader on mutated input', () => {
  const SEED = 0x20ee;
  const BASE = [
    '$ORIGIN example.org.', '$TTL 1h', '@ IN SOA ns1 hostmaster ( 1 7200 3600 1209600 300 )', '  NS ns1',
    'ns1 A 192.0.2.1', 'www CNAME ns1', 'txt TXT "a \\"quoted\\" string" plain', '_s._tcp SRV 0 5 80 www',
    'x HTTPS 1 . alpn=h2 ipv4hint=192.0.2.1', 'k DS 1 13 2 ABCD', '*.w AAAA 2001:db8::1', 'g TYPE65280 \\# 2 ABCD',
  ].join('\n');
  const alphabet = ' \t\n();"\\$@.*0123456789abcdefxyzAINSOTXCH#';
  it(`2000 mutations: records or a ZoneFileError with a line, nothing else (seed ${SEED})`, () => {
    const next = rng(SEED);
    const pick = (n: number): number => Math.floor(next() * n);
    for (let i = 0; i < 2000; i++) {
      const chars = [...BASE];
      for (let m = 1 + pick(4); m > 0; m--) {
        const at = pick(chars.length);
        const op = pick(3);
        if (op === 0) chars.splice(at, 1);
        else if (op === 1) chars.splice(at, 0, alphabet[pick(alphabet.length)]!);
        else chars[at] = alphabet[pick(alphabet.length)]!;
      }
      const text = chars.join('');
      try {
        for (const r of parseZone(text, { origin: '.', file: 'fuzz' })) assert.ok(r.data instanceof Uint8Array && r.name.endsWith('.'));
      } catch (e) {
        if (!(e instanceof ZoneFileError)) assert.fail(`mutation ${i} threw ${(e as Error).name}: ${(e as Error).message}\n${text}`);
        assert.match(e.message, /^fuzz:\d+: /);
      }
    }
  });
});
