/**
 * @module corefile/reverse-zones.test
 * CIDR to reverse zone expansion: octet/nibble boundaries, rounding and splitting, bad input.
 */

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { reverseZonesOfCidr } from './reverse-zones.ts';

test('IPv4 prefixes on octet boundaries give one zone', () => {
  assert.deepEqual(reverseZonesOfCidr('10.0.0.0/24'), ['0.0.10.in-addr.arpa.']);
  assert.deepEqual(reverseZonesOfCidr('172.16.0.0/16'), ['16.172.in-addr.arpa.']);
  assert.deepEqual(reverseZonesOfCidr('10.0.0.0/8'), ['10.in-addr.arpa.']);
  assert.deepEqual(reverseZonesOfCidr('0.0.0.0/0'), ['in-addr.arpa.']);
  assert.deepEqual(reverseZonesOfCidr('192.168.1.7/32'), ['7.1.168.192.in-addr.arpa.']);
});

test('IPv4 prefixes between boundaries are split into the next boundary', () => {
  const z17 = reverseZonesOfCidr('10.0.0.0/17');
  assert.equal(z17.length, 128);
  assert.equal(z17[0], '0.0.10.in-addr.arpa.');
  assert.equal(z17[127], '127.0.10.in-addr.arpa.');
  assert.equal(new Set(z17).size, 128);
  assert.deepEqual(reverseZonesOfCidr('10.0.0.0/23'), ['0.0.10.in-addr.arpa.', '1.0.10.in-addr.arpa.']);
  assert.deepEqual(reverseZonesOfCidr('8.0.0.0/6'), [
    '8.in-addr.arpa.',
    '9.in-addr.arpa.',
    '10.in-addr.arpa.',
    '11.in-addr.arpa.',
  ]);
  assert.deepEqual(reverseZonesOfCidr('192.168.4.0/30'), [
    '0.4.168.192.in-addr.arpa.',
    '1.4.168.192.in-addr.arpa.',
    '2.4.168.192.in-addr.arpa.',
    '3.4.168.192.in-addr.arpa.',
  ]);
  assert.equal(reverseZonesOfCidr('0.0.0.0/1').length, 128);
});

test('host bits are ignored, as net.ParseCIDR does', () => {
  assert.deepEqual(reverseZonesOfCidr('10.1.2.3/16'), ['1.10.in-addr.arpa.']);
  assert.deepEqual(reverseZonesOfCidr('10.0.1.9/23'), ['0.0.10.in-addr.arpa.', '1.0.10.in-addr.arpa.']);
});

test('IPv6 prefixes round to nibbles', () => {
  assert.deepEqual(reverseZonesOfCidr('1234:abcd::/64'), ['0.0.0.0.0.0.0.0.d.c.b.a.4.3.2.1.ip6.arpa.']);
  assert.deepEqual(reverseZonesOfCidr('fd00::/8'), ['d.f.ip6.arpa.']);
  assert.deepEqual(reverseZonesOfCidr('::/0'), ['ip6.arpa.']);
  assert.deepEqual(reverseZonesOfCidr('2001:DB8::/32'), ['8.b.d.0.1.0.0.2.ip6.arpa.']);
  assert.deepEqual(reverseZonesOfCidr('2001:db8::/31'), ['8.b.d.0.1.0.0.2.ip6.arpa.', '9.b.d.0.1.0.0.2.ip6.arpa.']);
  assert.deepEqual(reverseZonesOfCidr('::/1'), ['0.ip6.arpa.', '1.ip6.arpa.', '2.ip6.arpa.', '3.ip6.arpa.', '4.ip6.arpa.', '5.ip6.arpa.', '6.ip6.arpa.', '7.ip6.arpa.']);
  const full = reverseZonesOfCidr('2001:db8::1/128');
  assert.deepEqual(full, ['1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa.']);
  assert.deepEqual(reverseZonesOfCidr('::ffff:10.0.0.0/120'), [
    '0.0.0.0.a.0.f.f.f.f.' + '0.'.repeat(20) + 'ip6.arpa.',
  ]);
});

test('invalid CIDRs throw plain errors with clear messages', () => {
  const cases: [string, RegExp][] = [
    ['10.0.0.0', /missing '\/prefix'/],
    ['10.0.0/24', /'10.0.0' is not an IP address/],
    ['example.org/24', /is not an IP address/],
    ['10.0.0.0/33', /prefix length must be 0..32/],
    ['10.0.0.0/', /prefix length must be 0..32/],
    ['10.0.0.0/x', /prefix length must be 0..32/],
    ['::/129', /prefix length must be 0..128/],
    ['1::2::3/64', /is not an IP address/],
  ];
  for (const [cidr, re] of cases) {
    assert.throws(
      () => reverseZonesOfCidr(cidr),
      (e: unknown) => e instanceof Error && e.constructor === Error && re.test(e.message),
      cidr,
    );
  }
});
