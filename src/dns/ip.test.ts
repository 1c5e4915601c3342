/**
 * @module dns/ip.test
 * The one IP parser and formatter: strict parsing (no leading zeros, no zone
 * ids), RFC 5952 text, IPv4-mapped addresses, unmapping, reverse names.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  bytesToIp, canonicalIp, canonicalIpv4, canonicalIpv6, ipFamily, ipFromReverseName, ipToBytes, ipv4Int, reverseName, stripZone, unmapIPv4,
} from './ip.ts';

test('IPv4 dotted quads are kept; leading zeros and junk rejected (as Go and Kubernetes validation do)', () => {
  assert.equal(canonicalIp('10.0.0.1'), '10.0.0.1');
  assert.equal(canonicalIp('255.255.255.255'), '255.255.255.255');
  assert.equal(canonicalIp('0.0.0.0'), '0.0.0.0');
  for (const bad of ['010.0.0.1', '01.2.3.4', '1.2.3', '1.2.3.4.5', '256.1.1.1', '1.2.3.-1', '', ' 1.2.3.4', 'a.b.c.d', '1..2.3', '1.2.3.4%eth0']) {
    assert.equal(canonicalIp(bad), null, bad);
  }
  assert.equal(canonicalIpv4('::1'), null);
  assert.deepEqual(ipToBytes('1.2.3.4'), Uint8Array.from([1, 2, 3, 4]));
});

test('IPv6 is compressed, lower case, RFC 5952; zone ids are rejected', () => {
  const cases: [string, string][] = [
    ['2001:DB8:0:0:0:0:0:1', '2001:db8::1'],
    ['2001:0db8:0000:0000:0001:0000:0000:0001', '2001:db8::1:0:0:1'],
    ['2001:db8:0:1:1:1:1:1', '2001:db8:0:1:1:1:1:1'],
    ['2001:db8::1:0:0:0:1', '2001:db8:0:1::1'],
    ['0:0:0:0:0:0:0:0', '::'],
    ['::', '::'],
    ['::1', '::1'],
    ['fe80::', 'fe80::'],
    ['1:0:0:2:0:0:0:3', '1:0:0:2::3'],
    ['1:0:0:2:0:0:3:4', '1::2:0:0:3:4'],
    ['1:2:3:4:5:6:7::', '1:2:3:4:5:6:7:0'],
    ['FD00:10:96::A', 'fd00:10:96::a'],
    ['::10.0.0.1', '::a00:1'],
    ['64:ff9b::192.0.2.33', '64:ff9b::c000:221'],
  ];
  for (const [input, want] of cases) assert.equal(canonicalIp(input), want, input);
  for (const bad of ['1::2::3', ':1:2:3:4:5:6:7', '1:2:3:4:5:6:7:8:9', '12345::', 'fe80::1%eth0', 'g::1', '1:2:3:4:5:6:7', '::1.2.3', '::1.2.3.04', '1:2:3:4:5:6:7:8::']) {
    assert.equal(canonicalIp(bad), null, bad);
  }
  assert.equal(canonicalIpv6('1.2.3.4'), null);
  assert.equal(ipFamily('::1'), 6);
  assert.equal(ipFamily('1.2.3.4'), 4);
  assert.equal(ipFamily('nope'), 0);
  assert.equal(ipFamily('fe80::1%eth0'), 0);
});

test('an IPv4-mapped address keeps the mixed notation, however it was written', () => {
  // Go's netip prints Is4In6 addresses this way; the store and the lookups share this function, so they agree.
  assert.equal(canonicalIp('::ffff:192.0.2.1'), '::ffff:192.0.2.1');
  assert.equal(canonicalIp('::FFFF:c000:0201'), '::ffff:192.0.2.1');
  assert.equal(canonicalIp('0:0:0:0:0:ffff:102:304'), '::ffff:1.2.3.4');
  assert.equal(ipFamily('::ffff:1.2.3.4'), 6);
  assert.equal(bytesToIp(ipToBytes('::ffff:1.2.3.4')!), '::ffff:1.2.3.4');
});

test('unmapIPv4 gives the IPv4 client of a dual-stack socket; stripZone drops an OS zone id', () => {
  assert.equal(unmapIPv4('::ffff:10.0.0.1'), '10.0.0.1');
  assert.equal(unmapIPv4('::1'), '::1');
  assert.equal(unmapIPv4('10.0.0.1'), '10.0.0.1');
  assert.equal(unmapIPv4('::ffff:a00:1'), '::ffff:a00:1');
  assert.equal(stripZone('fe80::1%eth0'), 'fe80::1');
  assert.equal(canonicalIp(stripZone('FE80::1%lo0')), 'fe80::1');
  assert.equal(stripZone('10.0.0.1'), '10.0.0.1');
});

test('reverse names round-trip through the same parser and formatter', () => {
  assert.equal(reverseName('10.0.0.1'), '1.0.0.10.in-addr.arpa.');
  assert.equal(ipFromReverseName('1.0.0.10.in-addr.arpa.'), '10.0.0.1');
  const v6 = reverseName('2001:db8::1')!;
  assert.equal(v6, '1.0.0.0.' + '0.0.0.0.'.repeat(5) + '8.b.d.0.1.0.0.2.ip6.arpa.');
  assert.equal(ipFromReverseName(v6), '2001:db8::1');
  assert.equal(reverseName('010.0.0.1'), null);
  assert.equal(ipFromReverseName('01.0.0.10.in-addr.arpa.'), null);
});

/** The strict parser's answer as a 32-bit integer, for comparing ipv4Int (the pod-IP index's key) with it. */
/** The split-and-regex form ipToBytes had before its one-pass parser: the reference for the property below. */
function referenceIPv4(s: string): number[] | null {
  const parts = s.split('.');
  if (parts.length !== 4 || !parts.every((p) => /^(0|[1-9]\d{0,2})$/.test(p) && Number(p) <= 255)) return null;
  return parts.map(Number);
}

/** The reference parser's answer as ipv4Int gives it (ipToBytes itself now goes through ipv4Int). */
function viaParse(s: string): number | null {
  const b = referenceIPv4(s);
  return b === null ? null : ((b[0]! << 24) | (b[1]! << 16) | (b[2]! << 8) | b[3]!);
}

test('ipv4Int (allocation-free, for per-query keys) agrees with the split-and-regex strict parser', () => {
  const cases = [
    '0.0.0.0', '255.255.255.255', '10.244.1.5', '127.0.0.2', '192.0.2.1', '1.2.3.4',
    '', '.', '1.2.3', '1.2.3.4.5', '1..2.3', '.1.2.3', '1.2.3.', '256.1.1.1', '1.2.3.999', '01.2.3.4', '1.2.3.04',
    '00.1.2.3', '1.2.3.4 ', ' 1.2.3.4', '1.2.3.a', '::1', '::ffff:1.2.3.4', 'fd00::6', '1234.1.1.1', '1.2.3.0', '0.1.2.3',
  ];
  for (const s of cases) assert.equal(ipv4Int(s), viaParse(s), JSON.stringify(s));
  // A bounded sweep over generated texts: octets with and without leading zeros, wrong counts.
  let seed = 7;
  const rnd = (n: number): number => { seed = (seed * 1103515245 + 12345) & 0x7fffffff; return seed % n; };
  for (let i = 0; i < 20_000; i++) {
    const parts = Array.from({ length: 3 + rnd(3) }, () => (rnd(5) === 0 ? `0${rnd(30)}` : String(rnd(300))));
    const s = parts.join('.');
    assert.equal(ipv4Int(s), viaParse(s), s);
  }
});

test('IPv4 parsing accepts and rejects exactly what the split-and-regex form did', () => {
  const octet = fc.oneof(fc.integer({ min: 0, max: 300 }).map(String), fc.constantFrom('', '00', '01', '007', '1000', '-1', '+1', ' 1', '1 ', 'a', '٣'));
  const quads = fc.array(octet, { minLength: 1, maxLength: 6 }).map((p) => p.join('.'));
  const text = fc.oneof(quads, fc.string({ maxLength: 16 }), fc.stringMatching(/^[0-9.]{0,16}$/));
  fc.assert(fc.property(text, (s) => {
    const got = s.includes(':') ? null : ipToBytes(s);
    assert.deepEqual(got === null ? null : [...got], referenceIPv4(s), JSON.stringify(s));
    if (!s.includes(':')) assert.equal(canonicalIp(s), got === null ? null : s, JSON.stringify(s)); // a strict quad is canonical as given
  }), { numRuns: 5000 });
});
