/**
 * @module dns/ip.test
 * ipv4Int agrees with parseIPv4 (the strict parser) on valid and malformed
 * addresses, so the pod-IP index keys addresses exactly as the rest of the
 * server parses them.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ipv4Int, parseIPv4 } from './ip.ts';

function viaParse(s: string): number | null {
  const b = parseIPv4(s);
  return b === null ? null : ((b[0]! << 24) | (b[1]! << 16) | (b[2]! << 8) | b[3]!);
}

test('ipv4Int matches parseIPv4', () => {
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
