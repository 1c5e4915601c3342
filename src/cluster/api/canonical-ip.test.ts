/**
 * @module cluster/api/canonical-ip.test
 * Canonical IP text: IPv4 strictness, RFC 5952 IPv6 compression, rejects.
 */

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { canonicalIP, canonicalIPv4, canonicalIPv6, ipFamily } from './canonical-ip.ts';

test('IPv4 dotted quads are kept; leading zeros and junk rejected', () => {
  assert.equal(canonicalIP('10.0.0.1'), '10.0.0.1');
  assert.equal(canonicalIP('255.255.255.255'), '255.255.255.255');
  assert.equal(canonicalIP('0.0.0.0'), '0.0.0.0');
  for (const bad of ['010.0.0.1', '1.2.3', '1.2.3.4.5', '256.1.1.1', '1.2.3.-1', '', ' 1.2.3.4', 'a.b.c.d', '1..2.3']) {
    assert.equal(canonicalIP(bad), null, bad);
  }
  assert.equal(canonicalIPv4('::1'), null);
});

test('IPv6 is compressed, lower case, RFC 5952', () => {
  const cases: [string, string][] = [
    ['2001:DB8:0:0:0:0:0:1', '2001:db8::1'],
    ['2001:0db8:0000:0000:0001:0000:0000:0001', '2001:db8::1:0:0:1'],
    ['2001:db8:0:1:1:1:1:1', '2001:db8:0:1:1:1:1:1'],
    ['0:0:0:0:0:0:0:0', '::'],
    ['::', '::'],
    ['::1', '::1'],
    ['fe80::', 'fe80::'],
    ['1:0:0:2:0:0:0:3', '1:0:0:2::3'],
    ['1:0:0:2:0:0:3:4', '1::2:0:0:3:4'],
    ['FD00:10:96::A', 'fd00:10:96::a'],
    ['::ffff:192.0.2.1', '::ffff:192.0.2.1'],
    ['::FFFF:c000:0201', '::ffff:192.0.2.1'],
    ['64:ff9b::192.0.2.33', '64:ff9b::c000:221'],
  ];
  for (const [input, want] of cases) assert.equal(canonicalIP(input), want, input);
  for (const bad of ['1::2::3', ':1:2:3:4:5:6:7', '1:2:3:4:5:6:7:8:9', '12345::', 'fe80::1%eth0', 'g::1', '1:2:3:4:5:6:7', '::1.2.3', '1:2:3:4:5:6:7:8::']) {
    assert.equal(canonicalIP(bad), null, bad);
  }
  assert.equal(canonicalIPv6('1.2.3.4'), null);
  assert.equal(ipFamily('::1'), 6);
  assert.equal(ipFamily('1.2.3.4'), 4);
  assert.equal(ipFamily('nope'), 0);
});
